//! Limine paths (`resource(argument):/path`): the syntax, and which of them the loader can open.

use alloc::string::{String, ToString};
use core::fmt;

/// Where a path's volume is found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// `boot():` (the volume the configuration came from) or `boot(N):` (partition N of the
    /// boot drive).
    Boot { partition: Option<u32> },
    /// Any other resource (`hdd`, `odd`, `guid`, `uuid`, `fslabel`, `tftp`): valid Limine
    /// syntax, but the MinimalOS loader only reads the boot volume.
    Other { name: String, argument: String },
}

/// A parsed Limine path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// The volume the file is on.
    pub resource: Resource,
    /// The file's path inside the volume, with a leading `/`.
    pub path: String,
}

/// Why a path string is not a valid Limine path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// No `resource(argument):` prefix.
    MissingResource,
    /// The part after `):` does not start with `/`.
    NotAbsolute,
    /// `boot(N)` with an `N` that is not a partition number (1 or more).
    BadPartition(String),
    /// A `#hash` suffix: Limine checks it with BLAKE2b, which the MinimalOS loader does not do.
    HashUnsupported,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingResource => {
                write!(f, "a path must start with a resource, e.g. `boot():/boot/kernel`")
            }
            Self::NotAbsolute => write!(f, "the part after `):` must start with `/`"),
            Self::BadPartition(arg) => {
                write!(f, "`boot({arg})` does not name a partition (1, 2, ...)")
            }
            Self::HashUnsupported => {
                write!(f, "`#hash` suffixes are not supported by the MinimalOS loader")
            }
        }
    }
}

impl Path {
    /// Parses `resource(argument):/path`.
    pub fn parse(text: &str) -> Result<Self, PathError> {
        let (resource, rest) = text.split_once('(').ok_or(PathError::MissingResource)?;
        let (argument, path) = rest.split_once("):").ok_or(PathError::MissingResource)?;
        let resource = resource.trim();
        if resource.is_empty() || !resource.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(PathError::MissingResource);
        }
        if !path.starts_with('/') {
            return Err(PathError::NotAbsolute);
        }
        if path.contains('#') {
            return Err(PathError::HashUnsupported);
        }
        let resource = if resource.eq_ignore_ascii_case("boot") {
            let partition = match argument.trim() {
                "" => None,
                n => match n.parse::<u32>() {
                    Ok(n) if n >= 1 => Some(n),
                    _ => return Err(PathError::BadPartition(argument.to_string())),
                },
            };
            Resource::Boot { partition }
        } else {
            Resource::Other { name: resource.to_ascii_lowercase(), argument: argument.to_string() }
        };
        Ok(Self { resource, path: path.to_string() })
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.resource {
            Resource::Boot { partition: None } => write!(f, "boot():{}", self.path),
            Resource::Boot { partition: Some(n) } => write!(f, "boot({n}):{}", self.path),
            Resource::Other { name, argument } => write!(f, "{name}({argument}):{}", self.path),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_volume_paths() {
        let p = Path::parse("boot():/boot/kernel").unwrap();
        assert_eq!(p.resource, Resource::Boot { partition: None });
        assert_eq!(p.path, "/boot/kernel");
        assert_eq!(p.to_string(), "boot():/boot/kernel");

        let p = Path::parse("BOOT(2):/x").unwrap();
        assert_eq!(p.resource, Resource::Boot { partition: Some(2) });
        assert_eq!(p.to_string(), "boot(2):/x");
    }

    #[test]
    fn other_resources_parse_but_are_marked() {
        let p = Path::parse("hdd(1:2):/k").unwrap();
        assert_eq!(p.resource, Resource::Other { name: "hdd".into(), argument: "1:2".into() });
        assert_eq!(p.to_string(), "hdd(1:2):/k");
    }

    #[test]
    fn rejects_malformed_paths() {
        assert_eq!(Path::parse("/boot/kernel"), Err(PathError::MissingResource));
        assert_eq!(Path::parse("boot():boot/kernel"), Err(PathError::NotAbsolute));
        assert_eq!(Path::parse("boot(0):/k"), Err(PathError::BadPartition("0".into())));
        assert_eq!(Path::parse("boot(x):/k"), Err(PathError::BadPartition("x".into())));
        assert_eq!(Path::parse("boot():/k#abcd"), Err(PathError::HashUnsupported));
        assert_eq!(Path::parse("(1):/k"), Err(PathError::MissingResource));
    }
}
