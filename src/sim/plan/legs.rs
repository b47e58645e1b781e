//! Leg movements: series, isolated and short-interval movements, and the severity repair.

use super::super::body::{perturb, JointMove, Limb, Profile, Step, Tones, G0_MPS2, V3};
use super::super::config::Severity;
use super::super::rng::Rng;
use super::super::truth::score_legs;
use super::{count, in_any, ms, scored_legs, LmPlan, Planner, ScoredLm, LEGS};

impl Planner {
    // ----- leg movements ------------------------------------------------------------------

    /// A time in sleep (density falling across the night, as PLMS do in RLS, §2.3) or in
    /// wake in bed.
    pub(super) fn time_in(&self, rng: &mut Rng, sleep: bool) -> Option<f64> {
        let spans = if sleep {
            &self.sleep
        } else {
            &self.wake_in_bed
        };
        let total: f64 = spans.iter().map(|(a, b)| b - a).sum();
        if total <= 0.0 {
            return None;
        }
        let first = spans.first().map_or(0.0, |s| s.0);
        let last = spans.last().map_or(1.0, |s| s.1);
        for _ in 0..100 {
            let mut u = rng.uniform(0.0, total);
            for &(a, b) in spans {
                if u < b - a {
                    let t = a + u;
                    let w = if sleep {
                        1.0 - 0.5 * (t - first) / (last - first).max(1.0)
                    } else {
                        1.0
                    };
                    if rng.chance(w) {
                        return Some(t);
                    }
                    break;
                }
                u -= b - a;
            }
        }
        None
    }

    /// A joint movement of `dur` s on a leg: returns it with its peak angle (degrees) and
    /// amplitude (g).
    #[allow(clippy::too_many_arguments)]
    pub(super) fn joint(
        &self,
        rng: &mut Rng,
        limb: Limb,
        dur: f64,
        angle_deg: f64,
        acc_g: f64,
        jitter_g: f64,
        triple: bool,
        plantar: bool,
    ) -> (JointMove, f64, f64) {
        let m = &self.mounts[limb.idx()];
        // Dorsiflexion turns the foot about the ankle's mediolateral axis (±15°, some
        // inversion/eversion); triple flexion turns the shank about the knee.
        let axis_seg = perturb(V3::y(), 15.0, rng);
        let p_seg = if triple {
            V3::new(-rng.uniform(0.3, 0.45), 0.0, 0.04)
        } else {
            V3::new(-0.03, 0.0, rng.uniform(0.05, 0.12))
        };
        let axis = m.to_sensor(axis_seg);
        let p = m.to_sensor(p_seg);
        let (u_t, u_c) = JointMove::levers(&axis, &p);
        let r = u_t.norm() * G0_MPS2;
        let mut a = angle_deg.to_radians();
        // Rise time that gives the aimed peak tangential acceleration r·A·π²/(2·tr²),
        // between 80 ms and a third of the movement. A movement too brief to reach its angle
        // at that acceleration turns less: A shrinks with tr² so the acceleration holds.
        let hi = dur / 3.0;
        let lo = 0.08f64.min(hi);
        let tr_aim = std::f64::consts::PI * (r * a / (2.0 * acc_g * G0_MPS2)).sqrt();
        let tr = tr_aim.clamp(lo, hi);
        if tr_aim > hi {
            a *= (hi / tr_aim).powi(2);
        }
        let angle_deg = a.to_degrees();
        let tf = (tr * rng.uniform(1.0, 2.0)).clamp(lo, hi);
        let profile = if plantar {
            let b = -a * rng.uniform(0.2, 0.5);
            let tp = (tf * 0.8).min(dur / 4.0);
            let tf = tf.min(dur - tr - tp);
            Profile::new(&[
                Step {
                    t0_s: 0.0,
                    dur_s: tr,
                    from: 0.0,
                    to: a,
                },
                Step {
                    t0_s: dur - tf - tp,
                    dur_s: tf,
                    from: a,
                    to: b,
                },
                Step {
                    t0_s: dur - tp,
                    dur_s: tp,
                    from: b,
                    to: 0.0,
                },
            ])
        } else {
            Profile::new(&[
                Step {
                    t0_s: 0.0,
                    dur_s: tr,
                    from: 0.0,
                    to: a,
                },
                Step {
                    t0_s: dur - tf,
                    dur_s: tf,
                    from: a,
                    to: 0.0,
                },
            ])
        };
        let jitter =
            (jitter_g > 0.0).then(|| Tones::new(rng, 6.0, 25f64.min(self.max_f_hz), jitter_g));
        let peak = r * profile.peak_accel() / G0_MPS2 + jitter_g;
        (
            JointMove {
                profile,
                axis,
                u_t,
                u_c,
                jitter,
                dur_s: dur,
            },
            angle_deg,
            peak,
        )
    }

    pub(super) fn dur_sleep(rng: &mut Rng) -> f64 {
        if rng.chance(0.08) {
            rng.uniform(5.0, 9.8)
        } else {
            (3.3 + 1.0 * rng.normal()).clamp(0.6, 9.5)
        }
    }

    pub(super) fn dur_wake(rng: &mut Rng) -> f64 {
        rng.uniform(1.5, 9.8)
    }

    pub(super) fn is_sleep(&self, t: f64) -> bool {
        in_any(t, &self.sleep)
    }

    /// Legs of one movement: both, or one.
    pub(super) fn legs(rng: &mut Rng, p_both: f64) -> u8 {
        if rng.chance(p_both) {
            LEGS
        } else if rng.chance(0.5) {
            Limb::LeftLeg.bit()
        } else {
            Limb::RightLeg.bit()
        }
    }

    /// Plans one movement unit (one leg or both) at `t0` lasting about `dur`; returns
    /// false if it does not fit.
    pub(super) fn try_lm(
        &mut self,
        rng: &mut Rng,
        t0: f64,
        dur: f64,
        legs: u8,
        guard_lm: f64,
    ) -> bool {
        let t0 = ms(t0);
        let lying = self.lying_spans();
        // Plan both components first, then check and commit.
        let mut comps: Vec<(f64, f64, Limb)> = Vec::new();
        let mut first = true;
        for limb in [Limb::LeftLeg, Limb::RightLeg] {
            if legs & limb.bit() == 0 {
                continue;
            }
            // The second leg starts within 0.45 s of the first (bilateral onsets < 0.5 s).
            let (a, d) = if first {
                (t0, dur)
            } else {
                (
                    ms(t0 + rng.uniform(-0.2, 0.45)),
                    (dur * rng.uniform(0.7, 1.3)).clamp(0.6, if dur > 10.0 { 25.0 } else { 9.8 }),
                )
            };
            first = false;
            comps.push((a, ms(a + d), limb));
        }
        for &(a, b, limb) in &comps {
            if !lying.iter().any(|&(s, e)| a >= s + 5.0 && b <= e - 5.0)
                || !self
                    .occ
                    .free(a, b, limb.bit(), self.k.guard_lm_global_s, guard_lm)
            {
                return false;
            }
        }
        let unit = self.next_unit;
        self.next_unit += 1;
        let bilateral = comps.len() == 2;
        let (triple, plantar) = (rng.chance(0.28), rng.chance(0.21));
        let angle0 = rng.log_uniform(self.k.lm_angle_deg.0, self.k.lm_angle_deg.1);
        for (a, b, limb) in comps {
            let angle = if triple {
                (angle0 * rng.uniform(1.5, 2.5)).min(50.0)
            } else {
                angle0 * rng.uniform(0.8, 1.2)
            };
            let acc = rng.log_uniform(self.k.lm_acc_g.0, self.k.lm_acc_g.1);
            let jit = rng.log_uniform(self.k.jitter_g.0, self.k.jitter_g.1);
            let (motion, angle_deg, amp_g) =
                self.joint(rng, limb, b - a, angle, acc, jit, triple, plantar);
            self.occ.add(a, b, limb.bit(), true);
            self.lms.push(LmPlan {
                onset_s: a,
                offset_s: b,
                limb,
                unit,
                angle_deg,
                amp_g,
                triple,
                plantar,
                bilateral,
                motion,
            });
        }
        true
    }

    /// A periodic series of up to `k` movements starting in sleep (or wake); returns how
    /// many were placed (0 if none fitted).
    pub(super) fn series(&mut self, rng: &mut Rng, k: usize, sleep: bool) -> usize {
        let p_both = 0.5;
        let one_leg = if rng.chance(0.5) {
            Limb::LeftLeg.bit()
        } else {
            Limb::RightLeg.bit()
        };
        let pattern = rng.weighted(&[0.35, 0.2, 0.2, 0.25]);
        let period = if sleep {
            // Mostly 20–40 s, some shorter and longer (§2.3: a hump over 10–90 s).
            match rng.weighted(&[0.75, 0.15, 0.1]) {
                0 => rng.uniform(20.0, 40.0),
                1 => rng.uniform(12.0, 20.0),
                _ => rng.uniform(40.0, 70.0),
            }
        } else {
            rng.uniform(11.0, 20.0)
        };
        for _attempt in 0..60 {
            let Some(t0) = self.time_in(rng, sleep) else {
                return 0;
            };
            let spans = if sleep {
                &self.sleep
            } else {
                &self.wake_in_bed
            };
            let Some(&(_, bout_end)) = spans.iter().find(|&&(a, b)| t0 >= a && t0 < b) else {
                continue;
            };
            let mut placed = 0usize;
            let mut t = t0;
            let mut prev_onset: Option<f64> = None;
            let start_units = self.next_unit;
            while placed < k {
                let iv = if rng.chance(0.05) && 2.0 * period < 85.0 {
                    2.0 * period
                } else {
                    period
                } * (self.k.imi_sigma * rng.normal()).exp();
                let dur = if sleep {
                    Self::dur_sleep(rng)
                } else {
                    Self::dur_wake(rng)
                }
                .min(iv.min(period) - 1.5)
                .max(0.6);
                if t + dur > bout_end - 1.0 {
                    break;
                }
                // No other event between the series' movements.
                if let Some(p) = prev_onset {
                    if !self.occ.free(p, t, 0, self.k.guard_lm_global_s, 0.0) {
                        break;
                    }
                }
                let legs = match pattern {
                    0 => LEGS,
                    1 | 2 => one_leg,
                    _ => Self::legs(rng, p_both),
                };
                if self.clear_series && !self.clear_of_scored(t, t + dur, start_units) {
                    break;
                }
                if !self.try_lm(rng, t, dur, legs, 0.6) {
                    break;
                }
                prev_onset = Some(t);
                placed += 1;
                t += iv;
            }
            if placed >= 4 {
                // Sometimes a short-interval movement breaks the series (§2.3, §3.2).
                if rng.chance(self.k.p_break) {
                    let members: Vec<LmPlan> = self
                        .lms
                        .iter()
                        .filter(|l| l.unit >= start_units)
                        .copied()
                        .collect();
                    let j = rng.index(members.len() - 1);
                    let at = members[j].onset_s + rng.uniform(2.0, 8.0);
                    let dur = rng.uniform(0.6, 2.5);
                    let next_onset = members
                        .iter()
                        .map(|l| l.onset_s)
                        .filter(|&o| o > members[j].onset_s + 0.5)
                        .fold(f64::INFINITY, f64::min);
                    if at + dur < next_onset - 1.0 {
                        let legs = Self::legs(rng, 0.4);
                        self.try_lm(rng, at, dur, legs, 0.6);
                    }
                }
                return placed;
            }
            // Too short: take it back and try elsewhere.
            self.remove_units(|l| l.unit >= start_units);
        }
        0
    }

    /// No scored leg movement but the series' own (units from `own_from` on) within the
    /// scoring rules' shortest interval (10 s) of [a, b]: a series placed so cannot be broken
    /// by another series on the other leg.
    fn clear_of_scored(&self, a: f64, b: f64, own_from: u32) -> bool {
        let legs = scored_legs(self.cfg.layout);
        self.lms.iter().all(|l| {
            l.unit >= own_from
                || legs & l.limb.bit() == 0
                || b + 10.0 <= l.onset_s
                || a - 10.0 >= l.offset_s
        })
    }

    pub(super) fn remove_units(&mut self, pred: impl Fn(&LmPlan) -> bool) {
        let gone: Vec<LmPlan> = self.lms.iter().filter(|l| pred(l)).copied().collect();
        for l in &gone {
            self.occ.remove_lm(l.onset_s, l.offset_s, l.limb.bit());
        }
        self.lms.retain(|l| !pred(l));
    }

    pub(super) fn leg_movements(&mut self, rng: &mut Rng) {
        let sleep_h = self.sleep_s() / 3600.0;
        let target = self.target_plmsi;
        let mean_len = match self.cfg.severity {
            Severity::None => 5.0,
            Severity::Mild => 15.0,
            Severity::Moderate => 30.0,
            Severity::Severe => 60.0,
        };
        let need = count(target * sleep_h);
        let mut planned = 0usize;
        let mut failures = 0;
        while planned < need && failures < 20 {
            let k = count(4.0 + rng.log_uniform(1.0, 2.0 * mean_len));
            let n = self.series(rng, k.min(need - planned + 4), true);
            if n == 0 {
                failures += 1;
            }
            planned += n;
        }
        // PLM in quiet wakefulness (PLMW), shorter intervals (§2.3).
        if self.cfg.severity != Severity::None {
            let sev = Severity::ALL
                .iter()
                .position(|s| *s == self.cfg.severity)
                .unwrap_or(0) as f64;
            let n = rng.poisson(0.5 + 0.7 * sev);
            for _ in 0..n {
                let k = 4 + rng.index(9);
                self.series(rng, k, false);
            }
        }
        let bed_h = (self.in_bed.1 - self.in_bed.0) / 3600.0;
        // Isolated movements anywhere in bed.
        let n = rng.poisson(self.k.isolated_per_h * bed_h);
        for _ in 0..n {
            for _ in 0..20 {
                let sleep = rng.chance(0.7);
                let Some(t) = self.time_in(rng, sleep) else {
                    break;
                };
                let dur = if sleep {
                    Self::dur_sleep(rng)
                } else {
                    Self::dur_wake(rng)
                };
                let legs = Self::legs(rng, 0.3);
                if self.try_lm(rng, t, dur, legs, self.k.iso_guard_s) {
                    break;
                }
            }
        }
        // Short-interval clusters: 2–3 movements 2–8 s apart.
        let n = rng.poisson(self.k.clusters_per_h * bed_h);
        for _ in 0..n {
            for _ in 0..20 {
                let sleep = rng.chance(0.6);
                let Some(t) = self.time_in(rng, sleep) else {
                    break;
                };
                let legs = Self::legs(rng, 0.3);
                let dur = rng.uniform(0.6, 3.0);
                if self.try_lm(rng, t, dur, legs, self.k.iso_guard_s.min(20.0)) {
                    let mut at = t;
                    for _ in 0..(1 + rng.below(2)) {
                        at += dur.max(1.0) + rng.uniform(1.0, 6.0);
                        let legs = Self::legs(rng, 0.3);
                        let d = rng.uniform(0.6, 3.0);
                        self.try_lm(rng, at, d, legs, 0.6);
                    }
                    break;
                }
            }
        }
        // Long movements in wake (> 10 s: non-candidates that break series).
        let wake_h: f64 = self.wake_in_bed.iter().map(|(a, b)| b - a).sum::<f64>() / 3600.0;
        let n = rng.poisson(0.5 * wake_h + 0.2);
        for _ in 0..n {
            for _ in 0..20 {
                let Some(t) = self.time_in(rng, false) else {
                    break;
                };
                let legs = Self::legs(rng, 0.3);
                let d = rng.uniform(10.5, 20.0);
                if self.try_lm(rng, t, d, legs, 5.0) {
                    break;
                }
            }
        }
    }

    /// Moves movements off the scoring rules' decision edges (IMI of 5, 10 or 90 s, merge
    /// gap of 0.5 s, to within 2 ms), so that truth does not hinge on a rounding.
    pub(super) fn nudge(&mut self, legs: u8) {
        for _pass in 0..8 {
            let mut idx: Vec<usize> = (0..self.lms.len())
                .filter(|&i| legs & self.lms[i].limb.bit() != 0)
                .collect();
            idx.sort_by(|&a, &b| self.lms[a].onset_s.total_cmp(&self.lms[b].onset_s));
            let mut moved = false;
            for (n, &i) in idx.iter().enumerate() {
                for &j in &idx[n + 1..] {
                    let (a, b) = (self.lms[i], self.lms[j]);
                    let imi = b.onset_s - a.onset_s;
                    if imi > 91.0 {
                        break;
                    }
                    let gap = b.onset_s - a.offset_s;
                    let near = |x: f64, edge: f64| (x - edge).abs() < 0.002;
                    if near(imi, 5.0) || near(imi, 10.0) || near(imi, 90.0) || near(gap, 0.5) {
                        let l = &mut self.lms[j];
                        l.onset_s = ms(l.onset_s + 0.005);
                        l.offset_s = ms(l.offset_s + 0.005);
                        moved = true;
                    }
                }
            }
            if !moved {
                break;
            }
        }
    }

    /// Adds or removes series until the scored PLMS index is within 15 % of the range's
    /// width of the target; returns the scored movements, the steps taken and whether the
    /// index ended inside the severity's range.
    pub(super) fn repair(&mut self, rng: &mut Rng) -> (Vec<ScoredLm>, u32, bool) {
        let legs = scored_legs(self.cfg.layout);
        let (lo, hi) = self.cfg.severity.plmsi_range_per_h();
        let sleep_h = self.sleep_s() / 3600.0;
        let mid = self.target_plmsi;
        // Close enough to the target: within 15 % of the range's width.
        let tol = 0.15 * (hi - lo);
        let mut steps = 0;
        loop {
            self.nudge(legs);
            let scored = score_legs(&self.cfg, &self.lms, legs);
            let n_plms = scored
                .iter()
                .filter(|s| s.series_id.is_some() && self.is_sleep(s.onset_s))
                .count();
            let plmsi = n_plms as f64 / sleep_h;
            let in_range = plmsi >= lo && plmsi < hi;
            if (in_range && ((plmsi - mid).abs() <= tol || steps >= 40)) || steps >= 80 {
                return (scored, steps, in_range);
            }
            steps += 1;
            if plmsi < mid {
                let deficit = count(((mid - plmsi) * sleep_h).ceil().max(4.0));
                self.series(rng, deficit.min(200), true);
            } else {
                let excess = n_plms.saturating_sub(count((mid * sleep_h).floor())).max(1);
                // The longest scored series in sleep loses its last movements, or all.
                let mut by_series: std::collections::BTreeMap<u32, Vec<&ScoredLm>> =
                    std::collections::BTreeMap::new();
                for s in &scored {
                    if let Some(id) = s.series_id {
                        if self.is_sleep(s.onset_s) {
                            by_series.entry(id).or_default().push(s);
                        }
                    }
                }
                let Some(longest) = by_series.values().max_by_key(|v| v.len()) else {
                    return (scored, steps, in_range);
                };
                let drop: Vec<&ScoredLm> = if longest.len() >= excess + 4 {
                    longest[longest.len() - excess..].to_vec()
                } else {
                    longest.clone()
                };
                let units: Vec<u32> = drop.iter().flat_map(|s| s.units.clone()).collect();
                self.remove_units(|l| units.contains(&l.unit));
            }
        }
    }
}
