//! The spikes of one population of a SONATA spike file, as plain arrays: what an input of
//! spike trains per node (`kind = "spike_file"`) is built from.

use std::path::Path;

use hdf5::types::{VarLenAscii, VarLenUnicode};

use super::{READ_CHUNK, RunReader, format_error};

/// The spikes of one population of a SONATA spike file, in the file's order.
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationSpikes {
    /// The population read: the group `/spikes/<population>`.
    pub population: String,
    /// The node id of each spike.
    pub node_ids: Vec<u64>,
    /// The time of each spike (ms).
    pub times_ms: Vec<f64>,
}

/// Reads every spike of population `population` of the SONATA spike file `path` (HDF5
/// `/spikes/<population>/timestamps` and `node_ids`, as engram writes them), or of the
/// file's only population when `population` is `None`. Times are in ms, or in seconds
/// where `timestamps` says `units = "s"` (converted to ms).
///
/// Every error is an [`crate::Error::Format`] whose message names the file and what is
/// wrong: no such file, not HDF5, no `/spikes` group, no population of that name (the
/// message lists the file's populations), no population given and several in the file,
/// `timestamps` or `node_ids` missing, not 1-D or of different lengths, node ids that
/// cannot be read as unsigned integers, a time that is not finite, units other than ms
/// or s, and the checks of [`crate::SpikeData::for_each`] (ids below `n_nodes`, the
/// order of `sorting = by_time`).
pub fn read_population_spikes(
    path: &Path,
    population: Option<&str>,
) -> crate::Result<PopulationSpikes> {
    let reader = RunReader::open(path)?;
    let names = reader.population_names()?;
    let listed = || {
        if names.is_empty() {
            "it has none".to_string()
        } else {
            format!("it has {}", names.join(", "))
        }
    };
    let name = match population {
        Some(p) if names.iter().any(|n| n == p) => p.to_string(),
        Some(p) => {
            return Err(format_error(format!(
                "{}: no population /spikes/{p} ({})",
                path.display(),
                listed()
            )));
        }
        None if names.len() == 1 => names[0].clone(),
        None => {
            return Err(format_error(format!(
                "{}: {} populations under /spikes; name the one to read ({})",
                path.display(),
                names.len(),
                listed()
            )));
        }
    };
    let group = reader.population(&name)?;
    let data = group.spikes()?;
    let scale = time_scale(&data.ts, &data.what)?;
    let mut out = PopulationSpikes {
        population: name,
        node_ids: Vec::with_capacity(data.len()),
        times_ms: Vec::with_capacity(data.len()),
    };
    data.for_each(READ_CHUNK, |t, ids| {
        out.times_ms.extend(t.iter().map(|&t| t * scale));
        out.node_ids.extend_from_slice(ids);
    })?;
    Ok(out)
}

/// The factor from the unit of `timestamps` to ms: its attribute `units` is `ms` (or
/// absent: SONATA's default) or `s`.
fn time_scale(ts: &hdf5::Dataset, what: &str) -> crate::Result<f64> {
    let Ok(a) = ts.attr("units") else {
        return Ok(1.0);
    };
    let units = a
        .read_scalar::<VarLenUnicode>()
        .map(|s| s.as_str().to_string())
        .or_else(|_| {
            a.read_scalar::<VarLenAscii>()
                .map(|s| s.as_str().to_string())
        })
        .map_err(|e| format_error(format!("{what}/timestamps: cannot read units ({e})")))?;
    match units.as_str() {
        "ms" => Ok(1.0),
        "s" => Ok(1000.0),
        other => Err(format_error(format!(
            "{what}/timestamps: units = {other:?}; spike times must be in \"ms\" or \"s\""
        ))),
    }
}
