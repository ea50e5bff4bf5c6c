//! Where a run's file may be written, and how it takes its final name.
//!
//! engram writes only regular files, and a file at its final name is always complete:
//!
//! - [`OutputPath::check`] refuses, before anything runs, a path that ends with `/` or names
//!   `.` or `..`, a path whose folder is not a folder, and a path that exists and is not a
//!   regular file (a folder, a FIFO, a device, a socket), `--force` or not.
//! - A **symbolic link** to a regular file is written through: the file is written in the
//!   folder of the link's (fully resolved) target and renamed onto the target, so the link
//!   stays a link and now names the new file. A dangling link, or a link to anything but a
//!   regular file, is refused.
//! - The file is written as `.<name>.tmp-<pid>` in the target's folder
//!   ([`temporary_path`]); a [`TemporaryFile`] guard removes it on every path that does not
//!   publish it (errors, interruptions, panics that unwind).
//! - Publishing checks the target again (it may have changed during the run) and never
//!   replaces anything but a regular file. [`Publish::Replace`] renames the temporary file
//!   onto the target (an atomic replacement). [`Publish::Exclusive`] links it to the target
//!   with `hard_link`, which fails if a file appeared there in the meantime (another run
//!   to the same path): that file is kept and this run's file is removed. On a file system
//!   without hard links, an existence check and a rename take its place, which leaves a
//!   small window (between the check and the rename) in which a file written by another
//!   process could still be replaced.
//! - [`remove_stale_temporaries`] removes the temporary files that killed processes left
//!   (a `SIGKILL` or a power cut leaves `.<name>.tmp-<pid>`; nothing can run then).

use std::fs::FileType;
use std::path::{Path, PathBuf};

/// `.<name>.tmp-<pid>` beside `path`, with this process's id: where a file is written
/// before it is renamed to `path`, so that a crash never leaves a file that looks complete.
pub fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// The name a temporary file stands for and the id of the process that wrote it, if
/// `file_name` is exactly `.<name>.tmp-<pid>` (`<name>` not empty, `<pid>` decimal digits
/// only); `None` for every other name.
pub fn parse_temporary(file_name: &str) -> Option<(&str, u32)> {
    let rest = file_name.strip_prefix('.')?;
    let (name, pid) = rest.rsplit_once(".tmp-")?;
    if name.is_empty() || pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let pid: u32 = pid.parse().ok()?;
    (pid > 0).then_some((name, pid))
}

/// What is wrong with an output path (see [`OutputError`]).
#[derive(Debug, thiserror::Error)]
pub enum OutputProblem {
    /// The path ends with `/`, or its last component is `.` or `..`.
    #[error("names a folder, not a file (it ends with '/', '.' or '..'); give a file name")]
    NotAFileName,
    /// Something other than a regular file is there.
    #[error("exists and is not a regular file ({0}); engram writes only regular files")]
    NotRegular(&'static str),
    /// The folder the file would go into exists and is not a folder.
    #[error("{} exists and is not a folder ({kind})", folder.display())]
    FolderNotAFolder {
        /// The folder (the path's parent, or the nearest existing ancestor).
        folder: PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// A symbolic link that leads nowhere.
    #[error(
        "is a symbolic link to {}, which does not exist; engram writes through a link only \
         onto an existing regular file",
        target.display()
    )]
    DanglingLink {
        /// Where the link points.
        target: PathBuf,
    },
    /// A symbolic link to a folder, a FIFO, a device, ...
    #[error(
        "is a symbolic link to {}, which is not a regular file ({kind}); engram writes only \
         regular files",
        target.display()
    )]
    LinkToNonRegular {
        /// Where the link points.
        target: PathBuf,
        /// What is there.
        kind: &'static str,
    },
    /// A file exists and was not to be replaced.
    #[error("exists")]
    Exists,
    /// Something other than a regular file appeared at the path while the run was writing.
    #[error(
        "became {0} while the run was writing; it was left alone and this run's output was \
         discarded"
    )]
    Changed(&'static str),
    /// A file appeared at the path while the run was writing, and was not to be replaced.
    #[error(
        "was created by another process while this run was writing; that file was kept and \
         this run's output was discarded"
    )]
    Appeared,
    /// The file system refused.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// An output path that cannot be written, and why.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct OutputError {
    /// The path.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: OutputProblem,
}

impl OutputError {
    fn new(path: &Path, problem: impl Into<OutputProblem>) -> OutputError {
        OutputError {
            path: path.to_path_buf(),
            problem: problem.into(),
        }
    }
}

/// What a file type is, in words.
pub fn describe(ft: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        "a folder"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

/// An output path that passed [`OutputPath::check`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPath {
    /// The path as given.
    pub given: PathBuf,
    /// Where the file is written: `given`, or for a symbolic link the regular file it
    /// leads to (fully resolved).
    pub target: PathBuf,
    /// Whether a regular file is at `target` now.
    pub exists: bool,
}

impl OutputPath {
    /// Checks that a file may be written at `path` (see the module docs): its name, its
    /// folder, and what is there now. Touches nothing.
    pub fn check(path: &Path) -> Result<OutputPath, OutputError> {
        if !names_a_file(path) {
            return Err(OutputError::new(path, OutputProblem::NotAFileName));
        }
        match std::fs::symlink_metadata(path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(path).unwrap_or_default();
                let target = match std::fs::canonicalize(path) {
                    Ok(t) => t,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(OutputError::new(
                            path,
                            OutputProblem::DanglingLink { target: link },
                        ));
                    }
                    Err(e) => return Err(OutputError::new(path, e)),
                };
                let meta = std::fs::metadata(&target).map_err(|e| OutputError::new(path, e))?;
                if !meta.is_file() {
                    return Err(OutputError::new(
                        path,
                        OutputProblem::LinkToNonRegular {
                            target: link,
                            kind: describe(&meta.file_type()),
                        },
                    ));
                }
                Ok(OutputPath {
                    given: path.to_path_buf(),
                    target,
                    exists: true,
                })
            }
            Ok(meta) if meta.is_file() => Ok(OutputPath {
                given: path.to_path_buf(),
                target: path.to_path_buf(),
                exists: true,
            }),
            Ok(meta) => Err(OutputError::new(
                path,
                OutputProblem::NotRegular(describe(&meta.file_type())),
            )),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                check_folder(path)?;
                Ok(OutputPath {
                    given: path.to_path_buf(),
                    target: path.to_path_buf(),
                    exists: false,
                })
            }
            Err(e) => {
                // ENOTDIR and the like: a component of the folder is no folder.
                check_folder(path)?;
                Err(OutputError::new(path, e))
            }
        }
    }

    /// The folder the file is written in (`.` for a bare file name).
    pub fn folder(&self) -> PathBuf {
        match self.target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }
}

/// Whether `path` can name a file: not empty, no trailing separator, and its last
/// component is not `.` or `..` (`Path::file_name` forgives `x/` and `x/.`; the file
/// system does not).
fn names_a_file(path: &Path) -> bool {
    let text = path.to_string_lossy();
    let last = text.rsplit(std::path::is_separator).next().unwrap_or("");
    !last.is_empty() && last != "." && last != ".."
}

/// The nearest existing ancestor of `path`'s folder must be a folder (the missing ones are
/// created when the file is).
fn check_folder(path: &Path) -> Result<(), OutputError> {
    let Some(parent) = path.parent() else {
        return Ok(());
    };
    for folder in parent.ancestors() {
        let folder = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        };
        match std::fs::metadata(folder) {
            Ok(m) if m.is_dir() => return Ok(()),
            Ok(m) => {
                return Err(OutputError::new(
                    path,
                    OutputProblem::FolderNotAFolder {
                        folder: folder.to_path_buf(),
                        kind: describe(&m.file_type()),
                    },
                ));
            }
            Err(_) => continue,
        }
    }
    Ok(())
}

/// How a finished file takes its final name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publish {
    /// Replace a regular file at the target (atomically, by `rename`).
    Replace,
    /// Fail if anything is at the target when the file is finished: a file that appeared
    /// during the run (another run to the same path) is kept.
    Exclusive,
}

/// A temporary file that is removed when the guard is dropped, unless it was published.
#[derive(Debug)]
pub struct TemporaryFile {
    path: PathBuf,
    armed: bool,
}

impl TemporaryFile {
    /// Guards `path` (which need not exist yet): dropping the guard removes it.
    pub fn new(path: PathBuf) -> TemporaryFile {
        TemporaryFile { path, armed: true }
    }

    /// The guarded path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Gives the temporary file its final name `target` (see [`Publish`]), after checking
    /// that nothing but a regular file is there. On success the guard is spent; on failure
    /// it is dropped, which removes the temporary file.
    pub fn publish(mut self, target: &Path, how: Publish) -> Result<(), OutputError> {
        match std::fs::symlink_metadata(target) {
            Ok(m) if !m.file_type().is_file() => {
                return Err(OutputError::new(
                    target,
                    OutputProblem::Changed(describe(&m.file_type())),
                ));
            }
            Ok(_) if how == Publish::Exclusive => {
                return Err(OutputError::new(target, OutputProblem::Appeared));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(OutputError::new(target, e)),
        }
        match how {
            Publish::Replace => {
                std::fs::rename(&self.path, target).map_err(|e| OutputError::new(target, e))?;
                self.armed = false;
            }
            Publish::Exclusive => match std::fs::hard_link(&self.path, target) {
                // The guard removes the temporary name; the target keeps the file.
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(OutputError::new(target, OutputProblem::Appeared));
                }
                Err(_) => {
                    // No hard links here: check, then rename (not atomic; see the module
                    // docs).
                    if std::fs::symlink_metadata(target).is_ok() {
                        return Err(OutputError::new(target, OutputProblem::Appeared));
                    }
                    std::fs::rename(&self.path, target).map_err(|e| OutputError::new(target, e))?;
                    self.armed = false;
                }
            },
        }
        Ok(())
    }
}

impl Drop for TemporaryFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Which temporary files [`remove_stale_temporaries`] may remove.
#[derive(Clone, Copy)]
pub enum Stale<'a> {
    /// Those whose writer no longer runs: no `/proc/<pid>` (on a system without `/proc`,
    /// none: they are only reported). The check is local: a process of another machine
    /// (or PID namespace) writing into a shared folder looks dead.
    DeadWriters,
    /// Those standing for the names that the function accepts, whoever wrote them: the
    /// caller is about to write these names and knows that no other process does.
    Names(&'a dyn Fn(&str) -> bool),
}

/// A temporary file that [`remove_stale_temporaries`] found.
#[derive(Debug)]
pub struct Leftover {
    /// Its path.
    pub path: PathBuf,
    /// The process that wrote it.
    pub pid: u32,
    /// What became of it.
    pub fate: Fate,
}

/// What [`remove_stale_temporaries`] did with a [`Leftover`].
#[derive(Debug)]
pub enum Fate {
    /// Removed.
    Removed,
    /// Left in place: whether its writer still runs cannot be told (no `/proc`).
    Unknown,
    /// Removing it failed.
    Failed(std::io::Error),
}

impl std::fmt::Display for Leftover {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (path, pid) = (self.path.display(), self.pid);
        match &self.fate {
            Fate::Removed => write!(
                f,
                "removed {path}, a temporary file left by process {pid}, which no longer runs"
            ),
            Fate::Unknown => write!(
                f,
                "found {path}, a temporary file of process {pid}; left in place (no /proc to \
                 tell whether it still runs): remove it if no engram writes it"
            ),
            Fate::Failed(e) => write!(f, "cannot remove the temporary file {path}: {e}"),
        }
    }
}

/// Whether process `pid` runs, where `/proc` tells (`None` without `/proc`).
fn process_runs(pid: u32) -> Option<bool> {
    if !Path::new("/proc/self").exists() {
        return None;
    }
    Some(Path::new("/proc").join(pid.to_string()).exists())
}

/// Removes the temporary files in `dir` that no running process writes, as `which` says;
/// returns what it found, removed or not. Only regular files named exactly
/// `.<name>.tmp-<pid>` ([`parse_temporary`]) are considered; everything else stays. A
/// missing or unreadable folder holds nothing.
pub fn remove_stale_temporaries(dir: &Path, which: Stale<'_>) -> Vec<Leftover> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let own = std::process::id();
    let mut found = Vec::new();
    for e in entries.flatten() {
        let file_name = e.file_name();
        let Some((name, pid)) = file_name.to_str().and_then(parse_temporary) else {
            continue;
        };
        if !e.file_type().is_ok_and(|t| t.is_file()) {
            continue;
        }
        let remove = match which {
            Stale::Names(ours) => {
                if !ours(name) {
                    continue;
                }
                true
            }
            Stale::DeadWriters => match process_runs(pid) {
                _ if pid == own => continue,
                Some(true) => continue,
                Some(false) => true,
                None => false,
            },
        };
        let fate = if !remove {
            Fate::Unknown
        } else {
            match std::fs::remove_file(e.path()) {
                Ok(()) => Fate::Removed,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => Fate::Failed(e),
            }
        };
        found.push(Leftover {
            path: e.path(),
            pid,
            fate,
        });
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_parse_exactly() {
        assert_eq!(parse_temporary(".x.h5.tmp-123"), Some(("x.h5", 123)));
        assert_eq!(parse_temporary(".a.tmp-b.tmp-7"), Some(("a.tmp-b", 7)));
        for other in [
            "x.h5.tmp-123",
            ".x.h5.tmp-",
            ".x.h5.tmp-notapid",
            ".x.h5.tmp-12a",
            ".x.h5.tmp-+12",
            ".x.h5.tmp-0",
            ".x.h5.tmp-99999999999",
            "..tmp-1",
            ".tmp-1",
            ".x.h5.tmp-1.bak",
            "x.h5",
        ] {
            assert_eq!(parse_temporary(other), None, "{other}");
        }
        let p = temporary_path(Path::new("a/b.h5"));
        let name = p.file_name().and_then(|n| n.to_str()).expect("a name");
        assert_eq!(parse_temporary(name), Some(("b.h5", std::process::id())));
    }

    #[test]
    fn names_that_are_no_file_names() {
        for bad in ["", "x/", "x/.", "x/..", ".", "..", "/", "a/b//"] {
            assert!(!names_a_file(Path::new(bad)), "{bad}");
        }
        for good in ["x", "x.h5", "a/b.h5", "./x.h5", "../x.h5", ".x"] {
            assert!(names_a_file(Path::new(good)), "{good}");
        }
    }

    #[test]
    fn the_guard_removes_its_file_unless_published() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let tmp = dir.path().join(".a.tmp-1");
        std::fs::write(&tmp, "x").expect("written");
        drop(TemporaryFile::new(tmp.clone()));
        assert!(!tmp.exists());

        // Exclusive onto a new name: published.
        std::fs::write(&tmp, "new").expect("written");
        let target = dir.path().join("a");
        TemporaryFile::new(tmp.clone())
            .publish(&target, Publish::Exclusive)
            .expect("published");
        assert!(!tmp.exists());
        assert_eq!(std::fs::read(&target).expect("read"), b"new");

        // Exclusive onto an existing file: refused, the old file kept, the new one gone.
        std::fs::write(&tmp, "newer").expect("written");
        let e = TemporaryFile::new(tmp.clone())
            .publish(&target, Publish::Exclusive)
            .expect_err("refused");
        assert!(matches!(e.problem, OutputProblem::Appeared), "{e}");
        assert!(!tmp.exists());
        assert_eq!(std::fs::read(&target).expect("read"), b"new");

        // Replace: replaced.
        std::fs::write(&tmp, "newest").expect("written");
        TemporaryFile::new(tmp.clone())
            .publish(&target, Publish::Replace)
            .expect("published");
        assert_eq!(std::fs::read(&target).expect("read"), b"newest");

        // A folder at the target: never replaced, the temporary file removed.
        let folder = dir.path().join("d");
        std::fs::create_dir(&folder).expect("a folder");
        std::fs::write(&tmp, "x").expect("written");
        let e = TemporaryFile::new(tmp.clone())
            .publish(&folder, Publish::Replace)
            .expect_err("refused");
        assert!(
            matches!(e.problem, OutputProblem::Changed("a folder")),
            "{e}"
        );
        assert!(!tmp.exists());
        assert!(folder.is_dir());
    }

    #[cfg(unix)]
    #[test]
    fn paths_are_checked() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let d = dir.path();
        let file = d.join("f.h5");
        std::fs::write(&file, "x").expect("written");
        let ok = OutputPath::check(&file).expect("a regular file");
        assert!(ok.exists);
        assert_eq!(ok.target, file);
        let new = OutputPath::check(&d.join("sub/new.h5")).expect("a new file");
        assert!(!new.exists);

        let problem = |p: &Path| OutputPath::check(p).expect_err("refused").problem;
        assert!(matches!(problem(d), OutputProblem::NotRegular("a folder")));
        assert!(matches!(
            problem(&d.join("x/")),
            OutputProblem::NotAFileName
        ));
        assert!(matches!(
            problem(&file.join("x.h5")),
            OutputProblem::FolderNotAFolder { .. }
        ));
        assert!(matches!(
            problem(&file.join("a/b/x.h5")),
            OutputProblem::FolderNotAFolder { .. }
        ));
        assert!(matches!(
            problem(Path::new("/dev/null")),
            OutputProblem::NotRegular("a character device")
        ));

        let link = d.join("link.h5");
        std::os::unix::fs::symlink(&file, &link).expect("a link");
        let through = OutputPath::check(&link).expect("a link to a file");
        assert_eq!(through.target, file.canonicalize().expect("resolves"));
        assert_eq!(through.given, link);
        let dangling = d.join("dangling.h5");
        std::os::unix::fs::symlink(d.join("nothing"), &dangling).expect("a link");
        assert!(matches!(
            problem(&dangling),
            OutputProblem::DanglingLink { .. }
        ));
        let to_dir = d.join("to_dir.h5");
        std::os::unix::fs::symlink(d, &to_dir).expect("a link");
        assert!(matches!(
            problem(&to_dir),
            OutputProblem::LinkToNonRegular {
                kind: "a folder",
                ..
            }
        ));
    }

    #[test]
    fn stale_temporaries_of_dead_or_named_writers_go() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let d = dir.path();
        let own = std::process::id();
        let keep = [
            format!(".x.h5.tmp-{own}"),
            ".x.h5.tmp-notapid".into(),
            "x.h5".into(),
            "x.h5.tmp-4".into(),
            ".x.h5.tmp-4.bak".into(),
        ];
        for f in &keep {
            std::fs::write(d.join(f), "x").expect("written");
        }
        // Not a regular file: kept whatever its name.
        std::fs::create_dir(d.join(".y.h5.tmp-4194305")).expect("a folder");
        // 4194305 is above Linux's largest pid (2^22).
        std::fs::write(d.join(".x.h5.tmp-4194305"), "x").expect("written");
        let found = remove_stale_temporaries(d, Stale::DeadWriters);
        if Path::new("/proc/self").exists() {
            assert_eq!(found.len(), 1, "{found:?}");
            assert!(matches!(found[0].fate, Fate::Removed));
            assert!(!d.join(".x.h5.tmp-4194305").exists());
        }
        for f in &keep {
            assert!(d.join(f).exists(), "{f}");
        }
        assert!(d.join(".y.h5.tmp-4194305").is_dir());

        // By name: whoever wrote them.
        let found = remove_stale_temporaries(d, Stale::Names(&|n| n == "x.h5"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(!d.join(format!(".x.h5.tmp-{own}")).exists());
        assert!(d.join(".x.h5.tmp-notapid").exists());
    }
}
