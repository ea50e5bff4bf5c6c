//! Spike trains from files: `[inputs.NAME] kind = "spike_file"` reads the spikes of many
//! nodes from a SONATA spike file (HDF5 `/spikes/<population>/{timestamps, node_ids}`, as
//! engram writes its runs) or from a CSV of `node_id,time_ms` rows, and sends each node's
//! spikes to a neuron of the target population (by default the neuron with the node's
//! index; `map` gives `[node_id, neuron]` pairs instead), as bmtk's virtual nodes do.
//!
//! This crate reads CSV itself; HDF5 is read by engram-io (the only crate that links the
//! HDF5 library) through a [`SpikeFileReader`] that the front end passes in
//! [`crate::LoadOptions::spike_reader`]. Either way the network gets plain arrays. A file
//! is stored in the config text by its absolute path and hashed into the provenance
//! (SHA-256 of the bytes read).

use std::path::{Path, PathBuf};

use engram_core::FieldError;
use engram_core::memory::{MemoryEstimate, MemoryLimit};
use engram_network::SpikeTrains;
use indexmap::IndexMap;

use crate::{ConfigFile, InputConfig};

/// The spikes of a file: a node id and a time (ms) per spike, in the file's order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpikeTable {
    /// The node id of each spike.
    pub node_ids: Vec<u64>,
    /// The time of each spike (ms).
    pub times_ms: Vec<f64>,
}

/// Reads the spikes of population `population` (or of the file's only one, for `None`)
/// of a SONATA spike file; the message of an error names the file and what is wrong.
/// engram-io provides it (the runner passes it in [`crate::LoadOptions`]).
pub type SpikeFileReader = fn(&Path, Option<&str>) -> Result<SpikeTable, String>;

/// The first bytes of an HDF5 file (at offset 0, or at 512, 1024, 2048, ... after a user
/// block).
const HDF5_SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

/// Whether `bytes` are an HDF5 file (its signature at offset 0, 512, 1024, ...).
pub fn is_hdf5(bytes: &[u8]) -> bool {
    let mut at = 0usize;
    while at + HDF5_SIGNATURE.len() <= bytes.len() {
        if &bytes[at..at + HDF5_SIGNATURE.len()] == HDF5_SIGNATURE {
            return true;
        }
        at = if at == 0 { 512 } else { at * 2 };
    }
    false
}

/// Parses a CSV of spikes: one `node_id,time_ms` row per spike (a node id is an unsigned
/// integer, a time a finite number of ms); blank lines and lines starting with `#` are
/// skipped, and the first row may be the header `node_id,time_ms`. Errors name the file
/// and the line.
pub fn parse_csv(path: &Path, bytes: &[u8]) -> Result<SpikeTable, String> {
    let text = std::str::from_utf8(bytes)
        .map_err(|e| format!("{}: not a UTF-8 text file ({e})", path.display()))?;
    let mut table = SpikeTable::default();
    let mut first = true;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = |m: String| format!("{}:{}: {m}", path.display(), i + 1);
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        if std::mem::take(&mut first) && fields == ["node_id", "time_ms"] {
            continue;
        }
        let [id, t] = fields[..] else {
            return Err(at(format!(
                "{line:?} has {} columns; expected node_id,time_ms",
                fields.len()
            )));
        };
        let id: u64 = id
            .parse()
            .map_err(|_| at(format!("node id {id:?} is not an unsigned integer")))?;
        let t: f64 = t
            .parse()
            .ok()
            .filter(|t: &f64| t.is_finite())
            .ok_or_else(|| at(format!("time {t:?} is not a finite number of ms")))?;
        table.node_ids.push(id);
        table.times_ms.push(t);
    }
    Ok(table)
}

/// A spike file an input read.
#[derive(Debug, Clone)]
pub(crate) struct SpikeFile {
    /// The path as the config gives it.
    pub raw: PathBuf,
    /// Its absolute path, as read.
    pub path: PathBuf,
    /// SHA-256 (hex) of its bytes.
    pub sha256: String,
    /// Its spikes.
    pub table: SpikeTable,
}

/// Reads the file of every `spike_file` input of `config`, by input name. A relative path
/// is relative to the folder of `config_file`, unless `by_cli(input name)` says that the
/// command line set it (then to the working directory). Errors are about
/// `inputs.NAME.path` (or `inputs.NAME.population`); a file too large for `memory` is a
/// memory error.
pub(crate) fn read_all(
    config: &ConfigFile,
    config_file: &Path,
    by_cli: impl Fn(&str) -> bool,
    reader: Option<SpikeFileReader>,
    memory: Option<&MemoryLimit>,
) -> Result<IndexMap<String, SpikeFile>, FieldError> {
    let mut out = IndexMap::new();
    for (name, input) in &config.inputs {
        let InputConfig::SpikeFile {
            path: raw,
            population,
            ..
        } = input
        else {
            continue;
        };
        let field = format!("inputs.{name}.path");
        let path = if raw.is_absolute() || by_cli(name) {
            raw.clone()
        } else {
            config_file.parent().unwrap_or(Path::new("")).join(raw)
        };
        let path = path
            .canonicalize()
            .or_else(|_| std::path::absolute(&path))
            .unwrap_or(path);
        let meta = std::fs::metadata(&path)
            .map_err(|e| FieldError::new(&field, format!("{}: {e}", path.display())))?;
        if !meta.is_file() {
            return Err(FieldError::new(
                &field,
                format!("{} is not a file", path.display()),
            ));
        }
        // The bytes are held while they are hashed and parsed (a CSV spike takes 16 bytes
        // parsed, and at least 4 as text).
        let mut need = MemoryEstimate::new();
        need.add("spike file", meta.len() as f64 * 5.0);
        need.check(memory)
            .map_err(|e| FieldError::memory(&field, format!("{}: {e}", path.display())))?;
        let bytes = std::fs::read(&path)
            .map_err(|e| FieldError::new(&field, format!("{}: {e}", path.display())))?;
        let sha256 = crate::sha256_hex(&bytes);
        let table = if is_hdf5(&bytes) {
            drop(bytes);
            let read = reader.ok_or_else(|| {
                FieldError::new(
                    &field,
                    format!(
                        "{} is an HDF5 file, and this program was built without a reader of \
                         SONATA spike files; give a CSV of node_id,time_ms",
                        path.display()
                    ),
                )
            })?;
            read(&path, population.as_deref()).map_err(|m| FieldError::new(&field, m))?
        } else {
            if population.is_some() {
                return Err(FieldError::new(
                    format!("inputs.{name}.population"),
                    format!(
                        "{} is a CSV file, which has no populations; remove population \
                         (it names a group /spikes/<population> of a SONATA file)",
                        path.display()
                    ),
                ));
            }
            parse_csv(&path, &bytes).map_err(|m| FieldError::new(&field, m))?
        };
        out.insert(
            name.clone(),
            SpikeFile {
                raw: raw.clone(),
                path,
                sha256,
                table,
            },
        );
    }
    Ok(out)
}

/// The target neurons (sorted) and their trains of the spikes of `file`, for the input
/// `name` into a population of `n` neurons: node `i`'s spikes go to neuron `i`, or with a
/// `map` of `[node_id, neuron]` pairs, to every neuron paired with the node (the spikes of
/// nodes not in the map are not used). Errors: a node id that is no neuron (without a
/// map), a spike time below 0 (about `inputs.NAME.path`, naming the file and the spike);
/// a pair whose neuron is not in the population, or a pair given twice (about
/// `inputs.NAME.map`).
pub(crate) fn trains_of(
    name: &str,
    file: &SpikeFile,
    n: u32,
    pop: &str,
    map: Option<&[[u64; 2]]>,
) -> Result<(Vec<u32>, SpikeTrains), (String, String)> {
    let at_path = |m: String| {
        (
            format!("inputs.{name}.path"),
            format!("{}: {m}", file.path.display()),
        )
    };
    let t = &file.table;
    if let Some(k) = t.times_ms.iter().position(|&x| !x.is_finite() || x < 0.0) {
        return Err(at_path(format!(
            "spike {k} (node {}) is at {} ms; spike times must be >= 0",
            t.node_ids[k], t.times_ms[k]
        )));
    }
    let mut events: Vec<(u32, f64)> = Vec::with_capacity(t.times_ms.len());
    match map {
        None => {
            for (k, (&id, &time)) in t.node_ids.iter().zip(&t.times_ms).enumerate() {
                if id >= u64::from(n) {
                    return Err(at_path(format!(
                        "node id {id} (spike {k}) is not a neuron of population {pop} \
                         ({n} neurons); node i goes to neuron i, or give a map of \
                         [node_id, neuron] pairs"
                    )));
                }
                events.push((id as u32, time));
            }
        }
        Some(pairs) => {
            let at_map = |m: String| (format!("inputs.{name}.map"), m);
            let mut sorted: Vec<(u64, u32)> = Vec::with_capacity(pairs.len());
            for (k, &[node, neuron]) in pairs.iter().enumerate() {
                if neuron >= u64::from(n) {
                    return Err(at_map(format!(
                        "pair {k} = [{node}, {neuron}]: neuron {neuron} is not in population \
                         {pop} ({n} neurons)"
                    )));
                }
                sorted.push((node, neuron as u32));
            }
            sorted.sort_unstable();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(at_map(format!(
                    "the pair [{}, {}] is given twice",
                    w[0].0, w[0].1
                )));
            }
            for (&id, &time) in t.node_ids.iter().zip(&t.times_ms) {
                let from = sorted.partition_point(|p| p.0 < id);
                for &(_, neuron) in sorted[from..].iter().take_while(|p| p.0 == id) {
                    events.push((neuron, time));
                }
            }
        }
    }
    events.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut neurons: Vec<u32> = Vec::new();
    let mut trains = SpikeTrains {
        offsets: vec![0],
        times_ms: Vec::with_capacity(events.len()),
    };
    for (neuron, time) in events {
        if neurons.last() != Some(&neuron) {
            if !neurons.is_empty() {
                trains.offsets.push(trains.times_ms.len());
            }
            neurons.push(neuron);
        }
        trains.times_ms.push(time);
    }
    if !neurons.is_empty() {
        trains.offsets.push(trains.times_ms.len());
    }
    Ok((neurons, trains))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(ids: &[u64], times: &[f64]) -> SpikeFile {
        SpikeFile {
            raw: "s.csv".into(),
            path: "/data/s.csv".into(),
            sha256: String::new(),
            table: SpikeTable {
                node_ids: ids.to_vec(),
                times_ms: times.to_vec(),
            },
        }
    }

    #[test]
    fn csv_rows_with_an_optional_header_and_comments() {
        let p = Path::new("/data/s.csv");
        let t = parse_csv(p, b"# spikes\nnode_id,time_ms\n3,1.5\n\n 0 , 2\n3,0.25\n").unwrap();
        assert_eq!(t.node_ids, [3, 0, 3]);
        assert_eq!(t.times_ms, [1.5, 2.0, 0.25]);
        assert_eq!(parse_csv(p, b"").unwrap(), SpikeTable::default());
        for (text, says) in [
            (
                &b"node,time\n"[..],
                "/data/s.csv:1: node id \"node\" is not",
            ),
            (
                b"1,2\nx,2\n",
                "/data/s.csv:2: node id \"x\" is not an unsigned integer",
            ),
            (
                b"-1,2\n",
                "/data/s.csv:1: node id \"-1\" is not an unsigned integer",
            ),
            (b"1,2,3\n", "/data/s.csv:1: \"1,2,3\" has 3 columns"),
            (
                b"1,nan\n",
                "/data/s.csv:1: time \"nan\" is not a finite number of ms",
            ),
            (b"1\n", "/data/s.csv:1: \"1\" has 1 columns"),
            (b"\xff\xfe", "/data/s.csv: not a UTF-8 text file"),
        ] {
            let e = parse_csv(p, text).unwrap_err();
            assert!(e.starts_with(says), "{e}");
        }
    }

    #[test]
    fn hdf5_files_are_known_by_their_signature() {
        let mut f = HDF5_SIGNATURE.to_vec();
        f.extend_from_slice(&[0; 100]);
        assert!(is_hdf5(&f));
        let mut blocked = vec![0u8; 512];
        blocked.extend_from_slice(HDF5_SIGNATURE);
        assert!(is_hdf5(&blocked));
        assert!(!is_hdf5(b"0,1.5\n"));
        assert!(!is_hdf5(b""));
    }

    #[test]
    fn node_i_goes_to_neuron_i_in_time_order() {
        let f = file(&[2, 0, 2, 0], &[5.0, 1.0, 3.0, 1.0]);
        let (neurons, trains) = trains_of("x", &f, 3, "E", None).unwrap();
        assert_eq!(neurons, [0, 2]);
        assert_eq!(trains.train(0), [1.0, 1.0]);
        assert_eq!(trains.train(1), [3.0, 5.0]);
        let (path, m) = trains_of("x", &f, 2, "E", None).unwrap_err();
        assert_eq!(path, "inputs.x.path");
        assert!(
            m.starts_with(
                "/data/s.csv: node id 2 (spike 0) is not a neuron of population E (2 neurons)"
            ),
            "{m}"
        );
        let neg = file(&[0, 1], &[1.0, -0.5]);
        let (path, m) = trains_of("x", &neg, 3, "E", None).unwrap_err();
        assert_eq!(path, "inputs.x.path");
        assert_eq!(
            m,
            "/data/s.csv: spike 1 (node 1) is at -0.5 ms; spike times must be >= 0"
        );
    }

    #[test]
    fn a_map_sends_nodes_to_any_neurons() {
        // Node 7 to neurons 1 and 4, node 9 to neuron 1; node 8 is not mapped.
        let f = file(&[7, 8, 9, 7], &[2.0, 3.0, 1.0, 0.5]);
        let map = [[7, 4], [9, 1], [7, 1]];
        let (neurons, trains) = trains_of("x", &f, 5, "E", Some(&map)).unwrap();
        assert_eq!(neurons, [1, 4]);
        assert_eq!(trains.train(0), [0.5, 1.0, 2.0]);
        assert_eq!(trains.train(1), [0.5, 2.0]);
        let (path, m) = trains_of("x", &f, 4, "E", Some(&map)).unwrap_err();
        assert_eq!(path, "inputs.x.map");
        assert_eq!(
            m,
            "pair 0 = [7, 4]: neuron 4 is not in population E (4 neurons)"
        );
        let (path, m) = trains_of("x", &f, 5, "E", Some(&[[7, 1], [7, 1]])).unwrap_err();
        assert_eq!(path, "inputs.x.map");
        assert_eq!(m, "the pair [7, 1] is given twice");
    }
}
