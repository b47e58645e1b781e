//! Stand-in for `crate::series` until that module lands (same API, WASM 2016 rules).
#![allow(dead_code, unreachable_pub, missing_docs)]

use crate::{Site, Sites};

#[derive(Clone, Debug)]
pub struct SeriesConfig {
    pub min_lm_s: f64,
    pub max_clm_s: f64,
    pub merge_gap_s: f64,
    pub max_bilateral_s: f64,
    pub max_components: u32,
    pub min_imi_s: f64,
    pub max_imi_s: f64,
    pub min_run: usize,
    pub short_breaks: bool,
}

impl SeriesConfig {
    pub fn wasm2016() -> Self {
        SeriesConfig {
            min_lm_s: 0.5,
            max_clm_s: 10.0,
            merge_gap_s: 0.5,
            max_bilateral_s: 15.0,
            max_components: 4,
            min_imi_s: 10.0,
            max_imi_s: 90.0,
            min_run: 4,
            short_breaks: true,
        }
    }
    pub fn aasm2012() -> Self {
        SeriesConfig {
            min_imi_s: 5.0,
            ..SeriesConfig::wasm2016()
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LegMovement {
    pub onset_s: f64,
    pub offset_s: f64,
    pub sites: Sites,
    pub n_components: u32,
    pub is_clm: bool,
}

pub fn monolateral(cfg: &SeriesConfig, spans: &[(f64, f64)], site: Site) -> Vec<LegMovement> {
    let mut s: Vec<(f64, f64)> = spans.to_vec();
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, f64)> = Vec::new();
    for (a, b) in s {
        if let Some(last) = merged.last_mut() {
            if a - last.1 < cfg.min_lm_s {
                last.1 = last.1.max(b);
                continue;
            }
        }
        merged.push((a, b));
    }
    merged
        .into_iter()
        .filter(|(a, b)| b - a >= cfg.min_lm_s)
        .map(|(a, b)| LegMovement {
            onset_s: a,
            offset_s: b,
            sites: Sites::one(site),
            n_components: 1,
            is_clm: b - a <= cfg.max_clm_s,
        })
        .collect()
}

pub fn merge_bilateral(
    cfg: &SeriesConfig,
    left: &[LegMovement],
    right: &[LegMovement],
) -> Vec<LegMovement> {
    let mut all: Vec<LegMovement> = left.iter().chain(right).copied().collect();
    all.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    let mut out: Vec<LegMovement> = Vec::new();
    for lm in all {
        if let Some(last) = out.last_mut() {
            if lm.onset_s - last.offset_s < cfg.merge_gap_s {
                last.offset_s = last.offset_s.max(lm.offset_s);
                last.n_components += lm.n_components;
                last.sites = last.sites.union(lm.sites);
                last.is_clm = last.is_clm && lm.is_clm;
                continue;
            }
        }
        out.push(lm);
    }
    for lm in &mut out {
        if lm.n_components > 1 {
            lm.is_clm = lm.is_clm
                && lm.offset_s - lm.onset_s <= cfg.max_bilateral_s
                && lm.n_components <= cfg.max_components;
        }
    }
    out
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LmClass {
    Plm,
    ShortInterval,
    Isolated,
    NonClm,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    pub lm: LegMovement,
    pub class: LmClass,
    pub series_id: Option<u32>,
    pub imi_s: Option<f64>,
}

pub fn score(cfg: &SeriesConfig, lms: &[LegMovement]) -> Vec<Scored> {
    let mut v: Vec<LegMovement> = lms.to_vec();
    v.sort_by(|a, b| a.onset_s.total_cmp(&b.onset_s));
    let mut out: Vec<Scored> = Vec::with_capacity(v.len());
    let mut run: Vec<usize> = Vec::new();
    let mut next_id = 1u32;
    let close = |run: &mut Vec<usize>, out: &mut Vec<Scored>, next_id: &mut u32| {
        if run.len() >= cfg.min_run {
            for &i in run.iter() {
                out[i].class = LmClass::Plm;
                out[i].series_id = Some(*next_id);
            }
            *next_id += 1;
        }
        run.clear();
    };
    for (i, lm) in v.iter().enumerate() {
        let imi = if i > 0 {
            Some(lm.onset_s - v[i - 1].onset_s)
        } else {
            None
        };
        let prev_clm = i > 0 && v[i - 1].is_clm;
        let class = if !lm.is_clm {
            LmClass::NonClm
        } else if imi.is_some_and(|d| d < cfg.min_imi_s) {
            LmClass::ShortInterval
        } else {
            LmClass::Isolated
        };
        out.push(Scored {
            lm: *lm,
            class,
            series_id: None,
            imi_s: imi,
        });
        if !lm.is_clm {
            close(&mut run, &mut out, &mut next_id);
            continue;
        }
        let extends = imi.is_some_and(|d| d >= cfg.min_imi_s && d <= cfg.max_imi_s)
            && prev_clm
            && !run.is_empty();
        if extends {
            run.push(i);
        } else {
            close(&mut run, &mut out, &mut next_id);
            let short = imi.is_some_and(|d| d < cfg.min_imi_s);
            if !(short && cfg.short_breaks) {
                run.push(i);
            }
        }
    }
    close(&mut run, &mut out, &mut next_id);
    out
}
