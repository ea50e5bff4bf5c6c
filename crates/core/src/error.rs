//! A value that cannot be used, named by its field path.

/// Why a value cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ErrorKind {
    /// The value is not allowed (out of range, an unknown name, missing, ...).
    #[default]
    Invalid,
    /// What the value asks for would need more memory than the run may use (a
    /// [`MemoryError`](crate::memory::MemoryError)): the value may be fine, the limit is too
    /// low for it.
    Memory,
}

/// A value that cannot be used: the dotted path of its field (as written in configs,
/// `projections.EE.connectivity.p`), what is wrong and what is allowed, and whether it is
/// not allowed or does not fit in memory ([`ErrorKind`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct FieldError {
    /// Dotted path of the offending field.
    pub path: String,
    /// What is wrong and what is allowed.
    pub message: String,
    /// Not allowed, or too large for the memory limit.
    pub kind: ErrorKind,
}

impl FieldError {
    /// An error for the field at `path`: its value is not allowed.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            path: path.into(),
            message: message.into(),
            kind: ErrorKind::Invalid,
        }
    }

    /// An error for the field at `path`: what its value asks for exceeds the memory limit
    /// (`message` says by how much, from a [`MemoryError`](crate::memory::MemoryError)).
    pub fn memory(path: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            kind: ErrorKind::Memory,
            ..FieldError::new(path, message)
        }
    }
}

/// `(path, message)`: a value that is not allowed.
impl From<(String, String)> for FieldError {
    fn from((path, message): (String, String)) -> Self {
        FieldError::new(path, message)
    }
}
