//! The file system checks: a small tree built, changed and removed under `DIR/wasi_check`, then
//! the errors a program relies on telling apart. Each check builds on the ones before it, as a
//! program's own file work would; a failure early on shows up again later, with its own step.

use std::fmt::Debug;
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{Options, Outcome, Report, Step};

/// The first file's contents once appended to.
const TEXT: &str = "hello\nworld\n";

pub fn run(report: &mut Report, options: &Options) {
    let root = options.dir.join("wasi_check");
    report.check("fs_create_dir_all", create_dir_all(&root));
    report.check("fs_write_read", write_read(&root));
    report.check("fs_append", append(&root));
    report.check("fs_seek", seek(&root));
    report.check("fs_set_len", set_len(&root));
    report.check("fs_read_dir", read_dir(&root));
    report.check("fs_metadata", metadata(&root));
    report.check("fs_times", times(&root));
    report.check("fs_rename", rename(&root));
    report.check("fs_remove", remove(&root));
    report.check("fs_not_found", not_found(&options.dir));
    report.check("fs_read_directory", read_directory(&options.dir));
    match &options.file {
        Some(file) => report.check("fs_read_only_file", read_only_file(file)),
        None => report.skip("fs_read_only_file", "no FILE argument"),
    }
    report.check("fs_write_root_denied", write_root_denied());
}

/// Reads `path` whole, as text.
fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).at(&format!("read {}", path.display()))
}

/// Passes when `got` is `want`, and says both when not.
fn expect<T: Debug>(what: &str, got: impl Debug + PartialEq<T>, want: T) -> Outcome {
    match got == want {
        true => Ok(()),
        false => Err(format!("{what}: got {got:?}, want {want:?}")),
    }
}

fn create_dir_all(root: &Path) -> Outcome {
    // What an earlier run that stopped half-way left behind would change the listings.
    if root.exists() {
        fs::remove_dir_all(root).at("remove an earlier run's tree")?;
    }
    let nested = root.join("nested/deeper");
    fs::create_dir_all(&nested).at("create_dir_all")?;
    // A second time is not an error: the directories are there already.
    fs::create_dir_all(&nested).at("create_dir_all again")?;
    expect("nested/deeper is a directory", nested.is_dir(), true)
}

fn write_read(root: &Path) -> Outcome {
    let path = root.join("file.txt");
    fs::write(&path, "hello\n").at("write")?;
    expect("contents", read(&path)?, "hello\n")
}

fn append(root: &Path) -> Outcome {
    let path = root.join("file.txt");
    let mut file = OpenOptions::new().append(true).open(&path).at("open to append")?;
    file.write_all(b"world\n").at("append")?;
    drop(file);
    expect("contents", read(&path)?, TEXT)
}

fn seek(root: &Path) -> Outcome {
    let mut file = File::open(root.join("file.txt")).at("open")?;
    let mut read_at = |from: SeekFrom, len: usize| -> Result<String, String> {
        file.seek(from).at(&format!("seek {from:?}"))?;
        let mut buf = vec![0; len];
        file.read_exact(&mut buf).at(&format!("read after seek {from:?}"))?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    expect("from the start", read_at(SeekFrom::Start(6), 5)?, "world")?;
    expect("from the end", read_at(SeekFrom::End(-6), 6)?, "world\n")?;
    expect("first two", read_at(SeekFrom::Start(0), 2)?, "he")?;
    // Relative to where the read above left off: skips one byte.
    expect("from the current position", read_at(SeekFrom::Current(1), 2)?, "lo")
}

fn set_len(root: &Path) -> Outcome {
    let path = root.join("file.txt");
    let file = OpenOptions::new().write(true).open(&path).at("open to write")?;
    file.set_len(100).at("grow")?;
    expect("length after growing", file.metadata().at("metadata")?.len(), 100)?;
    let grown = fs::read(&path).at("read grown")?;
    // Growing fills with zeros: a host that leaves old bytes there leaks data.
    expect("grown tail is zeros", grown[TEXT.len()..].iter().all(|&b| b == 0), true)?;
    file.set_len(5).at("shrink")?;
    expect("length after shrinking", file.metadata().at("metadata")?.len(), 5)?;
    drop(file);
    expect("contents after shrinking", read(&path)?, "hello")
}

fn read_dir(root: &Path) -> Outcome {
    fs::write(root.join("other.txt"), "other").at("write other.txt")?;
    let mut names = Vec::new();
    for entry in fs::read_dir(root).at("read_dir")? {
        names.push(entry.at("next entry")?.file_name().to_string_lossy().into_owned());
    }
    // Directory order is the host's business; the set of names is not.
    names.sort();
    expect("entries", names, ["file.txt", "nested", "other.txt"])
}

fn metadata(root: &Path) -> Outcome {
    let file = fs::metadata(root.join("file.txt")).at("metadata of file.txt")?;
    let dir = fs::metadata(root.join("nested")).at("metadata of nested")?;
    expect("file.txt (is_file, is_dir)", (file.is_file(), file.is_dir()), (true, false))?;
    expect("nested (is_file, is_dir)", (dir.is_file(), dir.is_dir()), (false, true))?;
    expect("file.txt's length", file.len(), 5)
}

/// A file written a moment ago was modified about now, and its times can be set.
fn times(root: &Path) -> Outcome {
    let path = root.join("file.txt");
    let modified = fs::metadata(&path).and_then(|m| m.modified()).at("modified time of file.txt")?;
    let age = SystemTime::now().duration_since(modified).unwrap_or_default();
    if age > Duration::from_secs(60) {
        return Err(format!("file.txt was modified {age:?} ago, not just now"));
    }
    let set = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    let file = File::options().write(true).open(&path).at("open file.txt to set its times")?;
    file.set_times(fs::FileTimes::new().set_accessed(set).set_modified(set)).at("set times of file.txt")?;
    let metadata = fs::metadata(&path).at("metadata after setting times")?;
    expect("modified time set", metadata.modified().at("modified")?, set)?;
    expect("accessed time set", metadata.accessed().at("accessed")?, set)
}

fn rename(root: &Path) -> Outcome {
    let (file, moved, other) = (root.join("file.txt"), root.join("moved.txt"), root.join("other.txt"));
    fs::rename(&file, &moved).at("rename to a new name")?;
    expect("old name gone", file.exists(), false)?;
    expect("moved contents", read(&moved)?, "hello")?;
    // Over an existing file: replaces it in one step, as POSIX rename does.
    fs::rename(&moved, &other).at("rename over an existing file")?;
    expect("source gone", moved.exists(), false)?;
    expect("replaced contents", read(&other)?, "hello")
}

fn remove(root: &Path) -> Outcome {
    if fs::remove_dir(root).is_ok() {
        return Err("remove_dir removed a directory that was not empty".into());
    }
    fs::remove_file(root.join("other.txt")).at("remove_file")?;
    expect("file gone", root.join("other.txt").exists(), false)?;
    fs::remove_dir(root.join("nested/deeper")).at("remove_dir nested/deeper")?;
    fs::remove_dir(root.join("nested")).at("remove_dir nested")?;
    fs::remove_dir(root).at("remove_dir of the emptied root")?;
    expect("tree gone", root.exists(), false)
}

fn not_found(dir: &Path) -> Outcome {
    match File::open(dir.join("wasi_check.missing")) {
        Ok(_) => Err("a missing file opened".into()),
        Err(e) => expect("error kind", e.kind(), ErrorKind::NotFound),
    }
}

fn read_directory(dir: &Path) -> Outcome {
    // Opening a directory may succeed (it does on POSIX hosts); reading it as bytes must not.
    match fs::read(dir) {
        Ok(bytes) => Err(format!("read {} bytes from a directory", bytes.len())),
        Err(_) => Ok(()),
    }
}

fn read_only_file(path: &Path) -> Outcome {
    let bytes = fs::read(path).at(&format!("read {}", path.display()))?;
    println!("read {}: {} bytes", path.display(), bytes.len());
    match bytes.is_empty() {
        true => Err("empty".into()),
        false => Ok(()),
    }
}

fn write_root_denied() -> Outcome {
    let path = Path::new("/wasi_check.denied");
    match fs::write(path, "must not be written") {
        Ok(()) => {
            let _ = fs::remove_file(path);
            Err("wrote a file at the root, outside the writable directory".into())
        }
        Err(e) => {
            println!("write under /: {:?} ({e})", e.kind());
            Ok(())
        }
    }
}
