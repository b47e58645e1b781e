//! Helpers shared by the device-file tests: reference CSVs, comparisons, data locations.
#![allow(dead_code, unreachable_pub)] // each test file uses its own subset of these helpers
#![allow(clippy::unwrap_used, clippy::needless_range_loop)] // test helpers: a failure should stop the test

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
