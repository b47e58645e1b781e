//! Opening any recording by its path: CSV text (plain or gzip-compressed) or a device file.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::Error;

use super::csv::DecodeFailure;
use super::{idle_fill_by_default, open_device, AccelUnit, CsvReaderBuilder, IdleFill, Source};

/// The first two bytes of a gzip stream.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Bytes of compressed input read at a time from a `.gz` file.
const GZIP_BUFFER_BYTES: usize = 256 * 1024;

/// Settings for [`open`]: what a caller may want to say about a recording before reading it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// Unit of the acceleration columns of a CSV file, overriding its header and the
    /// magnitude test; `None` (the default) lets the file decide. Device files fix their own
    /// unit and ignore it.
    pub units: Option<AccelUnit>,
    /// Threads that parse a CSV file, the caller's included (see
    /// [`CsvReaderBuilder::threads`]); `None` (the default) takes the reader's default.
    pub csv_threads: Option<usize>,
    /// Bytes of CSV text parsed at a time (see [`CsvReaderBuilder::block_size_bytes`]);
    /// `None` (the default) takes the reader's default.
    pub csv_block_size_bytes: Option<usize>,
    /// Whether runs of one sample repeated for seconds are an ActiGraph's idle-sleep fill,
    /// left out as gaps ([`IdleFill`]): `None` (the default) for ActiLife exports (a CSV
    /// file with ActiLife's preamble) and no other file; `Some(true)` for any CSV file,
    /// `Some(false)` for none. Device files report their own gaps and ignore it.
    pub idle_fill: Option<bool>,
}

impl OpenOptions {
    /// The CSV reader builder these options describe.
    pub fn csv_builder(&self) -> CsvReaderBuilder {
        let mut b = CsvReaderBuilder::new();
        b.units(self.units);
        if let Some(n) = self.csv_threads {
            b.threads(n);
        }
        if let Some(n) = self.csv_block_size_bytes {
            b.block_size_bytes(n);
        }
        b
    }
}

/// The kind of file a path names, by its extension (case-insensitive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    /// `.csv`, `.txt` or `.tsv`: CSV text.
    Csv,
    /// `.csv.gz`, `.txt.gz` or `.tsv.gz`: gzip-compressed CSV text.
    CsvGz,
    /// `.cwa`, `.bin` or `.gt3x`: a device file.
    Device,
}

impl FileKind {
    /// The kind of recording `path` names by its extension, or `None` for any other file.
    ///
    /// ```
    /// use sleeptwitch::io::FileKind;
    /// use std::path::Path;
    /// assert_eq!(FileKind::of(Path::new("night.CSV")), Some(FileKind::Csv));
    /// assert_eq!(FileKind::of(Path::new("night.csv.gz")), Some(FileKind::CsvGz));
    /// assert_eq!(FileKind::of(Path::new("a/b.cwa")), Some(FileKind::Device));
    /// assert_eq!(FileKind::of(Path::new("notes.md")), None);
    /// ```
    pub fn of(path: &Path) -> Option<FileKind> {
        let name = path.file_name()?.to_str()?.to_ascii_lowercase();
        let text = |ext: &str| [".csv", ".txt", ".tsv"].iter().any(|t| ext.ends_with(t));
        if let Some(inner) = name.strip_suffix(".gz") {
            return text(inner).then_some(FileKind::CsvGz);
        }
        if text(&name) {
            return Some(FileKind::Csv);
        }
        if [".cwa", ".bin", ".gt3x"].iter().any(|e| name.ends_with(e)) {
            return Some(FileKind::Device);
        }
        None
    }
}

/// Opens the recording at `path` with the reader its name calls for.
///
/// `.cwa`, `.bin` and `.gt3x` go to the device decoders ([`open_device`]); `.csv.gz` (and
/// `.txt.gz`, `.tsv.gz`) to the CSV reader through a gzip decoder; anything else to the CSV
/// reader, which refuses binary input with [`ErrorKind::NotText`](crate::ErrorKind::NotText).
/// A CSV file whose first bytes are a gzip header is decompressed whatever its name. A gzip
/// stream that ends early or turns out corrupt gives the rows before the failure and a
/// warning naming the last complete line in
/// [`RecordingInfo::warnings`](super::RecordingInfo::warnings); it is an error
/// ([`ErrorKind::Format`](crate::ErrorKind::Format)) only when it fails before two rows. An
/// ActiLife export comes without its idle-sleep fill ([`IdleFill`]; see
/// [`OpenOptions::idle_fill`]).
///
/// # Errors
/// When the file cannot be opened, or its header (device header, CSV header and first rows)
/// cannot be read; the error names the file.
pub fn open(path: &Path, options: &OpenOptions) -> Result<Box<dyn Source + Send>, Error> {
    if let Some(device) = open_device(path)? {
        return Ok(device);
    }
    let builder = {
        let mut b = options.csv_builder();
        b.file_name(path);
        b
    };
    let mut file = File::open(path).map_err(|e| super::device::io_error(e, path))?;
    let mut magic = [0u8; 2];
    let n = super::device::read_up_to(&mut file, &mut magic)
        .map_err(|e| super::device::io_error(e, path))?;
    let head = std::io::Cursor::new(magic[..n].to_vec());
    let input = head.chain(file);
    if n == 2 && magic == GZIP_MAGIC {
        return Ok(without_fill(
            builder.from_reader(Gunzip::new(input))?,
            options,
        ));
    }
    Ok(without_fill(builder.from_reader(input)?, options))
}

/// `csv`, wrapped in [`IdleFill`] when `options` ask for it, or leave it to the file and the
/// file is an ActiLife export.
fn without_fill<S: Source + Send + 'static>(
    csv: S,
    options: &OpenOptions,
) -> Box<dyn Source + Send> {
    if options
        .idle_fill
        .unwrap_or_else(|| idle_fill_by_default(csv.info()))
    {
        Box::new(IdleFill::new(csv))
    } else {
        Box::new(csv)
    }
}

/// A gzip decoder whose decoding failures are told apart from failures to read the file.
///
/// A `.csv.gz` cut short (a copy that stopped, a logger that lost power) or damaged is
/// decoded as far as it goes: its failure comes out as a [`DecodeFailure`], on which the CSV
/// reader keeps the lines before it and warns. A failure to read the file itself stays an
/// error. flate2 reports a stream that ends early as `UnexpectedEof` and corrupt data (a bad
/// header, a bad deflate block, a checksum mismatch) as `InvalidInput`; errors of the file
/// pass through it unchanged, so they are marked on the way in and unmarked on the way out.
struct Gunzip<R: Read> {
    inner: flate2::read::MultiGzDecoder<BufReader<Disk<R>>>,
}

impl<R: Read> Gunzip<R> {
    fn new(input: R) -> Self {
        let compressed = BufReader::with_capacity(GZIP_BUFFER_BYTES, Disk(input));
        Gunzip {
            inner: flate2::read::MultiGzDecoder::new(compressed),
        }
    }
}

impl<R: Read> Read for Gunzip<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner.read(buf).map_err(gzip_error)
    }
}

/// The compressed file under [`Gunzip`], marking its read errors as [`DiskError`].
struct Disk<R>(R);

impl<R: Read> Read for Disk<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0
            .read(buf)
            .map_err(|e| std::io::Error::new(e.kind(), DiskError(e)))
    }
}

/// A failure to read the compressed file itself.
#[derive(Debug)]
struct DiskError(std::io::Error);

impl std::fmt::Display for DiskError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DiskError {}

/// The file's own error for a [`DiskError`]; a [`DecodeFailure`] for what the decoder
/// reports as a stream ending early or corrupt; anything else as it is.
#[cold]
fn gzip_error(e: std::io::Error) -> std::io::Error {
    use std::io::ErrorKind as Kind;
    let kind = e.kind();
    if e.get_ref().is_some_and(|inner| inner.is::<DiskError>()) {
        return match e.into_inner().map(|inner| inner.downcast::<DiskError>()) {
            Some(Ok(disk)) => disk.0,
            Some(Err(inner)) => std::io::Error::new(kind, inner),
            None => kind.into(),
        };
    }
    let cut = match kind {
        Kind::UnexpectedEof => true,
        Kind::InvalidInput | Kind::InvalidData => false,
        _ => return e,
    };
    let failure = DecodeFailure {
        format: "gzip",
        cut,
        detail: e.to_string(),
    };
    std::io::Error::new(kind, failure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{Format, TimeBase};
    use crate::ErrorKind;
    use crate::Sample;
    use std::io::{Read, Write};

    fn dir(test: &str) -> std::path::PathBuf {
        let d =
            std::env::temp_dir().join(format!("sleeptwitch-open-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn read_all(s: &mut dyn Source) -> Vec<Sample> {
        let mut out = Vec::new();
        let mut buf = vec![Sample::default(); 100];
        loop {
            let n = s.read_samples(&mut buf).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn plain_and_gzipped_csv_give_the_same_samples() {
        let d = dir("gz");
        let mut text = String::from("t,x,y,z\n");
        for i in 0..500 {
            text.push_str(&format!("{},0,0.{:03},1\n", f64::from(i) / 50.0, i % 7));
        }
        let plain = d.join("a.csv");
        std::fs::write(&plain, &text).unwrap();
        let gz = d.join("a.csv.gz");
        let mut enc = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        enc.write_all(text.as_bytes()).unwrap();
        enc.finish().unwrap();
        let mut a = open(&plain, &OpenOptions::default()).unwrap();
        let mut b = open(&gz, &OpenOptions::default()).unwrap();
        let (sa, sb) = (read_all(&mut a), read_all(&mut b));
        assert_eq!(sa.len(), 500);
        assert_eq!(sa, sb);
        assert_eq!(b.info().format, Format::Csv);
        assert_eq!(b.info().time_base, TimeBase::Relative);
        // 50 Hz by construction: every interval is 0.02 s.
        assert!((a.info().rate.median_interval_s - 0.02).abs() < 1e-12);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn units_are_passed_on_and_errors_name_the_file() {
        let d = dir("units");
        let p = d.join("ms2.txt");
        let mut text = String::from("t,x,y,z\n");
        for i in 0..100 {
            text.push_str(&format!("{},0,0,9.80665\n", f64::from(i) / 100.0));
        }
        std::fs::write(&p, &text).unwrap();
        let opts = OpenOptions {
            units: Some(AccelUnit::G),
            ..OpenOptions::default()
        };
        let mut s = open(&p, &opts).unwrap();
        let got = read_all(&mut s);
        // Read as g on request: the 9.80665 column stays 9.80665.
        assert_eq!(got[0].acc_g[2], 9.80665);
        let missing = d.join("missing.csv");
        let e = open(&missing, &OpenOptions::default()).err().unwrap();
        assert!(matches!(e.kind(), ErrorKind::Io(_)));
        assert!(e.to_string().starts_with(&missing.display().to_string()));
        std::fs::remove_dir_all(&d).unwrap();
    }

    /// A night of `n` rows at 50 Hz with varied values, as text, and gzip-compressed.
    fn night_gz(n: u32) -> (String, Vec<u8>) {
        let mut text = String::from("t,x,y,z\n");
        for i in 0..n {
            let (a, b) = (i * 37 % 1000, i * 91 % 1000);
            text.push_str(&format!(
                "{:.2},0.{a:03},-0.{b:03},0.98\n",
                f64::from(i) / 50.0
            ));
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(text.as_bytes()).unwrap();
        (text, enc.finish().unwrap())
    }

    /// What flate2 alone decodes of `gz` before it fails: the oracle for a cut file.
    fn decodable_prefix(gz: &[u8]) -> Vec<u8> {
        let mut dec = flate2::read::MultiGzDecoder::new(gz);
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n @ 1..) = dec.read(&mut buf) {
            out.extend_from_slice(&buf[..n]);
        }
        out
    }

    /// Opens `bytes` as the file `name` in `d` with `options` and reads it to the end.
    fn open_bytes(
        d: &Path,
        name: &str,
        bytes: &[u8],
        options: &OpenOptions,
    ) -> (Vec<Sample>, Result<crate::RecordingInfo, Error>) {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        let mut src = match open(&p, options) {
            Ok(s) => s,
            Err(e) => return (Vec::new(), Err(e)),
        };
        let mut out = Vec::new();
        let mut buf = vec![Sample::default(); 100];
        loop {
            match src.read_samples(&mut buf) {
                Ok(0) => return (out, Ok(src.info().clone())),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, Err(e)),
            }
        }
    }

    #[test]
    fn a_cut_gzip_file_gives_the_rows_before_the_cut_and_says_where_it_stops() {
        let d = dir("gzcut");
        let (_, gz) = night_gz(20_000);
        let full = {
            let opts = OpenOptions::default();
            open_bytes(&d, "full.csv.gz", &gz, &opts).0
        };
        assert_eq!(full.len(), 20_000);
        for cut in [gz.len() / 10, gz.len() / 2, gz.len() - 100, gz.len() - 4] {
            // The complete lines flate2 decodes before the cut, header included.
            let prefix = decodable_prefix(&gz[..cut]);
            let lines = prefix.iter().filter(|&&c| c == b'\n').count();
            let partial = prefix.len() - prefix.iter().rposition(|&c| c == b'\n').unwrap() - 1;
            for (threads, block) in [(1, None), (2, Some(4096)), (1, Some(1))] {
                let opts = OpenOptions {
                    csv_threads: Some(threads),
                    csv_block_size_bytes: block,
                    ..OpenOptions::default()
                };
                let label = format!("cut at {cut}, {threads} threads, block {block:?}");
                let name = format!("cut{cut}.csv.gz");
                let (got, info) = open_bytes(&d, &name, &gz[..cut], &opts);
                let info = info.unwrap_or_else(|e| panic!("{label}: {e}"));
                assert_eq!(got.len(), lines - 1, "{label}");
                assert_eq!(got[..], full[..got.len()], "{label}");
                let w = info.warnings.last().unwrap_or_else(|| panic!("{label}"));
                let p = w.position.as_ref().unwrap();
                assert_eq!(p.file.as_deref(), Some(d.join(&name).as_path()), "{label}");
                assert_eq!(p.line, Some(lines as u64), "{label}: {w}");
                assert!(
                    w.message
                        .starts_with("gzip: the compressed stream ends early (file cut short?): ")
                        && w.message.ends_with("the rest of the file is lost"),
                    "{label}: {w}"
                );
                assert_eq!(
                    w.message.contains("an incomplete line of"),
                    partial > 0,
                    "{label}: {w}"
                );
            }
        }
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_gzip_file_cut_before_two_rows_is_a_gzip_error() {
        let d = dir("gzshort");
        let (_, gz) = night_gz(2);
        let mut n_cases = 0;
        // Every cut that leaves fewer than two complete rows (header included: 3 lines), from
        // inside the gzip header on.
        for cut in 2..gz.len() {
            let prefix = decodable_prefix(&gz[..cut]);
            let lines = prefix.iter().filter(|&&c| c == b'\n').count();
            if lines >= 3 {
                continue;
            }
            n_cases += 1;
            let (got, result) = open_bytes(&d, "short.csv.gz", &gz[..cut], &OpenOptions::default());
            let e = result.err().unwrap_or_else(|| panic!("cut {cut}: read"));
            assert!(got.is_empty());
            assert!(
                matches!(e.kind(), ErrorKind::Format { format: "gzip", .. }),
                "cut {cut}: {e}"
            );
            let text = e.to_string();
            assert!(text.contains("ends early (file cut short?)"), "{text}");
            // At the line after the last complete one.
            assert_eq!(e.line(), Some(lines as u64 + 1), "{text}");
        }
        assert!(n_cases > 20, "{n_cases}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn corrupt_bytes_in_a_gzip_file_end_it_with_a_warning_or_an_error_never_a_panic() {
        let d = dir("gzflip");
        let (_, gz) = night_gz(20_000);
        let full = open_bytes(&d, "full.csv.gz", &gz, &OpenOptions::default()).0;
        let read = |name: &str, bad: &[u8]| open_bytes(&d, name, bad, &OpenOptions::default());
        // A bad checksum in the trailer: every row is read, then the warning.
        let mut bad = gz.clone();
        let n = bad.len();
        bad[n - 8] ^= 1;
        let (got, info) = read("crc.csv.gz", &bad);
        assert_eq!(got, full);
        let w = info.unwrap().warnings.pop().unwrap();
        assert_eq!(w.position.unwrap().line, Some(20_001));
        assert!(
            w.message.starts_with(
                "gzip: the compressed data are corrupt: corrupt gzip stream does not have a \
                 matching checksum"
            ),
            "{}",
            w.message
        );
        // Bytes overwritten inside the deflate stream, two ways.
        let (mut warned, mut refused) = (0, 0);
        for k in 1..20 {
            for ones in [true, false] {
                let mut bad = gz.clone();
                let at = bad.len() * k / 20;
                for b in &mut bad[at..at + 16] {
                    *b = if ones { 0xff } else { *b ^ 0x5a };
                }
                let name = format!("flip{k}{ones}.csv.gz");
                let (got, result) = read(&name, &bad);
                match result {
                    // An invalid code: the rows decoded before it, and a warning.
                    Ok(info) => {
                        let w = info.warnings.last().unwrap();
                        assert!(w
                            .message
                            .starts_with("gzip: the compressed data are corrupt"));
                        assert!(w
                            .to_string()
                            .starts_with(&d.join(&name).display().to_string()));
                        assert!(
                            got.len() < full.len() && got[..] == full[..got.len()],
                            "{w}"
                        );
                        warned += 1;
                    }
                    // Damage that still decodes, into text that is no row: an error at its
                    // line (the checksum that would tell is at the end).
                    Err(e) => {
                        let at_line = format!("{}:{}: ", d.join(&name).display(), got.len() + 2);
                        assert!(e.to_string().starts_with(&at_line), "{e}");
                        refused += 1;
                    }
                }
            }
        }
        // Which way each case goes depends on the bytes; both are seen here.
        assert!(
            warned > 0 && refused > 0,
            "{warned} warned, {refused} refused"
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn a_failure_to_read_the_compressed_file_stays_an_error() {
        /// Hands out `data`, then fails with an error of a kind flate2 also uses.
        struct Failing<'a> {
            data: &'a [u8],
        }
        impl Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                if self.data.is_empty() {
                    return Err(std::io::Error::new(
                        std::io::ErrorKind::InvalidData,
                        "bad sector",
                    ));
                }
                let n = buf.len().min(self.data.len()).min(1000);
                buf[..n].copy_from_slice(&self.data[..n]);
                self.data = &self.data[n..];
                Ok(n)
            }
        }
        let (_, gz) = night_gz(20_000);
        let input = Gunzip::new(Failing {
            data: &gz[..gz.len() / 2],
        });
        let mut r = CsvReaderBuilder::new()
            .threads(1)
            .from_reader(input)
            .unwrap();
        let mut buf = vec![Sample::default(); 1000];
        let e = loop {
            match r.read_samples(&mut buf) {
                Ok(0) => panic!("read to the end without the disk's error"),
                Ok(_) => {}
                Err(e) => break e,
            }
        };
        assert!(matches!(e.kind(), ErrorKind::Io(_)), "{e}");
        assert!(e.to_string().ends_with("read failed: bad sector"), "{e}");
    }

    #[test]
    fn file_kinds_by_extension() {
        for (name, kind) in [
            ("x.csv", Some(FileKind::Csv)),
            ("x.TXT", Some(FileKind::Csv)),
            ("x.tsv.gz", Some(FileKind::CsvGz)),
            ("x.gz", None),
            ("x.BIN", Some(FileKind::Device)),
            ("x.gt3x", Some(FileKind::Device)),
            ("x.json", None),
        ] {
            assert_eq!(FileKind::of(Path::new(name)), kind, "{name}");
        }
    }
}
