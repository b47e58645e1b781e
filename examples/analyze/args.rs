//! Command-line arguments of `analyze`: kept apart so later options have one place to go.

use std::path::PathBuf;

use clap::{Parser, ValueEnum};
use sleeptwitch::io::AccelUnit;

/// Reads accelerometer recordings and prints what each holds.
#[derive(Debug, Parser)]
#[command(name = "analyze", version, about)]
pub(crate) struct Args {
    /// CSV files: a time column and x, y, z accelerations (g or m/s²).
    #[arg(required = true, value_name = "FILE")]
    pub(crate) files: Vec<PathBuf>,

    /// Unit of the acceleration columns; overrides the header and the magnitude test.
    #[arg(long, value_enum, value_name = "UNIT")]
    pub(crate) units: Option<UnitsArg>,

    /// Threads that parse the text (default: CPUs, at most 2).
    #[arg(long, value_name = "N")]
    pub(crate) threads: Option<usize>,

    /// Bytes parsed at a time (default 1 MiB); for measuring.
    #[arg(long, value_name = "BYTES", hide = true)]
    pub(crate) block_size: Option<usize>,

    /// Also print how long reading took and at how many MB/s.
    #[arg(long)]
    pub(crate) timing: bool,
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

/// Parses the process arguments; on bad usage returns the message and exit code to use
/// (2 for a usage error, 0 for `--help` and `--version`).
pub(crate) fn parse() -> Result<Args, clap::Error> {
    Args::try_parse()
}
