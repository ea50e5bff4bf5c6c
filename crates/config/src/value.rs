//! A config value as `--set` and a sweep write it.

use std::fmt;

/// A config value: TOML (`1.5`, `"x"`, `[1, 2]`, `{ uniform = [0, 1] }`), as a `--set`
/// edit takes it and a sweep varies it.
#[derive(Debug, Clone, PartialEq)]
pub struct Value(pub(crate) toml::Value);

impl Value {
    /// Parses `raw` as a `--set` value: TOML if it parses, else a plain string.
    pub fn parse(raw: &str) -> Value {
        Value(crate::parse_value(raw))
    }

    /// The value as TOML text (`1.5`, `"all"`, `{ range = [0, 10] }`).
    pub fn render(&self) -> String {
        self.0.to_string()
    }

    /// The value for a table cell: strings without quotes, the rest as TOML.
    pub fn render_plain(&self) -> String {
        match &self.0 {
            toml::Value::String(s) => s.clone(),
            other => other.to_string(),
        }
    }

    /// The value as a number, if it is an integer or a float.
    pub fn as_number(&self) -> Option<f64> {
        match self.0 {
            toml::Value::Integer(i) => Some(i as f64),
            toml::Value::Float(x) => Some(x),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
