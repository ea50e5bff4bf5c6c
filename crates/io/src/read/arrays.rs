//! Whole arrays of a run's file, for front ends that hold a run in memory (the Python
//! package, the NWB export): every spike of a population, the final weights, the
//! provenance attributes with their types, the experiment's results as text.

use hdf5::types::{VarLenAscii, VarLenUnicode};

use super::{AttrValue, RunReader, SpikeData, format_error};

/// Spikes read at a time by [`SpikeData::read_all`].
const CHUNK: usize = 1 << 16;

/// The final weights of one projection, from `/weights/<projection>`.
#[derive(Debug, Clone, PartialEq)]
pub struct WeightTable {
    /// The projection's name.
    pub projection: String,
    /// Source neuron of each synapse (index in the source population).
    pub source: Vec<u32>,
    /// Target neuron of each synapse (index in the target population).
    pub target: Vec<u32>,
    /// Weight (pA).
    pub weight_pa: Vec<f32>,
    /// Encoding tag of each junction in [0, 1], for projections with gap junctions.
    pub tag: Option<Vec<f32>>,
}

/// Reads a scalar attribute as one of the [`AttrValue`] types (`None` for other types).
fn attr_value(a: &hdf5::Attribute) -> Option<AttrValue> {
    if let Ok(v) = a.read_scalar::<VarLenUnicode>() {
        return Some(AttrValue::Text(v.as_str().to_owned()));
    }
    if let Ok(v) = a.read_scalar::<VarLenAscii>() {
        return Some(AttrValue::Text(v.as_str().to_owned()));
    }
    use hdf5::types::TypeDescriptor;
    match a.dtype().and_then(|t| t.to_descriptor()).ok()? {
        TypeDescriptor::Float(_) => a.read_scalar::<f64>().ok().map(AttrValue::Number),
        TypeDescriptor::Unsigned(_) => a.read_scalar::<u64>().ok().map(AttrValue::Count),
        TypeDescriptor::Integer(_) => a.read_scalar::<i64>().ok().map(AttrValue::Integer),
        _ => None,
    }
}

fn read_vec<T: hdf5::H5Type>(g: &hdf5::Group, name: &str, what: &str) -> crate::Result<Vec<T>> {
    g.dataset(name)
        .and_then(|d| d.read_raw::<T>())
        .map_err(|e| format_error(format!("{what}/{name}: cannot read ({e})")))
}

impl SpikeData {
    /// Every spike: times (ms) and node ids, in file order, checked as
    /// [`SpikeData::for_each`] checks them.
    pub fn read_all(&self) -> crate::Result<(Vec<f64>, Vec<u64>)> {
        let mut times = Vec::with_capacity(self.len());
        let mut ids = Vec::with_capacity(self.len());
        self.for_each(CHUNK, |t, i| {
            times.extend_from_slice(t);
            ids.extend_from_slice(i);
        })?;
        Ok((times, ids))
    }
}

impl RunReader {
    /// The file's path.
    pub fn path(&self) -> &std::path::Path {
        &self.path
    }

    /// The attributes of `/engram` with their types, in the order HDF5 lists them (by
    /// name); empty without `/engram`. Attributes of other types are left out.
    pub fn provenance_attrs(&self) -> crate::Result<Vec<(String, AttrValue)>> {
        let Ok(meta) = self.file.group("engram") else {
            return Ok(Vec::new());
        };
        let what = format!("{}: /engram", self.path.display());
        let names = meta
            .attr_names()
            .map_err(|e| format_error(format!("{what}: cannot list attributes ({e})")))?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let a = meta
                .attr(&name)
                .map_err(|e| format_error(format!("{what}: cannot open {name} ({e})")))?;
            if let Some(v) = attr_value(&a) {
                out.push((name, v));
            }
        }
        Ok(out)
    }

    /// The attributes of `/engram/parameters` (a sweep point's parameters) as text;
    /// empty without them.
    pub fn parameters(&self) -> Vec<(String, String)> {
        let Ok(g) = self.file.group("engram/parameters") else {
            return Vec::new();
        };
        let names = g.attr_names().unwrap_or_default();
        names
            .into_iter()
            .filter_map(|n| {
                let v = g.attr(&n).ok().and_then(|a| attr_value(&a))?;
                Some((n, v.to_string()))
            })
            .collect()
    }

    /// The config text of `/engram/config`, if present.
    pub fn config_text(&self) -> Option<String> {
        let ds = self.file.dataset("engram/config").ok()?;
        ds.read_scalar::<VarLenUnicode>()
            .ok()
            .map(|v| v.as_str().to_owned())
    }

    /// The experiment's results as the JSON text the run summary holds (attribute
    /// `summary` of `/analysis`), if the file has them.
    pub fn results_json(&self) -> Option<String> {
        let g = self.file.group("analysis").ok()?;
        let a = g.attr("summary").ok()?;
        match attr_value(&a)? {
            AttrValue::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The final weights of `/weights`, one table per projection (by name); empty
    /// without `/weights`.
    pub fn weights(&self) -> crate::Result<Vec<WeightTable>> {
        if !self.file.link_exists("weights") {
            return Ok(Vec::new());
        }
        let root = self
            .file
            .group("weights")
            .map_err(|_| format_error("/weights is not a group"))?;
        let names = root
            .member_names()
            .map_err(|e| format_error(format!("/weights: cannot list ({e})")))?;
        let mut out = Vec::with_capacity(names.len());
        for name in names {
            let what = format!("/weights/{name}");
            let g = root
                .group(&name)
                .map_err(|_| format_error(format!("{what} is not a group")))?;
            let source = read_vec::<u32>(&g, "source", &what)?;
            let target = read_vec::<u32>(&g, "target", &what)?;
            let weight_pa = read_vec::<f32>(&g, "weight_pa", &what)?;
            let tag = if g.link_exists("tag") {
                Some(read_vec::<f32>(&g, "tag", &what)?)
            } else {
                None
            };
            let n = source.len();
            if target.len() != n
                || weight_pa.len() != n
                || tag.as_ref().is_some_and(|t| t.len() != n)
            {
                return Err(format_error(format!(
                    "{what}: source, target, weight_pa (and tag) have different lengths"
                )));
            }
            out.push(WeightTable {
                projection: name,
                source,
                target,
                weight_pa,
                tag,
            });
        }
        Ok(out)
    }
}
