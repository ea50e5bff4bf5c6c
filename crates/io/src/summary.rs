//! The HDF5 summary of a sweep: one dataset per column.

use std::path::Path;

use crate::write_strings;

/// A column of parameter values.
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// Every value is a number.
    Numbers(Vec<f64>),
    /// Values as text.
    Text(Vec<String>),
}

/// One row per sweep point, as columns of equal length.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SummaryTable {
    /// Point index.
    pub index: Vec<u64>,
    /// Repeat within the grid position.
    pub repeat: Vec<u64>,
    /// Seed of the point.
    pub seed: Vec<u64>,
    /// Status of the point (`done`, `failed`, ...).
    pub status: Vec<String>,
    /// Swept fields, by path, in the sweep's order.
    pub parameters: Vec<(String, Column)>,
    /// Metrics, by dotted path; NaN where a point has no value.
    pub metrics: Vec<(String, Vec<f64>)>,
}

/// Writes `table` to `path` (through a temporary file and a rename): `/index`, `/repeat`,
/// `/seed` (u64), `/status` (strings), `/parameters/<field>` (f64 or strings) and
/// `/metrics/<path>` (f64).
pub fn write_summary_table(path: &Path, table: &SummaryTable) -> crate::Result<()> {
    let tmp = crate::output::temporary_path(path);
    let result = (|| -> Result<(), hdf5::Error> {
        let f = hdf5::File::create(&tmp)?;
        for (name, v) in [
            ("index", &table.index),
            ("repeat", &table.repeat),
            ("seed", &table.seed),
        ] {
            f.new_dataset_builder().with_data(v).create(name)?;
        }
        write_strings(&f, "status", &table.status)?;
        let g = f.create_group("parameters")?;
        for (field, column) in &table.parameters {
            match column {
                Column::Numbers(x) => {
                    g.new_dataset_builder()
                        .with_data(x)
                        .create(field.as_str())?;
                }
                Column::Text(text) => write_strings(&g, field, text)?,
            }
        }
        let g = f.create_group("metrics")?;
        for (m, x) in &table.metrics {
            g.new_dataset_builder().with_data(x).create(m.as_str())?;
        }
        f.close()?;
        std::fs::rename(&tmp, path).map_err(|e| hdf5::Error::from(e.to_string()))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(result?)
}
