//! Reading the state reports of `/report` back (for `engram plot`).

use engram_network::StateVariable;
use hdf5::Group;
use hdf5::types::{VarLenAscii, VarLenUnicode};

use super::{RunReader, format_error, read_f64s};

/// The samples of one population's variable, from `/report/<population>/<variable>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportTrace {
    /// The population.
    pub population: String,
    /// The variable's name (`v`, `i_syn`, ...).
    pub variable: String,
    /// Units of the values (`mV`, `pA`).
    pub units: String,
    /// The neurons (indices within the population), one per column.
    pub node_ids: Vec<u64>,
    /// The time of each row (ms).
    pub time_ms: Vec<f64>,
    /// Row-major `[time_ms.len(), node_ids.len()]`.
    pub data: Vec<f64>,
}

impl ReportTrace {
    /// The values of column `c` (neuron `node_ids[c]`) over time.
    pub fn column(&self, c: usize) -> impl Iterator<Item = f64> + '_ {
        let n = self.node_ids.len();
        self.data.iter().skip(c).step_by(n.max(1)).copied()
    }
}

pub(super) fn text_attr(loc: &hdf5::Location, name: &str) -> Option<String> {
    let a = loc.attr(name).ok()?;
    if let Ok(s) = a.read_scalar::<VarLenUnicode>() {
        return Some(s.as_str().to_owned());
    }
    a.read_scalar::<VarLenAscii>()
        .ok()
        .map(|s| s.as_str().to_owned())
}

/// The sort key of a variable's name: engram's order, then others by name.
fn variable_rank(name: &str) -> (usize, String) {
    let k = StateVariable::ALL
        .iter()
        .position(|v| v.name() == name)
        .unwrap_or(StateVariable::ALL.len());
    (k, name.to_string())
}

impl RunReader {
    /// Every report under `/report`, in the order of the config's `[[output.reports]]`
    /// (attribute `report_index`); without it, population by population (in the
    /// config's order), variable by variable. Empty without `/report`.
    pub fn reports(&self) -> crate::Result<Vec<ReportTrace>> {
        if !self.file.link_exists("report") {
            return Ok(Vec::new());
        }
        let root = self
            .file
            .group("report")
            .map_err(|_| format_error("/report is not a group"))?;
        let mut pops: Vec<(u64, String, Group)> = Vec::new();
        for name in root
            .member_names()
            .map_err(|e| format_error(e.to_string()))?
        {
            let g = root
                .group(&name)
                .map_err(|_| format_error(format!("/report/{name} is not a group")))?;
            let index = g
                .attr("population_index")
                .and_then(|a| a.read_scalar::<u64>())
                .unwrap_or(u64::MAX);
            pops.push((index, name, g));
        }
        pops.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        let mut out: Vec<(u64, ReportTrace)> = Vec::new();
        for (_, population, g) in pops {
            let mut vars = g.member_names().map_err(|e| format_error(e.to_string()))?;
            vars.sort_by_key(|v| variable_rank(v));
            for variable in vars {
                let what = format!("/report/{population}/{variable}");
                let vg = g
                    .group(&variable)
                    .map_err(|_| format_error(format!("{what} is not a group")))?;
                let index = vg
                    .attr("report_index")
                    .and_then(|a| a.read_scalar::<u64>())
                    .unwrap_or(u64::MAX);
                out.push((index, read_one(&vg, population.clone(), variable, &what)?));
            }
        }
        // Stable: reports without an index keep the population and variable order.
        out.sort_by_key(|(index, _)| *index);
        Ok(out.into_iter().map(|(_, r)| r).collect())
    }
}

fn read_one(
    g: &Group,
    population: String,
    variable: String,
    what: &str,
) -> crate::Result<ReportTrace> {
    let mapping = g
        .group("mapping")
        .map_err(|_| format_error(format!("{what}: no mapping group")))?;
    let ids = mapping
        .dataset("node_ids")
        .map_err(|_| format_error(format!("{what}/mapping: no dataset node_ids")))?;
    let node_ids = ids
        .read_raw::<u64>()
        .map_err(|e| format_error(format!("{what}/mapping/node_ids: {e}")))?;
    let time = read_f64s(&mapping, "time", &format!("{what}/mapping"))?;
    let [start, stop, step] = time[..] else {
        return Err(format_error(format!(
            "{what}/mapping/time: expected [start, stop, step], found {} values",
            time.len()
        )));
    };
    let ds = g
        .dataset("data")
        .map_err(|_| format_error(format!("{what}: no dataset data")))?;
    let shape = ds.shape();
    let rows = match shape[..] {
        [rows, cols] if cols == node_ids.len() => rows,
        _ => {
            return Err(format_error(format!(
                "{what}/data: expected shape [times, {}], found {shape:?}",
                node_ids.len()
            )));
        }
    };
    let bad_step = !step.is_finite() || step <= 0.0;
    if bad_step || ((stop - start) / step - rows as f64).abs() > 1e-6 {
        return Err(format_error(format!(
            "{what}/mapping/time: [{start}, {stop}, {step}] does not give the {rows} rows of data"
        )));
    }
    let data = ds
        .read_raw::<f64>()
        .map_err(|e| format_error(format!("{what}/data: cannot read as f64 ({e})")))?;
    let units = text_attr(&ds, "units").unwrap_or_default();
    Ok(ReportTrace {
        population,
        variable,
        units,
        node_ids,
        time_ms: (0..rows).map(|j| start + j as f64 * step).collect(),
        data,
    })
}
