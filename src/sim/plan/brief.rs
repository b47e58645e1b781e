//! Brief and rhythmic events: hypnic jerks, tremor trains, ALMA, twitches, breathing, gaps.

use super::super::body::{random_unit, Breath, Item, Limb, Pulse, Wave, Wobble};
use super::super::rng::Rng;
use super::{in_any, ms, worn, OtherKind, OtherPlan, Planner, Track, ALL, LEGS};

impl Planner {
    // ----- jerks and trains ---------------------------------------------------------------

    pub(super) fn jerks(&mut self, rng: &mut Rng) {
        let worn = worn(self.cfg.layout);
        for onset in self.onsets.clone() {
            let n = rng.weighted(&[0.3, 0.35, 0.2, 0.1, 0.05]);
            for _ in 0..n {
                for _ in 0..20 {
                    let dur = rng.uniform(0.1, 0.5);
                    let t0 = ms(onset + rng.uniform(-30.0, 60.0));
                    let t1 = ms(t0 + dur);
                    if !self.occ.free(t0, t1, ALL, 3.0, 0.0) || in_any(t0, &self.out_of_bed) {
                        continue;
                    }
                    self.occ.add(t0, t1, ALL, false);
                    let peak = rng.log_uniform(self.k.jerk_g.0, self.k.jerk_g.1);
                    let f_hz = rng.uniform(4.0, 12f64.min(self.max_f_hz));
                    let mut amp = [0.0; 3];
                    for limb in Limb::ALL {
                        amp[limb.idx()] = peak * rng.uniform(0.3, 1.0);
                    }
                    // The strongest worn site feels the drawn peak.
                    let top = Limb::ALL
                        .iter()
                        .filter(|l| worn & l.bit() != 0)
                        .map(|l| amp[l.idx()])
                        .fold(0.0, f64::max);
                    if top > 0.0 {
                        for a in &mut amp {
                            *a *= peak / top;
                        }
                    }
                    for limb in Limb::ALL {
                        // Sites respond a few ms apart (conduction and coupling).
                        let delay = rng.uniform(0.0, 0.008);
                        let p = Pulse::new(
                            dur,
                            f_hz * rng.uniform(0.8, 1.2),
                            dur / 3.0,
                            amp[limb.idx()],
                            random_unit(rng),
                            random_unit(rng),
                            rng.uniform(1.0, 4.0).to_radians(),
                        );
                        self.items[limb.idx()].push(Item {
                            start_s: t0 + delay,
                            end_s: t0 + delay + dur,
                            wave: Wave::Pulse(p),
                        });
                    }
                    self.others.push(OtherPlan {
                        kind: OtherKind::Jerk,
                        onset_s: t0,
                        offset_s: t1,
                        limbs: ALL,
                        amp_g: amp,
                        angle_deg: [0.0; 3],
                        detail: "sleep_onset".into(),
                    });
                    break;
                }
            }
        }
    }

    /// A burst of a tremor train or ALMA sequence: a small joint movement.
    pub(super) fn burst(
        &self,
        rng: &mut Rng,
        limb: Limb,
        dur: f64,
        angle_deg: f64,
        acc_g: f64,
    ) -> Item {
        let motion = self.joint(rng, limb, dur, angle_deg, acc_g, 0.0, false, false);
        Item {
            start_s: 0.0,
            end_s: dur,
            wave: Wave::Joint(motion.0),
        }
    }

    pub(super) fn trains(&mut self, rng: &mut Rng) {
        // Hypnagogic foot tremor: near sleep onsets and early sleep.
        let n = rng.poisson(self.k.tremor_trains);
        for _ in 0..n {
            for _ in 0..30 {
                let Some(&onset) = self.onsets.get(rng.index(self.onsets.len())) else {
                    break;
                };
                let len = rng.uniform(10.0, 15.0);
                let t0 = ms(onset + rng.uniform(-60.0, 600.0));
                let t1 = ms(t0 + len);
                if !self.lying_spans().iter().any(|&(a, b)| t0 >= a && t1 <= b)
                    || !self.occ.free(t0, t1, ALL, 5.0, 0.0)
                {
                    continue;
                }
                let mask = if rng.chance(0.3) {
                    LEGS
                } else if rng.chance(0.5) {
                    Limb::LeftLeg.bit()
                } else {
                    Limb::RightLeg.bit()
                };
                let period = 1.0 / rng.uniform(1.0, 2.0);
                let max_g = self.k.tremor_max_g;
                let mut peak = [0.0f64; 3];
                let mut t = t0;
                while t < t1 - 0.3 {
                    let dur = rng.uniform(0.3, 0.7).min(0.8 * period).min(t1 - t);
                    for limb in [Limb::LeftLeg, Limb::RightLeg] {
                        if mask & limb.bit() == 0 {
                            continue;
                        }
                        let acc = rng.log_uniform(0.01, max_g);
                        let angle = rng.log_uniform(1.0, 5.0);
                        let mut item = self.burst(rng, limb, dur, angle, acc);
                        item.start_s += t;
                        item.end_s += t;
                        peak[limb.idx()] = peak[limb.idx()].max(acc);
                        self.items[limb.idx()].push(item);
                    }
                    t += period * rng.uniform(0.9, 1.1);
                }
                self.occ.add(t0, t1, ALL, false);
                self.others.push(OtherPlan {
                    kind: OtherKind::Tremor,
                    onset_s: t0,
                    offset_s: t1,
                    limbs: mask,
                    amp_g: peak,
                    angle_deg: [0.0; 3],
                    detail: "tremor_train".into(),
                });
                break;
            }
        }
        // Alternating leg muscle activation: in sleep, bursts alternate between the legs.
        let n = rng.poisson(self.k.alma);
        for _ in 0..n {
            for _ in 0..30 {
                let len = rng.uniform(5.0, 20.0);
                let Some(t0) = self.time_in(rng, true) else {
                    break;
                };
                let t0 = ms(t0);
                let t1 = ms(t0 + len);
                if !self.sleep.iter().any(|&(a, b)| t0 >= a && t1 <= b)
                    || !self.occ.free(t0, t1, ALL, 5.0, 0.0)
                {
                    continue;
                }
                let period = 1.0 / rng.uniform(1.0, 2.0);
                let mut limb = if rng.chance(0.5) {
                    Limb::LeftLeg
                } else {
                    Limb::RightLeg
                };
                let mut peak = [0.0f64; 3];
                let mut t = t0;
                while t < t1 - 0.1 {
                    let dur = rng.uniform(0.1, 0.5).min(0.8 * period).min(t1 - t);
                    let acc = rng.log_uniform(0.01, 0.05);
                    let angle = rng.log_uniform(1.0, 4.0);
                    let mut item = self.burst(rng, limb, dur, angle, acc);
                    item.start_s += t;
                    item.end_s += t;
                    peak[limb.idx()] = peak[limb.idx()].max(acc);
                    self.items[limb.idx()].push(item);
                    limb = if limb == Limb::LeftLeg {
                        Limb::RightLeg
                    } else {
                        Limb::LeftLeg
                    };
                    t += period * rng.uniform(0.9, 1.1);
                }
                self.occ.add(t0, t1, ALL, false);
                self.others.push(OtherPlan {
                    kind: OtherKind::Alma,
                    onset_s: t0,
                    offset_s: t1,
                    limbs: LEGS,
                    amp_g: peak,
                    angle_deg: [0.0; 3],
                    detail: "alma".into(),
                });
                break;
            }
        }
    }

    pub(super) fn twitches(&mut self, rng: &mut Rng) {
        let sleep_h = self.sleep_s() / 3600.0;
        for limb in Limb::ALL {
            let n = rng.poisson(self.k.twitch_per_h * sleep_h);
            for _ in 0..n {
                let Some(t0) = self.time_in(rng, true) else {
                    break;
                };
                let dur = rng.uniform(0.02, 0.15);
                let t0 = ms(t0);
                let t1 = ms(t0 + dur);
                if !self.occ.free(t0, t1, limb.bit(), 1.0, 1.0) {
                    continue;
                }
                let amp = rng.log_uniform(0.003, self.k.twitch_max_g);
                let p = Pulse::new(
                    dur,
                    rng.uniform(10.0, 25f64.min(self.max_f_hz)),
                    dur / 2.0,
                    amp,
                    random_unit(rng),
                    random_unit(rng),
                    rng.uniform(0.0, 0.3).to_radians(),
                );
                self.items[limb.idx()].push(Item {
                    start_s: t0,
                    end_s: t1,
                    wave: Wave::Pulse(p),
                });
                let mut a = [0.0; 3];
                a[limb.idx()] = amp;
                self.others.push(OtherPlan {
                    kind: OtherKind::Twitch,
                    onset_s: t0,
                    offset_s: t1,
                    limbs: limb.bit(),
                    amp_g: a,
                    angle_deg: [0.0; 3],
                    detail: "twitch".into(),
                });
            }
        }
    }

    /// Breathing turns a wrist lying on the chest or belly by up to a degree.
    pub(super) fn breathing(&mut self, rng: &mut Rng) {
        let f_hz = rng.uniform(0.2, 0.3);
        for w in self.poses.windows(2) {
            let (_, start, pose) = w[0];
            let (end, _, _) = w[1];
            if pose.upright || end - start < 20.0 {
                continue;
            }
            let amp = rng.uniform(0.0, 1.0);
            let wobble = Wobble::new(rng, f_hz, f_hz * 1.001, amp);
            self.items[Limb::Wrist.idx()].push(Item {
                start_s: start,
                end_s: end,
                wave: Wave::Breath(Breath {
                    dur_s: end - start,
                    wobble,
                }),
            });
        }
    }

    pub(super) fn gaps(&self, rng: &mut Rng, track: &Track, limb: Limb) -> Vec<(f64, f64)> {
        let mut gaps: Vec<(f64, f64)> = Vec::new();
        let n = 1 + rng.below(3);
        let (bed0, bed1) = self.in_bed;
        for _ in 0..n {
            for _ in 0..50 {
                let len = rng.log_uniform(2.0, 300.0);
                if bed1 - bed0 < len + 120.0 {
                    break;
                }
                let a = ms(rng.uniform(bed0 + 60.0, bed1 - 60.0 - len));
                let b = ms(a + len);
                let clear = |s: f64, e: f64| b + 2.0 <= s || a - 2.0 >= e;
                // Breathing goes on through idle-mode gaps: it is below any wake-up threshold.
                let busy_item = track
                    .items
                    .iter()
                    .any(|i| !matches!(i.wave, Wave::Breath(_)) && !clear(i.start_s, i.end_s));
                let busy_rest = track.changes.iter().any(|c| !clear(c.t0_s, c.t1_s));
                let busy_lm = self
                    .lms
                    .iter()
                    .any(|l| l.limb == limb && !clear(l.onset_s, l.offset_s));
                let busy_gap = gaps.iter().any(|&(s, e)| !clear(s, e));
                if !(busy_item || busy_rest || busy_lm || busy_gap) {
                    gaps.push((a, b));
                    break;
                }
            }
        }
        gaps.sort_by(|x, y| x.0.total_cmp(&y.0));
        gaps
    }
}
