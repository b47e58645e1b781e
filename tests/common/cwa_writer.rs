//! A small Axivity `.cwa` writer for tests and benches: synthetic recordings whose true sample
//! times and values are known, encoded as the format description says.
#![allow(dead_code, unreachable_pub)] // shared by tests and benches, each using a subset
#![allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // test fixture arithmetic

/// What to write.
#[derive(Clone, Debug)]
pub struct CwaSpec {
    /// Rate code byte (header and blocks): 0x4a = 100 Hz, ±8 g.
    pub rate_code: u8,
    /// Packed (120 samples a block) or unpacked 16-bit (80 a block).
    pub packed: bool,
    /// Time of sample 0, Unix seconds.
    pub start_s: f64,
    /// The rate the samples were really taken at, in Hz (the device clock's view).
    pub true_rate_hz: f64,
    /// Number of data blocks.
    pub n_blocks: usize,
}

impl CwaSpec {
    /// Samples per block.
    pub fn per_block(&self) -> usize {
        if self.packed {
            120
        } else {
            80
        }
    }

    /// The true time of sample `i`, in seconds.
    pub fn t_s(&self, i: usize) -> f64 {
        self.start_s + i as f64 / self.true_rate_hz
    }
}

/// The raw counts of sample `i` written by [`write_cwa`]: a deterministic pattern within the
/// packed range (−512..=511) with exponent 0, i.e. counts of 1/256 g.
pub fn counts(i: usize) -> [i32; 3] {
    let a = (i.wrapping_mul(7919) % 1000) as i32 - 500;
    let b = (i.wrapping_mul(104_729) % 1000) as i32 - 500;
    [a, b, 256]
}

fn packed_time(t: i64) -> u32 {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400) as u32;
    // civil from days (H. Hinnant)
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as u32;
    ((y - 2000) << 26)
        | (m << 22)
        | (d << 17)
        | ((secs / 3600) << 12)
        | ((secs / 60 % 60) << 6)
        | (secs % 60)
}

/// The header block: device 12345, AX3, the rate code, metadata `_p=left+wrist`.
pub fn header(spec: &CwaSpec) -> Vec<u8> {
    let mut h = vec![0xffu8; 1024];
    h[0..2].copy_from_slice(b"MD");
    h[2..4].copy_from_slice(&1020u16.to_le_bytes());
    h[4] = 0x00;
    h[5..7].copy_from_slice(&12345u16.to_le_bytes());
    h[7..11].copy_from_slice(&7u32.to_le_bytes());
    h[11..13].copy_from_slice(&0u16.to_le_bytes());
    h[13..17].copy_from_slice(&packed_time(spec.start_s.floor() as i64).to_le_bytes());
    h[35] = 0;
    h[36] = spec.rate_code;
    h[41] = 45;
    let meta = b"_p=left+wrist";
    h[64..64 + meta.len()].copy_from_slice(meta);
    for b in &mut h[64 + meta.len()..512] {
        *b = b' ';
    }
    h
}

/// Makes the block's 16-bit words sum to zero by setting its last word.
pub fn fix_checksum(block: &mut [u8]) {
    let sum = block[..510]
        .chunks_exact(2)
        .map(|w| u16::from_le_bytes([w[0], w[1]]))
        .fold(0u16, u16::wrapping_add);
    block[510..512].copy_from_slice(&0u16.wrapping_sub(sum).to_le_bytes());
}

/// Data block `k`, anchored as the firmware does: the timestamp (whole seconds and a 15-bit
/// fraction) is the true time of the block's middle sample, the offset moved back by the
/// fraction's worth of samples.
pub fn block(spec: &CwaSpec, k: usize) -> [u8; 512] {
    let n = spec.per_block();
    let first = k * n;
    let mut b = [0u8; 512];
    b[0..2].copy_from_slice(b"AX");
    b[2..4].copy_from_slice(&508u16.to_le_bytes());
    let anchor = first + n / 2;
    let t = spec.t_s(anchor);
    let whole = t.floor();
    let frac = ((t - whole) * 32768.0).floor() as u16;
    let rate_int = 3200u32 >> (15 - u32::from(spec.rate_code & 0x0f));
    let shift = ((u32::from(frac) * 2 * rate_int) >> 16) as i64;
    let offset = (anchor - first) as i64 - shift;
    b[4..6].copy_from_slice(&(0x8000 | frac).to_le_bytes());
    b[6..10].copy_from_slice(&7u32.to_le_bytes());
    b[10..14].copy_from_slice(&(k as u32).to_le_bytes());
    b[14..18].copy_from_slice(&packed_time(whole as i64).to_le_bytes());
    b[24] = spec.rate_code;
    b[25] = if spec.packed { 0x30 } else { 0x32 };
    b[26..28].copy_from_slice(&(offset as i16).to_le_bytes());
    b[28..30].copy_from_slice(&(n as u16).to_le_bytes());
    for j in 0..n {
        let [x, y, z] = counts(first + j);
        if spec.packed {
            let v =
                ((x as u32) & 0x3ff) | (((y as u32) & 0x3ff) << 10) | (((z as u32) & 0x3ff) << 20);
            b[30 + 4 * j..34 + 4 * j].copy_from_slice(&v.to_le_bytes());
        } else {
            for (a, c) in [x, y, z].into_iter().enumerate() {
                let at = 30 + 6 * j + 2 * a;
                b[at..at + 2].copy_from_slice(&(c as i16).to_le_bytes());
            }
        }
    }
    fix_checksum(&mut b);
    b
}

/// A whole file.
pub fn write_cwa(spec: &CwaSpec) -> Vec<u8> {
    let mut out = header(spec);
    out.reserve(spec.n_blocks * 512);
    for k in 0..spec.n_blocks {
        out.extend_from_slice(&block(spec, k));
    }
    out
}
