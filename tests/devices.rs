//! Device decoders against independent conversions of real recordings.
//!
//! The reference CSVs (`../shared/data/*.csv`, see its README) round times to 1 ms and
//! values to 6 decimals, so a decoder agrees when times are within 1 ms (the rounding, 0.5 ms,
//! plus what the reference's float arithmetic adds) and values within one quantisation step of
//! the device. Tests that need `../shared` print a message and pass when it is absent; the
//! copies in `testdata/devices/` are checked against facts stated in the data's README.

// Tests: a failed unwrap is a failed test; decoded values that pass through unchanged are
// compared exactly on purpose.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::float_cmp)]

mod common;

use common::*;
use sleeptwitch::io::CwaReader;

const MS: f64 = 1e-3;

fn cwa_case(raw: &str, csv: &str, step_g: f64) {
    let (Some(raw), Some(csv)) = (shared(&format!("raw/{raw}")), shared(csv)) else {
        println!("skipped: ../shared/data not found");
        return;
    };
    let want = read_csv(&csv);
    for chunk in [7, 1000, 1 << 20] {
        let mut r = CwaReader::from_path(&raw).unwrap();
        let got = read_all(&mut r, chunk).unwrap();
        let (dt, dv) = assert_agrees(&got, &want, MS, [step_g; 3]);
        println!(
            "{} chunk {chunk}: max |Δt| {dt:.6} s, max |Δg| {dv:.2e}",
            raw.display()
        );
    }
}

#[test]
fn ax3_packed_agrees_with_reference() {
    // packed samples: step 1/256 g × 2^exponent; the file uses exponent 2 (15.6 mg) but a
    // step of 1/256 g already bounds rounding of the 6-decimal reference.
    cwa_case(
        "ax3_right_wrist_100hz_3min.cwa",
        "ax3_right_wrist_100hz_3min.csv",
        1.0 / 256.0,
    );
}

#[test]
fn ax3_corrupt_blocks_agree_with_reference() {
    cwa_case(
        "ax3_right_wrist_100hz_3min_corrupt_blocks.cwa",
        "ax3_right_wrist_100hz_3min_corrupt_blocks.csv",
        1.0 / 256.0,
    );
}

#[test]
fn ax6_agrees_with_reference() {
    cwa_case(
        "ax6_100hz_2min_clipping.cwa",
        "ax6_100hz_2min_clipping.csv",
        1.0 / 2048.0,
    );
}

#[test]
fn geneactiv_agrees_with_reference() {
    use sleeptwitch::io::GeneactivReader;
    let (Some(raw), Some(csv)) = (
        shared("raw/geneactiv_85p7hz_1min.bin"),
        shared("geneactiv_85p7hz_1min.csv"),
    ) else {
        println!("skipped: ../shared/data not found");
        return;
    };
    let want = read_csv(&csv);
    // one step per axis is 100 / gain: 100/25875, 100/25734, 100/25538 g (3.86–3.92 mg)
    let step = [100.0 / 25875.0, 100.0 / 25734.0, 100.0 / 25538.0];
    for chunk in [7, 300, 1 << 16] {
        let mut r = GeneactivReader::from_path(&raw).unwrap();
        let got = read_all(&mut r, chunk).unwrap();
        let (dt, dv) = assert_agrees(&got, &want, MS, step);
        println!("geneactiv chunk {chunk}: max |Δt| {dt:.6} s, max |Δg| {dv:.2e}");
    }
}

fn gt3x_case(raw: &std::path::Path, want: &[sleeptwitch::Sample]) -> Vec<sleeptwitch::Sample> {
    use sleeptwitch::io::Gt3xReader;
    let mut last = Vec::new();
    for chunk in [7, 30, 1 << 16] {
        let mut r = Gt3xReader::from_path(raw).unwrap();
        let got = read_all(&mut r, chunk).unwrap();
        if !want.is_empty() {
            // counts / 256: one step is 1/256 g
            let (dt, dv) = assert_agrees(&got, want, MS, [1.0 / 256.0; 3]);
            println!("gt3x chunk {chunk}: max |Δt| {dt:.6} s, max |Δg| {dv:.2e}");
        }
        last = got;
    }
    last
}

#[test]
fn gt3x_packed_activity_agrees_with_reference() {
    let (Some(raw), Some(csv)) = (
        shared("raw/actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x"),
        shared("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.csv"),
    ) else {
        println!("skipped: ../shared/data not found");
        return;
    };
    gt3x_case(&raw, &read_csv(&csv));
}

#[test]
fn gt3x_activity2_agrees_with_reference_excerpt() {
    // GPL-3.0 data: read from ../shared only, never copied into the repository.
    let (Some(raw), Some(csv)) = (
        shared("gpl-3.0/raw/actigraph_link_wrist_30hz_idle_sleep.gt3x"),
        shared("gpl-3.0/actigraph_link_wrist_30hz_idle_sleep_excerpt.csv"),
    ) else {
        println!("skipped: ../shared/data/gpl-3.0 not found");
        return;
    };
    let want = read_csv(&csv);
    let all = gt3x_case(&raw, &[]);
    assert_eq!(
        all.len(),
        810_270,
        "the whole file's sample count (data README)"
    );
    let (t0, t1) = (want[0].t_s, want[want.len() - 1].t_s);
    let slice: Vec<_> = all
        .into_iter()
        .filter(|s| s.t_s >= t0 - 0.001 && s.t_s <= t1 + 0.001)
        .collect();
    let (dt, dv) = assert_agrees(&slice, &want, MS, [1.0 / 256.0; 3]);
    println!("gt3x link excerpt: max |Δt| {dt:.6} s, max |Δg| {dv:.2e}");
}

fn matrix_case(raw: &str, csv: &str) {
    use sleeptwitch::io::MatrixReader;
    let (Some(raw), Some(csv)) = (shared(&format!("raw/{raw}")), shared(csv)) else {
        println!("skipped: ../shared/data not found");
        return;
    };
    let want = read_csv(&csv);
    for chunk in [7, 1000, 1 << 16] {
        let mut r = MatrixReader::from_path(&raw).unwrap();
        let got = read_all(&mut r, chunk).unwrap();
        // one step is 8/32767 g at ±8 g
        let (dt, dv) = assert_agrees(&got, &want, MS, [8.0 / 32767.0; 3]);
        println!(
            "{} chunk {chunk}: max |Δt| {dt:.6} s, max |Δg| {dv:.2e}",
            raw.display()
        );
    }
}

#[test]
fn matrix_100hz_agrees_with_reference() {
    matrix_case(
        "matrix_100hz_6min_mostly_still.bin",
        "matrix_100hz_6min_mostly_still.csv",
    );
}

#[test]
fn matrix_12p5hz_agrees_with_reference() {
    matrix_case("matrix_12p5hz_17min.bin", "matrix_12p5hz_17min.csv");
}

// ---------------------------------------------------------------------------------------
// The copies in testdata/devices: facts stated in the data's README, no ../shared needed.

use sleeptwitch::io::{open_device, Format, GeneactivReader, Gt3xReader, MatrixReader};
use sleeptwitch::{ErrorKind, Sample, Source};
use std::io::Cursor;

fn open_all(name: &str) -> (Vec<Sample>, sleeptwitch::RecordingInfo) {
    let mut src = open_device(&testdata(name))
        .unwrap()
        .expect("a device file");
    let got = read_all(&mut src, 4096).unwrap();
    (got, src.info().clone())
}

#[test]
fn testdata_ax3_counts_metadata_and_rate() {
    let (s, info) = open_all("ax3_right_wrist_100hz_3min.cwa");
    // 145 blocks of 120 packed samples
    assert_eq!(s.len(), 145 * 120);
    assert_eq!(info.format, Format::Cwa);
    let d = info.device.as_ref().unwrap();
    assert_eq!(d.device_type, "AX3");
    assert_eq!(d.location.as_deref(), Some("right wrist"));
    assert_eq!((d.rate_hz, d.range_g), (Some(100.0), Some(8.0)));
    // README: actual 98.86 Hz against the device clock, no gaps
    assert!(
        (info.rate.rate_hz - 98.86).abs() < 0.01,
        "{}",
        info.rate.rate_hz
    );
    assert!(info.gaps.is_empty());
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
    // packed values are multiples of 4/256 g here (exponent 2)
    assert!(s
        .iter()
        .all(|x| x.acc_g.iter().all(|v| (v * 64.0).fract() == 0.0)));
}

#[test]
fn testdata_ax3_corrupt_blocks_are_skipped_with_warnings_and_a_gap() {
    let (good, _) = open_all("ax3_right_wrist_100hz_3min.cwa");
    let (bad, info) = open_all("ax3_right_wrist_100hz_3min_corrupt_blocks.cwa");
    assert_eq!(bad.len(), good.len() - 6 * 120);
    let blocks: Vec<u64> = info
        .warnings
        .iter()
        .map(|w| w.position.as_ref().unwrap().block.unwrap())
        .collect();
    assert_eq!(blocks, [0, 13, 14, 142, 143, 144]);
    let w = &info.warnings[1];
    assert_eq!(w.position.as_ref().unwrap().byte, Some(1024 + 13 * 512));
    assert!(w.message.contains("checksum"), "{}", w.message);
    // the two blocks 13-14 make one gap of about 2.44 s (README)
    assert_eq!(info.gaps.len(), 1);
    assert!(
        (info.gaps[0].duration_s - 2.44).abs() < 0.02,
        "{:?}",
        info.gaps
    );
    // what is left equals the intact file's samples: blocks 1..13 and 15..142
    let kept: Vec<&Sample> = good[120..13 * 120]
        .iter()
        .chain(&good[15 * 120..142 * 120])
        .collect();
    for (a, b) in bad.iter().zip(kept) {
        assert_eq!(a.acc_g, b.acc_g);
        // README: times agree within 0.12 ms (rounded; the runs' end slopes differ slightly)
        assert!((a.t_s - b.t_s).abs() < 0.125e-3, "{} vs {}", a.t_s, b.t_s);
    }
}

#[test]
fn testdata_ax6_clipping_and_scale() {
    let (s, info) = open_all("ax6_100hz_2min_clipping.cwa");
    assert_eq!(s.len(), 283 * 40);
    let d = info.device.as_ref().unwrap();
    assert_eq!(d.device_type, "AX6");
    assert_eq!(d.range_g, Some(16.0));
    let limit = 32767.0 / 2048.0;
    let clipped = s
        .iter()
        .filter(|x| x.acc_g[1].abs() == limit || x.acc_g[2].abs() == limit)
        .count();
    assert_eq!(clipped, 35, "rows at the range limit on y or z (README)");
    // the early block makes a shorter step but time still increases (checked on reading)
    assert!(info.gaps.is_empty());
}

#[test]
fn testdata_geneactiv_pages_and_cut_end() {
    let (s, info) = open_all("geneactiv_85p7hz_1min.bin");
    assert_eq!(info.format, Format::GeneactivBin);
    assert_eq!(s.len(), 16 * 300);
    assert_eq!(s[0].t_s, 1_369_908_774.5);
    // the last page is cut short: one warning naming page 16; the header declares 222048
    let cut = &info.warnings[0];
    assert_eq!(cut.position.as_ref().unwrap().block, Some(16));
    assert!(
        cut.message.contains("ends inside page 16"),
        "{}",
        cut.message
    );
    assert!(info.warnings[1].message.contains("222048"));
    // page boundaries: dt = 3.5 s − 299/85.7 s ≈ 11.085 ms, shorter than 1/85.7 s but > 0
    let dt_boundary = s[300].t_s - s[299].t_s;
    assert!(
        (dt_boundary - (3.5 - 299.0 / 85.7)).abs() < 1e-6,
        "{dt_boundary}"
    );
    let d = info.device.as_ref().unwrap();
    assert_eq!(d.serial, "012967");
    assert_eq!(d.range_g, Some(8.0));
    assert_eq!(d.rate_hz, Some(85.7));
}

#[test]
fn testdata_gt3x_idle_sleep_gaps_are_gaps() {
    let (s, info) = open_all("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x");
    assert_eq!(info.format, Format::Gt3x);
    assert_eq!(s.len(), 17_640);
    // README: 23 idle-sleep gaps from 1.03 s to 261 s, 19.7 min in all
    assert_eq!(info.gaps.len(), 23);
    let total: f64 = info.gaps.iter().map(|g| g.duration_s).sum();
    assert!((total / 60.0 - 19.7).abs() < 0.05, "{total}");
    let d = info.device.as_ref().unwrap();
    assert_eq!(d.serial, "MOS2E39180594");
    assert_eq!(d.location.as_deref(), Some("Waist"));
    assert_eq!(d.start_s, Some(1_598_436_540.0));
    assert_eq!(s[0].t_s, 1_598_436_540.0);
    // no sample is a filler zero vector
    assert!(s.iter().all(|x| x.norm_g() > 0.1));
}

#[test]
fn testdata_matrix_packets() {
    let (s, info) = open_all("matrix_100hz_6min_mostly_still.bin");
    assert_eq!(info.format, Format::MatrixBin);
    assert_eq!(s.len(), 6144 + 12_000 + 12_000 + 10_168);
    assert_eq!(info.device.as_ref().unwrap().rate_hz, Some(100.0));
    let (s, info) = open_all("matrix_12p5hz_17min.bin");
    assert_eq!(s.len(), 12_000 + 272);
    assert_eq!(info.device.as_ref().unwrap().rate_hz, Some(12.5));
    // first packet: 12000 readings over 984 s
    // (f64 at 1.7e9 s resolves 0.24 µs)
    assert!((s[1].t_s - s[0].t_s - 984.0 / 12_000.0).abs() < 1e-6);
    assert!(info.warnings.is_empty(), "{:?}", info.warnings);
}

// ---------------------------------------------------------------------------------------
// Corrupt files, made by mutating the real ones.

fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(testdata(name)).unwrap()
}

fn read_cwa(b: Vec<u8>) -> Result<(Vec<Sample>, sleeptwitch::RecordingInfo), sleeptwitch::Error> {
    let mut r = CwaReader::new(Cursor::new(b))?;
    let s = read_all(&mut r, 1000)?;
    Ok((s, r.info().clone()))
}

fn format_error_at(e: &sleeptwitch::Error, byte: u64) {
    assert!(matches!(e.kind(), ErrorKind::Format { .. }), "{e}");
    assert_eq!(e.position().and_then(|p| p.byte), Some(byte), "{e}");
}

#[test]
fn wrong_magic_is_an_error_at_byte_0_for_every_format() {
    let mut b = bytes("ax3_right_wrist_100hz_3min.cwa");
    b[0] = b'X';
    format_error_at(&CwaReader::new(Cursor::new(b)).err().unwrap(), 0);
    let mut b = bytes("geneactiv_85p7hz_1min.bin");
    b[0] = b'X';
    format_error_at(&GeneactivReader::new(Cursor::new(b)).err().unwrap(), 0);
    // Not a zip archive: neither an end-of-directory record nor a first local header. (With
    // the first header intact, a lost end record reads as a cut archive.)
    let mut b = bytes("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x");
    let n = b.len();
    b[n - 22] = b'X'; // the zip end-of-directory signature
    b[0] = b'X'; // the first local header's
    format_error_at(&Gt3xReader::new(Cursor::new(b)).err().unwrap(), 0);
    let mut b = bytes("matrix_12p5hz_17min.bin");
    b[512] = b'X';
    format_error_at(&MatrixReader::new(Cursor::new(b)).err().unwrap(), 512);
}

#[test]
fn cwa_bad_checksum_in_the_middle_is_skipped_with_a_warning_and_a_gap() {
    let mut b = bytes("ax3_right_wrist_100hz_3min.cwa");
    let at = 1024 + 70 * 512 + 100;
    b[at] ^= 0x40;
    let (s, info) = read_cwa(b).unwrap();
    assert_eq!(s.len(), 144 * 120);
    assert_eq!(info.warnings.len(), 1);
    let pos = info.warnings[0].position.as_ref().unwrap();
    assert_eq!((pos.block, pos.byte), (Some(70), Some(1024 + 70 * 512)));
    assert!(info.warnings[0].message.contains("checksum mismatch"));
    // 120 samples at 98.86 Hz: a 1.2 s hole, longer than the 1 s gap rule
    assert_eq!(info.gaps.len(), 1);
    assert!((info.gaps[0].duration_s - 121.0 / 98.86).abs() < 0.01);
}

#[test]
fn cwa_wrong_block_tag_is_skipped_and_named() {
    let mut b = bytes("ax6_100hz_2min_clipping.cwa");
    b[1024 + 100 * 512] = b'Q';
    let (s, info) = read_cwa(b).unwrap();
    assert_eq!(s.len(), 282 * 40);
    assert_eq!(info.warnings[0].position.as_ref().unwrap().block, Some(100));
    assert!(info.warnings[0].message.contains("\"AX\""));
}

#[test]
fn cwa_truncated_inside_a_block_keeps_what_came_before() {
    let b = bytes("ax3_right_wrist_100hz_3min.cwa");
    let (s, info) = read_cwa(b[..1024 + 100 * 512 + 300].to_vec()).unwrap();
    assert_eq!(s.len(), 100 * 120);
    let w = &info.warnings[0];
    assert_eq!(w.position.as_ref().unwrap().block, Some(100));
    assert!(
        w.message.contains("300 bytes into block 100"),
        "{}",
        w.message
    );
    // cut inside the header: an error
    let e = read_cwa(b[..700].to_vec()).err().unwrap();
    assert!(matches!(e.kind(), ErrorKind::Format { .. }), "{e}");
}

#[test]
fn cwa_block_time_going_back_is_an_error_naming_the_block() {
    // Set block 50's timestamp an hour back (with a valid checksum): its anchor is no
    // longer plausible, it starts a new run, and that run's times go back.
    let mut b = bytes("ax3_right_wrist_100hz_3min.cwa");
    let at = 1024 + 50 * 512;
    let stamp = u32::from_le_bytes(b[at + 14..at + 18].try_into().unwrap());
    let hour = (stamp >> 12) & 0x1f;
    let stamp = (stamp & !(0x1f << 12)) | ((hour - 1) << 12);
    b[at + 14..at + 18].copy_from_slice(&stamp.to_le_bytes());
    common::cwa_writer::fix_checksum(&mut b[at..at + 512]);
    let e = read_cwa(b).err().unwrap();
    assert!(
        matches!(e.kind(), ErrorKind::TimeNotIncreasing { .. }),
        "{e}"
    );
    let pos = e.position().unwrap();
    assert_eq!((pos.block, pos.byte), (Some(50), Some(at as u64)));
}

#[test]
fn geneactiv_bad_hex_page_is_skipped_and_named() {
    let mut b = bytes("geneactiv_85p7hz_1min.bin");
    let text = String::from_utf8_lossy(&b).into_owned();
    // the data line of page 5 (the sixth "Recorded Data")
    let page5 = text.match_indices("Recorded Data").nth(5).unwrap().0;
    let data = page5
        + text[page5..]
            .find("Measurement Frequency:85.7\r\n")
            .unwrap()
        + 28;
    b[data + 10] = b'G';
    let mut r = GeneactivReader::new(Cursor::new(b)).unwrap();
    let s = read_all(&mut r, 1000).unwrap();
    assert_eq!(s.len(), 15 * 300);
    let w = &r.info().warnings[0];
    assert_eq!(w.position.as_ref().unwrap().block, Some(5));
    assert_eq!(w.position.as_ref().unwrap().byte, Some(page5 as u64));
    // 300 samples lost: a 3.5 s gap
    assert_eq!(r.info().gaps.len(), 1);
}

#[test]
fn gt3x_bad_record_checksum_is_skipped_with_a_gap() {
    // log.bin is stored (not deflated) in this archive: flip a payload byte of the 200th
    // activity record in place.
    let mut b = bytes("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x");
    assert_eq!(&b[..4], b"PK\x03\x04");
    assert_eq!(&b[30..37], b"log.bin", "log.bin is the first member");
    let extra = usize::from(u16::from_le_bytes([b[28], b[29]]));
    let log_at = 30 + "log.bin".len() + extra;
    let (mut i, mut n_act, mut rec) = (log_at, 0, 0);
    let target = loop {
        assert_eq!(b[i], 0x1e);
        let size = usize::from(u16::from_le_bytes([b[i + 6], b[i + 7]]));
        if b[i + 1] == 0 && size > 1 {
            n_act += 1;
            if n_act == 200 {
                break (i, rec);
            }
        }
        i += 9 + size;
        rec += 1;
    };
    b[target.0 + 20] ^= 0x01;
    let mut r = Gt3xReader::new(Cursor::new(b)).unwrap();
    let s = read_all(&mut r, 1000).unwrap();
    assert_eq!(s.len(), 17_640 - 30);
    let w = &r.info().warnings[0];
    let pos = w.position.as_ref().unwrap();
    assert_eq!(pos.block, Some(target.1));
    assert_eq!(pos.byte, Some((target.0 - log_at) as u64));
    assert!(w.message.contains("checksum"), "{}", w.message);
    assert_eq!(
        r.info().gaps.len(),
        24,
        "one more gap than the 23 idle-sleep gaps"
    );
}

#[test]
fn matrix_bad_crc_packet_is_skipped_and_named() {
    let mut b = bytes("matrix_100hz_6min_mostly_still.bin");
    b[37_436 + 36 + 600] ^= 0x10; // packet 1 starts at byte 37436
    let mut r = MatrixReader::new(Cursor::new(b)).unwrap();
    let s = read_all(&mut r, 1000).unwrap();
    assert_eq!(s.len(), 6144 + 12_000 + 10_168);
    let pos = r.info().warnings[0].position.clone().unwrap();
    assert_eq!((pos.block, pos.byte), (Some(1), Some(37_436)));
    assert_eq!(r.info().gaps.len(), 1);
}

// ---------------------------------------------------------------------------------------
// Synthetic CWA files with known true times.

#[test]
fn synthetic_cwa_times_follow_the_true_clock() {
    use common::cwa_writer::{counts, write_cwa, CwaSpec};
    for packed in [true, false] {
        let spec = CwaSpec {
            rate_code: 0x4a,
            packed,
            start_s: 1_700_000_000.3,
            true_rate_hz: 98.86,
            n_blocks: 300,
        };
        let mut r = CwaReader::new(Cursor::new(write_cwa(&spec))).unwrap();
        let s = read_all(&mut r, 1 << 15).unwrap();
        assert_eq!(s.len(), spec.n_blocks * spec.per_block());
        for (i, x) in s.iter().enumerate() {
            // anchors carry the time to 1/32768 s; the lines between them add rounding of
            // the fraction to a sample index (< 1 sample is absorbed by the fraction)
            assert!(
                (x.t_s - spec.t_s(i)).abs() < 2.0 / 32768.0,
                "sample {i}: {} vs {}",
                x.t_s,
                spec.t_s(i)
            );
            let c = counts(i);
            assert_eq!(x.acc_g, c.map(|v| f64::from(v) / 256.0));
        }
        assert!((r.info().rate.rate_hz - 98.86).abs() < 1e-3);
        assert_eq!(
            r.info().device.as_ref().unwrap().location.as_deref(),
            Some("left wrist")
        );
    }
}

#[test]
fn synthetic_cwa_one_or_two_threads_give_the_same_samples() {
    use common::cwa_writer::{write_cwa, CwaSpec};
    let spec = CwaSpec {
        rate_code: 0x4a,
        packed: true,
        start_s: 1_700_000_000.0,
        true_rate_hz: 100.3,
        n_blocks: 3000,
    };
    let file = write_cwa(&spec);
    let mut one = CwaReader::new(Cursor::new(file.clone())).unwrap();
    one.set_threads(1);
    let mut two = CwaReader::new(Cursor::new(file)).unwrap();
    two.set_threads(2);
    assert_eq!(
        read_all(&mut one, 1 << 16).unwrap(),
        read_all(&mut two, 1 << 16).unwrap()
    );
}

#[test]
fn gt3x_deflated_archive_gives_the_same_samples() {
    // The repository's .gt3x stores its members; re-pack them deflated (as the GT9X Link
    // file in ../shared is) so the inflating path is tested without that GPL file.
    let stored = bytes("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x");
    let members = common::unzip_stored(&stored);
    assert_eq!(members.len(), 2);
    let deflated = common::zip_deflated(&members);
    assert!(deflated.len() < stored.len(), "really compressed");
    let mut a = Gt3xReader::new(Cursor::new(stored)).unwrap();
    let mut b = Gt3xReader::new(Cursor::new(deflated)).unwrap();
    assert_eq!(
        read_all(&mut a, 999).unwrap(),
        read_all(&mut b, 999).unwrap()
    );
    assert_eq!(a.info(), b.info());
}

/// Peak resident memory of this process so far (VmHWM), in bytes.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// CPU time this process has used (user + system), in seconds, at 10 ms resolution.
fn cpu_time_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // fields after the command name (which is in parentheses)
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = f.get(11)?.parse().ok()?;
    let stime: f64 = f.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// A synthetic week (258 MB) written to a temporary file and read back in chunks of 64 Ki
/// samples (`SLEEPTWITCH_CHUNK` to change) on two threads (`SLEEPTWITCH_THREADS`), printing
/// speed, CPU time and peak memory; fails if memory beyond the buffer passes 16 MB.
#[test]
#[ignore = "writes a 258 MB temporary file; run by hand for BENCHMARKS.md"]
fn week_long_cwa_from_disk_in_bounded_memory() {
    use common::cwa_writer::{block, header, CwaSpec};
    use std::io::Write;
    let spec = CwaSpec {
        rate_code: 0x4a,
        packed: true,
        start_s: 1_700_000_000.25,
        true_rate_hz: 99.7,
        n_blocks: 7 * 24 * 3600 * 100 / 120,
    };
    let path = std::env::temp_dir().join(format!("sleeptwitch-week-{}.cwa", std::process::id()));
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        f.write_all(&header(&spec)).unwrap();
        for k in 0..spec.n_blocks {
            f.write_all(&block(&spec, k)).unwrap();
        }
    }
    let file_len = std::fs::metadata(&path).unwrap().len();
    let before = peak_rss_bytes().unwrap_or(0);
    let threads: usize = std::env::var("SLEEPTWITCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(2);
    let chunk: usize = std::env::var("SLEEPTWITCH_CHUNK")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(64 * 1024);
    let mut buf = vec![Sample::default(); chunk];
    let start = std::time::Instant::now();
    let cpu0 = cpu_time_s().unwrap_or(0.0);
    let mut r = CwaReader::from_path(&path).unwrap();
    r.set_threads(threads);
    let mut n = 0u64;
    loop {
        let k = r.read_samples(&mut buf).unwrap();
        if k == 0 {
            break;
        }
        n += k as u64;
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_time_s().unwrap_or(0.0) - cpu0;
    let after = peak_rss_bytes().unwrap_or(0);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(n, spec.n_blocks as u64 * 120);
    println!(
        "week: {n} samples, {:.1} MB, {threads} thread(s), {secs:.3} s wall: {:.2} GB/s of file, \
         {:.1} Msamples/s; {cpu:.2} s of CPU ({:.2} GB per CPU-second); peak RSS {:.1} MB before opening, {:.1} MB after (buffer {:.1} MB)",
        file_len as f64 / 1e6,
        file_len as f64 / secs / 1e9,
        n as f64 / secs / 1e6,
        file_len as f64 / cpu / 1e9,
        before as f64 / 1e6,
        after as f64 / 1e6,
        (buf.len() * std::mem::size_of::<Sample>()) as f64 / 1e6,
    );
    // memory beyond the caller's buffer stays small (batch of 512 KiB, tables)
    assert!(
        after.saturating_sub(before) < 16_000_000,
        "{before} → {after}"
    );
}

#[test]
fn gt3x_padding_is_allowed_and_junk_is_reported() {
    // Re-pack the archive with zeros before record 100 (allowed by the format description)
    // and two junk bytes before record 200: no sample is lost, the junk is named.
    let mut members =
        common::unzip_stored(&bytes("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x"));
    let log = &mut members.iter_mut().find(|(n, _)| n == "log.bin").unwrap().1;
    let starts: Vec<usize> = {
        let (mut i, mut v) = (0, Vec::new());
        while i < log.len() {
            v.push(i);
            i += 9 + usize::from(u16::from_le_bytes([log[i + 6], log[i + 7]]));
        }
        v
    };
    let (r100, r200) = (starts[100], starts[200]);
    let mut patched = log[..r100].to_vec();
    patched.extend_from_slice(&[0, 0, 0]);
    patched.extend_from_slice(&log[r100..r200]);
    patched.extend_from_slice(&[0x55, 0x66]);
    patched.extend_from_slice(&log[r200..]);
    *log = patched;
    let mut r = Gt3xReader::new(Cursor::new(common::zip_deflated(&members))).unwrap();
    assert_eq!(read_all(&mut r, 500).unwrap().len(), 17_640);
    let w = &r.info().warnings;
    assert_eq!(w.len(), 1, "{w:?}");
    let junk_at = (r200 + 3) as u64;
    assert_eq!(w[0].position.as_ref().unwrap().byte, Some(junk_at));
    assert!(
        w[0].message
            .contains(&format!("bytes {junk_at}..{}", junk_at + 2)),
        "{}",
        w[0].message
    );
}

#[test]
fn open_device_ignores_extension_case_and_sniffs_bin_files() {
    let dir = std::env::temp_dir().join(format!("sleeptwitch-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases = [
        ("ax3_right_wrist_100hz_3min.cwa", "A.CWA", Format::Cwa),
        ("geneactiv_85p7hz_1min.bin", "G.Bin", Format::GeneactivBin),
        ("matrix_12p5hz_17min.bin", "M.BIN", Format::MatrixBin),
        (
            "actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x",
            "T.GT3X",
            Format::Gt3x,
        ),
    ];
    for (src, name, format) in cases {
        let p = dir.join(name);
        std::fs::copy(testdata(src), &p).unwrap();
        let r = open_device(&p).unwrap().expect("a device file");
        assert_eq!(r.info().format, format, "{name}");
    }
    // a .bin that is neither: an error naming the file
    let p = dir.join("other.bin");
    std::fs::write(&p, b"t,x,y,z\n0,0,0,1\n").unwrap();
    let e = open_device(&p).err().unwrap();
    assert!(matches!(e.kind(), ErrorKind::Format { .. }), "{e}");
    assert!(e.to_string().contains("other.bin"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn geneactiv_page_time_going_back_is_an_error_naming_the_page() {
    let b = bytes("geneactiv_85p7hz_1min.bin");
    let text = String::from_utf8_lossy(&b).replacen(
        "Page Time:2013-05-30 10:13:12:000",
        "Page Time:2013-05-30 10:13:02:000",
        1,
    );
    assert_ne!(
        text.as_bytes(),
        &b[..],
        "page 5's time was found and changed"
    );
    let page5 = text.match_indices("Recorded Data").nth(5).unwrap().0;
    let mut r = GeneactivReader::new(Cursor::new(text.into_bytes())).unwrap();
    let e = read_all(&mut r, 1000).err().unwrap();
    assert!(
        matches!(e.kind(), ErrorKind::TimeNotIncreasing { .. }),
        "{e}"
    );
    let pos = e.position().unwrap();
    assert_eq!((pos.block, pos.byte), (Some(5), Some(page5 as u64)));
    // the samples before it were handed out and counted
    assert_eq!(r.info().n_samples, 5 * 300);
}

#[test]
fn matrix_truncated_inside_a_packet_keeps_the_packets_before() {
    let b = bytes("matrix_100hz_6min_mostly_still.bin");
    // packet 2 starts at byte 109480; cut 5000 bytes into it
    let mut r = MatrixReader::new(Cursor::new(b[..109_480 + 5000].to_vec())).unwrap();
    let s = read_all(&mut r, 1000).unwrap();
    assert_eq!(s.len(), 6144 + 12_000);
    let w = &r.info().warnings[0];
    assert_eq!(w.position.as_ref().unwrap().block, Some(2));
    assert!(w.message.contains("ends inside packet 2"), "{}", w.message);
}

#[test]
fn gt3x_truncated_log_keeps_the_records_before() {
    // cut log.bin inside its 300th record and re-pack: the records before it are read
    let mut members =
        common::unzip_stored(&bytes("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x"));
    let log = &mut members.iter_mut().find(|(n, _)| n == "log.bin").unwrap().1;
    let (mut i, mut rec, mut n_samples) = (0usize, 0, 0);
    while rec < 300 {
        let size = usize::from(u16::from_le_bytes([log[i + 6], log[i + 7]]));
        if log[i + 1] == 0 {
            n_samples += size * 8 / 36;
        }
        i += 9 + size;
        rec += 1;
    }
    log.truncate(i + 5); // inside record 300's header
    let mut r = Gt3xReader::new(Cursor::new(common::zip_deflated(&members))).unwrap();
    assert_eq!(read_all(&mut r, 1000).unwrap().len(), n_samples);
    let w = &r.info().warnings[0];
    assert_eq!(w.position.as_ref().unwrap().block, Some(300));
    assert!(
        w.message.contains("ends inside record 300"),
        "{}",
        w.message
    );
}

/// Samples in the complete ACTIVITY records of `log` (a `log.bin`, possibly cut), walked
/// record by record as the format describes: separator, type, timestamp, size, payload,
/// checksum. The file holds only packed ACTIVITY records (36 bits a sample).
fn samples_in_complete_records(log: &[u8]) -> usize {
    let (mut i, mut n) = (0, 0);
    while i + 8 <= log.len() {
        assert_eq!(log[i], 0x1e, "record at byte {i}");
        let size = usize::from(u16::from_le_bytes([log[i + 6], log[i + 7]]));
        if i + 9 + size > log.len() {
            break;
        }
        if log[i + 1] == 0 {
            n += size * 8 / 36;
        }
        i += 9 + size;
    }
    n
}

#[test]
fn gt3x_cut_short_gives_a_prefix_of_the_samples_and_says_where_log_bin_ends() {
    let whole = bytes("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x");
    let full = read_all(
        &mut Gt3xReader::new(Cursor::new(whole.clone())).unwrap(),
        1000,
    )
    .unwrap();
    let members = common::unzip_stored(&whole);
    let log = &members.iter().find(|(n, _)| n == "log.bin").unwrap().1;
    // `unzip -lv`: log.bin is stored first (no data descriptor), its data from byte 93;
    // info.txt follows it, from byte 87,825; then the central directory.
    let log_at = 93;
    assert_eq!(&whole[30..37], b"log.bin");
    assert_eq!(&whole[log_at..log_at + 16], &log[..16]);
    let info_at = log_at + log.len() + 30 + "info.txt".len();
    for cut in [
        2_000,
        20_000,
        60_000,
        87_000,
        info_at - 10,     // in info.txt's header: log.bin is whole
        info_at + 100,    // in info.txt
        whole.len() - 30, // in the central directory
    ] {
        let mut r = Gt3xReader::new(Cursor::new(whole[..cut].to_vec()))
            .unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let got = read_all(&mut r, 1000).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        let in_log = (cut - log_at).min(log.len());
        assert_eq!(
            got.len(),
            samples_in_complete_records(&log[..in_log]),
            "cut {cut}"
        );
        assert_eq!(got[..], full[..got.len()], "cut at {cut}");
        let warnings: Vec<String> = r.info().warnings.iter().map(|w| w.to_string()).collect();
        let end = r.info().warnings.last().unwrap();
        let said = if in_log < log.len() {
            format!(
                "the zip archive is cut short (no central directory): log.bin ends after \
                 {in_log} of its {} bytes, the rest of the recording is lost",
                log.len()
            )
        } else {
            format!(
                "the zip archive is cut short (no central directory) after the whole of \
                 log.bin ({} bytes)",
                log.len()
            )
        };
        assert_eq!(end.message, said, "cut at {cut}");
        assert_eq!(end.position.as_ref().unwrap().byte, Some(in_log as u64));
        // Before info.txt is whole its settings come from log.bin, and it is said.
        let from_log = warnings.iter().any(|w| w.contains("PARAMETERS record"));
        assert_eq!(from_log, cut < info_at + 470, "cut at {cut}: {warnings:?}");
    }
}

#[test]
fn gt3x_cut_deflated_archive_reads_until_its_stream_ends() {
    let members = common::unzip_stored(&bytes("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x"));
    let deflated = common::zip_deflated(&members);
    let full = read_all(
        &mut Gt3xReader::new(Cursor::new(deflated.clone())).unwrap(),
        1000,
    )
    .unwrap();
    let mut n_got = Vec::new();
    for cut in [
        deflated.len() / 4,
        deflated.len() / 2,
        deflated.len() * 3 / 4,
    ] {
        let mut r = Gt3xReader::new(Cursor::new(deflated[..cut].to_vec())).unwrap();
        let got = read_all(&mut r, 1000).unwrap();
        assert!(!got.is_empty() && got.len() < full.len(), "cut at {cut}");
        assert_eq!(got[..], full[..got.len()], "cut at {cut}");
        let end = &r.info().warnings.last().unwrap().message;
        assert!(
            end.ends_with("bytes, the rest of the recording is lost"),
            "{end}"
        );
        n_got.push(got.len());
    }
    assert!(n_got.windows(2).all(|w| w[0] < w[1]), "{n_got:?}");
}

#[test]
fn gt3x_cut_before_its_samples_is_an_error_saying_so() {
    let whole = bytes("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x");
    // In log.bin's header, at its first data byte; before the PARAMETERS record ends
    // (log.bin bytes 684 to 1013); before the first ACTIVITY record ends (bytes 1073 to 1217).
    for (cut, says) in [
        (20, "not a zip archive"),
        (60, "cut short (no central directory) before any of log.bin"),
        (93, "cut short (no central directory) before any of log.bin"),
        (93 + 1000, "no PARAMETERS record giving the sample rate"),
        (93 + 1200, "before its first sample"),
    ] {
        let e = match Gt3xReader::new(Cursor::new(whole[..cut].to_vec())) {
            Err(e) => e,
            Ok(mut r) => read_all(&mut r, 1000).err().unwrap(),
        };
        assert!(
            matches!(e.kind(), ErrorKind::Format { .. }),
            "cut at {cut}: {e}"
        );
        assert!(e.to_string().contains(says), "cut at {cut}: {e}");
    }
}

/// A synthetic CWA decoded from memory, for profilers (`perf record`, `valgrind
/// --tool=callgrind`): `SLEEPTWITCH_HOURS` hours at 100 Hz (default 24),
/// `SLEEPTWITCH_PACKED=0` for unpacked blocks, `SLEEPTWITCH_THREADS` (default 1) and
/// `SLEEPTWITCH_REPEAT` decodes (default 1) of the same bytes, in chunks of
/// `SLEEPTWITCH_CHUNK` samples (default 64 Ki). Prints the time of each.
#[test]
#[ignore = "a profiling target, run by hand"]
fn cwa_decode_from_memory_for_profiling() {
    use common::cwa_writer::{write_cwa, CwaSpec};
    let var = |name: &str, default: usize| -> usize {
        std::env::var(name)
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or(default)
    };
    let packed = var("SLEEPTWITCH_PACKED", 1) != 0;
    let per_block = if packed { 120 } else { 80 };
    let spec = CwaSpec {
        rate_code: 0x4a,
        packed,
        start_s: 1_700_000_000.25,
        true_rate_hz: 99.7,
        n_blocks: var("SLEEPTWITCH_HOURS", 24) * 3600 * 100 / per_block,
    };
    let file = write_cwa(&spec);
    let threads = var("SLEEPTWITCH_THREADS", 1);
    let mut buf = vec![Sample::default(); var("SLEEPTWITCH_CHUNK", 64 * 1024)];
    for _ in 0..var("SLEEPTWITCH_REPEAT", 1) {
        let start = std::time::Instant::now();
        let cpu0 = cpu_time_s().unwrap_or(0.0);
        let mut r = CwaReader::new(Cursor::new(&file[..])).unwrap();
        r.set_threads(threads);
        let mut n = 0;
        while let k @ 1.. = r.read_samples(&mut buf).unwrap() {
            n += k;
        }
        let secs = start.elapsed().as_secs_f64();
        let cpu = cpu_time_s().unwrap_or(0.0) - cpu0;
        assert_eq!(n, spec.n_blocks * per_block);
        println!(
            "{n} samples, {:.1} MB: {secs:.4} s ({cpu:.2} s of CPU), {:.3} GB/s, {:.1} Msamples/s",
            file.len() as f64 / 1e6,
            file.len() as f64 / secs / 1e9,
            n as f64 / secs / 1e6
        );
    }
}

// ---------------------------------------------------------------------------------------
// Rates measured from the decoded times; dropped data reported as gaps.

/// Opens a device file and returns what its reader knows before a sample is read (what a
/// detector is built from), and everything after reading it all.
fn info_at_open_and_end(
    name: &str,
) -> (
    sleeptwitch::RecordingInfo,
    sleeptwitch::RecordingInfo,
    Vec<Sample>,
) {
    let mut src = open_device(&testdata(name)).unwrap().unwrap();
    let at_open = src.info().clone();
    let s = read_all(&mut src, 4096).unwrap();
    (at_open, src.info().clone(), s)
}

#[test]
fn device_rate_statistics_come_from_the_decoded_times() {
    use sleeptwitch::analysis::detector_rate_hz;
    // (file, nominal Hz, median interval of the first 4,097 decoded times in s)
    let cases = [
        // first packet: 12,000 readings over 984 s
        ("matrix_12p5hz_17min.bin", 12.5, 984.0 / 12_000.0),
        // first packet: 6,144 readings over 60 s
        ("matrix_100hz_6min_mostly_still.bin", 100.0, 60.0 / 6144.0),
        // README: stored dt 10.115 ms against the device clock
        ("ax3_right_wrist_100hz_3min.cwa", 100.0, 10.115e-3),
        ("ax6_100hz_2min_clipping.cwa", 100.0, 10.098e-3),
        ("geneactiv_85p7hz_1min.bin", 85.7, 1.0 / 85.7),
        (
            "actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x",
            30.0,
            1.0 / 30.0,
        ),
    ];
    for (name, nominal_hz, median_s) in cases {
        let (open, end, s) = info_at_open_and_end(name);
        let rate = &open.rate;
        assert_eq!(rate.nominal_hz, Some(nominal_hz), "{name}");
        assert!(
            (rate.median_interval_s - median_s).abs() < 2e-6,
            "{name}: median interval {} s at open, decoded {median_s} s",
            rate.median_interval_s
        );
        // the median of the decoded intervals, computed here from the samples handed out
        let mut dts: Vec<f64> = s[..4097].windows(2).map(|w| w[1].t_s - w[0].t_s).collect();
        dts.sort_by(f64::total_cmp);
        let median = dts[dts.len() / 2];
        assert_eq!(end.rate.median_interval_s, median, "{name}");
        // the detector's interval: the mean of those within half and 1.5 times the median
        let near: Vec<f64> = s[..4097]
            .windows(2)
            .map(|w| w[1].t_s - w[0].t_s)
            .filter(|d| (0.5 * median..=1.5 * median).contains(d))
            .collect();
        let mean = near.iter().sum::<f64>() / near.len() as f64;
        assert!(
            (detector_rate_hz(&open).unwrap() * mean - 1.0).abs() < 1e-9,
            "{name}: detector at {} Hz, mean interval {mean} s",
            detector_rate_hz(&open).unwrap()
        );
        // the longest interval that is not a gap is never shorter than the median
        assert!(end.rate.max_interval_s >= median, "{name}: {:?}", end.rate);
    }
}

#[test]
fn matrix_cut_to_its_first_packet_reports_its_own_rate() {
    // 100,000 bytes: the first packet (6,144 readings over 60 s, 102.4 Hz) and a cut one
    let b = bytes("matrix_100hz_6min_mostly_still.bin");
    let mut r = MatrixReader::new(Cursor::new(b[..100_000].to_vec())).unwrap();
    read_all(&mut r, 1000).unwrap();
    let rate = &r.info().rate;
    assert!(
        (rate.median_interval_s - 60.0 / 6144.0).abs() < 1e-6,
        "{rate:?}"
    );
    assert!((rate.rate_hz - 102.4).abs() < 1e-3, "{rate:?}");
    assert!(rate.max_interval_s >= rate.median_interval_s, "{rate:?}");
    assert!(rate.jitter_s < 1e-6, "{rate:?}");
}

/// Every device file against its CSV export in ../shared/data: times written to the
/// millisecond (intervals of 10 and 11 ms for a 98.86 Hz AX3, 11 and 12 ms for the 85.7 Hz
/// GENEActiv) and values to a few decimals must not change the detector's rate or events.
#[test]
fn every_device_file_and_its_csv_export_give_the_same_events() {
    use sleeptwitch::analysis::{analyze_night_with, Input, Options};
    use sleeptwitch::{Config, Event, Site};
    let names = [
        "matrix_12p5hz_17min.bin",
        "matrix_100hz_6min_mostly_still.bin",
        "ax3_right_wrist_100hz_3min.cwa",
        "ax3_right_wrist_100hz_3min_corrupt_blocks.cwa",
        "ax6_100hz_2min_clipping.cwa",
        "geneactiv_85p7hz_1min.bin",
        "actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x",
    ];
    let events = |path: std::path::PathBuf| {
        let mut got: Vec<Event> = Vec::new();
        let report = analyze_night_with(
            &[Input::new(path, Site::Ankle)],
            &Config::default(),
            &Options::default(),
            &mut |e: Event| got.push(e),
            &mut |_, _| {},
        )
        .unwrap();
        (got, report.inputs[0].detector_rate_hz)
    };
    for name in names {
        let stem = name.rsplit_once('.').unwrap().0;
        let Some(csv) = shared(&format!("{stem}.csv")) else {
            println!("skipped: ../shared/data not found");
            return;
        };
        let (from_device, device_hz) = events(testdata(name));
        let (from_csv, csv_hz) = events(csv);
        // the mean of 4,096 intervals rounded to 1 ms is within 0.25 µs of the true one
        assert!(
            (device_hz / csv_hz - 1.0).abs() < 1e-4,
            "{name}: {device_hz} vs {csv_hz} Hz"
        );
        assert_eq!(from_device.len(), from_csv.len(), "{name}");
        assert!(!from_device.is_empty(), "{name}");
        for (a, b) in from_device.iter().zip(&from_csv) {
            assert_eq!(a.kind, b.kind, "{name}: {a:?} vs {b:?}");
            // times rounded to 1 ms in the export
            assert!(
                (a.onset_s - b.onset_s).abs() < 2e-3,
                "{name}: {a:?} vs {b:?}"
            );
            assert!(
                (a.offset_s - b.offset_s).abs() < 2e-3,
                "{name}: {a:?} vs {b:?}"
            );
        }
    }
}

/// The samples of an AX6 copy read through every path: buffers smaller than a block, of a
/// few blocks, and big enough for two threads.
fn read_cwa_every_way(b: &[u8]) -> Vec<(Vec<Sample>, sleeptwitch::RecordingInfo)> {
    let mut out = Vec::new();
    for (chunk, threads) in [(7, 1), (1000, 1), (1 << 15, 1), (1 << 15, 2)] {
        let mut r = CwaReader::new(Cursor::new(b.to_vec())).unwrap();
        r.set_threads(threads);
        let s = read_all(&mut r, chunk).unwrap();
        out.push((s, r.info().clone()));
    }
    out
}

#[test]
fn cwa_block_dropped_under_a_second_is_a_gap_and_named() {
    let good = bytes("ax6_100hz_2min_clipping.cwa");
    let (intact, _) = read_cwa(good.clone()).unwrap();
    // block 100 holds 40 samples, 0.4 s: a hole far under the 1 s gap rule
    let mut b = good.clone();
    b[1024 + 100 * 512 + 200] ^= 0x01;
    for (s, info) in read_cwa_every_way(&b) {
        assert_eq!(s.len(), 282 * 40);
        assert_eq!(info.warnings.len(), 1);
        let w = &info.warnings[0];
        assert_eq!(w.position.as_ref().unwrap().block, Some(100));
        assert!(w.message.contains("checksum mismatch"), "{}", w.message);
        // the hole is a gap from the last sample before it to the first after it
        assert_eq!(info.gaps.len(), 1, "{:?}", info.gaps);
        let g = info.gaps[0];
        assert_eq!(g.start_s, s[100 * 40 - 1].t_s);
        assert_eq!(g.duration_s, s[100 * 40].t_s - s[100 * 40 - 1].t_s);
        assert!((g.duration_s - 41.0 / 99.04).abs() < 0.01, "{g:?}");
        // kept out of the rate statistics: no interval longer than the device's own
        assert!(info.rate.max_interval_s < 10.2e-3, "{:?}", info.rate);
        assert!((info.rate.rate_hz - 99.04).abs() < 0.01, "{:?}", info.rate);
        // no sample is stretched towards the hole: every other sample's time and value is
        // the intact file's, within what the runs' end slopes change (README: 0.12 ms)
        let kept = intact[..100 * 40].iter().chain(&intact[101 * 40..]);
        for (a, b) in s.iter().zip(kept) {
            assert_eq!(a.acc_g, b.acc_g);
            assert!((a.t_s - b.t_s).abs() < 0.125e-3, "{} vs {}", a.t_s, b.t_s);
        }
    }
}

#[test]
fn cwa_block_missing_from_the_sequence_is_a_gap() {
    // block 100 cut out of the file: its neighbours' sequence numbers do not follow
    let good = bytes("ax6_100hz_2min_clipping.cwa");
    let at = 1024 + 100 * 512;
    let b: Vec<u8> = good[..at]
        .iter()
        .chain(&good[at + 512..])
        .copied()
        .collect();
    for (s, info) in read_cwa_every_way(&b) {
        assert_eq!(s.len(), 282 * 40);
        assert_eq!(info.gaps.len(), 1, "{:?}", info.gaps);
        assert!((info.gaps[0].duration_s - 41.0 / 99.04).abs() < 0.01);
    }
}

#[test]
fn real_corrupt_cwa_reports_every_hole_it_can_place() {
    // blocks 0, 13-14 and 142-144 fail their checksum: the holes at the start and the end
    // have no sample on one side; the one in the middle is the gap
    let (_, info, s) = info_at_open_and_end("ax3_right_wrist_100hz_3min_corrupt_blocks.cwa");
    assert_eq!(info.warnings.len(), 6);
    assert_eq!(info.gaps.len(), 1);
    assert_eq!(info.gaps[0].start_s, s[12 * 120 - 1].t_s);
    assert!((info.rate.median_interval_s - 10.115e-3).abs() < 2e-6);
}

/// The samples of packets `keep` of the intact 100 Hz Matrix file.
fn matrix_packets(keep: &[usize]) -> Vec<Sample> {
    let (all, _) = open_all("matrix_100hz_6min_mostly_still.bin");
    let bounds = [0, 6144, 18_144, 30_144, 40_312];
    keep.iter()
        .flat_map(|&p| all[bounds[p]..bounds[p + 1]].to_vec())
        .collect()
}

fn read_matrix(b: Vec<u8>) -> (Vec<Sample>, sleeptwitch::RecordingInfo) {
    let mut r = MatrixReader::new(Cursor::new(b)).unwrap();
    let s = read_all(&mut r, 1000).unwrap();
    (s, r.info().clone())
}

/// Packet starts in the 100 Hz Matrix file, in bytes.
const MATRIX_PACKETS_AT: [usize; 4] = [524, 37_436, 109_480, 181_524];

#[test]
fn matrix_damaged_packet_loses_that_packet_only() {
    let good = bytes("matrix_100hz_6min_mostly_still.bin");
    let p1 = MATRIX_PACKETS_AT[1];
    // (what is damaged, the bytes)
    let mut cases: Vec<(&str, Vec<u8>)> = Vec::new();
    let mut b = good.clone();
    b[p1 + 36 + 600] ^= 0x10;
    cases.push(("a byte of a reading", b));
    let mut b = good.clone();
    b[p1 + 22] ^= 0x01; // accelerometer count + 65536: the body would run past the file end
    cases.push(("the accelerometer count, high byte", b));
    let mut b = good.clone();
    b[p1 + 20] ^= 0x01; // accelerometer count ± 1: the body ends 6 bytes off
    cases.push(("the accelerometer count, low byte", b));
    let mut b = good.clone();
    b[p1 + 32] ^= 0x40; // heart-rate count + 64: the body runs into packet 2's head
    cases.push(("the heart-rate count", b));
    let mut b = good.clone();
    b[p1 + 9] ^= 0x01;
    cases.push(("the stored CRC", b));
    let mut b = good.clone();
    b[p1 + 3] = b'X';
    cases.push(("the packet tag", b));
    // packet 1 cut short mid-readings, the file going on with packet 2
    let cut: Vec<u8> = good[..p1 + 5000]
        .iter()
        .chain(&good[MATRIX_PACKETS_AT[2]..])
        .copied()
        .collect();
    cases.push(("packet 1 cut short", cut));
    let want = matrix_packets(&[0, 2, 3]);
    for (what, b) in cases {
        let (s, info) = read_matrix(b);
        assert_eq!(s.len(), want.len(), "{what}: {:?}", info.warnings);
        for (i, (a, w)) in s.iter().zip(&want).enumerate() {
            assert_eq!(a, w, "{what}: sample {i}");
        }
        let w = &info.warnings[0];
        let pos = w.position.as_ref().unwrap();
        assert_eq!(pos.block, Some(1), "{what}: {w}");
        assert_eq!(pos.byte, Some(p1 as u64), "{what}: {w}");
        // the lost packet is a gap of its length, from packet 0's last sample to packet 2's
        // first
        assert_eq!(info.gaps.len(), 1, "{what}");
        assert_eq!(info.gaps[0].start_s, want[6143].t_s, "{what}");
        assert_eq!(
            info.gaps[0].duration_s,
            want[6144].t_s - want[6143].t_s,
            "{what}"
        );
    }
}

#[test]
fn matrix_cut_mid_packet_keeps_every_whole_packet() {
    let good = bytes("matrix_100hz_6min_mostly_still.bin");
    let p3 = MATRIX_PACKETS_AT[3];
    for cut in [p3 + 3, p3 + 20, p3 + 36, p3 + 36 + 1001, good.len() - 1] {
        let (s, info) = read_matrix(good[..cut].to_vec());
        let want = matrix_packets(&[0, 1, 2]);
        assert_eq!(s, want, "cut at byte {cut}");
        assert!(info.gaps.is_empty());
        let w = &info.warnings[0];
        assert_eq!(w.position.as_ref().unwrap().block, Some(3), "{w}");
        assert!(w.message.contains("ends inside packet 3"), "{w}");
    }
    // a damaged first packet: the reader finds the second
    let mut b = good.clone();
    b[MATRIX_PACKETS_AT[0] + 22] ^= 0x01;
    let (s, info) = read_matrix(b);
    assert_eq!(s, matrix_packets(&[1, 2, 3]));
    assert_eq!(info.warnings[0].position.as_ref().unwrap().block, Some(0));
}

#[test]
fn an_actilife_export_whose_idle_time_is_filled_gives_the_gt3x_gaps_and_events() {
    use sleeptwitch::analysis::{analyze_night_with, Input, Options};
    use sleeptwitch::io::{open, OpenOptions};
    use sleeptwitch::{Config, Event, Site};
    let gt3x = testdata("actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x");
    let mut r = Gt3xReader::from_path(&gt3x).unwrap();
    let samples = read_all(&mut r, 1 << 16).unwrap();
    let gaps = r.info().gaps.clone();
    assert_eq!(gaps.len(), 23);
    let dir = std::env::temp_dir().join(format!("sleeptwitch-idle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let export = dir.join("idle_fill.csv");
    std::fs::write(&export, actilife_export_with_idle_fill(&samples)).unwrap();
    let events = |path: &std::path::Path, idle_fill: Option<bool>| {
        let mut got: Vec<Event> = Vec::new();
        let options = Options {
            open: OpenOptions {
                idle_fill,
                ..OpenOptions::default()
            },
            ..Options::default()
        };
        let report = analyze_night_with(
            &[Input::new(path.to_path_buf(), Site::Ankle)],
            &Config::default(),
            &options,
            &mut |e: Event| got.push(e),
            &mut |_, _| {},
        )
        .unwrap();
        (got, report)
    };
    let (want, _) = events(&gt3x, None);
    assert!(!want.is_empty());
    // The fill is found and left out: the samples, gaps and events of the device file.
    let mut src = open(&export, &OpenOptions::default()).unwrap();
    let got = read_all(&mut *src, 1000).unwrap();
    let (dt, dv) = assert_agrees(&got, &samples, 1e-6, [0.0; 3]);
    println!("export without its fill: max |Δt| {dt:.2e} s, max |Δg| {dv:.1e}");
    let info = src.info();
    assert_eq!(info.gaps.len(), gaps.len());
    for (a, b) in info.gaps.iter().zip(&gaps) {
        assert!((a.start_s - b.start_s).abs() < 1e-6, "{a:?} vs {b:?}");
        assert!((a.duration_s - b.duration_s).abs() < 1e-6, "{a:?} vs {b:?}");
    }
    assert!(info
        .warnings
        .iter()
        .any(|w| w.message.contains("idle-sleep")));
    let (from_export, _) = events(&export, None);
    assert_eq!(from_export.len(), want.len());
    for (a, b) in want.iter().zip(&from_export) {
        assert_eq!(a.kind, b.kind, "{a:?} vs {b:?}");
        assert!((a.onset_s - b.onset_s).abs() < 1e-3, "{a:?} vs {b:?}");
        assert!((a.offset_s - b.offset_s).abs() < 1e-3, "{a:?} vs {b:?}");
    }
    // Read as samples, the fill is a flat line where the device file has gaps.
    let (kept, report) = events(&export, Some(false));
    assert!(report.inputs[0].recording.gaps.is_empty());
    println!(
        "events: device file {}, export {}, export with its fill {}",
        want.len(),
        from_export.len(),
        kept.len()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
