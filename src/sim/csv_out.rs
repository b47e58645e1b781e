//! Fast CSV writing of simulated samples: `t,x,y,z` printed from integers.
//!
//! Times are integer ticks of 10^-d s, printed with exactly d decimals. Accelerations are
//! integer codes times a step of 2^-k g, and 2^-k = 5^k / 10^k, so code × 5^k printed with k
//! decimals is the exact value; trailing zeros are dropped (`-0.953125`, `0.5`, `1`), as in
//! the real recordings' CSVs. A reader that parses decimals correctly gets back exactly the
//! samples [`SimSource`] hands out.

use std::io::Write;

use super::sensor::{RawFormat, RawSample, SimSource};
use crate::Error;

/// Bytes gathered before each write.
const BUF_BYTES: usize = 1 << 20;
/// Longest row: a 20-digit time, three signed values of up to 16 digits, separators.
const MAX_ROW: usize = 128;

/// Appends the decimal digits of `v`.
#[inline]
fn push_u64(buf: &mut Vec<u8>, mut v: u64) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    buf.extend_from_slice(&tmp[i..]);
}

/// Appends `frac` as exactly `digits` digits (leading zeros kept), dropping trailing zeros
/// when `trim` is set.
#[inline]
fn push_frac(buf: &mut Vec<u8>, mut frac: u64, digits: u32, trim: bool) {
    let mut tmp = [0u8; 20];
    let d = digits.min(20) as usize;
    for slot in tmp[..d].iter_mut().rev() {
        *slot = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    let mut end = d;
    if trim {
        while end > 0 && tmp[end - 1] == b'0' {
            end -= 1;
        }
    }
    buf.extend_from_slice(&tmp[..end]);
}

/// Integer powers, as u64.
const fn pow_u64(base: u64, exp: u32) -> u64 {
    let mut r = 1u64;
    let mut i = 0;
    while i < exp {
        r *= base;
        i += 1;
    }
    r
}

/// Prints one row.
pub(crate) struct RowFormat {
    time_decimals: u32,
    time_scale: u64,
    acc_decimals: u32,
    acc_mul: u64,
    acc_scale: u64,
}

impl RowFormat {
    pub(crate) fn new(f: &RawFormat) -> RowFormat {
        RowFormat {
            time_decimals: f.time_decimals,
            time_scale: pow_u64(10, f.time_decimals),
            acc_decimals: f.acc_decimals,
            acc_mul: pow_u64(5, f.acc_decimals),
            acc_scale: pow_u64(10, f.acc_decimals),
        }
    }

    /// Appends `t,x,y,z\n` for one sample.
    #[inline]
    pub(crate) fn push(&self, buf: &mut Vec<u8>, r: &RawSample) {
        let tick = r.tick.unsigned_abs();
        if r.tick < 0 {
            buf.push(b'-');
        }
        push_u64(buf, tick / self.time_scale);
        buf.push(b'.');
        push_frac(buf, tick % self.time_scale, self.time_decimals, false);
        for c in r.code {
            buf.push(b',');
            let n = u64::from(c.unsigned_abs()) * self.acc_mul;
            if c < 0 {
                buf.push(b'-');
            }
            push_u64(buf, n / self.acc_scale);
            let frac = n % self.acc_scale;
            if frac != 0 {
                buf.push(b'.');
                push_frac(buf, frac, self.acc_decimals, true);
            }
        }
        buf.push(b'\n');
    }
}

/// Writes all remaining samples of `src` as CSV with a `t,x,y,z` header; returns the
/// number of rows.
///
/// # Errors
/// When writing fails.
pub(crate) fn write_samples(src: &mut SimSource, w: &mut impl Write) -> Result<u64, Error> {
    let fmt = RowFormat::new(&src.format());
    let mut buf: Vec<u8> = Vec::with_capacity(BUF_BYTES + MAX_ROW);
    buf.extend_from_slice(b"t,x,y,z\n");
    let mut chunk = vec![RawSample::default(); 4096];
    let mut rows = 0u64;
    loop {
        let n = src.read_raw(&mut chunk);
        if n == 0 {
            break;
        }
        for r in chunk.iter().take(n) {
            fmt.push(&mut buf, r);
            if buf.len() >= BUF_BYTES {
                w.write_all(&buf)?;
                buf.clear();
            }
        }
        rows += n as u64;
    }
    w.write_all(&buf)?;
    w.flush()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(time_decimals: u32, acc_decimals: u32, r: RawSample) -> String {
        let f = RowFormat {
            time_decimals,
            time_scale: pow_u64(10, time_decimals),
            acc_decimals,
            acc_mul: pow_u64(5, acc_decimals),
            acc_scale: pow_u64(10, acc_decimals),
        };
        let mut b = Vec::new();
        f.push(&mut b, &r);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn values_print_exactly() {
        // 1/256 g steps: -245 codes = -0.95703125 g; 256 = 1 g; 1 = 0.00390625 g; 128 = 0.5.
        let r = RawSample {
            tick: 1_700_000_000_123,
            code: [-245, 256, 1],
        };
        assert_eq!(row(3, 8, r), "1700000000.123,-0.95703125,1,0.00390625\n");
        let r = RawSample {
            tick: 5,
            code: [128, 0, -1],
        };
        assert_eq!(row(3, 8, r), "0.005,0.5,0,-0.00390625\n");
        // ±16 g at 16 bits: 2^-11 g steps; 32767 codes = 15.99951171875 g.
        let r = RawSample {
            tick: 1_000_000,
            code: [32767, -32768, 3],
        };
        assert_eq!(row(6, 11, r), "1.000000,15.99951171875,-16,0.00146484375\n");
    }

    #[test]
    fn printed_values_parse_back_to_code_times_step() {
        for code in [-2048i32, -1000, -3, -1, 0, 1, 7, 255, 2047] {
            let s = row(
                3,
                8,
                RawSample {
                    tick: 0,
                    code: [code, 0, 0],
                },
            );
            let x: f64 = s.trim().split(',').nth(1).unwrap().parse().unwrap();
            assert_eq!(x, f64::from(code) / 256.0, "{s}");
        }
    }
}
