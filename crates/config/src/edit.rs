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

/// `text` with the value at the dotted `path` replaced by `value` (TOML, e.g. a quoted
/// string), the rest of the text (comments, layout) untouched; `None` if `path` holds no
/// value in `text`.
pub(crate) fn replace_value(text: &str, path: &str, value: &str) -> Option<String> {
    use toml::de::{DeTable, DeValue};
    let doc = DeTable::parse(text).ok()?;
    let mut table = doc.get_ref();
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        let found = table.get(*part)?;
        if i + 1 == parts.len() {
            let span = found.span();
            if span.end > text.len() || span.start >= span.end {
                return None;
            }
            return Some(format!(
                "{}{value}{}",
                &text[..span.start],
                &text[span.end..]
            ));
        }
        match found.get_ref() {
            DeValue::Table(t) => table = t,
            _ => return None,
        }
    }
    None
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

#[cfg(test)]
mod tests {
    use super::replace_value;

    #[test]
    fn a_value_is_replaced_in_place() {
        let text = "# images\n[stimuli]\npath = \"../x\"   # relative\nkind = 1\n";
        let out = replace_value(text, "stimuli.path", "\"/abs/x\"").expect("there");
        assert_eq!(
            out,
            "# images\n[stimuli]\npath = \"/abs/x\"   # relative\nkind = 1\n"
        );
        let dotted = "stimuli.path = '../x'\n";
        let out = replace_value(dotted, "stimuli.path", "\"/abs\"").expect("there");
        assert_eq!(out, "stimuli.path = \"/abs\"\n");
        assert_eq!(replace_value(text, "stimuli.folder", "1"), None);
        assert_eq!(replace_value(text, "nothing.path", "1"), None);
    }
}
