//! What detectors report: classified movement events, gaps, and the sinks that receive them.
//!
//! Detectors push results into a [`Sink`] as each one becomes final (internal iteration, as a
//! searcher pushes matches): the caller keeps the loop, the detector keeps no queue of
//! delivered events, and a sink that writes a file can buffer as it likes. Only
//! [`Sink::event`] is required; gaps and sleep onsets default to no-ops.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Error, Sample, Unworn};

/// The class of a movement event.
///
/// The first five are the classes a night is scored in (`domain.md` §2); [`Kind::Other`]
/// holds detected movements that are none of them (twitches, tremor trains), kept for
/// diagnosis and never counted in any index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A single brief (≤ 0.5 s) sharp jerk at a wake → sleep transition.
    HypnicJerk,
    /// A leg movement inside a periodic series (≥ 4 candidate LMs, IMI 10–90 s by WASM 2016).
    Plm,
    /// A leg movement (0.5–10 s) outside any periodic series.
    Lm,
    /// A change of body position: gravity direction moves tens of degrees and stays.
    PostureChange,
    /// Sustained movement while awake.
    Activity,
    /// A detected movement of no scored class (twitch, tremor train, unclassified burst).
    Other,
}

impl Kind {
    /// Every kind, in declaration order.
    pub const ALL: [Kind; 6] = [
        Kind::HypnicJerk,
        Kind::Plm,
        Kind::Lm,
        Kind::PostureChange,
        Kind::Activity,
        Kind::Other,
    ];

    /// The kind's name as written in event CSVs and JSON (`hypnic_jerk`, `plm`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::HypnicJerk => "hypnic_jerk",
            Kind::Plm => "plm",
            Kind::Lm => "lm",
            Kind::PostureChange => "posture_change",
            Kind::Activity => "activity",
            Kind::Other => "other",
        }
    }

    /// True for the two leg-movement kinds (`plm`, `lm`).
    pub const fn is_leg_movement(self) -> bool {
        matches!(self, Kind::Plm | Kind::Lm)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that names no [`Kind`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownKind(pub String);

impl fmt::Display for UnknownKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown event kind {:?}; expected one of hypnic_jerk, plm, lm, posture_change, activity, other",
            self.0
        )
    }
}

impl std::error::Error for UnknownKind {}

impl FromStr for Kind {
    type Err = UnknownKind;

    /// Parses a kind's name, ignoring ASCII case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

/// Where a sensor is worn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Site {
    /// An ankle or foot, side not given.
    #[default]
    Ankle,
    /// The left ankle or foot.
    LeftAnkle,
    /// The right ankle or foot.
    RightAnkle,
    /// A wrist.
    Wrist,
}

impl Site {
    /// Every site, in declaration order.
    pub const ALL: [Site; 4] = [Site::Ankle, Site::LeftAnkle, Site::RightAnkle, Site::Wrist];

    /// The site's name as written on the command line and in outputs (`left_ankle`, …).
    pub const fn as_str(self) -> &'static str {
        match self {
            Site::Ankle => "ankle",
            Site::LeftAnkle => "left_ankle",
            Site::RightAnkle => "right_ankle",
            Site::Wrist => "wrist",
        }
    }

    /// True for the ankle sites, whose movements are leg movements.
    pub const fn is_leg(self) -> bool {
        !matches!(self, Site::Wrist)
    }

    const fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Site {
    type Err = String;

    /// Parses a site's name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Site::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                format!("unknown site {s:?}; expected ankle, left_ankle, right_ankle or wrist")
            })
    }
}

/// The set of sites an event was seen on (a bilateral leg movement is seen on both ankles).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Sites(u8);

impl Sites {
    /// No site.
    pub const NONE: Sites = Sites(0);

    /// The set holding one site.
    pub const fn one(site: Site) -> Self {
        Sites(site.bit())
    }

    /// This set with `site` added.
    #[must_use]
    pub const fn with(self, site: Site) -> Self {
        Sites(self.0 | site.bit())
    }

    /// The union of two sets.
    #[must_use]
    pub const fn union(self, other: Sites) -> Self {
        Sites(self.0 | other.0)
    }

    /// True when `site` is in the set.
    pub const fn contains(self, site: Site) -> bool {
        self.0 & site.bit() != 0
    }

    /// True when the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of sites in the set.
    pub const fn len(self) -> u32 {
        self.0.count_ones()
    }

    /// The sites in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Site> {
        Site::ALL.into_iter().filter(move |s| self.contains(*s))
    }
}

impl fmt::Display for Sites {
    /// Site names joined by `+`, e.g. `left_ankle+right_ankle`; empty for no site.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("+")?;
            }
            f.write_str(s.as_str())?;
        }
        Ok(())
    }
}

impl FromStr for Sites {
    type Err = String;

    /// Parses `+`-joined site names; an empty string is the empty set.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut set = Sites::NONE;
        for part in s.split('+').map(str::trim).filter(|p| !p.is_empty()) {
            set = set.with(part.parse()?);
        }
        Ok(set)
    }
}

impl Serialize for Sites {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sites {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A classified movement event.
///
/// Only `onset_s`, `offset_s` and `kind` are required of an event that comes from elsewhere
/// (a truth file, another detector); the measurements default to zero and `confidence` to 1.
/// Times are on the input's clock: seconds from its start for relative inputs, Unix seconds
/// for epoch and ISO-8601 inputs.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Start of the movement, in seconds on the input's clock.
    pub onset_s: f64,
    /// End of the movement, in seconds on the input's clock (`offset_s ≥ onset_s`).
    pub offset_s: f64,
    /// The event's class.
    pub kind: Kind,
    /// Sites the movement was seen on (empty when unknown).
    #[serde(default)]
    pub sites: Sites,
    /// Peak of the movement signal, in g.
    #[serde(default)]
    pub peak_g: f64,
    /// Mean of the movement signal over the event, in g.
    #[serde(default)]
    pub mean_g: f64,
    /// Angle between the gravity direction before and after the event, in degrees.
    #[serde(default)]
    pub angle_deg: f64,
    /// Peak rate of change of acceleration, in g/s.
    #[serde(default)]
    pub peak_jerk_g_per_s: f64,
    /// How sure the detector is of the class, from 0 to 1.
    #[serde(default = "one")]
    pub confidence: f64,
    /// Identifier of the periodic series a `plm` belongs to, from 1 within a night.
    #[serde(default)]
    pub series_id: Option<u32>,
    /// Onset-to-onset interval from the previous leg movement, in seconds.
    #[serde(default)]
    pub imi_s: Option<f64>,
}

fn one() -> f64 {
    1.0
}

impl Event {
    /// An event with only its interval and class known.
    pub fn new(onset_s: f64, offset_s: f64, kind: Kind) -> Self {
        Event {
            onset_s,
            offset_s,
            kind,
            sites: Sites::NONE,
            peak_g: 0.0,
            mean_g: 0.0,
            angle_deg: 0.0,
            peak_jerk_g_per_s: 0.0,
            confidence: 1.0,
            series_id: None,
            imi_s: None,
        }
    }

    /// Duration, in seconds.
    pub fn duration_s(&self) -> f64 {
        self.offset_s - self.onset_s
    }
}

/// A stretch of time with no samples, longer than max(1 s, 5 × the median sample interval).
///
/// Gaps are reported and never bridged: no sample is invented inside one.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// Time of the last sample before the gap, in seconds on the input's clock.
    pub start_s: f64,
    /// Time from that sample to the next one, in seconds.
    pub duration_s: f64,
}

impl Gap {
    /// Time of the first sample after the gap, in seconds on the input's clock.
    pub fn end_s(&self) -> f64 {
        self.start_s + self.duration_s
    }
}

/// A stretch of sleep, from a sleep onset to the next awakening.
///
/// A night's sleep is a list of bouts in time order; total sleep time is the sum of their
/// durations, and the sleep period runs from the first bout's start to the last one's end.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SleepBout {
    /// Sleep onset, in seconds on the input's clock.
    pub start_s: f64,
    /// Awakening, in seconds on the input's clock.
    pub end_s: f64,
}

impl SleepBout {
    /// Duration, in seconds.
    pub fn duration_s(&self) -> f64 {
        self.end_s - self.start_s
    }

    /// True when `t_s` falls inside the bout (start inclusive, end exclusive).
    pub fn contains(&self, t_s: f64) -> bool {
        t_s >= self.start_s && t_s < self.end_s
    }
}

/// Receives what a detector finds, as soon as it is final.
///
/// Only [`Sink::event`] must be written; the other notices default to doing nothing. Any
/// `FnMut(Event)` closure is a sink, and a `Vec<Event>` collects.
pub trait Sink {
    /// A final event. Events arrive in order of onset for each detector.
    fn event(&mut self, event: Event);

    /// A gap in the input (no samples for longer than the gap rule allows).
    fn gap(&mut self, _gap: Gap) {}

    /// The detector's estimate of a sleep onset (wake → sleep), in seconds on the input's clock.
    fn sleep_onset(&mut self, _t_s: f64) {}

    /// A stretch in which a sensor lay as still as one off the body (see
    /// [`wear`](crate::wear)), once no later window can extend it: a window after its end
    /// (2 h by default), or at a gap or the end of the stream.
    fn unworn(&mut self, _stretch: Unworn) {}
}

impl<F: FnMut(Event)> Sink for F {
    fn event(&mut self, event: Event) {
        self(event)
    }
}

/// Collects every event; gaps and onsets are dropped (use a [`Collect`] to keep them).
impl Sink for Vec<Event> {
    fn event(&mut self, event: Event) {
        self.push(event)
    }
}

/// A sink that keeps everything it is told: events, gaps, sleep onsets and unworn stretches.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Collect {
    /// Events, in the order received.
    pub events: Vec<Event>,
    /// Gaps, in the order received.
    pub gaps: Vec<Gap>,
    /// Sleep onsets, in seconds on the input's clock.
    pub sleep_onsets_s: Vec<f64>,
    /// Stretches that looked unworn, in the order received.
    pub unworn: Vec<Unworn>,
}

impl Sink for Collect {
    fn event(&mut self, event: Event) {
        self.events.push(event);
    }
    fn gap(&mut self, gap: Gap) {
        self.gaps.push(gap);
    }
    fn sleep_onset(&mut self, t_s: f64) {
        self.sleep_onsets_s.push(t_s);
    }
    fn unworn(&mut self, stretch: Unworn) {
        self.unworn.push(stretch);
    }
}

/// Anything that turns a stream of samples into events: the crate's
/// [`Detector`](crate::Detector), a user's own, or a whole-recording algorithm behind
/// [`WholeRecording`].
///
/// The scoring harness ([`eval`](crate::eval)) drives any `Detect`: it pushes every chunk,
/// then calls `finish` once.
pub trait Detect {
    /// Takes the next samples (any number, including none) and sends final events to `sink`.
    ///
    /// # Errors
    /// When a sample cannot be processed (non-finite, time not increasing) or the detector
    /// fails; what the error carries is up to the implementation.
    fn push(&mut self, samples: &[Sample], sink: &mut dyn Sink) -> Result<(), Error>;

    /// Ends the stream: sends every event still pending to `sink`.
    ///
    /// # Errors
    /// As for [`Detect::push`].
    fn finish(&mut self, sink: &mut dyn Sink) -> Result<(), Error>;
}

impl Sink for &mut dyn Sink {
    fn event(&mut self, event: Event) {
        (**self).event(event)
    }
    fn gap(&mut self, gap: Gap) {
        (**self).gap(gap)
    }
    fn sleep_onset(&mut self, t_s: f64) {
        (**self).sleep_onset(t_s)
    }
    fn unworn(&mut self, stretch: Unworn) {
        (**self).unworn(stretch)
    }
}

/// Adapts a detector that needs the whole recording at once into a [`Detect`].
///
/// It keeps every pushed sample (memory grows with the recording) and calls the function
/// once, in `finish`.
pub struct WholeRecording<F> {
    samples: Vec<Sample>,
    detect: F,
}

impl<F> WholeRecording<F>
where
    F: FnMut(&[Sample]) -> Result<Vec<Event>, Error>,
{
    /// Wraps `detect`, which receives every sample of the recording and returns its events.
    pub fn new(detect: F) -> Self {
        WholeRecording {
            samples: Vec::new(),
            detect,
        }
    }
}

impl<F> Detect for WholeRecording<F>
where
    F: FnMut(&[Sample]) -> Result<Vec<Event>, Error>,
{
    fn push(&mut self, samples: &[Sample], _sink: &mut dyn Sink) -> Result<(), Error> {
        self.samples.extend_from_slice(samples);
        Ok(())
    }

    fn finish(&mut self, sink: &mut dyn Sink) -> Result<(), Error> {
        let samples = std::mem::take(&mut self.samples);
        let mut events = (self.detect)(&samples)?;
        events.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
        for e in events {
            sink.event(e);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_names() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>().unwrap(), k);
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert_eq!(" PLM ".parse::<Kind>().unwrap(), Kind::Plm);
        assert!("jerk".parse::<Kind>().is_err());
    }

    #[test]
    fn sites_display_and_parse() {
        let s = Sites::one(Site::LeftAnkle).with(Site::RightAnkle);
        assert_eq!(s.to_string(), "left_ankle+right_ankle");
        assert_eq!("left_ankle+right_ankle".parse::<Sites>().unwrap(), s);
        assert_eq!("".parse::<Sites>().unwrap(), Sites::NONE);
        assert_eq!(s.len(), 2);
        assert!(!s.contains(Site::Wrist));
    }

    #[test]
    fn closures_and_vecs_are_sinks() {
        let mut n = 0;
        let mut count = |_e: Event| n += 1;
        count.event(Event::new(0.0, 1.0, Kind::Lm));
        assert_eq!(n, 1);
        let mut v: Vec<Event> = Vec::new();
        v.event(Event::new(0.0, 1.0, Kind::Plm));
        assert_eq!(v.len(), 1);
    }

    #[test]
    fn whole_recording_adaptor_sees_every_sample_once_and_sorts() {
        let mut seen = 0usize;
        let mut d = WholeRecording::new(|s: &[Sample]| {
            seen = s.len();
            Ok(vec![
                Event::new(5.0, 6.0, Kind::Lm),
                Event::new(1.0, 2.0, Kind::Lm),
            ])
        });
        let mut out: Vec<Event> = Vec::new();
        let chunk = [Sample::new(0.0, [0.0, 0.0, 1.0]); 3];
        d.push(&chunk, &mut out).unwrap();
        d.push(&chunk[..1], &mut out).unwrap();
        assert!(out.is_empty());
        d.finish(&mut out).unwrap();
        drop(d);
        assert_eq!(seen, 4);
        assert_eq!(out[0].onset_s, 1.0);
        assert_eq!(out[1].onset_s, 5.0);
    }
}
