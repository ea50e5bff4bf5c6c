//! Golden outputs: every dataset a run writes (spikes, analysis, protocol, stimuli, ACh
//! trace, weights and tags) is hashed and compared with the values committed in
//! `tests/golden/`, at 1 and 2 threads. A refactoring must leave them unchanged; a
//! deliberate change of results regenerates them with
//!
//! ```sh
//! UPDATE_GOLDEN=1 cargo test --release -p engram --test cli golden
//! ```
//!
//! and the regenerated files are committed on their own, with a message that says why the
//! results changed. Provenance (`/engram`: timings, version, thread count) is not hashed.

use std::fmt::Write as _;
use std::path::Path;

use hdf5::types::{FloatSize, IntSize, TypeDescriptor, VarLenUnicode};

use crate::common::{repo_file, repo_root, run_json};

/// FNV-1a over bytes: a stable 64-bit fingerprint (not a cryptographic hash; it only has to
/// notice any change of a dataset).
fn fnv1a(bytes: impl IntoIterator<Item = u8>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn le_bytes<T: Copy, const N: usize>(v: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    v.iter().flat_map(|&x| f(x)).collect()
}

/// The bytes of a dataset or attribute, in a fixed little-endian layout, with its type.
fn container_bytes(c: &hdf5::Container) -> (String, Vec<u8>) {
    let desc = c.dtype().and_then(|t| t.to_descriptor()).expect("a type");
    let bytes = match &desc {
        TypeDescriptor::Float(FloatSize::U8) => {
            le_bytes(&c.read_raw::<f64>().unwrap(), f64::to_le_bytes)
        }
        TypeDescriptor::Float(FloatSize::U4) => {
            le_bytes(&c.read_raw::<f32>().unwrap(), f32::to_le_bytes)
        }
        TypeDescriptor::Integer(IntSize::U8) => {
            le_bytes(&c.read_raw::<i64>().unwrap(), i64::to_le_bytes)
        }
        TypeDescriptor::Integer(_) => le_bytes(&c.read_raw::<i32>().unwrap(), i32::to_le_bytes),
        TypeDescriptor::Unsigned(IntSize::U8) => {
            le_bytes(&c.read_raw::<u64>().unwrap(), u64::to_le_bytes)
        }
        TypeDescriptor::Unsigned(IntSize::U4) => {
            le_bytes(&c.read_raw::<u32>().unwrap(), u32::to_le_bytes)
        }
        TypeDescriptor::Unsigned(_) => c.read_raw::<u8>().unwrap(),
        TypeDescriptor::Boolean => c
            .read_raw::<bool>()
            .unwrap()
            .into_iter()
            .map(u8::from)
            .collect(),
        // Text may name files of the checkout (image folders): the checkout's location is
        // replaced by `<repo>`, so the fingerprint does not depend on where the tests run.
        TypeDescriptor::VarLenUnicode => {
            let root = repo_root().display().to_string();
            c.read_raw::<VarLenUnicode>()
                .unwrap()
                .iter()
                .flat_map(|s| {
                    s.as_str()
                        .replace(&root, "<repo>")
                        .into_bytes()
                        .into_iter()
                        .chain([0])
                })
                .collect()
        }
        // The SONATA `sorting` attribute: its members are in the type; the value is fixed.
        TypeDescriptor::Enum(_) => Vec::new(),
        other => panic!("golden: no hashing for type {other:?}"),
    };
    (format!("{desc:?}"), bytes)
}

/// The golden line of a dataset or attribute: `path type shape hash`.
fn line(path: &str, c: &hdf5::Container) -> String {
    let (ty, bytes) = container_bytes(c);
    format!("{path} {ty} {:?} {:016x}", c.shape(), fnv1a(bytes))
}

/// The lines of the member `name` of `loc` (at `path/name`): a group's whole tree, or one
/// line for a dataset.
fn member(loc: &hdf5::Group, path: &str, name: &str, out: &mut Vec<String>) {
    let p = format!("{path}/{name}");
    match loc.group(name) {
        Ok(g) => walk(&g, &p, out),
        Err(_) => out.push(line(&p, &loc.dataset(name).expect("a dataset"))),
    }
}

/// One line per dataset and attribute under `loc`: `path type shape hash`, sorted.
fn walk(loc: &hdf5::Group, path: &str, out: &mut Vec<String>) {
    let mut attrs = loc.attr_names().expect("attribute names");
    attrs.sort();
    for a in attrs {
        out.push(line(
            &format!("{path}@{a}"),
            &loc.attr(&a).expect("an attribute"),
        ));
    }
    let mut names = loc.member_names().expect("member names");
    names.sort();
    for name in names {
        member(loc, path, &name, out);
    }
}

/// The golden lines of an output file: everything but the provenance group `/engram` (and
/// the attributes of the root, which are not hashed).
fn fingerprint(file: &Path) -> String {
    let f = hdf5::File::open(file).unwrap_or_else(|e| panic!("open {}: {e}", file.display()));
    let mut lines = Vec::new();
    let mut names = f.member_names().expect("member names");
    names.sort();
    for name in names.iter().filter(|n| *n != "engram") {
        member(&f, "", name, &mut lines);
    }
    let mut s = String::new();
    for l in lines {
        writeln!(s, "{l}").unwrap();
    }
    s
}

/// Runs `config` at 1 and 2 threads and compares both fingerprints with
/// `tests/golden/<name>.txt`.
fn check(name: &str, config: &str, extra: &[&str]) {
    let tmp = tempfile::tempdir().expect("a temp dir");
    let mut prints = Vec::new();
    for threads in ["1", "2"] {
        let out = tmp.path().join(format!("{name}-{threads}.h5"));
        let mut args = vec!["--threads", threads, "--set", "output.weights=true"];
        args.extend_from_slice(extra);
        run_json(&repo_file(config), &out, &args);
        prints.push(fingerprint(&out));
    }
    assert_eq!(
        prints[0], prints[1],
        "{name}: 1 and 2 threads give different outputs"
    );
    let golden = repo_file(&format!("tests/golden/{name}.txt"));
    let header = format!(
        "# golden fingerprint of `engram run {config} --set output.weights=true {}`\n\
         # regenerate deliberately: UPDATE_GOLDEN=1 cargo test --release -p engram --test cli golden\n",
        extra.join(" ")
    );
    let text = format!("{header}{}", prints[0]);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
        std::fs::write(&golden, &text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; create it with UPDATE_GOLDEN=1 (see crates/runner/tests/golden.rs)",
            golden.display()
        )
    });
    if want != text {
        let diff: Vec<String> = want
            .lines()
            .zip(text.lines())
            .filter(|(a, b)| a != b)
            .take(20)
            .map(|(a, b)| format!("  golden: {a}\n  now:    {b}"))
            .collect();
        panic!(
            "{name}: output differs from {} ({} vs {} lines):\n{}",
            golden.display(),
            want.lines().count(),
            text.lines().count(),
            diff.join("\n")
        );
    }
}

#[test]
fn golden_cuba() {
    check(
        "cuba",
        "configs/cuba.toml",
        &["--set", "simulation.duration_ms=200"],
    );
}

#[test]
fn golden_coba() {
    check(
        "coba",
        "configs/coba.toml",
        &["--set", "simulation.duration_ms=200"],
    );
}

#[test]
fn golden_recall() {
    check("recall", "configs/recall.toml", &[]);
}

#[test]
fn golden_recall_images() {
    check("recall-images", "configs/recall-images.toml", &[]);
}

#[test]
fn golden_gap_ach() {
    check("gap_ach", "tests/configs/gap_ach.toml", &[]);
}
