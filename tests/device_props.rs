//! Device decoders on arbitrary and damaged input: an `Ok` or an `Err`, never a panic, and
//! whatever comes out obeys the crate's sample rules.
// Tests: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Cursor;

use common::testdata;
use proptest::prelude::*;
use sleeptwitch::io::{CwaReader, GeneactivReader, Gt3xReader, MatrixReader};
use sleeptwitch::{Error, Sample, Source};

#[derive(Clone, Copy, Debug)]
enum Kind {
    Cwa,
    Geneactiv,
    Gt3x,
    Matrix,
}

const KINDS: [Kind; 4] = [Kind::Cwa, Kind::Geneactiv, Kind::Gt3x, Kind::Matrix];

/// Opens `bytes` with one decoder and reads everything (in chunks of `chunk`); checks what
/// came out before any error.
fn run(kind: Kind, bytes: Vec<u8>, chunk: usize) -> Result<usize, Error> {
    let mut src: Box<dyn Source> = match kind {
        Kind::Cwa => Box::new(CwaReader::new(Cursor::new(bytes))?),
        Kind::Geneactiv => Box::new(GeneactivReader::new(Cursor::new(bytes))?),
        Kind::Gt3x => Box::new(Gt3xReader::new(Cursor::new(bytes))?),
        Kind::Matrix => Box::new(MatrixReader::new(Cursor::new(bytes))?),
    };
    let mut buf = vec![Sample::default(); chunk];
    let mut last = f64::NEG_INFINITY;
    let mut n = 0usize;
    loop {
        let k = match src.read_samples(&mut buf) {
            Ok(k) => k,
            Err(e) => {
                // after an error the source is done
                assert_eq!(src.read_samples(&mut buf).unwrap(), 0);
                return Err(e);
            }
        };
        if k == 0 {
            break;
        }
        for s in &buf[..k] {
            assert!(s.t_s > last, "time must increase: {} after {last}", s.t_s);
            assert!(s.acc_g.iter().all(|v| v.abs() <= 64.0));
            last = s.t_s;
        }
        n += k;
    }
    assert_eq!(src.info().n_samples, n as u64);
    assert!(src.info().warnings.len() <= 102, "warnings are capped");
    Ok(n)
}

fn real_file(kind: Kind) -> Vec<u8> {
    let name = match kind {
        Kind::Cwa => "ax3_right_wrist_100hz_3min.cwa",
        Kind::Geneactiv => "geneactiv_85p7hz_1min.bin",
        Kind::Gt3x => "actigraph_wgt3xbt_waist_30hz_idle_sleep_gaps.gt3x",
        Kind::Matrix => "matrix_12p5hz_17min.bin",
    };
    std::fs::read(testdata(name)).unwrap()
}

/// A plausible start for each format, so that arbitrary bytes get past the first check.
fn prefix(kind: Kind) -> Vec<u8> {
    let f = real_file(kind);
    match kind {
        Kind::Cwa => f[..1024].to_vec(),
        Kind::Geneactiv => f[..1500].to_vec(),
        Kind::Gt3x => Vec::new(),
        Kind::Matrix => f[..524].to_vec(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(kind in 0usize..4, bytes in prop::collection::vec(any::<u8>(), 0..4096), chunk in 1usize..300) {
        let _ = run(KINDS[kind], bytes, chunk);
    }

    #[test]
    fn arbitrary_bodies_after_a_real_header_never_panic(kind in 0usize..4, body in prop::collection::vec(any::<u8>(), 0..8192), chunk in 1usize..300) {
        let mut b = prefix(KINDS[kind]);
        b.extend_from_slice(&body);
        let _ = run(KINDS[kind], b, chunk);
    }

    #[test]
    fn damaged_real_files_never_panic(
        kind in 0usize..4,
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..12),
        cut in prop::option::of(any::<prop::sample::Index>()),
        chunk in 1usize..5000,
    ) {
        let kind = KINDS[kind];
        let mut b = real_file(kind);
        for (at, v) in edits {
            let i = at.index(b.len());
            b[i] = v;
        }
        if let Some(cut) = cut {
            let n = cut.index(b.len());
            b.truncate(n);
        }
        let _ = run(kind, b, chunk);
    }

    #[test]
    fn one_flipped_byte_in_a_cwa_data_block_costs_at_most_that_block(block in 0usize..145, byte in 0usize..512, bit in 0u8..8) {
        let mut b = real_file(Kind::Cwa);
        b[1024 + block * 512 + byte] ^= 1 << bit;
        // a flipped bit always breaks the checksum: the block is skipped, the rest read
        let n = run(Kind::Cwa, b, 4096).unwrap();
        prop_assert_eq!(n, 144 * 120);
    }
}

#[test]
fn intact_real_files_read_in_every_chunking() {
    for kind in KINDS {
        let whole = run(kind, real_file(kind), 1 << 20).unwrap();
        for chunk in [1, 2, 3, 119, 120, 121, 4096] {
            assert_eq!(
                run(kind, real_file(kind), chunk).unwrap(),
                whole,
                "{kind:?} chunk {chunk}"
            );
        }
    }
}

#[test]
fn a_reader_is_done_after_its_error_at_every_cut() {
    // Cut every real file at many lengths: whatever error ends the reading (a cut archive with
    // no sample, a file cut inside its header), the next call gives nothing, as `run` checks.
    for kind in KINDS {
        let whole = real_file(kind);
        for n in (0..whole.len()).step_by(97).chain(1000..1100) {
            let _ = run(kind, whole[..n.min(whole.len())].to_vec(), 777);
        }
    }
}
