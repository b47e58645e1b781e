//! Sleep schedule, postures and activity: the night's frame.

use super::super::body::{
    angle_deg, gravity_in, Gait, Item, JointMove, Limb, Pose, Shake, Tones, Wave, Wobble, V3,
};
use super::super::rng::Rng;
use super::{ms, position_name, OtherKind, OtherPlan, Planner, ALL};

impl Planner {
    // ----- schedule -----------------------------------------------------------------------

    pub(super) fn schedule(&mut self, rng: &mut Rng) {
        let t = self.t_end;
        let pre = (rng.uniform(0.02, 0.05) * t).clamp(120.0, 1200.0);
        let post = (rng.uniform(0.01, 0.03) * t).clamp(90.0, 900.0);
        let bed0 = ms(pre);
        let bed1 = ms(t - post);
        let b = bed1 - bed0;
        let sol = (rng.uniform(5.0, 20.0 + 25.0 * self.cfg.difficulty) * 60.0).min(0.15 * b);
        let onset0 = ms(bed0 + sol);
        let final_wake = ms(bed1 - (rng.uniform(3.0, 15.0) * 60.0).min(0.05 * b));
        let span = final_wake - onset0;
        let n = rng.poisson(self.k.awakenings_per_h * span / 3600.0);
        let mut wakes: Vec<(f64, f64)> = Vec::new();
        for _ in 0..n {
            for _ in 0..50 {
                let dur = rng.log_uniform(90.0, 900.0);
                let lo = onset0 + 600.0;
                let hi = final_wake - 600.0 - dur;
                if hi <= lo {
                    break;
                }
                let a = rng.uniform(lo, hi);
                let ok = wakes
                    .iter()
                    .all(|&(s, e)| a + dur + 600.0 <= s || a >= e + 600.0);
                if ok {
                    wakes.push((ms(a), ms(a + dur)));
                    break;
                }
            }
        }
        wakes.sort_by(|x, y| x.0.total_cmp(&y.0));
        // A trip out of bed during one long-enough awakening, on some longer nights.
        let mut trips = Vec::new();
        if self.cfg.duration_h >= 4.0 && rng.chance(0.3) {
            if let Some(w) = wakes
                .iter()
                .max_by(|x, y| (x.1 - x.0).total_cmp(&(y.1 - y.0)))
            {
                let trip = rng.uniform(120.0, 300.0);
                if w.1 - w.0 >= trip + 180.0 {
                    let a = ms(w.0 + rng.uniform(60.0, 90.0));
                    trips.push((a, ms(a + trip)));
                }
            }
        }
        let mut sleep = Vec::new();
        let mut onsets = Vec::new();
        let mut cur = onset0;
        for &(a, b) in &wakes {
            sleep.push((cur, a));
            onsets.push(cur);
            cur = b;
        }
        sleep.push((cur, final_wake));
        onsets.push(cur);
        let mut wake_in_bed = vec![(bed0, onset0)];
        for &(a, b) in &wakes {
            wake_in_bed.push((a, b));
        }
        wake_in_bed.push((final_wake, bed1));
        self.in_bed = (bed0, bed1);
        self.sleep = sleep;
        self.onsets = onsets;
        self.out_of_bed = vec![(0.0, bed0)];
        self.out_of_bed.extend(trips);
        self.out_of_bed.push((bed1, t));
        // Wake in bed excludes the trips.
        let lying = self.lying_spans();
        self.wake_in_bed = wake_in_bed
            .into_iter()
            .flat_map(|(a, b)| {
                lying
                    .iter()
                    .filter_map(move |&(s, e)| {
                        let (x, y) = (a.max(s), b.min(e));
                        (y > x).then_some((x, y))
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
    }

    // ----- postures and activity ----------------------------------------------------------

    pub(super) fn postures(&mut self, rng: &mut Rng) {
        let lying = self.lying_spans();
        // Lying down and getting up: the edges of the out-of-bed stretches.
        let mut slots: Vec<(f64, f64, u8)> = Vec::new(); // (start, dur, 0 lie down / 1 get up / 2 change)
        for &(a, b) in &self.out_of_bed {
            if a > 0.0 {
                slots.push((a, rng.uniform(3.0, 6.0), 1));
            }
            if b < self.t_end {
                // The lie-down transition ends the out-of-bed stretch.
                let d = rng.uniform(3.0, 8.0);
                slots.push((b - d, d, 0));
            }
        }
        let b_h: f64 = lying.iter().map(|(a, b)| b - a).sum::<f64>() / 3600.0;
        let rate = (1.6 + 0.7 * rng.normal()).clamp(0.5, 3.5);
        let n = rng.poisson(rate * b_h);
        let mut changes: Vec<(f64, f64)> = Vec::new();
        let total: f64 = lying.iter().map(|(a, b)| b - a).sum();
        for _ in 0..n {
            for _ in 0..40 {
                let dur = rng.uniform(2.0, 10.0);
                let mut u = rng.uniform(0.0, total);
                let mut t0 = None;
                for &(a, b) in &lying {
                    if u < b - a {
                        t0 = Some(a + u);
                        break;
                    }
                    u -= b - a;
                }
                let Some(t0) = t0 else { continue };
                let t0 = ms(t0);
                let t1 = ms(t0 + dur);
                let inside = lying.iter().any(|&(a, b)| t0 >= a + 30.0 && t1 <= b - 30.0);
                if inside && self.occ.free(t0, t1, ALL, 60.0, 0.0) {
                    self.occ.add(t0, t1, ALL, false);
                    changes.push((t0, t1));
                    break;
                }
            }
        }
        for &(a, b) in &changes {
            slots.push((a, b - a, 2));
        }
        slots.sort_by(|x, y| x.0.total_cmp(&y.0));
        let mut pose = Pose::upright(rng);
        self.poses.push((0.0, 0.0, pose));
        for (t0, dur, what) in slots {
            let t1 = ms(t0 + dur);
            let next = match what {
                0 => Pose::lying(rng, None),
                1 => Pose::upright(rng),
                _ => {
                    // A posture change turns each leg sensor by tens of degrees (§2.4).
                    let mut best = Pose::lying(rng, Some(pose.roll_deg));
                    for _ in 0..30 {
                        let angles = self.site_angles(&pose, &best);
                        if angles[0] >= 20.0 && angles[1] >= 20.0 {
                            break;
                        }
                        best = Pose::lying(rng, Some(pose.roll_deg));
                    }
                    best
                }
            };
            if what == 2 {
                let angles = self.site_angles(&pose, &next);
                let mut amp = [0.0; 3];
                for a in &mut amp {
                    *a = rng.log_uniform(0.05, 0.3) * rng.uniform(0.5, 1.0);
                }
                self.others.push(OtherPlan {
                    kind: OtherKind::Posture,
                    onset_s: t0,
                    offset_s: t1,
                    limbs: ALL,
                    amp_g: amp,
                    angle_deg: angles,
                    detail: format!("{}_to_{}", position_name(&pose), position_name(&next)),
                });
                for limb in Limb::ALL {
                    let tones = Tones::new(rng, 1.0, 8f64.min(self.max_f_hz), amp[limb.idx()]);
                    let wobble = Wobble::new(rng, 0.2, 1.0, 3.0);
                    self.items[limb.idx()].push(Item {
                        start_s: t0,
                        end_s: t1,
                        wave: Wave::Shake(Shake {
                            dur_s: t1 - t0,
                            tones,
                            wobble,
                        }),
                    });
                }
            }
            self.poses.push((t0, t1, next));
            pose = next;
        }
    }

    pub(super) fn site_angles(&self, a: &Pose, b: &Pose) -> [f64; 3] {
        let mut out = [0.0; 3];
        for limb in Limb::ALL {
            let m = &self.mounts[limb.idx()];
            let ga = gravity_in(&m.orientation(a, limb));
            let gb = gravity_in(&m.orientation(b, limb));
            out[limb.idx()] = angle_deg(&ga, &gb);
        }
        out
    }

    pub(super) fn out_of_bed_activity(&mut self, rng: &mut Rng) {
        let spans = self.out_of_bed.clone();
        for (a, b) in spans {
            // The event covers the stretch and its get-up / lie-down transitions.
            let onset = if a > 0.0 { a } else { 0.0 };
            let offset = b.min(self.t_end);
            self.occ.add(onset, offset, ALL, false);
            let mut peaks = [0.0f64; 3];
            // Alternate walking and standing/sitting with fidgets, inside the transitions.
            let mut t = onset + 8.0;
            let end = offset - 10.0;
            let mut walk = rng.chance(0.6);
            while t + 5.0 < end {
                let dur = if walk {
                    rng.uniform(10.0, 60.0)
                } else {
                    rng.uniform(10.0, 90.0)
                };
                let t1 = (t + dur).min(end);
                if walk {
                    let p = self.walk(rng, t, t1);
                    for k in 0..3 {
                        peaks[k] = peaks[k].max(p[k]);
                    }
                } else {
                    let rms = rng.log_uniform(0.03, 0.15);
                    self.fidget_items(rng, t, t1, ALL, rms, 8.0);
                }
                walk = !walk;
                t = t1 + rng.uniform(0.5, 3.0);
            }
            self.others.push(OtherPlan {
                kind: OtherKind::OutOfBed,
                onset_s: onset,
                offset_s: offset,
                limbs: ALL,
                amp_g: peaks,
                angle_deg: [0.0; 3],
                detail: "out_of_bed".into(),
            });
        }
    }

    /// Walking on every limb from `t0` to `t1`; returns each limb's heel-strike peak, g.
    pub(super) fn walk(&mut self, rng: &mut Rng, t0: f64, t1: f64) -> [f64; 3] {
        let mut peaks = [0.0; 3];
        let stride_hz = rng.uniform(0.8, 1.0);
        for limb in Limb::ALL {
            let m = self.mounts[limb.idx()];
            let (swing_deg, p_seg, axis_seg, impact) = match limb {
                Limb::Wrist => (
                    rng.uniform(10.0, 25.0),
                    V3::new(-0.6, 0.0, 0.0),
                    V3::y(),
                    rng.uniform(0.2, 0.4),
                ),
                _ => (
                    rng.uniform(20.0, 35.0),
                    V3::new(-0.4, 0.0, 0.04),
                    V3::y(),
                    rng.uniform(1.0, 2.5),
                ),
            };
            let axis = m.to_sensor(axis_seg);
            let (u_t, u_c) = JointMove::levers(&axis, &m.to_sensor(p_seg));
            let phase = match limb {
                Limb::LeftLeg => 0.0,
                Limb::RightLeg => std::f64::consts::PI,
                Limb::Wrist => std::f64::consts::FRAC_PI_2,
            };
            let sway_g = rng.uniform(0.05, 0.15);
            let g = Gait {
                dur_s: t1 - t0,
                stride_hz,
                phase,
                swing_rad: swing_deg.to_radians(),
                axis,
                u_t,
                u_c,
                impact_g: impact,
                impact_dir: m.to_sensor(V3::x()),
                sway: Tones::new(rng, 1.0, 6f64.min(self.max_f_hz), sway_g),
            };
            peaks[limb.idx()] = impact;
            self.items[limb.idx()].push(Item {
                start_s: t0,
                end_s: t1,
                wave: Wave::Gait(g),
            });
        }
        peaks
    }

    /// Shaking and wobble on the limbs in `mask`, one limb at full strength.
    pub(super) fn fidget_items(
        &mut self,
        rng: &mut Rng,
        t0: f64,
        t1: f64,
        mask: u8,
        rms_g: f64,
        max_deg: f64,
    ) {
        let strong = rng.index(3);
        for limb in Limb::ALL {
            if mask & limb.bit() == 0 {
                continue;
            }
            let f = if limb.idx() == strong {
                1.0
            } else {
                rng.uniform(0.2, 1.0)
            };
            let tones = Tones::new(rng, 0.5, 6f64.min(self.max_f_hz), rms_g * f);
            let wobble = Wobble::new(rng, 0.1, 0.8, max_deg * f);
            self.items[limb.idx()].push(Item {
                start_s: t0,
                end_s: t1,
                wave: Wave::Shake(Shake {
                    dur_s: t1 - t0,
                    tones,
                    wobble,
                }),
            });
        }
    }

    pub(super) fn fidgets(&mut self, rng: &mut Rng) {
        for (a, b) in self.wake_in_bed.clone() {
            let n = rng.poisson((b - a) / 240.0);
            for _ in 0..n {
                for _ in 0..20 {
                    let dur = rng.log_uniform(5.0, 60.0);
                    if b - a < dur + 20.0 {
                        break;
                    }
                    let t0 = ms(rng.uniform(a + 10.0, b - 10.0 - dur));
                    let t1 = ms(t0 + dur);
                    if self.occ.free(t0, t1, ALL, 10.0, 0.0) {
                        self.occ.add(t0, t1, ALL, false);
                        let rms = rng.log_uniform(0.03, 0.3);
                        let max_deg = rng.uniform(3.0, 15.0);
                        self.fidget_items(rng, t0, t1, ALL, rms, max_deg);
                        self.others.push(OtherPlan {
                            kind: OtherKind::Fidget,
                            onset_s: t0,
                            offset_s: t1,
                            limbs: ALL,
                            amp_g: [rms; 3],
                            angle_deg: [0.0; 3],
                            detail: "fidget".into(),
                        });
                        break;
                    }
                }
            }
        }
    }
}
