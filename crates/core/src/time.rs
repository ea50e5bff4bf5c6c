//! The time grid: every time in a run is a whole number of steps of `dt`.

/// Step index of a time on the grid (the nearest step; negative times map to step 0).
pub fn step_of(t_ms: f64, dt_ms: f64) -> u64 {
    (t_ms / dt_ms).round().max(0.0) as u64
}

/// A synaptic delay in whole steps: `delay / dt` rounded, at least one step (a spike
/// cannot act in the step that emits it) and at most `u16::MAX` steps.
pub fn delay_steps(delay_ms: f64, dt_ms: f64) -> u16 {
    ((delay_ms / dt_ms).round().max(1.0)).min(f64::from(u16::MAX)) as u16
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
    fn delays_are_at_least_one_step() {
        assert_eq!(delay_steps(0.0, 0.1), 1);
        assert_eq!(delay_steps(0.04, 0.1), 1);
        assert_eq!(delay_steps(1.5, 0.1), 15);
        assert_eq!(delay_steps(1e9, 0.1), u16::MAX);
    }
}
