//! An experiment's results as named groups of datasets and attributes, for a file writer
//! (the crate does no I/O itself: `engram-io` writes these groups into the run's file).

/// A dataset.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// A 1-D array of numbers.
    Numbers(Vec<f64>),
    /// A 2-D array `[rows, columns]` of numbers; every row has the same length.
    Matrix(Vec<Vec<f64>>),
    /// A 1-D array of strings.
    Strings(Vec<String>),
}

/// A scalar attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum Attr {
    /// An unsigned integer.
    Count(u64),
    /// A number.
    Number(f64),
    /// A string.
    Text(String),
}

/// A named group: its attributes, datasets and sub-groups, each written in this order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    /// The group's name (one path component).
    pub name: String,
    /// Attributes by name.
    pub attrs: Vec<(String, Attr)>,
    /// Datasets by name.
    pub datasets: Vec<(String, Data)>,
    /// Sub-groups.
    pub groups: Vec<Group>,
}

impl Group {
    /// An empty group called `name`.
    pub fn new(name: impl Into<String>) -> Group {
        Group {
            name: name.into(),
            ..Group::default()
        }
    }

    /// Adds an attribute.
    pub fn attr(&mut self, name: &str, value: Attr) -> &mut Group {
        self.attrs.push((name.to_string(), value));
        self
    }

    /// Adds a dataset.
    pub fn data(&mut self, name: &str, value: Data) -> &mut Group {
        self.datasets.push((name.to_string(), value));
        self
    }
}
