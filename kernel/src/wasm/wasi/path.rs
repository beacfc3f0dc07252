//! Path resolution for WASI: a path a program passes, relative to one of its directory
//! descriptors, becomes an absolute vfs path, or an errno. This is where a program's reach is
//! decided, so the rules are few and strict:
//!
//! - the path is relative: an absolute one is refused (`EPERM`), as wasmtime does;
//! - `.` and empty components are dropped; `..` goes up one level, but never above the
//!   preopened directory the descriptor descends from (`EPERM`);
//! - every component and the result fit the vfs protocol's limits (`ENAMETOOLONG`); the path
//!   is UTF-8 (`EILSEQ`) without NUL (`EINVAL`).
//!
//! The vfs has no links, so nothing else can lead a path outside its directory.

use alloc::string::String;
use alloc::vec::Vec;

use protocol::vfs::{MAX_NAME, MAX_PATH};

use super::errno::Errno;

/// A path resolved inside a preopened directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The absolute vfs path.
    pub path: String,
    /// Whether the program's path ended in `/` (then it must name a directory).
    pub trailing_slash: bool,
    /// Whether it named the preopened directory itself (which cannot be removed or renamed).
    pub is_root: bool,
}

/// Resolves `path`, relative to the directory at the vfs path `dir`, which lies at or below the
/// preopened vfs directory `root` (both absolute and normalised: no `.`, `..` or empty
/// components, no trailing `/` except for `/` itself).
pub fn resolve(root: &str, dir: &str, path: &[u8]) -> Result<Resolved, Errno> {
    let path = core::str::from_utf8(path).map_err(|_| Errno::ILSEQ)?;
    if path.contains('\0') {
        return Err(Errno::INVAL);
    }
    if path.starts_with('/') {
        return Err(Errno::PERM);
    }
    if path.is_empty() {
        return Err(Errno::NOENT);
    }
    // The directory's components below the root: `..` may take these away, and no more.
    let below = dir
        .strip_prefix(root)
        .filter(|below| root == "/" || below.is_empty() || below.starts_with('/'))
        .ok_or(Errno::PERM)?;
    let mut parts: Vec<&str> = components(below).collect();
    for part in components(path) {
        match part {
            ".." => {
                parts.pop().ok_or(Errno::PERM)?;
            }
            name if name.len() > MAX_NAME => return Err(Errno::NAMETOOLONG),
            name => parts.push(name),
        }
    }
    let is_root = parts.is_empty();
    let mut resolved = String::from(root);
    for part in parts {
        if !resolved.ends_with('/') {
            resolved.push('/');
        }
        resolved.push_str(part);
    }
    if resolved.len() > MAX_PATH {
        return Err(Errno::NAMETOOLONG);
    }
    Ok(Resolved { path: resolved, trailing_slash: path.ends_with('/'), is_root })
}

/// The non-empty components of `path` other than `.`.
fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty() && *c != ".")
}

/// `path` normalised as the directories [`resolve`] takes are: absolute, without `.`, `..` or
/// empty components (`..` at `/` stays at `/`), no trailing `/`. `None` if it is not absolute.
pub fn normalise(path: &str) -> Option<String> {
    if !path.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in components(path) {
        if part == ".." {
            parts.pop();
        } else {
            parts.push(part);
        }
    }
    let mut normal = String::new();
    for part in &parts {
        normal.push('/');
        normal.push_str(part);
    }
    if normal.is_empty() {
        normal.push('/');
    }
    Some(normal)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(root: &str, dir: &str, path: &str) -> Result<String, Errno> {
        resolve(root, dir, path.as_bytes()).map(|r| r.path)
    }

    #[test]
    fn relative_paths_land_below_the_directory() {
        assert_eq!(at("/tmp", "/tmp", "a/b.txt"), Ok("/tmp/a/b.txt".into()));
        assert_eq!(at("/tmp", "/tmp/a", "./b//c/"), Ok("/tmp/a/b/c".into()));
        assert_eq!(at("/", "/", "hello.wasm"), Ok("/hello.wasm".into()));
        assert_eq!(at("/", "/test", "../hello.wasm"), Ok("/hello.wasm".into()));
        assert_eq!(at("/tmp", "/tmp", "a/../b"), Ok("/tmp/b".into()));
        assert_eq!(at("/tmp", "/tmp", "."), Ok("/tmp".into()));
        let root = resolve("/tmp", "/tmp/a", b"..").unwrap();
        assert!(root.is_root && !root.trailing_slash);
        assert!(resolve("/tmp", "/tmp", b"d/").unwrap().trailing_slash);
    }

    #[test]
    fn nothing_leaves_the_preopened_directory() {
        for escape in ["..", "../tmp/x", "a/../../x", "./../..", "a/b/../../../etc"] {
            assert_eq!(at("/tmp", "/tmp", escape), Err(Errno::PERM), "{escape}");
        }
        assert_eq!(at("/tmp/data", "/tmp/data/sub", "../../x"), Err(Errno::PERM));
        assert_eq!(at("/", "/", ".."), Err(Errno::PERM));
        assert_eq!(at("/tmp", "/tmp", "/etc/passwd"), Err(Errno::PERM));
        // A directory that is not below its root is a kernel bug; it must not widen anything.
        assert_eq!(at("/tmp", "/elsewhere", "x"), Err(Errno::PERM));
        assert_eq!(at("/tmp", "/tmpx", "y"), Err(Errno::PERM));
    }

    #[test]
    fn bad_paths_get_their_errno() {
        assert_eq!(at("/tmp", "/tmp", ""), Err(Errno::NOENT));
        assert_eq!(at("/tmp", "/tmp", "a\0b"), Err(Errno::INVAL));
        assert_eq!(resolve("/tmp", "/tmp", b"\xff").map(|r| r.path), Err(Errno::ILSEQ));
        let long_name = "n".repeat(MAX_NAME + 1);
        assert_eq!(at("/tmp", "/tmp", &long_name), Err(Errno::NAMETOOLONG));
        let long_path = "abcdefgh/".repeat(MAX_PATH / 9 + 1);
        assert_eq!(at("/tmp", "/tmp", &long_path), Err(Errno::NAMETOOLONG));
        // `..` may shorten a path that is long as written.
        let folded = "x/..///".repeat(200) + "f";
        assert_eq!(at("/tmp", "/tmp", &folded), Ok("/tmp/f".into()));
    }

    #[test]
    fn directories_are_normalised_like_the_vfs_does() {
        assert_eq!(normalise("/tmp/"), Some("/tmp".into()));
        assert_eq!(normalise("//tmp/./a/../b"), Some("/tmp/b".into()));
        assert_eq!(normalise("/.."), Some("/".into()));
        assert_eq!(normalise("/"), Some("/".into()));
        assert_eq!(normalise("tmp"), None);
    }
}
