//! The time grid: every time in a run is a whole number of steps of `dt`.
//!
//! Times given by a user go through [`checked_steps`] (or [`checked_phase_steps`]): a
//! time that is not finite, negative, or more than [`MAX_STEPS`] steps long is refused
//! instead of wrapping the step arithmetic.
//!
//! Times computed from steps (spike times, sample times, phase boundaries) go through a
//! [`StepClock`]: step `k` is at the *decimal* time `k dt`, the f64 nearest to it (at
//! `dt = 0.1 ms`, step 3 is at `3 / 10 = 0.3`, not `3 * 0.1 = 0.30000000000000004`), so
//! the times print as the grid's decimals and compare equal to them.

use crate::number::short;

/// The largest number of steps a run may have: 2^40 (about 1.1e12; 3.5 years of model
/// time at `dt = 0.1 ms`). Step indices and times stay exact far below it (`k * dt` is
/// computed in f64, exact for integers up to 2^53), and step counts can be added
/// without overflow.
pub const MAX_STEPS: u64 = 1 << 40;

/// The times of the steps of a grid of `dt`: [`StepClock::time_ms`] of step `k` is the
/// f64 nearest to the decimal number `k dt`, where `dt` is read as the shortest decimal
/// that gives back its f64 (`0.1`, `0.025`).
///
/// It is computed as `(k n) / q`, with `dt = n / q` the decimal as a reduced fraction: one
/// division of two integers that f64 holds exactly, rounded once. For `dt = 1 / m` ms
/// (0.1, 0.05, 0.025) this is `k / m`, i.e. `step / steps_per_ms`. Where `k n` exceeds
/// 2^53 (a step beyond about 9e15 / n) or `dt` has more than 15 decimals, it falls back
/// to `k * dt`.
///
/// ```
/// use engram_core::time::StepClock;
///
/// let clock = StepClock::new(0.1);
/// assert_eq!(clock.time_ms(3), 0.3);
/// assert_ne!(3.0 * 0.1, 0.3);
/// assert_eq!(StepClock::new(0.025).time_ms(7), 0.175);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepClock {
    dt_ms: f64,
    /// `dt = numerator / denominator`, reduced; `None` where `dt` has no short decimal.
    fraction: Option<(u64, u64)>,
}

/// Integers up to this are exact in f64.
const EXACT: u64 = 1 << 53;

impl StepClock {
    /// The clock of a grid of `dt_ms` (any f64; a `dt` that is not a finite number > 0
    /// gives `k * dt`).
    pub fn new(dt_ms: f64) -> StepClock {
        StepClock {
            dt_ms,
            fraction: decimal_fraction(dt_ms),
        }
    }

    /// The time step (ms).
    pub fn dt_ms(&self) -> f64 {
        self.dt_ms
    }

    /// The time of step `step` (ms): the decimal `step * dt` (see the type's docs).
    #[inline]
    pub fn time_ms(&self, step: u64) -> f64 {
        match self.fraction {
            Some((n, q)) => match step.checked_mul(n) {
                Some(kn) if kn <= EXACT => kn as f64 / q as f64,
                _ => step as f64 * self.dt_ms,
            },
            None => step as f64 * self.dt_ms,
        }
    }
}

/// `dt` as a reduced fraction `n / q` of its shortest decimal (`0.1` -> `(1, 10)`), if it
/// is a finite number > 0 with at most 15 decimals and `n`, `q` below 2^53.
fn decimal_fraction(dt: f64) -> Option<(u64, u64)> {
    if !(dt.is_finite() && dt > 0.0) {
        return None;
    }
    // Display gives the shortest decimal that reads back as `dt`, never an exponent.
    let text = dt.to_string();
    let (whole, decimals) = text.split_once('.').unwrap_or((&text, ""));
    if decimals.len() > 15 {
        return None;
    }
    let n: u64 = format!("{whole}{decimals}").parse().ok()?;
    let q = 10u64.pow(decimals.len() as u32);
    let g = gcd(n, q);
    let (n, q) = (n / g, q / g);
    (n > 0 && n <= EXACT && q <= EXACT).then_some((n, q))
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// Step index of a time on the grid (the nearest step; negative times map to step 0).
pub fn step_of(t_ms: f64, dt_ms: f64) -> u64 {
    (t_ms / dt_ms).round().max(0.0) as u64
}

/// A synaptic delay in whole steps: `delay / dt` rounded, at least one step (a spike
/// cannot act in the step that emits it) and at most `u16::MAX` steps.
pub fn delay_steps(delay_ms: f64, dt_ms: f64) -> u16 {
    ((delay_ms / dt_ms).round().max(1.0)).min(f64::from(u16::MAX)) as u16
}

/// A duration that must be a whole number of steps of `dt_ms`, at least one (the delay of
/// an input, the interval of a noise current), in steps; or what is wrong with it: not
/// finite, shorter than one step, not a whole number of steps (to a relative 1e-9, so
/// that `0.3` at `dt = 0.1` counts as 3 steps), or more than [`MAX_STEPS`] steps. The
/// message is meant to follow a field path (`inputs.cue.delay_ms: ...`).
pub fn checked_whole_steps(t_ms: f64, dt_ms: f64) -> Result<u64, String> {
    if !(dt_ms.is_finite() && dt_ms > 0.0) {
        return Err(format!("dt = {} ms must be a number > 0", short(dt_ms)));
    }
    let x = t_ms / dt_ms;
    let steps = x.round();
    if !x.is_finite() || x < 1.0 - 1e-9 {
        return Err(format!(
            "{} ms must be at least one step (dt = {} ms)",
            short(t_ms),
            short(dt_ms)
        ));
    }
    if (x - steps).abs() > 1e-9 * steps {
        return Err(format!(
            "{} ms is not a whole number of steps of dt = {} ms (give e.g. {} or {} ms)",
            short(t_ms),
            short(dt_ms),
            short(StepClock::new(dt_ms).time_ms(x.floor().max(1.0) as u64)),
            short(StepClock::new(dt_ms).time_ms(x.ceil().max(1.0) as u64)),
        ));
    }
    checked_steps(t_ms, dt_ms)
}

/// The number of steps of `dt_ms` in a duration of `t_ms` (rounded to the nearest step),
/// or what is wrong with it: not finite, negative, or more than [`MAX_STEPS`] steps. The
/// message is meant to follow a field path (`simulation.duration_ms: ...`).
pub fn checked_steps(t_ms: f64, dt_ms: f64) -> Result<u64, String> {
    if !(dt_ms.is_finite() && dt_ms > 0.0) {
        return Err(format!("dt = {} ms must be a number > 0", short(dt_ms)));
    }
    if !t_ms.is_finite() || t_ms < 0.0 {
        return Err(format!("{} must be a number of ms >= 0", short(t_ms)));
    }
    let steps = (t_ms / dt_ms).round();
    if steps > MAX_STEPS as f64 {
        return Err(format!(
            "{} ms is more than the 2^40 = {MAX_STEPS} steps of {} ms allowed",
            short(t_ms),
            short(dt_ms)
        ));
    }
    Ok(steps as u64)
}

/// As [`checked_steps`], for a duration that must last at least one step (a phase, a
/// window, a run): a duration that rounds to zero steps is refused.
pub fn checked_phase_steps(t_ms: f64, dt_ms: f64) -> Result<u64, String> {
    let steps = checked_steps(t_ms, dt_ms)?;
    if steps == 0 {
        return Err(format!(
            "{} ms is less than half a step (dt = {} ms) and gives no step; give at least {} ms",
            short(t_ms),
            short(dt_ms),
            short(dt_ms)
        ));
    }
    Ok(steps)
}

/// The sum of step counts, refused above [`MAX_STEPS`] (`what` names the total in the
/// message, e.g. "the protocol").
pub fn checked_total(parts: impl IntoIterator<Item = u64>, what: &str) -> Result<u64, String> {
    let mut total: u64 = 0;
    for p in parts {
        total = total.saturating_add(p);
    }
    if total > MAX_STEPS {
        return Err(format!(
            "{what} lasts {} steps; at most 2^40 = {MAX_STEPS} steps are allowed",
            short(total as f64)
        ));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_round_to_the_nearest_step() {
        assert_eq!(step_of(0.0, 0.1), 0);
        assert_eq!(step_of(0.3, 0.1), 3);
        assert_eq!(step_of(0.34, 0.1), 3);
        assert_eq!(step_of(0.36, 0.1), 4);
        assert_eq!(step_of(-5.0, 0.1), 0);
    }

    #[test]
    fn step_times_are_the_grid_decimals() {
        let clock = StepClock::new(0.1);
        for k in 0..100_000u64 {
            let t = clock.time_ms(k);
            // The nearest f64 to k / 10: its shortest decimal is k / 10 written out.
            let want = format!("{}.{}", k / 10, k % 10);
            let want = want.strip_suffix(".0").unwrap_or(&want);
            assert_eq!(t.to_string(), want, "step {k}");
        }
        assert_eq!(clock.time_ms(3), 0.3);
        assert_eq!(StepClock::new(0.025).time_ms(7), 0.175);
        assert_eq!(StepClock::new(0.25).time_ms(3), 0.75);
        assert_eq!(StepClock::new(2.0).time_ms(3), 6.0);
        assert_eq!(StepClock::new(0.3).time_ms(3).to_string(), "0.9");
        // 1 / 3 has no short decimal: k * dt.
        let third = 1.0 / 3.0;
        assert_eq!(StepClock::new(third).time_ms(3), 3.0 * third);
        // Beyond 2^53: k * dt.
        let big = 1u64 << 60;
        assert_eq!(clock.time_ms(big), big as f64 * 0.1);
        assert_eq!(StepClock::new(0.1).dt_ms(), 0.1);
        assert_eq!(decimal_fraction(0.1), Some((1, 10)));
        assert_eq!(decimal_fraction(0.025), Some((1, 40)));
        assert_eq!(decimal_fraction(f64::NAN), None);
        assert_eq!(decimal_fraction(0.0), None);
    }

    #[test]
    fn delays_are_at_least_one_step() {
        assert_eq!(delay_steps(0.0, 0.1), 1);
        assert_eq!(delay_steps(0.04, 0.1), 1);
        assert_eq!(delay_steps(1.5, 0.1), 15);
        assert_eq!(delay_steps(1e9, 0.1), u16::MAX);
    }

    #[test]
    fn input_delays_are_whole_steps_of_at_least_one() {
        assert_eq!(checked_whole_steps(0.1, 0.1), Ok(1));
        assert_eq!(checked_whole_steps(0.3, 0.1), Ok(3));
        assert_eq!(checked_whole_steps(1.5, 0.1), Ok(15));
        assert_eq!(checked_whole_steps(0.075, 0.025), Ok(3));
        let e = checked_whole_steps(0.05, 0.1).unwrap_err();
        assert!(e.contains("at least one step"), "{e}");
        assert!(checked_whole_steps(0.0, 0.1).is_err());
        assert!(checked_whole_steps(-0.1, 0.1).is_err());
        assert!(checked_whole_steps(f64::NAN, 0.1).is_err());
        assert!(checked_whole_steps(f64::INFINITY, 0.1).is_err());
        let e = checked_whole_steps(0.25, 0.1).unwrap_err();
        assert_eq!(
            e,
            "0.25 ms is not a whole number of steps of dt = 0.1 ms (give e.g. 0.2 or 0.3 ms)"
        );
        assert!(checked_whole_steps(1e300, 0.1).is_err());
    }

    #[test]
    fn checked_steps_refuse_what_would_wrap() {
        assert_eq!(checked_steps(1000.0, 0.1), Ok(10_000));
        assert_eq!(checked_steps(0.0, 0.1), Ok(0));
        // The largest allowed duration and one step beyond it.
        assert_eq!(checked_steps(MAX_STEPS as f64, 1.0), Ok(MAX_STEPS));
        assert!(checked_steps(MAX_STEPS as f64 + 1.0, 1.0).is_err());
        let e = checked_steps(1e300, 0.1).unwrap_err();
        assert_eq!(
            e,
            "1e300 ms is more than the 2^40 = 1099511627776 steps of 0.1 ms allowed"
        );
        assert!(checked_steps(f64::INFINITY, 0.1).is_err());
        assert!(checked_steps(f64::NAN, 0.1).is_err());
        assert!(checked_steps(-1.0, 0.1).is_err());
        assert!(checked_steps(1.0, 0.0).is_err());
        assert!(checked_steps(1.0, 1e-300).is_err());
    }

    #[test]
    fn a_phase_needs_a_step() {
        assert_eq!(checked_phase_steps(0.05, 0.1), Ok(1));
        let e = checked_phase_steps(0.01, 0.1).unwrap_err();
        assert!(e.contains("gives no step"), "{e}");
        assert!(checked_phase_steps(0.0, 0.1).is_err());
    }

    #[test]
    fn totals_saturate_and_are_refused() {
        assert_eq!(checked_total([1, 2, 3], "x"), Ok(6));
        assert!(checked_total([MAX_STEPS, 1], "the protocol").is_err());
        assert!(checked_total([u64::MAX, u64::MAX], "the protocol").is_err());
    }
}
