//! Editing a config by dotted path (`--set`) and locating a path in its text (the line
//! of an error).

use crate::sweep;

pub(crate) fn clean_path(p: &str) -> String {
    if p == "." {
        String::new()
    } else {
        p.to_string()
    }
}

/// Applies one `path.to.field=value` edit; a part of the path may index a list, as in
/// sweeps (`ach.pulses.0.amplitude=2`). The value is parsed as TOML (`1.5`, `"x"`,
/// `[1, 2]`, `{ uniform = [0, 1] }`); anything that does not parse is taken as a string.
/// Returns the path and the first table the edit had to create, if any.
pub(crate) fn apply_set(
    root: &mut toml::Table,
    set: &str,
) -> Result<(String, Option<String>), String> {
    let (path, raw) = set.split_once('=').ok_or("expected path.to.field=value")?;
    let path = path.trim();
    if path.is_empty() || path.split('.').any(str::is_empty) {
        return Err(format!("`{path}` is not a dotted field path"));
    }
    let created = sweep::points::set_in(root, path, parse_value(raw.trim()))?;
    Ok((path.to_string(), created))
}

/// A `--set` value: TOML if it parses, else a plain string.
pub(crate) fn parse_value(raw: &str) -> toml::Value {
    let doc = format!("v = {raw}");
    match toml::from_str::<toml::Table>(&doc) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or(toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    }
}

pub(crate) fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Line of the value at `path` in the original text, if it is there; else the line of the
/// nearest table on the path that is.
pub(crate) fn line_of_path(text: &str, path: &str) -> Option<usize> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).ok()?;
    let mut best: Option<usize> = None;
    let mut table = doc.get_ref();
    let parts: Vec<&str> = if path.is_empty() {
        vec![]
    } else {
        path.split('.').collect()
    };
    for (i, part) in parts.iter().enumerate() {
        let Some((key, value)) = table.get_key_value(*part) else {
            break;
        };
        let span = if i + 1 == parts.len() {
            value.span()
        } else {
            key.span()
        };
        if span.start < text.len() {
            best = Some(line_of_offset(text, span.start));
        }
        match value.get_ref() {
            DeValue::Table(t) => table = t,
            _ => break,
        }
    }
    best
}
