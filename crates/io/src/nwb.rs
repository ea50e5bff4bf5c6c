//! Export of a run's file to NWB 2 (Neurodata Without Borders), written directly with
//! HDF5 from the NWB schema: `engram export OUT.h5 --nwb OUT.nwb` and the Python
//! package's `Result.to_nwb` call [`export_nwb`].
//!
//! The NWB file holds:
//!
//! ```text
//! /                         attrs nwb_version, namespace = core, neurodata_type = NWBFile,
//!                           object_id; datasets file_create_date, identifier,
//!                           session_description, session_start_time (the time the run's
//!                           file was written), timestamps_reference_time (= the start)
//! /acquisition, /analysis, /processing, /stimulus/{presentation, templates}   empty
//! /general/source_script    the run's config text (attr file_name = the config's path)
//! /general/experiment_description, /general/keywords   say that this is a simulation
//! /general/notes            the run's provenance (/engram attributes), one `name = value`
//!                           line each
//! /units                    Units table (a DynamicTable), one row per neuron of every
//!                           recorded population, in the config's order, neurons by id:
//!   id                      row index (ElementIdentifiers)
//!   spike_times             f64, seconds, per unit in time order (attr resolution = dt in
//!                           seconds); spike_times_index: end of each unit's spikes
//!   obs_intervals           f64 [units, 2]: [0, duration] in seconds for every unit;
//!                           obs_intervals_index
//!   population              the population's name
//!   node_id                 the neuron's index in its population (the SONATA node id)
//! ```
//!
//! A `VectorIndex` points to its column with an HDF5 object reference (attribute
//! `target`), as hdmf writes it. Every typed object carries `neurodata_type`, `namespace`
//! and a random UUID4 `object_id`. No cached specification is written: pynwb reads and
//! validates the file against the core namespace it ships. Spikes are grouped by unit with
//! one counting pass (no scan of all spikes per neuron). The file is written under a
//! temporary name and renamed when complete, as a run's file is.

use std::path::{Path, PathBuf};

use hdf5::types::VarLenUnicode;
use hdf5::{File, Group, H5Type, Location, ObjectReference1};

use crate::output::{OutputError, OutputPath, OutputProblem, Publish, TemporaryFile};
use crate::writer::str_attr;
use crate::{AttrValue, Error, RunReader, unicode, write_strings};

/// The NWB version the files follow.
pub const NWB_VERSION: &str = "2.8.0";

/// The units of one recorded population, read from a run's file.
struct Population {
    name: String,
    n: u64,
    times_ms: Vec<f64>,
    ids: Vec<u64>,
}

/// The Units table's columns, built from the populations.
#[derive(Debug, Default, PartialEq)]
struct UnitColumns {
    /// Spike times (s), unit by unit.
    spike_times: Vec<f64>,
    /// End of each unit's spikes in `spike_times`.
    spike_times_index: Vec<u64>,
    /// Population of each unit.
    population: Vec<String>,
    /// Index of each unit in its population.
    node_id: Vec<u64>,
}

/// Groups the spikes of `pops` by unit: units are the neurons of the populations in
/// order; a unit's spikes keep their order in the file (time order). One counting pass
/// over the spikes, one placing pass.
fn unit_columns(pops: &[Population]) -> UnitColumns {
    let n_units: usize = pops.iter().map(|p| p.n as usize).sum();
    let mut cols = UnitColumns {
        spike_times: vec![0.0; pops.iter().map(|p| p.times_ms.len()).sum()],
        spike_times_index: Vec::with_capacity(n_units),
        population: Vec::with_capacity(n_units),
        node_id: Vec::with_capacity(n_units),
    };
    let mut offset = 0usize;
    for p in pops {
        let mut count = vec![0u64; p.n as usize];
        for &id in &p.ids {
            count[id as usize] += 1;
        }
        // `next[i]`: where unit i's next spike goes.
        let mut next = Vec::with_capacity(count.len());
        let mut end = offset as u64;
        for (i, c) in count.iter().enumerate() {
            next.push(end);
            end += c;
            cols.spike_times_index.push(end);
            cols.population.push(p.name.clone());
            cols.node_id.push(i as u64);
        }
        for (&t, &id) in p.times_ms.iter().zip(&p.ids) {
            let slot = &mut next[id as usize];
            cols.spike_times[*slot as usize] = t / 1000.0;
            *slot += 1;
        }
        offset = end as usize;
    }
    cols
}

/// 128 random bits as a UUID4 string (from the standard library's randomly keyed
/// hasher: unique enough for object ids, no extra dependency).
fn uuid4() -> String {
    use std::hash::{BuildHasher, Hasher};
    let word = |salt: u64| {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(salt);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        h.finish()
    };
    let (a, b) = (word(1), word(2));
    let b = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000; // variant 10
    let a = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000; // version 4
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// `time` as an ISO 8601 UTC date and time with milliseconds (`2026-12-02T08:40:04.123Z`).
fn iso8601(time: std::time::SystemTime) -> String {
    let since = time
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Marks `loc` as an object of type `neurodata_type` from `namespace`.
fn typed(loc: &Location, neurodata_type: &str, namespace: &str) -> hdf5::Result<()> {
    str_attr(loc, "namespace", namespace)?;
    str_attr(loc, "neurodata_type", neurodata_type)?;
    str_attr(loc, "object_id", &uuid4())
}

fn text_dataset(g: &Group, name: &str, value: &str) -> hdf5::Result<hdf5::Dataset> {
    let ds = g.new_dataset::<VarLenUnicode>().create(name)?;
    ds.write_scalar(&unicode(value)?)?;
    Ok(ds)
}

/// A `VectorData` column of the table `g` with `values`.
fn column<T: H5Type>(g: &Group, name: &str, description: &str, values: &[T]) -> hdf5::Result<()> {
    let ds = g.new_dataset_builder().with_data(values).create(name)?;
    str_attr(&ds, "description", description)?;
    typed(&ds, "VectorData", "hdmf-common")
}

/// The `VectorIndex` `<name>_index` of column `name` of the table `g`.
fn index(g: &Group, name: &str, ends: &[u64]) -> hdf5::Result<()> {
    let ds = g
        .new_dataset_builder()
        .with_data(ends)
        .create(format!("{name}_index").as_str())?;
    str_attr(
        &ds,
        "description",
        &format!("Index for VectorData '{name}'"),
    )?;
    typed(&ds, "VectorIndex", "hdmf-common")?;
    let target: ObjectReference1 = g.reference(name)?;
    ds.new_attr::<ObjectReference1>()
        .create("target")?
        .write_scalar(&target)
}

/// Reads the recorded populations of a run's file.
fn populations(reader: &RunReader) -> crate::Result<Vec<Population>> {
    let mut pops = Vec::new();
    for name in reader.population_names()? {
        let data = reader.population(&name)?.spikes()?;
        let (times_ms, ids) = data.read_all()?;
        let n = match data.n_nodes() {
            Some(n) => n,
            None => ids.iter().max().map_or(0, |m| m + 1),
        };
        pops.push(Population {
            name,
            n,
            times_ms,
            ids,
        });
    }
    Ok(pops)
}

/// Writes the NWB file of the run's file `input` to `output` (see the module docs);
/// returns `output`. `publish` says whether an existing `output` may be replaced. Nothing
/// appears at `output` unless the whole file was written.
pub fn export_nwb(input: &Path, output: &Path, publish: Publish) -> crate::Result<PathBuf> {
    let reader = RunReader::open(input)?;
    let out = OutputPath::check(output)?;
    if out.exists && publish == Publish::Exclusive {
        return Err(OutputError {
            path: output.to_path_buf(),
            problem: OutputProblem::Exists,
        }
        .into());
    }
    let pops = populations(&reader)?;
    let prov = reader.provenance_attrs()?;
    let number = |key: &str| {
        prov.iter().find_map(|(k, v)| match v {
            AttrValue::Number(x) if k == key => Some(*x),
            _ => None,
        })
    };
    let text = |key: &str| {
        prov.iter().find_map(|(k, v)| match v {
            AttrValue::Text(x) if k == key => Some(x.clone()),
            _ => None,
        })
    };
    let last_spike_ms = pops
        .iter()
        .flat_map(|p| p.times_ms.last())
        .fold(0.0f64, |a, &b| a.max(b));
    let duration_ms = reader.duration_ms().unwrap_or(last_spike_ms);
    let dt_ms = number("dt_ms");
    let written = std::fs::metadata(input)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| std::time::SystemTime::now());
    let cols = unit_columns(&pops);

    let temporary = TemporaryFile::new(crate::output::temporary_path(&out.target));
    let file = File::create(temporary.path())?;
    write_file(
        &file,
        &NwbContent {
            cols: &cols,
            duration_ms,
            dt_ms,
            start: iso8601(written),
            description: format!(
                "engram simulation of {} ({} ms)",
                text("config_path").unwrap_or_else(|| input.display().to_string()),
                duration_ms
            ),
            config: reader.config_text(),
            config_path: text("config_path"),
            provenance: &prov,
        },
    )?;
    file.close()?;
    temporary.publish(&out.target, publish)?;
    Ok(out.given)
}

/// What goes into the NWB file besides its fixed layout.
struct NwbContent<'a> {
    cols: &'a UnitColumns,
    duration_ms: f64,
    dt_ms: Option<f64>,
    start: String,
    description: String,
    config: Option<String>,
    config_path: Option<String>,
    provenance: &'a [(String, AttrValue)],
}

fn write_file(file: &File, c: &NwbContent<'_>) -> Result<(), Error> {
    str_attr(file, "nwb_version", NWB_VERSION)?;
    typed(file, "NWBFile", "core")?;
    let created = [unicode(&iso8601(std::time::SystemTime::now()))?];
    file.new_dataset::<VarLenUnicode>()
        .shape(1..)
        .chunk(1)
        .create("file_create_date")?
        .write_raw(&created)?;
    text_dataset(file, "identifier", &uuid4())?;
    text_dataset(file, "session_description", &c.description)?;
    text_dataset(file, "session_start_time", &c.start)?;
    text_dataset(file, "timestamps_reference_time", &c.start)?;
    for g in ["acquisition", "analysis", "processing"] {
        file.create_group(g)?;
    }
    let stimulus = file.create_group("stimulus")?;
    stimulus.create_group("presentation")?;
    stimulus.create_group("templates")?;

    let general = file.create_group("general")?;
    if let Some(config) = &c.config {
        let ds = text_dataset(&general, "source_script", config)?;
        str_attr(
            &ds,
            "file_name",
            c.config_path.as_deref().unwrap_or("config.toml"),
        )?;
    }
    text_dataset(
        &general,
        "experiment_description",
        "A simulation of a spiking neural network with engram (no animal, no recording): \
         the units are the simulated neurons.",
    )?;
    write_strings(
        &general,
        "keywords",
        &["simulation".into(), "spiking neural network".into()],
    )?;
    let notes: Vec<String> = c
        .provenance
        .iter()
        .map(|(k, v)| format!("{k} = {v}"))
        .collect();
    text_dataset(
        &general,
        "notes",
        &format!(
            "Simulated with engram; provenance of the run (the /engram attributes of its \
             file):\n{}",
            notes.join("\n")
        ),
    )?;

    let units = file.create_group("units")?;
    typed(&units, "Units", "core")?;
    str_attr(
        &units,
        "description",
        "the neurons of the recorded populations of an engram simulation, population by \
         population in the config's order, neurons by node id",
    )?;
    let colnames = ["spike_times", "obs_intervals", "population", "node_id"]
        .map(|s| unicode(s).expect("ASCII"));
    units
        .new_attr::<VarLenUnicode>()
        .shape(colnames.len())
        .create("colnames")?
        .write_raw(&colnames)?;
    let n_units = c.cols.node_id.len();
    let ids: Vec<i64> = (0..n_units as i64).collect();
    let id = units.new_dataset_builder().with_data(&ids).create("id")?;
    typed(&id, "ElementIdentifiers", "hdmf-common")?;

    column(
        &units,
        "spike_times",
        "the spike times for each unit in seconds",
        &c.cols.spike_times,
    )?;
    if let Some(dt) = c.dt_ms {
        let st = units.dataset("spike_times")?;
        st.new_attr::<f64>()
            .create("resolution")?
            .write_scalar(&(dt / 1000.0))?;
    }
    index(&units, "spike_times", &c.cols.spike_times_index)?;

    let duration_s = c.duration_ms / 1000.0;
    let intervals: Vec<f64> = (0..n_units).flat_map(|_| [0.0, duration_s]).collect();
    let obs = units
        .new_dataset::<f64>()
        .shape((n_units, 2))
        .create("obs_intervals")?;
    obs.write_raw(&intervals)?;
    str_attr(
        &obs,
        "description",
        "the observation intervals for each unit: the whole simulation, in seconds",
    )?;
    typed(&obs, "VectorData", "hdmf-common")?;
    let ends: Vec<u64> = (1..=n_units as u64).collect();
    index(&units, "obs_intervals", &ends)?;

    write_strings(&units, "population", &c.cols.population)?;
    let pop = units.dataset("population")?;
    str_attr(&pop, "description", "the population of each unit")?;
    typed(&pop, "VectorData", "hdmf-common")?;
    column(
        &units,
        "node_id",
        "the index of each unit in its population (the SONATA node id)",
        &c.cols.node_id,
    )?;
    file.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spikes_are_grouped_by_unit_in_time_order() {
        let pops = vec![
            Population {
                name: "E".into(),
                n: 3,
                times_ms: vec![1.0, 1.0, 2.0, 3.0],
                ids: vec![0, 2, 0, 2],
            },
            Population {
                name: "I".into(),
                n: 2,
                times_ms: vec![0.5],
                ids: vec![1],
            },
        ];
        let c = unit_columns(&pops);
        assert_eq!(c.spike_times, [0.001, 0.002, 0.001, 0.003, 0.0005]);
        assert_eq!(c.spike_times_index, [2, 2, 4, 4, 5]);
        assert_eq!(c.population, ["E", "E", "E", "I", "I"]);
        assert_eq!(c.node_id, [0, 1, 2, 0, 1]);
    }

    #[test]
    fn dates_are_iso8601_utc() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_000_000_000_123);
        assert_eq!(iso8601(t), "2001-09-09T01:46:40.123Z");
        assert_eq!(iso8601(std::time::UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        let leap = std::time::UNIX_EPOCH + std::time::Duration::from_secs(951_782_400);
        assert_eq!(iso8601(leap), "2000-02-29T00:00:00.000Z");
    }

    #[test]
    fn object_ids_are_distinct_uuid4s() {
        let (a, b) = (uuid4(), uuid4());
        assert_ne!(a, b);
        for u in [&a, &b] {
            assert_eq!(u.len(), 36, "{u}");
            assert_eq!(&u[14..15], "4", "{u}");
            assert!("89ab".contains(&u[19..20]), "{u}");
        }
    }
}
