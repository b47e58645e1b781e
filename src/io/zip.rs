//! Finding members of a zip archive (`.gt3x` files are zip archives).
//!
//! A whole archive ends with a central directory listing every member, found through the
//! end-of-central-directory record in the last bytes. A file cut short has lost that, but
//! each member's data still follow a local header (signature `PK\x03\x04`, flags,
//! compression method, sizes, name), so the members up to the cut are found by walking the
//! local headers from the start of the file. Two things stop the walk early: a member whose
//! data run past the end of the file (the cut), and a member whose sizes the local header
//! does not give (general-purpose flag bit 3: sizes in a data descriptor after the data)
//! when its end cannot be found — a deflated one is inflated to find it, a stored one
//! cannot be.

use std::io::{Read, Seek, SeekFrom};

use flate2::read::DeflateDecoder;

use crate::io::device::{format_error, le16, le32, read_up_to, stream_len};
use crate::{Error, ErrorKind};

/// Where a member's data are.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Member {
    /// Compression method: 0 stored, 8 deflated.
    pub(crate) method: u16,
    /// Byte offset of the member's data in the file.
    pub(crate) data_at: u64,
    /// Bytes of data in the file: the member's compressed size, or what there is of it
    /// before the end of a cut file.
    pub(crate) compressed: u64,
    /// Uncompressed size as the archive gives it; `None` when it does not (a member of a
    /// cut archive written with a data descriptor).
    pub(crate) size: Option<u64>,
    /// Whether all of the member's data are in the file.
    pub(crate) complete: bool,
}

/// The members asked for, and how they were found.
#[derive(Debug)]
pub(crate) struct Archive {
    /// One entry per name asked for, in that order; `None` for a member not found.
    pub(crate) members: Vec<Option<Member>>,
    /// Byte offset of the central directory, or of the first local header when the archive
    /// has no central directory (for errors about a missing member).
    pub(crate) dir_at: u64,
    /// Whether the archive lacks its central directory (a file cut short): members were
    /// found by their local headers, and the last found may be incomplete.
    pub(crate) cut: bool,
}

/// The local-header signature.
const LOCAL: &[u8; 4] = b"PK\x03\x04";
/// The optional signature of a data descriptor.
const DESCRIPTOR: &[u8; 4] = b"PK\x07\x08";
/// Bytes of a local header before the name.
const LOCAL_LEN: usize = 30;
/// General-purpose flag bit 3: sizes and CRC follow the data.
const FLAG_DESCRIPTOR: u16 = 1 << 3;

/// Finds the members called `names` in the zip archive `input`, by its central directory or,
/// when it has none, by its local headers.
///
/// # Errors
/// [`ErrorKind::Empty`] for no bytes; [`ErrorKind::Format`] (in `format`'s name) for a file
/// that is not a zip archive, a member in a method other than stored or deflated, a member
/// whose local header is bad or whose data run past the end of a whole archive;
/// [`ErrorKind::Io`] when reading fails.
pub(crate) fn find<R: Read + Seek>(
    input: &mut R,
    names: &[&str],
    format: &'static str,
) -> Result<Archive, Error> {
    let len = stream_len(input)?;
    if len == 0 {
        return Err(Error::new(ErrorKind::Empty));
    }
    // The end-of-central-directory record: 22 bytes plus a comment of up to 65535.
    let tail_len = len.min(22 + 65_535);
    let tail_at = len - tail_len;
    input.seek(SeekFrom::Start(tail_at))?;
    let mut tail = vec![0u8; usize::try_from(tail_len).unwrap_or(0)];
    input.read_exact(&mut tail)?;
    let eocd = (0..tail.len().saturating_sub(21))
        .rev()
        .find(|&i| tail.get(i..i + 4) == Some(b"PK\x05\x06"));
    match eocd {
        Some(eocd) => by_directory(input, names, format, len, &tail, tail_at, eocd),
        None => by_local_headers(input, names, format, len),
    }
}

/// [`find`] through the central directory, whose end record is at `tail[eocd..]`.
fn by_directory<R: Read + Seek>(
    input: &mut R,
    names: &[&str],
    format: &'static str,
    len: u64,
    tail: &[u8],
    tail_at: u64,
    eocd: usize,
) -> Result<Archive, Error> {
    let bad = |reason: String, byte: u64| format_error(format, reason, byte);
    let n_entries = le16(tail, eocd + 10);
    let cd_size = u64::from(le32(tail, eocd + 12));
    let cd_at = u64::from(le32(tail, eocd + 16));
    if cd_at.saturating_add(cd_size) > len || cd_size > 16 * 1024 * 1024 {
        return Err(bad(
            format!("zip directory at byte {cd_at} ({cd_size} bytes) lies outside the file"),
            tail_at + eocd as u64,
        ));
    }
    input.seek(SeekFrom::Start(cd_at))?;
    let mut cd = vec![0u8; usize::try_from(cd_size).unwrap_or(0)];
    input.read_exact(&mut cd)?;
    // (method, compressed, size, local header offset) of each name asked for.
    let mut listed: Vec<Option<(u16, u64, u64, u64)>> = vec![None; names.len()];
    let mut at = 0usize;
    for _ in 0..n_entries {
        if cd.get(at..at + 4) != Some(b"PK\x01\x02") {
            return Err(bad("bad zip directory entry".into(), cd_at + at as u64));
        }
        let method = le16(&cd, at + 10);
        let compressed = u64::from(le32(&cd, at + 20));
        let size = u64::from(le32(&cd, at + 24));
        let name_len = usize::from(le16(&cd, at + 28));
        let extra_len = usize::from(le16(&cd, at + 30));
        let comment_len = usize::from(le16(&cd, at + 32));
        let local_at = u64::from(le32(&cd, at + 42));
        let name = cd.get(at + 46..at + 46 + name_len).unwrap_or(&[]);
        if let Some(k) = names.iter().position(|n| n.as_bytes() == name) {
            if let Some(slot) = listed.get_mut(k) {
                *slot = Some((method, compressed, size, local_at));
            }
        }
        at += 46 + name_len + extra_len + comment_len;
    }
    let mut members = Vec::with_capacity(names.len());
    for (name, entry) in names.iter().zip(listed) {
        let Some((method, compressed, size, local_at)) = entry else {
            members.push(None);
            continue;
        };
        check_method(name, method, format, local_at)?;
        let mut local = [0u8; 30];
        input.seek(SeekFrom::Start(local_at))?;
        if read_up_to(input, &mut local)? < 30 || &local[..4] != LOCAL {
            return Err(bad(format!("bad zip header for {name}"), local_at));
        }
        let data_at =
            local_at + LOCAL_LEN as u64 + u64::from(le16(&local, 26)) + u64::from(le16(&local, 28));
        if data_at.saturating_add(compressed) > len {
            return Err(bad(
                format!("{name} runs past the end of the archive"),
                local_at,
            ));
        }
        members.push(Some(Member {
            method,
            data_at,
            compressed,
            size: Some(size),
            complete: true,
        }));
    }
    Ok(Archive {
        members,
        dir_at: cd_at,
        cut: false,
    })
}

/// Only stored and deflated members are read.
fn check_method(name: &str, method: u16, format: &'static str, at: u64) -> Result<(), Error> {
    if method == 0 || method == 8 {
        return Ok(());
    }
    Err(format_error(
        format,
        format!("{name} uses zip method {method}; only stored (0) and deflate (8) are read"),
        at,
    ))
}

/// [`find`] for an archive without a central directory: walks the local headers from the
/// start of the file until the names are found, the file ends, or a member's end cannot be
/// known.
fn by_local_headers<R: Read + Seek>(
    input: &mut R,
    names: &[&str],
    format: &'static str,
    len: u64,
) -> Result<Archive, Error> {
    let mut members: Vec<Option<Member>> = vec![None; names.len()];
    let mut at = 0u64;
    loop {
        let mut local = [0u8; LOCAL_LEN];
        input.seek(SeekFrom::Start(at))?;
        let n = read_up_to(input, &mut local)?;
        if local.get(..4) != Some(&LOCAL[..]) || n < local.len() {
            if at == 0 {
                return Err(format_error(
                    format,
                    "not a zip archive (no end-of-central-directory record)",
                    0,
                ));
            }
            break;
        }
        let flags = le16(&local, 6);
        let method = le16(&local, 8);
        let name_len = le16(&local, 26);
        let mut name = vec![0u8; usize::from(name_len)];
        if read_up_to(input, &mut name)? < name.len() {
            break;
        }
        let data_at = at + LOCAL_LEN as u64 + u64::from(name_len) + u64::from(le16(&local, 28));
        if data_at >= len {
            // Cut before the member's data: it is not there at all.
            break;
        }
        let available = len - data_at;
        // Sizes of 0xFFFF_FFFF are in a zip64 extra field, which cut .gt3x files never need.
        let given = (flags & FLAG_DESCRIPTOR == 0)
            .then(|| (u64::from(le32(&local, 18)), u64::from(le32(&local, 22))))
            .filter(|&(c, s)| c != u64::from(u32::MAX) && s != u64::from(u32::MAX));
        let wanted = names.iter().position(|n| n.as_bytes() == name.as_slice());
        if let Some(k) = wanted {
            check_method(names.get(k).copied().unwrap_or(""), method, format, at)?;
        }
        let missing_after = |members: &[Option<Member>]| {
            members
                .iter()
                .enumerate()
                .any(|(i, m)| m.is_none() && Some(i) != wanted)
        };
        // The member's compressed length, when it can be known, and where the next header is.
        let end = match given {
            Some((compressed, _)) => Some((compressed, data_at + compressed)),
            None if method == 8 && missing_after(&members) => {
                deflated_len(input, data_at, available)?.map(|compressed| {
                    let after = data_at + compressed;
                    (
                        compressed,
                        after + descriptor_len(input, after).unwrap_or(12),
                    )
                })
            }
            None => None,
        };
        let complete = end.is_some_and(|(compressed, _)| compressed <= available);
        if let Some(slot) = wanted.and_then(|k| members.get_mut(k)) {
            *slot = Some(Member {
                method,
                data_at,
                compressed: end.map_or(available, |(c, _)| c.min(available)),
                size: given.map(|(_, s)| s),
                complete,
            });
        }
        match end {
            Some((_, next)) if complete && missing_after(&members) => at = next,
            _ => break,
        }
        if members.iter().all(Option::is_some) {
            break;
        }
    }
    Ok(Archive {
        members,
        dir_at: 0,
        cut: true,
    })
}

/// The length of the deflate stream at `data_at`, found by inflating it (to nowhere);
/// `None` when it does not end within `available` bytes or is corrupt.
fn deflated_len<R: Read + Seek>(
    input: &mut R,
    data_at: u64,
    available: u64,
) -> Result<Option<u64>, Error> {
    input.seek(SeekFrom::Start(data_at))?;
    let mut inflate = DeflateDecoder::new(input.take(available));
    let mut sink = vec![0u8; 64 * 1024];
    loop {
        match inflate.read(&mut sink) {
            Ok(0) => return Ok(Some(inflate.total_in())),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => return Ok(None),
            Err(e) => return Err(Error::new(ErrorKind::Io(e))),
        }
    }
}

/// Bytes of the data descriptor at `at`: 16 with its optional signature, else 12.
fn descriptor_len<R: Read + Seek>(input: &mut R, at: u64) -> std::io::Result<u64> {
    let mut sig = [0u8; 4];
    input.seek(SeekFrom::Start(at))?;
    let n = read_up_to(input, &mut sig)?;
    Ok(if n == 4 && &sig == DESCRIPTOR { 16 } else { 12 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    /// A local header and its data; `descriptor` writes sizes of 0 with flag bit 3 and a
    /// signed data descriptor after the data.
    fn entry(name: &str, data: &[u8], deflate: bool, descriptor: bool) -> Vec<u8> {
        let packed = if deflate {
            let mut enc =
                flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(data).unwrap();
            enc.finish().unwrap()
        } else {
            data.to_vec()
        };
        let crc = crc32fast::hash(data);
        let (c, s) = (packed.len() as u32, data.len() as u32);
        let mut out = Vec::new();
        out.extend_from_slice(LOCAL);
        out.extend_from_slice(&20u16.to_le_bytes());
        out.extend_from_slice(&(if descriptor { FLAG_DESCRIPTOR } else { 0 }).to_le_bytes());
        out.extend_from_slice(&(if deflate { 8u16 } else { 0 }).to_le_bytes());
        out.extend_from_slice(&[0, 0, 0x21, 0]);
        let sizes = if descriptor { [0, 0, 0] } else { [crc, c, s] };
        for v in sizes {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(&packed);
        if descriptor {
            out.extend_from_slice(DESCRIPTOR);
            for v in [crc, c, s] {
                out.extend_from_slice(&v.to_le_bytes());
            }
        }
        out
    }

    fn find_in(bytes: &[u8]) -> Result<Archive, Error> {
        find(&mut Cursor::new(bytes), &["b.txt", "a.bin"], "zip")
    }

    #[test]
    fn a_cut_archive_is_walked_by_its_local_headers() {
        let a: Vec<u8> = (0..5000u32).map(|i| (i * 7 % 251) as u8).collect();
        let b = b"rate: 30\n".to_vec();
        for (deflate, descriptor) in [(false, false), (true, false), (true, true)] {
            let mut file = entry("x", b"skip me", deflate, descriptor);
            let b_at = file.len() as u64;
            file.extend(entry("b.txt", &b, deflate, descriptor));
            let a_at = file.len() as u64;
            file.extend(entry("a.bin", &a, deflate, descriptor));
            let whole_len = file.len();
            // No central directory at all, then cut inside a.bin's data.
            for cut in [whole_len, whole_len - 40, a_at as usize + 30 + 5 + 10] {
                let label = format!("deflate {deflate}, descriptor {descriptor}, cut {cut}");
                let got = find_in(&file[..cut]).unwrap();
                assert!(got.cut, "{label}");
                let mb = got.members[0].expect(&label);
                assert_eq!(mb.data_at, b_at + 30 + 5, "{label}");
                assert!(mb.complete, "{label}");
                let ma = got.members[1].expect(&label);
                assert_eq!(ma.data_at, a_at + 30 + 5, "{label}");
                // Data up to the cut (or the descriptor after them).
                assert!(ma.data_at + ma.compressed <= cut as u64, "{label}");
                assert_eq!(ma.size, (!descriptor).then_some(a.len() as u64), "{label}");
                if cut < whole_len - 16 {
                    assert!(!ma.complete, "{label}");
                    assert_eq!(ma.data_at + ma.compressed, cut as u64, "{label}");
                }
            }
            // Cut inside a.bin's local header: a.bin is not found.
            let got = find_in(&file[..a_at as usize + 20]).unwrap();
            assert!(got.members[0].is_some() && got.members[1].is_none());
        }
    }

    #[test]
    fn a_stored_member_of_unknown_size_ends_the_walk() {
        let mut file = entry("a.bin", b"0123456789", false, true);
        file.extend(entry("b.txt", b"rate: 30\n", false, false));
        let got = find_in(&file).unwrap();
        // a.bin is taken to run to the end of the file; b.txt beyond it cannot be found.
        let a = got.members[1].unwrap();
        assert_eq!(a.compressed, file.len() as u64 - a.data_at);
        assert!(!a.complete);
        assert!(got.members[0].is_none());
    }

    #[test]
    fn not_a_zip_archive_is_an_error_at_byte_0() {
        let e = find_in(b"t,x,y,z\n0,0,0,1\n").unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Format { .. }), "{e}");
        assert!(e.to_string().contains("not a zip archive"), "{e}");
        let e = find_in(b"").unwrap_err();
        assert!(matches!(e.kind(), ErrorKind::Empty), "{e}");
    }
}
