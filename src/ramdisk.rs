//! The ramdisk an image carries: the one `build.rs` packed, plus what the user adds at image
//! build time: extra actors (`ACTORS=`, `extra-actors/`) under their file names, and files and
//! directory trees (`FILES=`, `extra-files/`) under their own names, the vfs's `/NAME`.

use std::io;
use std::path::{Path, PathBuf};

use crate::artifacts;
use crate::iso::{IsoError, io_error};

/// The folder whose `.wasm` files every image carries as extra actors (besides `ACTORS`).
pub const EXTRA_ACTORS_DIR: &str = "extra-actors";

/// The folder whose files and directories every image carries (besides `FILES`).
pub const EXTRA_FILES_DIR: &str = "extra-files";

/// What the user adds to the ramdisk.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// `.wasm` modules, each under its file name.
    pub actors: Vec<PathBuf>,
    /// Files and directory trees, each under its own name (a tree with the paths inside it).
    pub files: Vec<PathBuf>,
}

impl Extras {
    /// Everything in [`EXTRA_ACTORS_DIR`] and [`EXTRA_FILES_DIR`], then the space-separated
    /// paths of `actors` (the `ACTORS` variable) and `files` (`FILES`).
    pub fn from_env(actors: &str, files: &str) -> Extras {
        let listed = |dir: &str, keep: fn(&Path) -> bool| -> Vec<PathBuf> {
            let mut found: Vec<PathBuf> = std::fs::read_dir(artifacts::repo_root().join(dir))
                .map(|dir| dir.filter_map(|e| Some(e.ok()?.path())).filter(|p| keep(p)).collect())
                .unwrap_or_default();
            found.sort();
            found
        };
        let mut extras = Extras {
            actors: listed(EXTRA_ACTORS_DIR, |p| p.extension().is_some_and(|x| x == "wasm")),
            // Its README and .gitignore say what the folder is for; they are not for the image.
            files: listed(EXTRA_FILES_DIR, |p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n != "README.md" && !n.starts_with('.'))
            }),
        };
        extras.actors.extend(actors.split_whitespace().map(PathBuf::from));
        extras.files.extend(files.split_whitespace().map(PathBuf::from));
        extras
    }

    /// Whether there is nothing to add.
    pub fn is_empty(&self) -> bool {
        self.actors.is_empty() && self.files.is_empty()
    }
}

/// `ramdisk` (a ustar archive, read from `source`) with `extras` added; a name the archive
/// has already is refused rather than shadowed.
pub fn with_extras(source: &Path, ramdisk: Vec<u8>, extras: &Extras) -> Result<Vec<u8>, IsoError> {
    if extras.is_empty() {
        return Ok(ramdisk);
    }
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    let mut names = Vec::new();
    let mut archive = tar::Archive::new(ramdisk.as_slice());
    for entry in archive.entries().map_err(|e| io_error(source, "read", e))? {
        let mut entry = entry.map_err(|e| io_error(source, "read", e))?;
        names.push(entry.path().map_err(|e| io_error(source, "read", e))?.to_string_lossy().into_owned());
        let header = entry.header().clone();
        builder.append(&header, &mut entry).map_err(|e| io_error(source, "copy", e))?;
    }
    let mut add = |path: &Path, name: String| -> Result<(), IsoError> {
        if names.contains(&name) {
            return Err(IsoError::Extra { path: path.into(), why: "the ramdisk has a file of that name" });
        }
        builder.append_path_with_name(path, &name).map_err(|e| io_error(path, "read", e))?;
        names.push(name);
        Ok(())
    };
    for path in &extras.actors {
        let name = path.file_name().and_then(|n| n.to_str()).filter(|n| n.ends_with(".wasm"));
        let name = name.ok_or(IsoError::Extra { path: path.clone(), why: "not a .wasm file" })?;
        add(path, name.to_owned())?;
    }
    for path in &extras.files {
        for (file, name) in tree(path)? {
            add(&file, name)?;
        }
    }
    builder.into_inner().map_err(|e| io_error(source, "write", e))
}

/// The files of the ramdisk archive `tar` (read from `source`): names and bytes.
pub fn entries(source: &Path, tar: &[u8]) -> Result<Vec<(String, Vec<u8>)>, IsoError> {
    let mut files = Vec::new();
    for entry in tar::Archive::new(tar).entries().map_err(|e| io_error(source, "read", e))? {
        let mut entry = entry.map_err(|e| io_error(source, "read", e))?;
        let name = entry.path().map_err(|e| io_error(source, "read", e))?.to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        io::Read::read_to_end(&mut entry, &mut bytes).map_err(|e| io_error(source, "read", e))?;
        files.push((name, bytes));
    }
    Ok(files)
}

/// The files of `path` with their ramdisk names: a file under its own name, a directory's
/// files under `DIR/...`, sorted.
fn tree(path: &Path) -> Result<Vec<(PathBuf, String)>, IsoError> {
    let top = path.file_name().and_then(|n| n.to_str());
    let top = top.ok_or(IsoError::Extra { path: path.into(), why: "it has no name to go under" })?;
    let mut found = Vec::new();
    let mut pending = vec![(path.to_path_buf(), top.to_owned())];
    while let Some((path, name)) = pending.pop() {
        let meta = std::fs::metadata(&path).map_err(|e| io_error(&path, "read", e))?;
        if meta.is_dir() {
            let read = |e: io::Error| io_error(&path, "read", e);
            for entry in std::fs::read_dir(&path).map_err(read)? {
                let entry = entry.map_err(read)?;
                let Some(child) = entry.file_name().to_str().map(str::to_owned) else {
                    return Err(IsoError::Extra { path: entry.path(), why: "its name is not UTF-8" });
                };
                pending.push((entry.path(), format!("{name}/{child}")));
            }
        } else {
            found.push((path, name));
        }
    }
    found.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A scratch folder for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("minimalos-ramdisk-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(tar: &[u8]) -> Vec<String> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
            .collect()
    }

    fn archive_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (name, bytes) in files {
            let mut header = tar::Header::new_ustar();
            header.set_size(bytes.len() as u64);
            header.set_cksum();
            builder.append_data(&mut header, name, *bytes).unwrap();
        }
        builder.into_inner().unwrap()
    }

    #[test]
    fn files_and_trees_go_in_under_their_own_names() {
        let dir = scratch("trees");
        std::fs::create_dir_all(dir.join("data/sub")).unwrap();
        std::fs::write(dir.join("data/a.txt"), "a").unwrap();
        std::fs::write(dir.join("data/sub/b.txt"), "b").unwrap();
        std::fs::write(dir.join("notes.txt"), "n").unwrap();
        let ramdisk = archive_of(&[("hello.wasm", b"\0asm")]);
        let extras = Extras { actors: vec![], files: vec![dir.join("data"), dir.join("notes.txt")] };
        let packed = with_extras(Path::new("ramdisk.tar"), ramdisk, &extras).unwrap();
        assert_eq!(names(&packed), ["hello.wasm", "data/a.txt", "data/sub/b.txt", "notes.txt"]);
    }

    #[test]
    fn a_name_the_ramdisk_has_is_refused() {
        let dir = scratch("clash");
        std::fs::write(dir.join("hello.wasm"), "x").unwrap();
        let ramdisk = archive_of(&[("hello.wasm", b"\0asm")]);
        for extras in [
            Extras { actors: vec![dir.join("hello.wasm")], files: vec![] },
            Extras { actors: vec![], files: vec![dir.join("hello.wasm")] },
        ] {
            let refused = with_extras(Path::new("ramdisk.tar"), ramdisk.clone(), &extras).unwrap_err();
            assert!(refused.to_string().ends_with("the ramdisk has a file of that name"), "{refused}");
        }
        let missing = Extras { actors: vec![], files: vec![dir.join("nothing")] };
        assert!(with_extras(Path::new("ramdisk.tar"), ramdisk, &missing).is_err());
    }
}
