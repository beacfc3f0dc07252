//! Path normalisation: the text of a path becomes the list of names it leads through, with
//! `//`, `.`, `..` and a trailing `/` resolved, as the protocol's "Paths" section says.

use alloc::vec::Vec;

use protocol::vfs::{Error, MAX_NAME, MAX_PATH};

/// The components of `path`, a path a client sent: it must be absolute.
pub fn parse(path: &str) -> Result<Vec<&str>, Error> {
    if !path.starts_with('/') {
        return Err(Error::BadPath);
    }
    normalise(path)
}

/// The components of `path`, read from `/` whether or not it starts with `/` (archive names
/// do not); `..` at the top stays there, so no path leads outside `/`.
pub fn normalise(path: &str) -> Result<Vec<&str>, Error> {
    if path.len() > MAX_PATH || path.contains('\0') {
        return Err(Error::BadPath);
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name if name.len() > MAX_NAME => return Err(Error::BadPath),
            name => parts.push(name),
        }
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_split_into_names() {
        assert_eq!(parse("/"), Ok(vec![]));
        assert_eq!(parse("/hello.wasm"), Ok(vec!["hello.wasm"]));
        assert_eq!(parse("/tmp/a/b.txt"), Ok(vec!["tmp", "a", "b.txt"]));
    }

    #[test]
    fn repeated_and_trailing_slashes_and_dots_are_dropped() {
        assert_eq!(parse("//tmp///a/"), Ok(vec!["tmp", "a"]));
        assert_eq!(parse("/./tmp/./a/."), Ok(vec!["tmp", "a"]));
        assert_eq!(parse("////"), Ok(vec![]));
    }

    #[test]
    fn dot_dot_removes_the_name_before_and_stops_at_the_root() {
        assert_eq!(parse("/tmp/a/../b"), Ok(vec!["tmp", "b"]));
        assert_eq!(parse("/tmp/.."), Ok(vec![]));
        assert_eq!(parse("/../../tmp"), Ok(vec!["tmp"]));
        assert_eq!(parse("/tmp/../../hello.wasm"), Ok(vec!["hello.wasm"]));
        // A name that merely contains dots is a name.
        assert_eq!(parse("/a.../..b/..."), Ok(vec!["a...", "..b", "..."]));
    }

    #[test]
    fn relative_empty_nul_and_overlong_paths_are_bad() {
        assert_eq!(parse(""), Err(Error::BadPath));
        assert_eq!(parse("tmp/a"), Err(Error::BadPath));
        assert_eq!(parse("./a"), Err(Error::BadPath));
        assert_eq!(parse("/tmp/a\0b"), Err(Error::BadPath));
        let long_name = format!("/tmp/{}", "n".repeat(MAX_NAME + 1));
        assert_eq!(parse(&long_name), Err(Error::BadPath));
        let longest_name = format!("/tmp/{}", "n".repeat(MAX_NAME));
        assert_eq!(parse(&longest_name).map(|p| p.len()), Ok(2));
        // The limit applies to the text as sent, before `..` shortens it.
        let longest_path = format!("/{}", "a/".repeat((MAX_PATH - 1) / 2));
        assert!(longest_path.len() <= MAX_PATH && parse(&longest_path).is_ok());
        let long_path = format!("/{}", "../".repeat(MAX_PATH / 3 + 1));
        assert!(long_path.len() > MAX_PATH);
        assert_eq!(parse(&long_path), Err(Error::BadPath));
    }

    #[test]
    fn archive_names_are_read_from_the_root() {
        assert_eq!(normalise("test/abi.manifest"), Ok(vec!["test", "abi.manifest"]));
        assert_eq!(normalise("./test/"), Ok(vec!["test"]));
        assert_eq!(normalise("../../x"), Ok(vec!["x"]));
    }
}
