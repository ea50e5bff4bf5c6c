//! Where spikes go: the [`SpikeSink`] trait and two simple sinks.

/// Receives the spikes of every step, in global neuron ids, ascending.
pub trait SpikeSink {
    /// What can go wrong while recording (I/O).
    type Error;
    /// The spikes emitted in step `step`, at time `time_ms`: the end of the step, the
    /// decimal time `(step + 1) dt` ([`crate::time::StepClock`]). Step `k` covers
    /// `(k dt, (k + 1) dt]`, so a run of `T` ms has its spikes in `(0, T]`: a spike of the
    /// last step is at `T` itself.
    fn record(&mut self, step: u64, time_ms: f64, spikes: &[u32]) -> Result<(), Self::Error>;
}

/// A sink that drops every spike (counts are still kept by the simulation).
#[derive(Debug, Default, Clone, Copy)]
pub struct NullSink;

impl SpikeSink for NullSink {
    type Error = std::convert::Infallible;
    fn record(&mut self, _: u64, _: f64, _: &[u32]) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// A sink that keeps every spike as `(step, global id)`; for tests and small runs.
#[derive(Debug, Default, Clone)]
pub struct VecSink {
    /// Recorded spikes, in order.
    pub spikes: Vec<(u64, u32)>,
}

impl SpikeSink for VecSink {
    type Error = std::convert::Infallible;
    fn record(&mut self, step: u64, _: f64, spikes: &[u32]) -> Result<(), Self::Error> {
        self.spikes.extend(spikes.iter().map(|&g| (step, g)));
        Ok(())
    }
}
