//! How datasets are stored: chunks fitted to the data, and the filters of the chunks.
//!
//! Every numeric dataset of more than [`SMALL_BYTES`] is chunked. Chunks hold about
//! [`CHUNK_BYTES`] (fewer when the data is smaller, split into equal parts), so a dataset
//! takes about its own size and a large one is read in pieces that fit HDF5's default
//! chunk cache. Smaller datasets are stored contiguously: a chunk index would cost more
//! than a filter saves.
//!
//! engram's own datasets (ACh trace, weights, experiment results) are compressed, unless
//! [`Compression::None`] is asked for, with the byte shuffle filter followed by deflate
//! (gzip), which h5py and any HDF5 library built with zlib read without plugins. The
//! datasets that SONATA readers read (`/spikes`, `/report`) are never filtered
//! ([`SONATA`]): the libsonata wheels on PyPI are built on an HDF5 without zlib and
//! cannot read deflated datasets ("required filter 'deflate' is not registered").
//! Filters change how the bytes are stored, never the values a reader gets back.

use hdf5::Group;
use hdf5::dataset::DatasetBuilder;

/// The filters of the chunks of a file's datasets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// No filter: chunks are stored as they are.
    None,
    /// The shuffle filter (the bytes of the values regrouped by significance, which makes
    /// sorted times and small ids compress well), then deflate at this level, 1 (fastest)
    /// to 9 (smallest).
    Deflate(u8),
}

impl Compression {
    /// What a run writes unless its config says otherwise: shuffle and deflate at level 1,
    /// which keeps writing fast (its cost is small next to the simulation) and takes most
    /// of what higher levels would.
    pub const DEFAULT: Compression = Compression::Deflate(1);

    /// The compression of a config's `output.compression_level`: 0 is none, 1 to 9 the
    /// deflate level; `None` above 9.
    pub fn from_level(level: u32) -> Option<Compression> {
        match level {
            0 => Some(Compression::None),
            1..=9 => Some(Compression::Deflate(level as u8)),
            _ => None,
        }
    }

    /// A short description for the file's provenance (`"none"`, `"shuffle+deflate(1)"`);
    /// it applies to engram's own datasets, not to `/spikes` and `/report` ([`SONATA`]).
    pub fn describe(self) -> String {
        match self {
            Compression::None => "none".to_string(),
            Compression::Deflate(level) => format!("shuffle+deflate({level})"),
        }
    }
}

/// The storage of the datasets SONATA readers read: fitted chunks, no filter (see the
/// module docs).
pub const SONATA: Compression = Compression::None;

/// The bytes a chunk is aimed at: large enough for deflate to work well and for few chunk
/// index entries, small enough for HDF5's default chunk cache (1 MiB).
pub const CHUNK_BYTES: usize = 128 * 1024;

/// Datasets up to this size (bytes) are stored contiguously, without filters.
pub const SMALL_BYTES: usize = 4 * 1024;

/// The builder of a dataset in `loc` whose chunks are `chunk` (elements per dimension)
/// with the filters of `compression`.
pub(crate) fn chunked(loc: &Group, chunk: &[usize], compression: Compression) -> DatasetBuilder {
    let chunk: Vec<usize> = chunk.iter().map(|&c| c.max(1)).collect();
    let b = loc.new_dataset_builder().chunk(chunk);
    match compression {
        Compression::None => b,
        Compression::Deflate(level) => b.shuffle().deflate(level),
    }
}

/// The chunk length (elements of `elem_bytes` each) of a dataset of `len` elements: the
/// data split into as few chunks of at most [`CHUNK_BYTES`] as possible, of equal length,
/// so that the last chunk is not mostly empty (at least 1).
pub(crate) fn chunk_len(len: usize, elem_bytes: usize) -> usize {
    balanced(len, (CHUNK_BYTES / elem_bytes.max(1)).max(1))
}

/// `len` split into as few parts of at most `max` as possible, of equal length (rounded
/// up); at least 1.
fn balanced(len: usize, max: usize) -> usize {
    let parts = len.div_ceil(max).max(1);
    len.div_ceil(parts).max(1)
}

/// The builder of a 1-D dataset of `len` elements of `elem_bytes` each that is written
/// whole: contiguous when small, else chunked to fit and filtered.
pub(crate) fn fitted_1d(
    loc: &Group,
    len: usize,
    elem_bytes: usize,
    compression: Compression,
) -> DatasetBuilder {
    if len * elem_bytes <= SMALL_BYTES {
        loc.new_dataset_builder()
    } else {
        chunked(loc, &[chunk_len(len, elem_bytes)], compression)
    }
}

/// As [`fitted_1d`] for a 2-D dataset `[rows, cols]`: chunks of whole rows (as many as
/// fit in [`CHUNK_BYTES`]), or of part of one row when a row alone is larger.
pub(crate) fn fitted_2d(
    loc: &Group,
    rows: usize,
    cols: usize,
    elem_bytes: usize,
    compression: Compression,
) -> DatasetBuilder {
    let row_bytes = cols * elem_bytes;
    if rows * row_bytes <= SMALL_BYTES {
        return loc.new_dataset_builder();
    }
    let chunk = if row_bytes <= CHUNK_BYTES {
        [
            balanced(rows, (CHUNK_BYTES / row_bytes.max(1)).max(1)),
            cols,
        ]
    } else {
        [1, chunk_len(cols, elem_bytes)]
    };
    chunked(loc, &chunk, compression)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_map_to_compressions() {
        assert_eq!(Compression::from_level(0), Some(Compression::None));
        assert_eq!(Compression::from_level(1), Some(Compression::Deflate(1)));
        assert_eq!(Compression::from_level(9), Some(Compression::Deflate(9)));
        assert_eq!(Compression::from_level(10), None);
        assert_eq!(Compression::DEFAULT.describe(), "shuffle+deflate(1)");
    }

    #[test]
    fn chunks_fit_the_data() {
        assert_eq!(chunk_len(10, 8), 10);
        assert_eq!(chunk_len(0, 8), 1);
        assert_eq!(chunk_len(1 << 20, 8), CHUNK_BYTES / 8);
        // Just above one chunk: two halves, not a full chunk and an almost empty one.
        assert_eq!(chunk_len(CHUNK_BYTES / 8 + 2, 8), CHUNK_BYTES / 16 + 1);
        assert_eq!(chunk_len(3 * CHUNK_BYTES / 8 - 1, 8), CHUNK_BYTES / 8);
    }

    /// Writes `values` through `fitted_1d` and returns its chunk shape, filters and the
    /// values read back.
    fn round_trip(values: &[f64], c: Compression) -> (Option<Vec<usize>>, usize, Vec<f64>) {
        let dir = tempfile::tempdir().expect("a temp dir");
        let f = hdf5::File::create(dir.path().join("x.h5")).expect("created");
        fitted_1d(&f, values.len(), 8, c)
            .with_data(values)
            .create("x")
            .expect("written");
        let d = f.dataset("x").expect("there");
        (
            d.chunk(),
            d.filters().len(),
            d.read_raw::<f64>().expect("read"),
        )
    }

    #[test]
    fn large_datasets_are_chunked_and_filtered_small_ones_not() {
        let big: Vec<f64> = (0..100_000).map(|k| k as f64 / 10.0).collect();
        let (chunk, filters, back) = round_trip(&big, Compression::DEFAULT);
        // 100 000 values of 8 bytes: 7 chunks of 14 286.
        assert_eq!(chunk, Some(vec![14_286]));
        assert_eq!(filters, 2, "shuffle and deflate");
        assert_eq!(back, big);
        let (chunk, filters, back) = round_trip(&big, Compression::None);
        assert_eq!(chunk, Some(vec![14_286]));
        assert_eq!(filters, 0);
        assert_eq!(back, big);
        let small = [1.0, 2.0, 3.0];
        let (chunk, filters, back) = round_trip(&small, Compression::DEFAULT);
        assert_eq!((chunk, filters), (None, 0));
        assert_eq!(back, small);
    }
}
