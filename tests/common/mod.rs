//! Helpers shared by the device-file tests: reference CSVs, comparisons, data locations.
#![allow(dead_code, unreachable_pub)] // each test file uses its own subset of these helpers
#![allow(clippy::unwrap_used, clippy::needless_range_loop)] // test helpers: a failure should stop the test
#![allow(clippy::cast_possible_truncation)] // small test archives: sizes fit the zip fields

pub mod cwa_writer;

use std::path::{Path, PathBuf};

use sleeptwitch::{Sample, Source};

/// `testdata/devices/<name>`, the copies kept in the repository.
pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/devices")
        .join(name)
}

/// `../shared/data/<rel>` beside the repository, when it is there.
pub fn shared(rel: &str) -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(rel);
    if p.exists() {
        return Some(p);
    }
    // A worktree sits one level deeper than the main checkout.
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(rel);
    p.exists().then_some(p)
}

/// Reads every sample of a source, in chunks of `chunk`.
pub fn read_all(src: &mut dyn Source, chunk: usize) -> Result<Vec<Sample>, sleeptwitch::Error> {
    let mut buf = vec![Sample::default(); chunk];
    let mut all = Vec::new();
    loop {
        let n = src.read_samples(&mut buf)?;
        if n == 0 {
            return Ok(all);
        }
        all.extend_from_slice(&buf[..n]);
    }
}

/// The rows of a reference CSV (`t,x,y,z`).
pub fn read_csv(path: &Path) -> Vec<Sample> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let v: Vec<f64> = l.split(',').map(|f| f.parse().unwrap()).collect();
            Sample::new(v[0], [v[1], v[2], v[3]])
        })
        .collect()
}

/// Checks `got` against a reference conversion: same count, |Δt| ≤ `tol_t_s`, each axis
/// within `tol_g[axis]`. Returns the largest differences found (time, value).
pub fn assert_agrees(got: &[Sample], want: &[Sample], tol_t_s: f64, tol_g: [f64; 3]) -> (f64, f64) {
    assert_eq!(got.len(), want.len(), "sample count");
    let mut max_dt: f64 = 0.0;
    let mut max_dv: f64 = 0.0;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let dt = (g.t_s - w.t_s).abs();
        assert!(
            dt <= tol_t_s,
            "sample {i}: t {} vs reference {} (|Δ| {dt} s)",
            g.t_s,
            w.t_s
        );
        max_dt = max_dt.max(dt);
        for a in 0..3 {
            let dv = (g.acc_g[a] - w.acc_g[a]).abs();
            assert!(
                dv <= tol_g[a],
                "sample {i} axis {a}: {} g vs reference {} g",
                g.acc_g[a],
                w.acc_g[a]
            );
            max_dv = max_dv.max(dv);
        }
    }
    (max_dt, max_dv)
}

/// The members of a stored (uncompressed) zip archive, by name — enough for the `.gt3x`
/// test file, whose members are stored.
pub fn unzip_stored(zip: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut at = 0;
    while zip.get(at..at + 4) == Some(b"PK\x03\x04") {
        let le16 = |i: usize| usize::from(u16::from_le_bytes([zip[i], zip[i + 1]]));
        let le32 = |i: usize| u32::from_le_bytes(zip[i..i + 4].try_into().unwrap()) as usize;
        assert_eq!(le16(at + 8), 0, "stored members only");
        let size = le32(at + 18);
        let (n, e) = (le16(at + 26), le16(at + 28));
        let name = String::from_utf8(zip[at + 30..at + 30 + n].to_vec()).unwrap();
        let data = zip[at + 30 + n + e..at + 30 + n + e + size].to_vec();
        out.push((name, data));
        at += 30 + n + e + size;
    }
    out
}

/// A zip archive with every member deflated (method 8), central directory included.
pub fn zip_deflated(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::new();
    let mut dir = Vec::new();
    for (name, data) in members {
        let mut enc =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        let packed = enc.finish().unwrap();
        let crc = crc32fast::hash(data);
        let offset = out.len() as u32;
        let mut common = Vec::new();
        common.extend_from_slice(&20u16.to_le_bytes()); // version needed
        common.extend_from_slice(&0u16.to_le_bytes()); // flags
        common.extend_from_slice(&8u16.to_le_bytes()); // deflate
        common.extend_from_slice(&[0, 0, 0x21, 0]); // time, date
        common.extend_from_slice(&crc.to_le_bytes());
        common.extend_from_slice(&(packed.len() as u32).to_le_bytes());
        common.extend_from_slice(&(data.len() as u32).to_le_bytes());
        common.extend_from_slice(&(name.len() as u16).to_le_bytes());
        common.extend_from_slice(&0u16.to_le_bytes()); // extra
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&common);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&packed);
        dir.extend_from_slice(b"PK\x01\x02");
        dir.extend_from_slice(&20u16.to_le_bytes()); // version made by
        dir.extend_from_slice(&common);
        dir.extend_from_slice(&[0; 10]); // comment length, disk, internal and external attributes
        dir.extend_from_slice(&offset.to_le_bytes());
        dir.extend_from_slice(name.as_bytes());
    }
    let dir_at = out.len() as u32;
    out.extend_from_slice(&dir);
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(dir.len() as u32).to_le_bytes());
    out.extend_from_slice(&dir_at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// The idle-sleep ActiGraph recording (`samples`: the `.gt3x` file, or the part of it in
/// `testdata/`) as ActiLife exports it: a row every 1/30 s from the start, the time the
/// device slept filled with the last sample it measured.
// Row numbers of a ten-minute file are small and positive; the start is a whole second.
#[allow(clippy::cast_sign_loss, clippy::float_cmp)]
pub fn actilife_export_with_idle_fill(samples: &[Sample]) -> String {
    let start = samples[0].t_s;
    assert_eq!(start.fract(), 0.0, "the recording starts on a whole second");
    let mut text = String::from(
        "------------ Data File Created By ActiGraph wGT3X-BT ActiLife v6.13.4 Firmware \
         v1.9.2 date format M/d/yyyy at 30 Hz  Filter Normal -----------\n\
         Serial Number: MOS2E00000000\n\
         Start Time 10:09:00\n\
         Start Date 8/26/2020\n\
         Epoch Period (hh:mm:ss) 00:00:00\n\
         Download Time 11:00:00\n\
         Download Date 8/26/2020\n\
         Current Memory Address: 0\n\
         Current Battery Voltage: 4.11     Mode = 12\n\
         --------------------------------------------------\n\
         Accelerometer X,Accelerometer Y,Accelerometer Z\n",
    );
    // 2020-08-26 10:09:00, the clock as stored
    assert_eq!(start, 1_598_436_540.0);
    let row = |t: f64| ((t - start) * 30.0).round() as u64;
    let mut last = samples[0].acc_g;
    let mut next = samples.iter().peekable();
    for k in 0..=row(samples[samples.len() - 1].t_s) {
        if let Some(s) = next.next_if(|s| row(s.t_s) == k) {
            last = s.acc_g;
        }
        text.push_str(&format!("{},{},{}\n", last[0], last[1], last[2]));
    }
    text
}

/// Gaussian noise of standard deviation `sd` (the sum of four uniforms, scaled), from a fixed seed.
#[allow(clippy::cast_precision_loss)] // 53-bit fractions
fn gaussian(seed: u64, sd: f64) -> impl FnMut() -> f64 {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    move || {
        let mut u = 0.0;
        for _ in 0..4 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            u += (x >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
        }
        u * sd * 3f64.sqrt()
    }
}

/// `hours` of samples at `rate` Hz: worn on an ankle, the foot tilting 10° for 2 s every
/// 30 s, except from `off.0` to `off.1` seconds, when the sensor lies flat on a table.
/// Noise 3 mg.
#[allow(clippy::cast_precision_loss, clippy::cast_sign_loss)] // sample counts of hours
pub fn night_with_time_off(rate: f64, hours: f64, off: (f64, f64)) -> Vec<Sample> {
    let mut n = gaussian(7, 0.003);
    let len = (hours * 3600.0 * rate) as usize;
    (0..len)
        .map(|i| {
            let t = i as f64 / rate;
            let g = if (off.0..off.1).contains(&t) {
                [0.0, 0.0, 1.0]
            } else {
                let phase = t % 30.0;
                let deg = if phase < 2.0 {
                    10.0 * (std::f64::consts::PI * phase / 2.0).sin()
                } else {
                    0.0
                };
                let a = (30.0 + deg).to_radians();
                [0.0, a.sin(), a.cos()]
            };
            Sample::new(t, [g[0] + n(), g[1] + n(), g[2] + n()])
        })
        .collect()
}
