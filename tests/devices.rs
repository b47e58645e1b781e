//! Device decoders against independent conversions of real recordings.
//!
//! The reference CSVs (`../shared/data/*.csv`, see its README) round times to 1 ms and
//! values to 6 decimals, so a decoder agrees when times are within 1 ms (the rounding, 0.5 ms,
//! plus what the reference's float arithmetic adds) and values within one quantisation step of
//! the device. Tests that need `../shared` print a message and pass when it is absent; the
//! copies in `testdata/devices/` are checked against facts stated in the data's README.

// Tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

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
