//! Command-line arguments of `analyze`.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use sleeptwitch::io::AccelUnit;
use sleeptwitch::ScoringRule;

/// Finds and names the movements of sleep in accelerometer recordings, night by night.
///
/// INPUT is a recording (CSV, CSV.gz, .cwa, .bin, .gt3x) or a folder of them (searched
/// recursively). A file may be prefixed with its site: ankle:, left_ankle:, right_ankle:,
/// wrist: (a bare path is an ankle). Files given with sites one after the other
/// (left_ankle:A right_ankle:B wrist:C) are one night; in a folder, files whose names differ
/// only by a site (night.left_ankle.csv, night.right_ankle.csv, night.wrist.csv) are.
#[derive(Debug, Parser)]
#[command(name = "analyze", version, about, long_about)]
pub(crate) struct Args {
    /// Recordings or folders of recordings.
    #[arg(required = true, value_name = "INPUT")]
    pub(crate) inputs: Vec<String>,

    /// Write the events as CSV (onset_s,offset_s,kind,…) to PATH (one night only).
    #[arg(long, value_name = "PATH")]
    pub(crate) events: Option<PathBuf>,

    /// Write the night's summary JSON to PATH (one night only).
    #[arg(long, value_name = "PATH")]
    pub(crate) summary: Option<PathBuf>,

    /// Draw the night as an SVG picture at PATH (one night only).
    #[arg(long, value_name = "PATH.svg")]
    pub(crate) plot: Option<PathBuf>,

    /// For every night write NAME.events.csv, NAME.summary.json and NAME.svg into DIR, and
    /// the cohort table summary.csv.
    #[arg(long, value_name = "DIR")]
    pub(crate) out_dir: Option<PathBuf>,

    /// Print the summary JSON (an array for several nights) instead of the tables.
    #[arg(long)]
    pub(crate) json: bool,

    /// Scoring rule of the PLM series (replaces the config's series section by the rule's
    /// published values).
    #[arg(long, value_enum, value_name = "RULE")]
    pub(crate) rule: Option<RuleArg>,

    /// Movement onset threshold, as a multiple of the noise floor (default 3.5).
    #[arg(long, value_name = "X")]
    pub(crate) on_factor: Option<f64>,

    /// Movement offset threshold, as a multiple of the noise floor (default 2).
    #[arg(long, value_name = "X")]
    pub(crate) off_factor: Option<f64>,

    /// Detector config file (TOML or JSON) naming the settings to change; the options
    /// above apply on top of it.
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,

    /// Unit of the acceleration columns of CSV inputs; overrides the header and the
    /// magnitude test.
    #[arg(long, value_enum, value_name = "UNIT")]
    pub(crate) units: Option<UnitsArg>,

    /// Runs of one sample repeated for seconds in CSV inputs: `drop` leaves them out as an
    /// ActiGraph's idle-sleep fill (reported as gaps), `keep` reads them as samples. By
    /// default ActiLife exports drop them and other files keep them.
    #[arg(long, value_enum, value_name = "WHAT")]
    pub(crate) idle_fill: Option<IdleFillArg>,

    /// Threads (default: CPUs). One night uses two to parse while it detects; several
    /// nights run side by side, one thread each.
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,

    /// Bytes of CSV parsed at a time (default 1 MiB); for measuring.
    #[arg(long, value_name = "BYTES", hide = true)]
    pub(crate) block_size: Option<usize>,

    /// Only read the recordings and report what they hold: no detection, no outputs; with
    /// --timing, how long reading took. For measuring the readers.
    #[arg(long)]
    pub(crate) read_only: bool,

    /// With --out-dir: take the nights whose outputs a run with the same config, --units,
    /// --idle-fill and version finished there from their summary JSON instead of analysing
    /// them again, and redo the rest (a cohort run that was stopped, or whose failed nights
    /// were fixed). A recording whose size changed is analysed again; one rewritten at the
    /// same size is not noticed (delete its night's summary to redo it).
    #[arg(long, requires = "out_dir")]
    pub(crate) resume: bool,

    /// Also print how long each night took.
    #[arg(long)]
    pub(crate) timing: bool,

    /// No progress bar, even on a terminal.
    #[arg(long, short)]
    pub(crate) quiet: bool,
}

/// Units as spelled on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum UnitsArg {
    /// Standard gravity.
    G,
    /// Metres per second squared.
    Ms2,
}

impl From<UnitsArg> for AccelUnit {
    fn from(u: UnitsArg) -> Self {
        match u {
            UnitsArg::G => AccelUnit::G,
            UnitsArg::Ms2 => AccelUnit::MPerS2,
        }
    }
}

/// What to do with repeated samples, as spelled on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum IdleFillArg {
    /// Leave runs of repeats out as idle-sleep fill.
    Drop,
    /// Read them as samples.
    Keep,
}

impl IdleFillArg {
    /// The value of `OpenOptions::idle_fill`.
    pub(crate) fn on(self) -> bool {
        self == IdleFillArg::Drop
    }
}

/// Scoring rules as spelled on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum RuleArg {
    /// World Association of Sleep Medicine 2016 (the default).
    #[value(alias = "wasm2016")]
    Wasm,
    /// American Academy of Sleep Medicine manual (2012 on).
    #[value(alias = "aasm2012")]
    Aasm,
}

impl From<RuleArg> for ScoringRule {
    fn from(r: RuleArg) -> Self {
        match r {
            RuleArg::Wasm => ScoringRule::Wasm2016,
            RuleArg::Aasm => ScoringRule::Aasm2012,
        }
    }
}

/// Parses the process arguments; on bad usage returns clap's error (exit 2, or 0 for
/// `--help` and `--version`).
pub(crate) fn parse() -> Result<Args, clap::Error> {
    Args::try_parse()
}
