//! State reports as SONATA reports: one group per population and variable,
//! `/report/<population>/<variable>`, laid out as libsonata's `SomaReportReader` reads
//! them (open it as population `"<population>/<variable>"`).

use engram_core::time::StepClock;
use engram_network::ReportData;
use hdf5::Group;

use super::{RunWriter, scalar_attr, str_attr};
use crate::storage::{self, Compression};

/// A report to write: its samples and where they belong.
#[derive(Debug, Clone, Copy)]
pub struct ReportOut<'a> {
    /// The population's name.
    pub population: &'a str,
    /// Its index in the config.
    pub population_index: usize,
    /// The samples, as the simulation took them.
    pub report: &'a ReportData,
    /// The times of the steps.
    pub clock: StepClock,
}

impl RunWriter {
    /// Writes state reports under `/report/<population>/<variable>`:
    ///
    /// - `data`: f32 (as SONATA requires), `[times, neurons]`, attribute `units` (`mV` or
    ///   `pA`);
    /// - `mapping/node_ids`: u64, the neurons (indices within the population, ascending);
    /// - `mapping/index_pointers`: u64, `0..=neurons` (one element per neuron);
    /// - `mapping/element_ids`: u32, zeros (the soma);
    /// - `mapping/time`: f64 `[start, stop, step]` in ms, attribute `units = "ms"`: row `j`
    ///   is the state at `start + j step`, and `stop = start + rows step` (exclusive).
    ///
    /// A report with no sample yet gets `time = [0, 0, step]` and no rows.
    pub fn write_reports(&mut self, reports: &[ReportOut<'_>]) -> crate::Result<()> {
        let file = self.file.as_ref().expect("not finished");
        if reports.is_empty() {
            return Ok(());
        }
        let root = file.create_group("report")?;
        for (index, r) in reports.iter().enumerate() {
            let pop = match root.group(r.population) {
                Ok(g) => g,
                Err(_) => {
                    let g = root.create_group(r.population)?;
                    scalar_attr(&g, "population_index", r.population_index as u64)?;
                    g
                }
            };
            let g = pop.create_group(r.report.spec.variable.name())?;
            // HDF5 lists groups by name; readers restore the config's order from this.
            scalar_attr(&g, "report_index", index as u64)?;
            write_one(&g, r, storage::SONATA)?;
        }
        Ok(())
    }
}

fn write_one(g: &Group, r: &ReportOut<'_>, c: Compression) -> hdf5::Result<()> {
    let spec = &r.report.spec;
    let variable = spec.variable;
    str_attr(g, "variable", variable.name())?;
    str_attr(g, "description", variable.description())?;
    let n = spec.neurons.len();
    let rows = r.report.rows();
    // Decimal step times, as the spikes' (see `StepClock`).
    let step_ms = r.clock.time_ms(spec.interval_steps);
    let first = r.report.first_end_step.unwrap_or(0);
    let start_ms = r.clock.time_ms(first);
    let stop_ms = r.clock.time_ms(first + rows as u64 * spec.interval_steps);
    let m = g.create_group("mapping")?;
    let ids: Vec<u64> = spec.neurons.iter().map(|&i| u64::from(i)).collect();
    storage::fitted_1d(&m, n, 8, c)
        .with_data(&ids)
        .create("node_ids")?;
    let pointers: Vec<u64> = (0..=n as u64).collect();
    storage::fitted_1d(&m, n + 1, 8, c)
        .with_data(&pointers)
        .create("index_pointers")?;
    storage::fitted_1d(&m, n, 4, c)
        .with_data(&vec![0u32; n])
        .create("element_ids")?;
    let time = m
        .new_dataset_builder()
        .with_data(&[start_ms, stop_ms, step_ms])
        .create("time")?;
    str_attr(&time, "units", "ms")?;
    // SONATA reports store f32 (libsonata refuses anything else): about 7 digits, 1e-5 mV
    // at -70 mV. The simulation's own samples are f64.
    let data = storage::fitted_2d(g, rows, n, 4, c)
        .empty::<f32>()
        .shape((rows, n))
        .create("data")?;
    if rows > 0 && n > 0 {
        let values: Vec<f32> = r.report.data.iter().map(|&x| x as f32).collect();
        data.write_raw(&values)?;
    }
    str_attr(&data, "units", variable.units())?;
    Ok(())
}
