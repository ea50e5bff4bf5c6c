//! A fuzz test of the `engram` command: mutated copies of the shipped configs go through
//! `engram check` and, one case in ten, a short `engram run`, as processes under a memory
//! cap and a timeout. Whatever the input, the command must end by itself with 0 (fine), 1
//! (a failure while running) or 2 (bad input) and, for 1 and 2, a first line of standard
//! error that starts with `error:`; a run that fails leaves nothing in its folder, a run
//! that succeeds leaves only its output, which `engram inspect` reads; and `check` accepts
//! exactly the configs that `run` accepts.
//!
//! The cases are a pure function of the seed and their index (each case draws from its own
//! ChaCha8 stream), so a failure is reproduced by its seed and index alone:
//!
//! - `FUZZ_CASES` (default 2000) cases, `FUZZ_SEED` (default 13) their seed, and
//!   `FUZZ_ONLY=17,42` runs only those cases of the seed (the first cases of a bigger run
//!   are the cases of a smaller one); `FUZZ_VERBOSE=1` prints a line per case.
//! - A case starts from one of `configs/*.toml` (sweep files aside), parsed as TOML:
//!   leaves replaced by edge values (0, -1, -0.0, 1e-300, 1e300, 1e308, i64::MAX, NaN,
//!   strings, empty arrays, tables, ...; mostly of the leaf's own kind, and fields that
//!   size the run, times, rates and counts, more often than others), keys deleted, entries
//!   of arrays duplicated (ACh pulses, layers), names renamed (alone or everywhere; to
//!   empty, dotted, slashed, NUL-holding or long names), swapped or pointed elsewhere,
//!   values changed to another type, and fragments grafted in (inputs of every kind, ACh
//!   pulses, an `[output]` table), which further mutations may hit. One case in ten
//!   mutates the text instead (or as well): truncated, a bit flipped, bytes replaced or
//!   inserted, lines deleted or duplicated. A third of the cases add `--set path=value`
//!   arguments: existing paths (with list indices like `experiment.layers.0`), paths that
//!   do not exist (`ach.pulses.0.amplitude`) and malformed ones, with edge values.
//! - A case that runs is shrunk before it is mutated (5 ms of simulation, or a recall
//!   protocol of 2 memories with phases of a few ms; populations above 10 000 neurons cut
//!   by 100), so that the mutations, not the shrinking, have the last word; its first
//!   mutation turns a number into an edge number or renames something everywhere, so
//!   that most runs get past the types.
//! - Every child runs as `sh -c 'ulimit -v 6000000; exec "$0" "$@"' engram ...` (6 GB of
//!   virtual memory) and is killed after 20 s, which counts as a hang.
//!
//! The counts and the failures (with a command line that reproduces each; the configs of
//! failing cases are kept under `target/tmp/fuzz/`) go to the process's standard error
//! whether or not the test harness captures output. `make fuzz` runs 20 000 cases.

#![cfg(unix)]

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use toml::{Table, Value};

/// Cases without `FUZZ_CASES`.
const DEFAULT_CASES: usize = 2000;
/// Seed without `FUZZ_SEED`.
const DEFAULT_SEED: u64 = 13;
/// Cases run at once (the machine the suite is tuned for has 2 cores).
const THREADS: usize = 2;
/// A child still running after this long is killed and counted as a hang.
const TIMEOUT: Duration = Duration::from_secs(20);
/// Virtual memory of a child (KiB, for `ulimit -v`).
const MEMORY_CAP_KIB: u64 = 6_000_000;
/// One case in this many also runs the config.
const RUN_ONE_IN: u32 = 10;
/// Failures printed in full (all are counted).
const PRINTED_FAILURES: usize = 40;

// ---------------------------------------------------------------------------------------
// The base configs
// ---------------------------------------------------------------------------------------

/// The workspace root.
fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// A shipped config, parsed.
struct Base {
    /// File name (`recall.toml`).
    name: String,
    /// Its TOML, with relative paths made absolute (the mutated copies live elsewhere).
    doc: Table,
}

/// `configs/*.toml` in name order, sweep files (with a top-level `base`) aside.
fn bases() -> Vec<Base> {
    let dir = repo_root().join("configs");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("configs/ is readable")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("a config is readable");
        let mut doc: Table = text
            .parse()
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        if doc.contains_key("base") {
            continue;
        }
        absolutise(&mut doc, &dir);
        out.push(Base {
            name: file.file_name().unwrap().to_string_lossy().into_owned(),
            doc,
        });
    }
    assert!(out.len() >= 2, "too few configs in {}", dir.display());
    out
}

/// Makes every relative `path = "..."` under `t` absolute, from `dir`.
fn absolutise(t: &mut Table, dir: &Path) {
    for (k, v) in t.iter_mut() {
        match v {
            Value::String(s) if k == "path" && Path::new(s.as_str()).is_relative() => {
                let p = dir.join(s.as_str());
                *s = p.canonicalize().unwrap_or(p).to_string_lossy().into_owned();
            }
            Value::Table(sub) => absolutise(sub, dir),
            _ => {}
        }
    }
}

/// Shrinks a config so that its run takes a fraction of a second: 5 ms of simulation, or a
/// recall protocol of 2 memories (unless images fix their number) with short phases; big
/// populations cut by 100.
fn shrink(root: &mut Value) {
    let Value::Table(t) = root else { return };
    if let Some(Value::Table(exp)) = t.get_mut("experiment") {
        for (k, v) in [
            ("encode_ms", 5.0),
            ("pause_ms", 1.0),
            ("delay_ms", 2.0),
            ("recall_ms", 5.0),
        ] {
            exp.insert(k.into(), Value::Float(v));
        }
        if exp.contains_key("memories") {
            exp.insert("memories".into(), Value::Integer(2));
        }
    } else {
        let sim = t
            .entry("simulation")
            .or_insert_with(|| Value::Table(Table::new()));
        if let Value::Table(sim) = sim {
            sim.insert("duration_ms".into(), Value::Float(5.0));
        }
    }
    if let Some(Value::Table(pops)) = t.get_mut("populations") {
        for (_, pop) in pops.iter_mut() {
            if let Some(Value::Integer(n)) = pop.get_mut("n") {
                if *n > 10_000 {
                    *n /= 100;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Paths into a TOML document
// ---------------------------------------------------------------------------------------

/// One step of a path: a table key or an array index.
#[derive(Debug, Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

/// `a.b.0.c`, as `--set` and messages spell it.
fn dotted(path: &[Seg]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|s| match s {
            Seg::Key(k) => k.clone(),
            Seg::Index(i) => i.to_string(),
        })
        .collect();
    parts.join(".")
}

/// Every node below `v` (not `v` itself), in document order, with its path.
fn nodes(v: &Value) -> Vec<Vec<Seg>> {
    fn walk(v: &Value, path: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
        match v {
            Value::Table(t) => {
                for (k, c) in t {
                    path.push(Seg::Key(k.clone()));
                    out.push(path.clone());
                    walk(c, path, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    path.push(Seg::Index(i));
                    out.push(path.clone());
                    walk(c, path, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

fn get<'a>(v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    let mut v = v;
    for s in path {
        v = match (s, v) {
            (Seg::Key(k), Value::Table(t)) => t.get(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

fn get_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    let mut v = v;
    for s in path {
        v = match (s, v) {
            (Seg::Key(k), Value::Table(t)) => t.get_mut(k)?,
            (Seg::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// The nodes below `root` that are not tables or arrays.
fn leaves(root: &Value) -> Vec<Vec<Seg>> {
    nodes(root)
        .into_iter()
        .filter(|p| !matches!(get(root, p), Some(Value::Table(_) | Value::Array(_))))
        .collect()
}

/// The keys of the table `[name]` (populations, projections, inputs).
fn names_of(root: &Value, name: &str) -> Vec<String> {
    match get(root, &[Seg::Key(name.into())]) {
        Some(Value::Table(t)) => t.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

// ---------------------------------------------------------------------------------------
// Mutations
// ---------------------------------------------------------------------------------------

/// Values that break assumptions: zeros, signs, extremes of f64 and i64, non-finite
/// numbers, numbers as strings, and values of the wrong type.
fn edge_values() -> Vec<Value> {
    let s = |x: &str| Value::String(x.into());
    vec![
        Value::Integer(0),
        Value::Integer(-1),
        Value::Integer(1),
        Value::Float(0.0),
        Value::Float(-0.0),
        Value::Float(0.5),
        Value::Float(1e-300),
        Value::Float(5e-324),
        Value::Float(f64::MIN_POSITIVE),
        Value::Float(1e300),
        Value::Float(1e308),
        Value::Float(f64::MAX),
        Value::Float(-1e308),
        Value::Integer(i64::MAX),
        Value::Integer(i64::MIN),
        Value::Integer(1 << 32),
        Value::Float(f64::NAN),
        Value::Float(f64::INFINITY),
        Value::Float(f64::NEG_INFINITY),
        s("nan"),
        s("inf"),
        s("-inf"),
        s("1.0"),
        s(""),
        s("x"),
        Value::Array(Vec::new()),
        Value::Array(vec![Value::Integer(1), s("a")]),
        Value::Table(Table::new()),
        Value::Boolean(true),
    ]
}

/// `--set` values, as text: the edge values and a few malformed ones.
const SET_VALUES: &[&str] = &[
    "0",
    "-1",
    "1",
    "-0.0",
    "0.5",
    "1e-300",
    "5e-324",
    "1e300",
    "1e308",
    "1.7976931348623157e308",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "4294967296",
    "nan",
    "inf",
    "-inf",
    "\"nan\"",
    "\"1.0\"",
    "[]",
    "{}",
    "[1, \"a\"]",
    "{ uniform = [1, 0] }",
    "{ normal = { mean = 0, std = -1 } }",
    "true",
    "\"\"",
    "x",
    "",
    "=",
    "[",
];

/// `--set` numbers at the edges.
const SET_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "1",
    "-0.0",
    "0.5",
    "1e-300",
    "5e-324",
    "1e300",
    "1e308",
    "1.7976931348623157e308",
    "9223372036854775807",
    "-9223372036854775808",
    "4294967295",
    "4294967296",
    "nan",
    "inf",
    "-inf",
];

/// `--set` paths that do not exist or are malformed.
const SET_PATHS: &[&str] = &[
    "nosuch",
    "simulation.nosuch",
    "ach.pulses.0.amplitude",
    "ach.pulses.0",
    "experiment.layers.7",
    "populations.E.n.x",
    "populations.nosuch.n",
    "inputs.fuzz.rate_hz",
    "experiment.cue.spikes",
    "stimuli.max_rate_hz",
    "",
    ".",
    "simulation..dt_ms",
    "simulation.dt_ms.",
    " simulation.seed ",
    "a.b.c.d.e.f.g.h",
];

/// Names a rename or a string may take: empty, dotted, with a slash (an HDF5 path), with a
/// NUL, spaced, non-ASCII, long, numeric.
fn odd_names() -> Vec<String> {
    vec![
        String::new(),
        "a.b".into(),
        "a/b".into(),
        "/".into(),
        "nul\0name".into(),
        "two words".into(),
        "ünïcödé".into(),
        "x".repeat(300),
        "0".into(),
        "nosuch".into(),
    ]
}

/// `v` as inline TOML, with floats in Rust's short form (`1e300`, not 301 digits).
fn show(v: &Value) -> String {
    match v {
        Value::Float(f) => format!("{f:?}"),
        Value::Array(a) => format!("[{}]", a.iter().map(show).collect::<Vec<_>>().join(", ")),
        Value::Table(t) => format!(
            "{{ {} }}",
            t.iter()
                .map(|(k, v)| format!("{k} = {}", show(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

/// Numbers at the edges: zeros, signs, the extremes of f64, i64 and u32, non-finite ones.
fn edge_numbers() -> Vec<Value> {
    vec![
        Value::Integer(0),
        Value::Integer(-1),
        Value::Integer(1),
        Value::Integer(i64::MAX),
        Value::Integer(i64::MIN),
        Value::Integer(u32::MAX.into()),
        Value::Integer(1 << 32),
        Value::Float(0.0),
        Value::Float(-0.0),
        Value::Float(0.5),
        Value::Float(1e-300),
        Value::Float(5e-324),
        Value::Float(f64::MIN_POSITIVE),
        Value::Float(1e300),
        Value::Float(1e308),
        Value::Float(f64::MAX),
        Value::Float(-1e308),
        Value::Float(f64::NAN),
        Value::Float(f64::INFINITY),
        Value::Float(f64::NEG_INFINITY),
    ]
}

/// Integers at the edges.
fn edge_integers() -> Vec<Value> {
    edge_numbers()
        .into_iter()
        .filter(Value::is_integer)
        .collect()
}

/// Whether a field is a time or a rate (`*_ms`, `*_hz`).
fn time_or_rate(key: &str) -> bool {
    key.ends_with("_ms") || key.ends_with("_hz")
}

/// Whether `v` is a u32 edge (2^32 - 1, 2^32): a time or rate that large asks for a
/// simulation that is long but can be run (4.3e10 steps of 0.1 ms), which would measure
/// nothing but patience. Beyond-any-grid values (1e300, i64::MAX) stay.
fn long_but_runnable(v: &Value) -> bool {
    matches!(v, Value::Integer(i) if *i == i64::from(u32::MAX) || *i == 1 << 32)
}

/// An edge value for the leaf at `path`: mostly one of its own kind (a number for a number,
/// a name for a name), so that the config gets past its types and reaches the checks of
/// its values; else any edge value.
fn edge_value_for(root: &Value, path: &[Seg], rng: &mut ChaCha8Rng) -> Value {
    let own_kind = rng.random_ratio(3, 4);
    edge_value_of(root, path, own_kind, rng)
}

/// An edge value for the leaf at `path`, of its kind when `own_kind` (and when it has one);
/// never a long but runnable time or rate.
fn edge_value_of(root: &Value, path: &[Seg], own_kind: bool, rng: &mut ChaCha8Rng) -> Value {
    let timed = matches!(path.last(), Some(Seg::Key(k)) if time_or_rate(k));
    let pick = |pool: Vec<Value>, rng: &mut ChaCha8Rng| -> Value {
        let pool: Vec<Value> = pool
            .into_iter()
            .filter(|v| !(timed && long_but_runnable(v)))
            .collect();
        pool.choose(rng).unwrap().clone()
    };
    match get(root, path) {
        // Integers mostly stay integers (sizes and counts are unsigned integers).
        Some(Value::Integer(_)) if own_kind && rng.random_ratio(4, 5) => pick(edge_integers(), rng),
        Some(Value::Integer(_) | Value::Float(_)) if own_kind => pick(edge_numbers(), rng),
        Some(Value::String(_)) if own_kind => {
            Value::String(odd_names().choose(rng).unwrap().clone())
        }
        _ => pick(edge_values(), rng),
    }
}

/// Whether a field sizes the run: a time, a rate, a count of neurons, memories or spikes,
/// a probability. Mutations pick these more often than other fields.
fn sizes_the_run(path: &[Seg]) -> bool {
    match path.last() {
        Some(Seg::Key(k)) => {
            k.ends_with("_ms")
                || k.ends_with("_hz")
                || [
                    "n",
                    "p",
                    "memories",
                    "pointer_size",
                    "spikes",
                    "active",
                    "indegree",
                    "outdegree",
                ]
                .contains(&k.as_str())
        }
        _ => false,
    }
}

/// The leaves of `root`, those that size the run four times over.
fn weighted_leaves(root: &Value) -> Vec<Vec<Seg>> {
    let mut out = Vec::new();
    for p in leaves(root) {
        let copies = if sizes_the_run(&p) { 4 } else { 1 };
        for _ in 0..copies {
            out.push(p.clone());
        }
    }
    out
}

/// Whether `path` leads to a number in `root`.
fn is_number(root: &Value, path: &[Seg]) -> bool {
    matches!(get(root, path), Some(Value::Integer(_) | Value::Float(_)))
}

/// Replaces a random number by an edge number.
fn replace_number(root: &mut Value, rng: &mut ChaCha8Rng) -> Option<String> {
    let numbers: Vec<Vec<Seg>> = weighted_leaves(root)
        .into_iter()
        .filter(|p| is_number(root, p))
        .collect();
    let path = numbers.choose(rng)?.clone();
    let value = edge_value_of(root, &path, true, rng);
    let desc = format!("{} = {}", dotted(&path), show(&value));
    *get_mut(root, &path)? = value;
    Some(desc)
}

/// Replaces a random leaf (sometimes a whole table or array) by an edge value.
fn replace_value(root: &mut Value, rng: &mut ChaCha8Rng) -> Option<String> {
    let pool = if rng.random_ratio(9, 10) {
        weighted_leaves(root)
    } else {
        nodes(root)
    };
    let path = pool.choose(rng)?.clone();
    let value = edge_value_for(root, &path, rng);
    let desc = format!("{} = {}", dotted(&path), show(&value));
    *get_mut(root, &path)? = value;
    Some(desc)
}

/// Deletes a random key or array entry.
fn delete(root: &mut Value, rng: &mut ChaCha8Rng) -> Option<String> {
    let path = nodes(root).choose(rng)?.clone();
    let (last, parent) = path.split_last()?;
    match (last, get_mut(root, parent)?) {
        (Seg::Key(k), Value::Table(t)) => t.remove(k)?,
        (Seg::Index(i), Value::Array(a)) if *i < a.len() => a.remove(*i),
        _ => return None,
    };
    Some(format!("delete {}", dotted(&path)))
}

/// Inserts a copy of an entry of a random array (mostly an array of tables, such as
/// `ach.pulses`, when there is one) somewhere in it.
fn duplicate(root: &mut Value, rng: &mut ChaCha8Rng) -> Option<String> {
    let arrays: Vec<Vec<Seg>> = nodes(root)
        .into_iter()
        .filter(|p| matches!(get(root, p), Some(Value::Array(a)) if !a.is_empty()))
        .collect();
    let of_tables: Vec<Vec<Seg>> = arrays
        .iter()
        .filter(|p| matches!(get(root, p), Some(Value::Array(a)) if a[0].is_table()))
        .cloned()
        .collect();
    // Pairs (`uniform = [low, high]`, `range = [first, end]`) have a fixed length: a
    // third entry is a type error, tried now and then only.
    let open: Vec<Vec<Seg>> = arrays
        .iter()
        .filter(|p| matches!(get(root, p), Some(Value::Array(a)) if a.len() != 2 || a[0].is_str()))
        .cloned()
        .collect();
    let pool = if !of_tables.is_empty() && rng.random_ratio(3, 4) {
        &of_tables
    } else if !open.is_empty() && rng.random_ratio(4, 5) {
        &open
    } else if rng.random_ratio(1, 5) {
        &arrays
    } else {
        return None;
    };
    let path = pool.choose(rng)?.clone();
    let Value::Array(a) = get_mut(root, &path)? else {
        return None;
    };
    let i = rng.random_range(0..a.len());
    let copy = a[i].clone();
    let at = rng.random_range(0..=a.len());
    a.insert(at, copy);
    Some(format!("duplicate {}.{i} at index {at}", dotted(&path)))
}

/// Renames a population, projection or input (to another's name, swapping the two, or to
/// an odd name; alone or everywhere), swaps two string values, or points a string at
/// another name.
fn swap_names(root: &mut Value, rng: &mut ChaCha8Rng) -> Option<String> {
    let kind = rng.random_range(0..4);
    if kind == 3 {
        return rename_everywhere(root, rng);
    }
    if kind == 0 {
        let table = *["populations", "projections", "inputs"].choose(rng)?;
        let keys = names_of(root, table);
        let from = keys.choose(rng)?.clone();
        let mut targets = keys.clone();
        targets.extend(odd_names());
        let to = targets.choose(rng)?.clone();
        let Some(Value::Table(t)) = get_mut(root, &[Seg::Key(table.into())]) else {
            return None;
        };
        let a = t.remove(&from)?;
        let swapped = if keys.contains(&to) && to != from && rng.random_bool(0.5) {
            let b = t.remove(&to)?;
            t.insert(from.clone(), b);
            true
        } else {
            false
        };
        t.insert(to.clone(), a);
        return Some(if swapped {
            format!("swap {table}.{from} and {table}.{to}")
        } else {
            format!("rename {table}.{from} to {to:?}")
        });
    }
    let strings: Vec<Vec<Seg>> = leaves(root)
        .into_iter()
        .filter(|p| matches!(get(root, p), Some(Value::String(_))))
        .collect();
    let a = strings.choose(rng)?.clone();
    if kind == 1 {
        let b = strings.choose(rng)?.clone();
        let va = get(root, &a)?.clone();
        let vb = std::mem::replace(get_mut(root, &b)?, va);
        *get_mut(root, &a)? = vb;
        return Some(format!("swap {} and {}", dotted(&a), dotted(&b)));
    }
    let mut pool = names_of(root, "populations");
    pool.extend(names_of(root, "projections"));
    pool.extend(odd_names());
    let name = pool.choose(rng)?.clone();
    let desc = format!("{} = {name:?}", dotted(&a));
    *get_mut(root, &a)? = Value::String(name);
    Some(desc)
}

/// Renames a population, projection or input everywhere, to an odd name: its key, every
/// key equal to its name (`kwta = { cortex = 40 }`) and every string equal to it, so that
/// the config stays consistent and the name reaches the engine and the output file.
fn rename_everywhere(root: &mut Value, rng: &mut ChaCha8Rng) -> Option<String> {
    fn walk(v: &mut Value, from: &str, to: &str) {
        match v {
            Value::String(s) if s == from => *s = to.to_string(),
            Value::Array(a) => a.iter_mut().for_each(|c| walk(c, from, to)),
            Value::Table(t) => {
                let old = std::mem::take(t);
                for (k, mut c) in old {
                    walk(&mut c, from, to);
                    t.insert(if k == from { to.to_string() } else { k }, c);
                }
            }
            _ => {}
        }
    }
    let tables: Vec<&str> = ["populations", "projections", "inputs"]
        .into_iter()
        .filter(|t| !names_of(root, t).is_empty())
        .collect();
    let table = *tables.choose(rng)?;
    let from = names_of(root, table).choose(rng)?.clone();
    let to = odd_names().choose(rng)?.clone();
    walk(root, &from, &to);
    Some(format!("rename {table}.{from} to {to:?} everywhere"))
}

/// Changes the type of a leaf and keeps its value: `3200` -> `3200.0` or `"3200"`,
/// `0.1` -> `"0.1"` or `0`, a string -> `1` or `["it"]`, a boolean -> `1`.
fn retype(root: &mut Value, rng: &mut ChaCha8Rng) -> Option<String> {
    let path = leaves(root).choose(rng)?.clone();
    let v = get_mut(root, &path)?;
    let new = match &*v {
        Value::Integer(i) if rng.random_bool(0.5) => Value::Float(*i as f64),
        Value::Integer(i) => Value::String(i.to_string()),
        Value::Float(f) if rng.random_bool(0.5) && f.is_finite() => Value::Integer(*f as i64),
        Value::Float(f) => Value::String(f.to_string()),
        Value::String(s) if rng.random_bool(0.5) => Value::Array(vec![Value::String(s.clone())]),
        Value::String(_) | Value::Boolean(_) => Value::Integer(1),
        _ => return None,
    };
    let desc = format!("{} = {}", dotted(&path), show(&new));
    *v = new;
    Some(desc)
}

/// An inline table from `(key, value)` pairs.
fn table(pairs: Vec<(&str, Value)>) -> Value {
    Value::Table(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
}

fn floats(v: &[f64]) -> Value {
    Value::Array(v.iter().map(|&x| Value::Float(x)).collect())
}

/// Adds a fragment the shipped configs lack, so that mutations can reach its fields: an
/// input of each kind, an ACh pulse (into `ach.pulses`, an array of tables), or an
/// `[output]` table. Returns its description and path.
fn graft(root: &mut Value, rng: &mut ChaCha8Rng) -> Option<(String, Vec<Seg>)> {
    let mut pops = names_of(root, "populations");
    if pops.is_empty() || rng.random_ratio(1, 10) {
        pops.push("nosuch".into());
    }
    let target = Value::String(pops.choose(rng)?.clone());
    let Value::Table(t) = root else { return None };
    let kind = rng.random_range(0..6);
    if kind < 4 {
        let inputs = t
            .entry("inputs")
            .or_insert_with(|| Value::Table(Table::new()));
        let Value::Table(inputs) = inputs else {
            return None;
        };
        let existing: Vec<String> = inputs.keys().cloned().collect();
        let name = match existing.choose(rng) {
            Some(e) if rng.random_ratio(1, 5) => e.clone(),
            _ => format!("fuzz{}", existing.len()),
        };
        let input = match kind {
            0 => {
                let mut pairs = vec![
                    ("kind", Value::String("poisson".into())),
                    ("target", target),
                    ("rate_hz", Value::Float(*[5.0, 200.0, 2000.0].choose(rng)?)),
                    ("weight_pa", Value::Float(50.0)),
                    ("stop_ms", Value::Float(4.0)),
                ];
                if rng.random_bool(0.5) {
                    pairs.push((
                        "neurons",
                        table(vec![(
                            "range",
                            Value::Array(vec![Value::Integer(0), Value::Integer(20)]),
                        )]),
                    ));
                }
                table(pairs)
            }
            1 => table(vec![
                ("kind", Value::String("spike_times".into())),
                ("target", target),
                ("times_ms", floats(&[0.5, 1.0, 3.0])),
                ("weight_pa", Value::Float(300.0)),
                (
                    "neurons",
                    Value::Array(vec![Value::Integer(0), Value::Integer(3)]),
                ),
            ]),
            2 => table(vec![
                ("kind", Value::String("dc".into())),
                ("target", target),
                ("amplitude_pa", Value::Float(200.0)),
                ("start_ms", Value::Float(1.0)),
                ("stop_ms", Value::Float(3.0)),
            ]),
            _ => table(vec![
                ("kind", Value::String("step_current".into())),
                ("target", target),
                ("times_ms", floats(&[0.0, 2.0])),
                ("amplitudes_pa", floats(&[150.0, 0.0])),
            ]),
        };
        let kind_name = ["poisson", "spike_times", "dc", "step_current"][kind];
        inputs.insert(name.clone(), input);
        return Some((
            format!("add a {kind_name} input inputs.{name}"),
            vec![Seg::Key("inputs".into()), Seg::Key(name)],
        ));
    }
    if kind == 4 {
        let ach = t.entry("ach").or_insert_with(|| {
            table(vec![
                ("tonic", Value::Float(0.0)),
                ("tau_ach_ms", Value::Float(20.0)),
            ])
        });
        let Value::Table(ach) = ach else { return None };
        let pulses = ach
            .entry("pulses")
            .or_insert_with(|| Value::Array(Vec::new()));
        let Value::Array(pulses) = pulses else {
            return None;
        };
        pulses.push(table(vec![
            ("time_ms", Value::Float(1.0)),
            ("amplitude", Value::Float(1.0)),
            ("duration_ms", Value::Float(1.0)),
        ]));
        let i = pulses.len() - 1;
        return Some((
            format!("add an ACh pulse ach.pulses.{i}"),
            vec![
                Seg::Key("ach".into()),
                Seg::Key("pulses".into()),
                Seg::Index(i),
            ],
        ));
    }
    t.insert(
        "output".into(),
        table(vec![
            ("record", Value::Array(vec![target])),
            ("weights", Value::Boolean(rng.random_bool(0.5))),
        ]),
    );
    Some(("add [output]".to_string(), vec![Seg::Key("output".into())]))
}

/// A mutation of a number only, into an edge number: of a field of the config, or of a
/// grafted fragment.
fn mutate_number(root: &mut Value, rng: &mut ChaCha8Rng) -> Option<String> {
    if rng.random_ratio(7, 10) {
        return replace_number(root, rng);
    }
    let (mut desc, path) = graft(root, rng)?;
    let inner = get(root, &path)?;
    let numbers: Vec<Vec<Seg>> = leaves(inner)
        .into_iter()
        .filter(|p| is_number(inner, p))
        .collect();
    let mut full = path.clone();
    full.extend(numbers.choose(rng)?.clone());
    let value = edge_value_of(root, &full, true, rng);
    write!(desc, ", {} = {}", dotted(&full), show(&value)).ok()?;
    *get_mut(root, &full)? = value;
    Some(desc)
}

/// One structural mutation of `root`, described.
fn mutate(root: &mut Value, rng: &mut ChaCha8Rng) -> Option<String> {
    match rng.random_range(0..100) {
        0..50 => replace_value(root, rng),
        50..59 => delete(root, rng),
        // Without an array that takes one more entry, mostly a value instead.
        59..67 => duplicate(root, rng).or_else(|| replace_value(root, rng)),
        67..75 => swap_names(root, rng),
        75..82 => retype(root, rng),
        _ => {
            let (mut desc, path) = graft(root, rng)?;
            if rng.random_bool(0.6) {
                // Hit the new fragment: its fields are what the shipped configs never test.
                let inner = get(root, &path)?;
                let pick = leaves(inner).choose(rng)?.clone();
                let mut full = path.clone();
                full.extend(pick);
                let value = edge_value_for(root, &full, rng);
                write!(desc, ", {} = {}", dotted(&full), show(&value)).ok()?;
                *get_mut(root, &full)? = value;
            }
            Some(desc)
        }
    }
}

/// Bytes that matter to a TOML parser.
const SPECIAL_BYTES: &[u8] = b"[]{}=\"'\n#.,\\\t \x00\xff\xc3";

/// One mutation of the text: truncation, a flipped bit, a byte replaced or inserted, a
/// line deleted or duplicated.
fn mutate_text(text: &mut Vec<u8>, rng: &mut ChaCha8Rng) -> String {
    if text.is_empty() {
        text.push(b'[');
        return "insert '[' into the empty file".into();
    }
    let at = rng.random_range(0..text.len());
    let lines: Vec<(usize, usize)> = {
        let mut v = Vec::new();
        let mut start = 0;
        for (i, &b) in text.iter().enumerate() {
            if b == b'\n' {
                v.push((start, i + 1));
                start = i + 1;
            }
        }
        if start < text.len() {
            v.push((start, text.len()));
        }
        v
    };
    match rng.random_range(0..6) {
        0 => {
            text.truncate(at);
            format!("truncate to {at} bytes")
        }
        1 => {
            let bit = rng.random_range(0..8);
            text[at] ^= 1 << bit;
            format!("flip bit {bit} of byte {at}")
        }
        2 => {
            let b = *SPECIAL_BYTES.choose(rng).unwrap();
            text[at] = b;
            format!("byte {at} = {:?}", char::from(b))
        }
        3 => {
            let b = *SPECIAL_BYTES.choose(rng).unwrap();
            text.insert(at, b);
            format!("insert {:?} at byte {at}", char::from(b))
        }
        4 => {
            let k = rng.random_range(0..lines.len());
            let (a, b) = lines[k];
            text.drain(a..b);
            format!("delete line {}", k + 1)
        }
        _ => {
            let k = rng.random_range(0..lines.len());
            let (a, b) = lines[k];
            let line = text[a..b].to_vec();
            let mut copy = line.clone();
            if !copy.ends_with(b"\n") {
                copy.insert(0, b'\n');
            }
            text.splice(b..b, copy);
            format!("duplicate line {}", k + 1)
        }
    }
}

/// A `--set` argument: an existing path (leaf or table, with list indices) or a made-up
/// one, and an edge value (a number for a number, mostly); sometimes without `=`.
fn random_set(root: &Value, rng: &mut ChaCha8Rng) -> String {
    let existing = match rng.random_range(0..100) {
        0..75 => weighted_leaves(root).choose(rng).cloned(),
        75..85 => nodes(root).choose(rng).cloned(),
        _ => None,
    };
    let numeric = matches!(
        existing.as_ref().and_then(|p| get(root, p)),
        Some(Value::Integer(_) | Value::Float(_))
    );
    let path = existing
        .map(|p| dotted(&p))
        .unwrap_or_else(|| SET_PATHS.choose(rng).unwrap().to_string());
    // Never a long but runnable time or rate (see `long_but_runnable`).
    let timed = time_or_rate(&path);
    let pool: Vec<&str> = if numeric && rng.random_ratio(3, 4) {
        SET_NUMBERS
    } else {
        SET_VALUES
    }
    .iter()
    .copied()
    .filter(|v| !(timed && v.starts_with("429496729")))
    .collect();
    let value = pool.choose(rng).unwrap();
    match rng.random_range(0..40) {
        0 => path,
        1 => format!("={value}"),
        _ => format!("{path}={value}"),
    }
}

// ---------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------

/// One generated case: a config text, `--set` arguments, and whether it also runs.
struct Case {
    index: usize,
    /// The shipped config it started from.
    base: String,
    /// What was done to it, in order.
    mutations: Vec<String>,
    /// The config file's bytes (not always UTF-8).
    text: Vec<u8>,
    sets: Vec<String>,
    run: bool,
}

impl Case {
    /// Case `index` of `seed`: drawn from its own stream of the seed.
    fn generate(seed: u64, index: usize, bases: &[Base]) -> Case {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(index as u64);
        let base = bases.choose(&mut rng).expect("configs");
        let run = rng.random_ratio(1, RUN_ONE_IN);
        let mut root = Value::Table(base.doc.clone());
        if run {
            shrink(&mut root);
        }
        // A mutation whose result cannot be written as TOML is dropped.
        let mut mutations = Vec::new();
        let mut apply =
            |root: &mut Value,
             rng: &mut ChaCha8Rng,
             f: fn(&mut Value, &mut ChaCha8Rng) -> Option<String>| {
                let mut next = root.clone();
                if let Some(d) = f(&mut next, rng) {
                    if toml::to_string(&next).is_ok() {
                        *root = next;
                        mutations.push(d);
                    }
                }
            };
        let textual = !run && rng.random_ratio(1, 10);
        if run {
            // A run says something only about a config that gets past check: its first
            // mutation changes a number into an edge number or renames something
            // consistently; one in five gets another.
            if rng.random_ratio(1, 6) {
                apply(&mut root, &mut rng, rename_everywhere);
            } else {
                apply(&mut root, &mut rng, mutate_number);
            }
            if rng.random_ratio(1, 5) {
                apply(&mut root, &mut rng, mutate);
            }
        } else if !textual || rng.random_bool(0.3) {
            // Mostly one mutation, so that most cases get past the types to the values.
            let n = *[1, 1, 1, 1, 1, 1, 2, 2, 2, 3].choose(&mut rng).unwrap();
            for _ in 0..n {
                apply(&mut root, &mut rng, mutate);
            }
        }
        let mut text = toml::to_string(&root)
            .expect("a mutated config is written as TOML")
            .into_bytes();
        if textual {
            for _ in 0..rng.random_range(1..=2) {
                mutations.push(mutate_text(&mut text, &mut rng));
            }
        }
        let n_sets = if rng.random_ratio(1, 3) {
            rng.random_range(1..=2)
        } else {
            0
        };
        // A command line cannot hold a NUL (a path through a renamed key might).
        let sets = (0..n_sets)
            .map(|_| random_set(&root, &mut rng))
            .filter(|s| !s.contains('\0'))
            .collect();
        Case {
            index,
            base: base.name.clone(),
            mutations,
            text,
            sets,
            run,
        }
    }

    /// The config's file name: `case-00042-recall.toml`.
    fn file_name(&self) -> String {
        format!("case-{:05}-{}", self.index, self.base)
    }

    /// `engram check CONFIG --set ...`.
    fn check_args(&self, config: &Path) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec!["check".into(), config.into()];
        for s in &self.sets {
            args.push("--set".into());
            args.push(s.into());
        }
        args
    }

    /// `engram run CONFIG -o OUT --threads 1 --quiet --set ...`.
    fn run_args(&self, config: &Path, out: &Path) -> Vec<OsString> {
        let mut args: Vec<OsString> = vec![
            "run".into(),
            config.into(),
            "-o".into(),
            out.into(),
            "--threads".into(),
            "1".into(),
            "--quiet".into(),
        ];
        for s in &self.sets {
            args.push("--set".into());
            args.push(s.into());
        }
        args
    }
}

// ---------------------------------------------------------------------------------------
// Running a child
// ---------------------------------------------------------------------------------------

/// How a child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Code(i32),
    Signal(i32),
    Timeout,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Status::Code(c) => write!(f, "exit {c}"),
            Status::Signal(s) => {
                let name = match s {
                    4 => "SIGILL",
                    6 => "SIGABRT",
                    7 => "SIGBUS",
                    8 => "SIGFPE",
                    9 => "SIGKILL",
                    11 => "SIGSEGV",
                    _ => "",
                };
                write!(f, "signal {s} {name}")
            }
            Status::Timeout => write!(f, "no exit within {} s (killed)", TIMEOUT.as_secs()),
        }
    }
}

/// A finished child.
struct Proc {
    status: Status,
    stderr: String,
    /// Wall time (s).
    secs: f64,
    /// The command line, quoted for a shell, from the workspace root.
    command: String,
}

impl Proc {
    /// The last `n` lines of standard error.
    fn tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self.stderr.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// `s` quoted for a POSIX shell (paths under the workspace root made relative to it).
fn quote(s: &std::ffi::OsStr, root: &Path) -> String {
    let p = Path::new(s);
    let s = p
        .strip_prefix(root)
        .map(|r| r.to_string_lossy().into_owned())
        .unwrap_or_else(|_| s.to_string_lossy().into_owned());
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=,:".contains(&b))
    {
        s
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The shell script that caps a child's virtual memory and becomes the child.
fn capped() -> String {
    format!("ulimit -v {MEMORY_CAP_KIB}; exec \"$0\" \"$@\"")
}

/// Runs `engram ARGS` in `cwd` under the memory cap and the timeout; standard error goes
/// through the file `log`.
fn engram(args: &[OsString], cwd: &Path, log: &Path, shown: &[OsString]) -> Proc {
    let bin = env!("CARGO_BIN_EXE_engram");
    let root = repo_root();
    let mut command = format!("sh -c '{}' {}", capped(), quote(bin.as_ref(), &root));
    for a in shown {
        command.push(' ');
        command.push_str(&quote(a, &root));
    }
    let err = std::fs::File::create(log).expect("a log file");
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(capped())
        .arg(bin)
        .args(args)
        .current_dir(cwd)
        // A panic's message, not a backtrace, ends its standard error.
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .spawn()
        .expect("sh starts");
    let started = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for a child") {
            break match (st.code(), st.signal()) {
                (Some(c), _) => Status::Code(c),
                (None, Some(s)) => Status::Signal(s),
                (None, None) => Status::Signal(0),
            };
        }
        if started.elapsed() > TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break Status::Timeout;
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stderr = String::from_utf8_lossy(&std::fs::read(log).unwrap_or_default()).into_owned();
    Proc {
        status,
        stderr,
        secs: started.elapsed().as_secs_f64(),
        command,
    }
}

// ---------------------------------------------------------------------------------------
// Verdicts
// ---------------------------------------------------------------------------------------

/// What went wrong in a case.
struct Failure {
    /// `panic`, `signal`, `timeout`, ...
    category: &'static str,
    what: String,
    /// A command line that reproduces it, from the workspace root.
    command: String,
}

/// What a case gave.
struct Outcome {
    index: usize,
    check: Status,
    /// The run's status, for cases that run.
    run: Option<Status>,
    failures: Vec<Failure>,
}

/// The failures of one child's ending: panics, signals, timeouts, unknown exit codes, a
/// nonzero exit without an `error:` line first.
fn judge(what: &str, p: &Proc, command: &str, out: &mut Vec<Failure>) {
    let mut fail = |category, detail: String| {
        out.push(Failure {
            category,
            what: format!("{what}: {detail}"),
            command: command.to_string(),
        })
    };
    match p.status {
        Status::Timeout => fail("timeout", p.status.to_string()),
        Status::Signal(_) => fail("signal", p.status.to_string()),
        Status::Code(c) if c == 101 || p.stderr.contains("panicked") => {
            fail("panic", format!("exit {c}"))
        }
        Status::Code(c) if !(0..=2).contains(&c) => fail("exit code", format!("exit {c}")),
        Status::Code(c) if c != 0 && !p.stderr.starts_with("error:") => fail(
            "message",
            format!("exit {c} without an `error:` first line"),
        ),
        Status::Code(_) => {}
    }
}

/// The names in `dir`, hidden ones included, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|r| {
            r.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Runs one case in `work` (removed afterwards); a failing case's config is kept in
/// `keep`, under the name the reproducing commands use.
fn execute(case: &Case, work: &Path, keep: &Path) -> Outcome {
    let dir = work.join(format!("case-{:05}", case.index));
    std::fs::create_dir_all(&dir).expect("a case folder");
    let config = dir.join(case.file_name());
    std::fs::write(&config, &case.text).expect("write the config");
    let kept = keep.join(case.file_name());
    let mut failures = Vec::new();

    let check = engram(
        &case.check_args(&config),
        &dir,
        &dir.join("check.err"),
        &case.check_args(&kept),
    );
    judge("check", &check, &check.command, &mut failures);
    let mut with_stderr = vec![("check", check.tail(4))];

    let mut run_status = None;
    if case.run {
        let out_dir = dir.join("run");
        std::fs::create_dir_all(&out_dir).expect("a run folder");
        let out = out_dir.join("out.h5");
        let shown_out = Path::new("\"$(mktemp -d)/out.h5\"");
        let run = engram(
            &case.run_args(&config, &out),
            &out_dir,
            &dir.join("run.err"),
            &case.run_args(&kept, shown_out),
        );
        // The output's place is a shell expansion: leave it unquoted.
        let command = run
            .command
            .replace("'\"$(mktemp -d)/out.h5\"'", "\"$(mktemp -d)/out.h5\"");
        judge("run", &run, &command, &mut failures);
        let left = entries(&out_dir);
        let mut fail = |category, what: String| {
            failures.push(Failure {
                category,
                what,
                command: command.clone(),
            })
        };
        match (check.status, run.status) {
            (Status::Code(0), Status::Code(2)) => fail(
                "check/run disagree",
                "check accepted the config, run rejected it (exit 2)".into(),
            ),
            (Status::Code(2), Status::Code(0)) => fail(
                "check/run disagree",
                "check rejected the config (exit 2), run accepted it".into(),
            ),
            _ => {}
        }
        match run.status {
            Status::Code(0) if left != ["out.h5"] => fail(
                "leftover files",
                format!("run succeeded and left {left:?}, not [\"out.h5\"]"),
            ),
            Status::Code(0) => {
                let inspect_args: Vec<OsString> = vec!["inspect".into(), out.clone().into()];
                let inspect = engram(&inspect_args, &dir, &dir.join("inspect.err"), &inspect_args);
                judge("inspect", &inspect, &command, &mut failures);
                if inspect.status != Status::Code(0) {
                    failures.push(Failure {
                        category: "unreadable output",
                        what: format!("inspect of the run's output: {}", inspect.status),
                        command: command.clone(),
                    });
                }
                with_stderr.push(("inspect", inspect.tail(4)));
            }
            // A run that ended by itself, with an error or a signal, leaves nothing; one
            // that the timeout killed had no chance to clean up.
            Status::Code(_) | Status::Signal(_) if !left.is_empty() => fail(
                "leftover files",
                format!("run failed ({}) and left {left:?}", run.status),
            ),
            _ => {}
        }
        with_stderr.push(("run", run.tail(4)));
        run_status = Some((run.status, run.secs));
    }

    if !failures.is_empty() {
        std::fs::write(&kept, &case.text).expect("keep a failing case's config");
        let mut detail = format!(
            "case {} from {}: {}",
            case.index,
            case.base,
            if case.mutations.is_empty() {
                "no mutation".to_string()
            } else {
                case.mutations.join("; ")
            }
        );
        if !case.sets.is_empty() {
            write!(detail, "; --set {:?}", case.sets).unwrap();
        }
        for (what, tail) in &with_stderr {
            if !tail.is_empty() {
                write!(
                    detail,
                    "\n      {what} stderr: {}",
                    tail.replace('\n', "\n        ")
                )
                .unwrap();
            }
        }
        for f in &mut failures {
            f.what = format!("{}\n      {detail}", f.what);
        }
    }
    if std::env::var_os("FUZZ_VERBOSE").is_some() {
        report(&format!(
            "case {} {} [{}] {:?} -> check {} ({:.3} s): {}{}\n",
            case.index,
            case.base,
            case.mutations.join("; "),
            case.sets,
            check.status,
            check.secs,
            check.stderr.lines().next().unwrap_or(""),
            run_status.map_or(String::new(), |(s, secs)| format!(
                " | run {s} ({secs:.3} s)"
            )),
        ));
    }
    let _ = std::fs::remove_dir_all(&dir);
    Outcome {
        index: case.index,
        check: check.status,
        run: run_status.map(|r| r.0),
        failures,
    }
}

// ---------------------------------------------------------------------------------------
// The test
// ---------------------------------------------------------------------------------------

fn env_number<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v} is not a number")),
        Err(_) => default,
    }
}

/// Writes to the process's standard error, which the test harness does not capture.
fn report(text: &str) {
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(text.as_bytes());
    let _ = e.flush();
}

#[test]
fn mutated_configs_never_crash_hang_or_leave_files() {
    let started = Instant::now();
    let cases = env_number("FUZZ_CASES", DEFAULT_CASES);
    let seed = env_number("FUZZ_SEED", DEFAULT_SEED);
    let indices: Vec<usize> = match std::env::var("FUZZ_ONLY") {
        Ok(list) => list
            .split(',')
            .map(|s| {
                s.trim()
                    .parse()
                    .expect("FUZZ_ONLY is a list of case indices")
            })
            .collect(),
        Err(_) => (0..cases).collect(),
    };
    let bases = bases();
    let generated: Vec<Case> = indices
        .iter()
        .map(|&i| Case::generate(seed, i, &bases))
        .collect();

    let keep = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz");
    let _ = std::fs::remove_dir_all(&keep);
    std::fs::create_dir_all(&keep).expect("target/tmp/fuzz");
    let work = tempfile::tempdir().expect("a temp dir");
    let next = AtomicUsize::new(0);
    let outcomes = Mutex::new(Vec::with_capacity(generated.len()));
    std::thread::scope(|s| {
        for _ in 0..THREADS {
            s.spawn(|| {
                loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = generated.get(k) else { break };
                    let outcome = execute(case, work.path(), &keep);
                    outcomes.lock().unwrap().push(outcome);
                }
            });
        }
    });
    let mut outcomes = outcomes.into_inner().unwrap();
    outcomes.sort_by_key(|o| o.index);

    // Counts.
    let count = |f: &dyn Fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    let mut by_category: BTreeMap<&str, Vec<(usize, &Failure)>> = BTreeMap::new();
    for o in &outcomes {
        for f in &o.failures {
            by_category
                .entry(f.category)
                .or_default()
                .push((o.index, f));
        }
    }
    let n_cat = |c: &str| by_category.get(c).map_or(0, Vec::len);
    let mut text = String::new();
    writeln!(
        text,
        "\nfuzz: seed {seed}, {} cases, {:.1} s",
        outcomes.len(),
        started.elapsed().as_secs_f64()
    )
    .unwrap();
    let rows: Vec<(&str, usize)> = vec![
        ("cases", outcomes.len()),
        ("check ok (0)", count(&|o| o.check == Status::Code(0))),
        (
            "check input error (2)",
            count(&|o| o.check == Status::Code(2)),
        ),
        (
            "check runtime error (1)",
            count(&|o| o.check == Status::Code(1)),
        ),
        (
            "check other",
            count(&|o| !matches!(o.check, Status::Code(0..=2))),
        ),
        ("runs", count(&|o| o.run.is_some())),
        ("runs ok (0)", count(&|o| o.run == Some(Status::Code(0)))),
        (
            "runs failed (1 or 2)",
            count(&|o| matches!(o.run, Some(Status::Code(1 | 2)))),
        ),
        (
            "runs other",
            count(&|o| o.run.is_some_and(|s| !matches!(s, Status::Code(0..=2)))),
        ),
        ("panics", n_cat("panic")),
        ("signals", n_cat("signal")),
        ("timeouts", n_cat("timeout")),
        ("leftovers", n_cat("leftover files")),
        ("other exit codes", n_cat("exit code")),
        ("messages without error:", n_cat("message")),
        ("check/run disagree", n_cat("check/run disagree")),
        ("unreadable outputs", n_cat("unreadable output")),
        ("failing cases", count(&|o| !o.failures.is_empty())),
    ];
    for (name, n) in &rows {
        writeln!(text, "  {name:<26} {n:>6}").unwrap();
    }
    if !by_category.is_empty() {
        writeln!(
            text,
            "\nfailures by category (configs in {}; commands from the workspace root; \
             FUZZ_SEED={seed} FUZZ_ONLY=<case> reruns a case):",
            keep.display()
        )
        .unwrap();
        for (category, list) in &by_category {
            let (index, first) = list[0];
            writeln!(
                text,
                "  {category}: {} (first: case {index})\n    {}",
                list.len(),
                first.command
            )
            .unwrap();
        }
        writeln!(text, "\nfailures:").unwrap();
        let all: Vec<(usize, &Failure)> = outcomes
            .iter()
            .flat_map(|o| o.failures.iter().map(move |f| (o.index, f)))
            .collect();
        for (index, f) in all.iter().take(PRINTED_FAILURES) {
            writeln!(
                text,
                "  [{}] case {index}: {}\n    {}",
                f.category, f.what, f.command
            )
            .unwrap();
        }
        if all.len() > PRINTED_FAILURES {
            writeln!(text, "  ... and {} more", all.len() - PRINTED_FAILURES).unwrap();
        }
    }
    report(&text);
    assert!(
        by_category.is_empty(),
        "the fuzz cases found failures (see above): {}",
        by_category
            .iter()
            .map(|(c, l)| format!("{c} {}", l.len()))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
