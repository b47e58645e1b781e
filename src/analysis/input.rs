//! Which files make a night: `site:path` arguments, grouping, and recordings found in folders.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::io::FileKind;
use crate::{Error, Site};

/// One recording of a night and where its sensor was worn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The recording's file.
    pub path: PathBuf,
    /// Where the sensor was worn.
    pub site: Site,
    /// Whether the site was given (a `site:` prefix, or a site in a file name found in a
    /// folder) rather than taken by default (an ankle).
    pub site_given: bool,
}

impl Input {
    /// A recording worn at `site`.
    pub fn new(path: impl Into<PathBuf>, site: Site) -> Self {
        Input {
            path: path.into(),
            site,
            site_given: true,
        }
    }

    /// Reads a command-line argument: `path`, or `site:path` with `site` one of `ankle`,
    /// `left_ankle`, `right_ankle`, `wrist` (any case). A bare path is an ankle, and so is a
    /// path whose text before its first `:` names no site (`C:\night.csv`).
    ///
    /// ```
    /// use sleeptwitch::{analysis::Input, Site};
    /// let i = Input::parse("left_ankle:night/L.csv");
    /// assert_eq!((i.site, i.path.to_str()), (Site::LeftAnkle, Some("night/L.csv")));
    /// let i = Input::parse("night.csv");
    /// assert_eq!((i.site, i.site_given), (Site::Ankle, false));
    /// ```
    pub fn parse(arg: &str) -> Input {
        if let Some((prefix, rest)) = arg.split_once(':') {
            if let (Ok(site), false) = (prefix.parse::<Site>(), rest.is_empty()) {
                return Input::new(rest, site);
            }
        }
        Input {
            path: PathBuf::from(arg),
            site: Site::Ankle,
            site_given: false,
        }
    }

    /// Reads a command-line argument as [`Input::parse`] does, but refuses one that reads
    /// as `site:path` with a site this crate does not know (`knee:night.csv`): two or more
    /// letters, digits, `_` or `-` before the first `:`, and no file or folder named by the
    /// whole argument. A drive letter (`C:\night.csv`) and an existing path that holds a
    /// `:` are paths, as for [`Input::parse`].
    ///
    /// ```
    /// use sleeptwitch::analysis::Input;
    /// let e = Input::parse_checked("knee:night.csv").unwrap_err();
    /// assert!(e.to_string().starts_with(r#"knee:night.csv: unknown site "knee""#));
    /// assert!(Input::parse_checked("C:\\night.csv").is_ok());
    /// ```
    ///
    /// # Errors
    /// An unknown site: the error names the argument, the site and the sites known.
    pub fn parse_checked(arg: &str) -> Result<Input, Error> {
        Input::parse_checked_with(arg, Path::exists)
    }

    /// As [`Input::parse_checked`], with `exists` saying whether a path exists.
    fn parse_checked_with(arg: &str, exists: impl Fn(&Path) -> bool) -> Result<Input, Error> {
        let input = Input::parse(arg);
        if input.site_given {
            return Ok(input);
        }
        let Some((prefix, _)) = arg.split_once(':') else {
            return Ok(input);
        };
        let site_like = prefix.len() >= 2
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !site_like || exists(&input.path) {
            return Ok(input);
        }
        match prefix.parse::<Site>() {
            // A known site with nothing after it: a path, as `parse` reads it.
            Ok(_) => Ok(input),
            Err(msg) => Err(Error::new(crate::ErrorKind::Other(msg)).in_file(Path::new(arg))),
        }
    }
}

impl FromStr for Input {
    type Err = std::convert::Infallible;

    /// As [`Input::parse`], which never fails.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Input::parse(s))
    }
}

impl fmt::Display for Input {
    /// `site:path`, or the bare path when the site was taken by default.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.site_given {
            write!(f, "{}:{}", self.site, self.path.display())
        } else {
            write!(f, "{}", self.path.display())
        }
    }
}

/// The recordings of one night, analysed together by one detector.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NightInputs {
    /// A name for the night, from its file names (see [`night_name`]); unique among the
    /// nights of one call to [`find_nights`] or [`group_nights`].
    pub name: String,
    /// Its recordings, at most one per site.
    pub inputs: Vec<Input>,
}

/// Whether sensors at `a` and `b` can be worn in one night: not the same site, and not an
/// ankle of unknown side with a left or right one.
pub(crate) fn compatible(a: Site, b: Site) -> bool {
    let sided = |s: Site| matches!(s, Site::LeftAnkle | Site::RightAnkle);
    let unsided_with_sided = (a == Site::Ankle && sided(b)) || (b == Site::Ankle && sided(a));
    a != b && !unsided_with_sided
}

/// Whether `site` may join a night that already has `sites`.
fn fits(sites: &[Site], site: Site) -> bool {
    sites.iter().all(|s| compatible(*s, site))
}

/// Groups command-line inputs into nights.
///
/// Inputs given with a site (`left_ankle:A right_ankle:B wrist:C`) that follow one another
/// are one night as long as each brings a site the night does not have yet (and an `ankle`
/// does not meet a `left_ankle` or `right_ankle`); a bare path is a night of its own. So
/// `left_ankle:A right_ankle:B wrist:C left_ankle:D right_ankle:E x.csv` is three nights:
/// A+B+C, D+E and x. Names come from [`night_name`], made unique with `-2`, `-3`, ….
pub fn group_nights(inputs: impl IntoIterator<Item = Input>) -> Vec<NightInputs> {
    let mut groups: Vec<Vec<Input>> = Vec::new();
    let mut open = false;
    for input in inputs {
        if !input.site_given {
            groups.push(vec![input]);
            open = false;
            continue;
        }
        match groups.last_mut() {
            Some(g) if open && fits(&g.iter().map(|i| i.site).collect::<Vec<_>>(), input.site) => {
                g.push(input);
            }
            _ => {
                groups.push(vec![input]);
                open = true;
            }
        }
    }
    named(groups)
}

/// Names groups of inputs and makes the names unique.
fn named(groups: Vec<Vec<Input>>) -> Vec<NightInputs> {
    let mut nights: Vec<NightInputs> = groups
        .into_iter()
        .map(|inputs| NightInputs {
            name: night_name(&inputs),
            inputs,
        })
        .collect();
    let names = unique_names(nights.iter().map(|n| n.name.as_str()));
    for (n, name) in nights.iter_mut().zip(names) {
        n.name = name;
    }
    nights
}

/// Makes names unique, in order: the second `night` becomes `night-2`, the third `night-3`
/// (skipping any such name already taken).
pub fn unique_names<'a>(names: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let names: Vec<&str> = names.into_iter().collect();
    let mut taken: std::collections::HashSet<String> = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let mut candidate = name.to_string();
        let mut k = 2u32;
        while taken.contains(&candidate) {
            candidate = format!("{name}-{k}");
            k += 1;
        }
        taken.insert(candidate.clone());
        out.push(candidate);
    }
    out
}

/// The file name without its recording extension: `night.csv` → `night`,
/// `night.csv.gz` → `night`, `A.CWA` → `A`.
pub fn file_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string());
    let lower = name.to_ascii_lowercase();
    for ext in [
        ".csv.gz", ".txt.gz", ".tsv.gz", ".csv", ".txt", ".tsv", ".cwa", ".bin", ".gt3x",
    ] {
        if lower.ends_with(ext) && name.len() > ext.len() {
            return name
                .get(..name.len() - ext.len())
                .unwrap_or(&name)
                .to_string();
        }
    }
    name
}

/// A file stem that ends in a site (`night.left_ankle`, `p01_wrist`): the rest and the site.
fn split_site(stem: &str) -> Option<(&str, Site)> {
    let lower = stem.to_ascii_lowercase();
    // Longest names first, so `left_ankle` is not read as `ankle`.
    for site in [Site::LeftAnkle, Site::RightAnkle, Site::Wrist, Site::Ankle] {
        let s = site.as_str();
        if lower.len() > s.len() + 1 && lower.ends_with(s) {
            let cut = stem.len() - s.len();
            let sep = stem.as_bytes().get(cut - 1).copied();
            if matches!(sep, Some(b'.' | b'_' | b'-')) {
                return Some((stem.get(..cut - 1).unwrap_or(stem), site));
            }
        }
    }
    None
}

/// A night's name: the file stem of a single recording, or for several, what their stems
/// share once their site is taken off (`night.left_ankle.csv` + `night.right_ankle.csv` →
/// `night`), else the first one's stem.
pub fn night_name(inputs: &[Input]) -> String {
    let stems: Vec<String> = inputs.iter().map(|i| file_stem(&i.path)).collect();
    if stems.len() == 1 {
        return stems.into_iter().next().unwrap_or_default();
    }
    let bases: Vec<Option<&str>> = stems.iter().map(|s| split_site(s).map(|b| b.0)).collect();
    if let Some(Some(first)) = bases.first() {
        if bases.iter().all(|b| *b == Some(*first)) {
            return (*first).to_string();
        }
    }
    stems.into_iter().next().unwrap_or_else(|| "night".into())
}

/// Whether a file found in a folder is left out: outputs of analyses and simulations that
/// share the recordings' extensions (`*.truth.csv`, `*.events.csv`, `summary.csv`).
pub fn is_output_file(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    name == "summary.csv" || name.ends_with(".truth.csv") || name.ends_with(".events.csv")
}

/// Every recording under `dir` (recursively, in name order), grouped into nights.
///
/// Recordings are files that [`FileKind::of`] knows, less [`is_output_file`]s. Files of one
/// folder whose names differ only by a site before the extension (`night.left_ankle.csv`,
/// `night.right_ankle.csv`, `night.wrist.csv`; `.`, `_` or `-` before the site) are one
/// night at those sites; every other file is a night of its own at the ankle (or at the site
/// its name ends with). Names are made unique as in [`group_nights`].
///
/// # Errors
/// When a folder cannot be listed; the error names it.
pub fn find_nights(dir: &Path) -> Result<Vec<NightInputs>, Error> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    // Group by (folder, base name), keeping the order of first appearance.
    let mut groups: Vec<(PathBuf, String, Vec<Input>)> = Vec::new();
    for path in files {
        let stem = file_stem(&path);
        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let Some((base, site)) = split_site(&stem) else {
            groups.push((folder, String::new(), vec![Input::parse_plain(path)]));
            continue;
        };
        let base = base.to_string();
        let slot = groups.iter_mut().find(|(f, b, g)| {
            !b.is_empty()
                && *f == folder
                && *b == base
                && fits(&g.iter().map(|i| i.site).collect::<Vec<_>>(), site)
        });
        match slot {
            Some((_, _, g)) => g.push(Input::new(path, site)),
            None => groups.push((folder, base, vec![Input::new(path, site)])),
        }
    }
    Ok(named(groups.into_iter().map(|(_, _, g)| g).collect()))
}

impl Input {
    /// A path at the default site, the ankle.
    fn parse_plain(path: PathBuf) -> Input {
        Input {
            path,
            site: Site::Ankle,
            site_given: false,
        }
    }
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::from(e).in_file(dir))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else if FileKind::of(&p).is_some() && !is_output_file(&p) {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(nights: &[NightInputs]) -> Vec<(String, Vec<String>)> {
        nights
            .iter()
            .map(|n| {
                (
                    n.name.clone(),
                    n.inputs.iter().map(ToString::to_string).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn site_prefixes_and_bare_paths() {
        let i = Input::parse("WRIST:w.csv");
        assert_eq!((i.site, i.site_given), (Site::Wrist, true));
        assert_eq!(i.to_string(), "wrist:w.csv");
        let i = Input::parse("C:\\data\\n.csv");
        assert_eq!((i.site, i.site_given), (Site::Ankle, false));
        assert_eq!(i.path, PathBuf::from("C:\\data\\n.csv"));
        // A site with no path after it is a path.
        assert_eq!(Input::parse("ankle:").path, PathBuf::from("ankle:"));
    }

    #[test]
    fn unknown_sites_are_refused_and_real_paths_with_colons_kept() {
        let e = Input::parse_checked("knee:night.csv").unwrap_err();
        assert_eq!(
            e.to_string(),
            "knee:night.csv: unknown site \"knee\"; expected ankle, left_ankle, right_ankle \
             or wrist"
        );
        let i = Input::parse_checked("left_ankle:L.csv").unwrap();
        assert_eq!((i.site, i.site_given), (Site::LeftAnkle, true));
        for path in ["C:\\data\\n.csv", "night.csv", "ankle:", "/a/b:c.csv"] {
            assert_eq!(
                Input::parse_checked(path).unwrap(),
                Input::parse(path),
                "{path}"
            );
        }
        // A file whose name reads as an unknown site is a file.
        let i = Input::parse_checked_with("knee:n.csv", |p| p == Path::new("knee:n.csv")).unwrap();
        assert_eq!(
            (&i.path, i.site_given),
            (&PathBuf::from("knee:n.csv"), false)
        );
        assert!(Input::parse_checked_with("knee:n.csv", |_| false).is_err());
    }

    #[test]
    fn command_line_groups() {
        let args = [
            "left_ankle:n1/a.left_ankle.csv",
            "right_ankle:n1/a.right_ankle.csv",
            "wrist:n1/a.wrist.csv",
            "left_ankle:n2/L.csv",
            "right_ankle:n2/R.csv",
            "x.csv",
            "ankle:y.csv",
            "wrist:yw.csv",
            "ankle:z.csv",
            "left_ankle:x.csv",
        ];
        let nights = group_nights(args.iter().map(|a| Input::parse(a)));
        assert_eq!(
            names(&nights),
            [
                ("a", &args[0..3]),
                ("L", &args[3..5]),
                ("x", &args[5..6]),
                ("y", &args[6..8]),
                ("z", &args[8..9]),
                ("x-2", &args[9..10]),
            ]
            .map(|(n, a)| (n.to_string(), a.iter().map(|s| s.to_string()).collect()))
        );
    }

    #[test]
    fn unique_names_skip_taken_ones() {
        assert_eq!(
            unique_names(["a", "a-2", "a", "b", "a"]),
            ["a", "a-2", "a-3", "b", "a-4"]
        );
    }

    #[test]
    fn stems_and_sites_in_names() {
        assert_eq!(file_stem(Path::new("d/night.CSV.gz")), "night");
        assert_eq!(file_stem(Path::new("x.cwa")), "x");
        assert_eq!(file_stem(Path::new(".csv")), ".csv");
        assert_eq!(
            split_site("night.left_ankle"),
            Some(("night", Site::LeftAnkle))
        );
        assert_eq!(split_site("p01_Wrist"), Some(("p01", Site::Wrist)));
        assert_eq!(split_site("p01-ankle"), Some(("p01", Site::Ankle)));
        assert_eq!(split_site("myankle"), None);
        assert_eq!(split_site("ankle"), None);
    }

    #[test]
    fn folders_group_by_base_name_and_skip_outputs() {
        let root = std::env::temp_dir().join(format!("sleeptwitch-find-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for f in [
            "b/night.left_ankle.csv",
            "b/night.right_ankle.csv",
            "b/night.wrist.csv",
            "b/night.truth.csv",
            "a.csv",
            "a.events.csv",
            "summary.csv",
            "c/a.cwa",
            "c/notes.md",
            "c/d.wrist.csv",
        ] {
            let p = root.join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
        }
        let nights = find_nights(&root).unwrap();
        let got: Vec<(String, Vec<Site>)> = nights
            .iter()
            .map(|n| (n.name.clone(), n.inputs.iter().map(|i| i.site).collect()))
            .collect();
        assert_eq!(
            got,
            [
                ("a".to_string(), vec![Site::Ankle]),
                (
                    "night".to_string(),
                    vec![Site::LeftAnkle, Site::RightAnkle, Site::Wrist]
                ),
                ("a-2".to_string(), vec![Site::Ankle]),
                ("d.wrist".to_string(), vec![Site::Wrist]),
            ]
        );
        assert!(find_nights(&root.join("missing")).is_err());
        std::fs::remove_dir_all(&root).unwrap();
    }
}
