//! Opening any recording by its path: CSV text (plain or gzip-compressed) or a device file.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::{Error, ErrorKind};

use super::{open_device, AccelUnit, CsvReaderBuilder, Source};

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
/// reader, which refuses binary input with [`ErrorKind::NotText`]. A CSV file whose first
/// bytes are a gzip header is decompressed whatever its name.
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
    let mut file = File::open(path).map_err(|e| Error::new(ErrorKind::Io(e)).in_file(path))?;
    let mut magic = [0u8; 2];
    let n = super::device::read_up_to(&mut file, &mut magic)
        .map_err(|e| Error::new(ErrorKind::Io(e)).in_file(path))?;
    let head = std::io::Cursor::new(magic[..n].to_vec());
    let input = head.chain(file);
    if n == 2 && magic == GZIP_MAGIC {
        let gz =
            flate2::read::MultiGzDecoder::new(BufReader::with_capacity(GZIP_BUFFER_BYTES, input));
        return Ok(Box::new(builder.from_reader(gz)?));
    }
    Ok(Box::new(builder.from_reader(input)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::{Format, TimeBase};
    use crate::Sample;
    use std::io::Write;

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
