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
