//! The boot manifest (`boot.manifest` in the ramdisk): which actors start, which kernel objects
//! are made for them, and which capabilities each one gets. The system's shape is data, not
//! code.
//!
//! One declaration per line; `#` starts a comment:
//!
//! ```text
//! endpoint NAME [capacity=N]          an IPC endpoint (default capacity 64)
//! shm NAME size=BYTES                 a shared-memory object
//! actor NAME [file=FILE] [memory=PAGES] [handles=N] [children=N] [queue=N] [kmem=KIB]
//!            [restart] [grant=OBJECT:RIGHTS]...
//! log ENDPOINT                        copy the kernel log to this endpoint (at most one line)
//! ```
//!
//! `file` defaults to `NAME.wasm`. Limits, each with a default: `memory` caps the actor's linear
//! memory in 64 KiB pages (256), `handles` its capabilities (1024), `children` the processes it
//! started that are alive at once (128), `queue` the capacity of the endpoints it creates
//! (4096), `kmem` the kernel memory charged to it, in KiB (an eighth of the pool, see
//! `mem::kmem`). `restart` starts the actor again, with the same grants, after it ends, with a
//! growing delay, until it has crashed too often in a row (see `supervisor`).
//! OBJECT is an endpoint or shared-memory object the manifest declares, or one the kernel
//! provides: `framebuffer`, `console.in` (serial input, as messages), `console.out` (raw
//! serial output), `ramdisk` (the boot ramdisk's bytes, read-only) and `system` (process
//! management and kernel state), or a PCI device: `pci.VVVV.DDDD` by vendor and device id,
//! `pci.class.CC[.SS]` by class and subclass, all hex (the first function that matches; see
//! `docs/DRIVERS.md`). RIGHTS are letters from `r` (read), `w` (write), `g` (grant). An actor finds
//! its grants at handles 0, 1, 2… in the order its line lists them. A bad line is reported with
//! its number and skipped; the valid lines still take effect.
#![no_std]

extern crate alloc;

mod device;

pub use device::DeviceMatch;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// Where the kernel looks for the manifest in the ramdisk.
pub const MANIFEST_FILE: &str = "boot.manifest";

/// Endpoint capacity when the line gives none.
pub const DEFAULT_CAPACITY: usize = 64;

/// A kernel object a grant names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectRef {
    /// The endpoint declared with this name.
    Endpoint(String),
    /// The shared-memory object declared with this name.
    SharedMemory(String),
    /// The boot framebuffer.
    Framebuffer,
    /// The endpoint the console service sends serial input to (grant with `r`).
    ConsoleIn,
    /// The endpoint the console service prints from (grant with `w`).
    ConsoleOut,
    /// The boot ramdisk, read-only (grant with `r`).
    Ramdisk,
    /// Process management and kernel state (`r` to look, `w` to start and kill).
    System,
    /// The first PCI function that matches (`r` to read its registers, `w` to drive it).
    Device(DeviceMatch),
}

/// Rights a grant gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GrantRights {
    /// `r`: receive, read.
    pub read: bool,
    /// `w`: send, write.
    pub write: bool,
    /// `g`: pass the capability on.
    pub grant: bool,
}

/// One capability an actor starts with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// What it refers to.
    pub object: ObjectRef,
    /// With which rights.
    pub rights: GrantRights,
}

/// An `endpoint` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointDecl {
    /// Its name.
    pub name: String,
    /// Messages it can queue.
    pub capacity: usize,
}

/// A `shm` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedMemoryDecl {
    /// Its name.
    pub name: String,
    /// Its size in bytes.
    pub size: usize,
}

/// An `actor` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActorDecl {
    /// The actor's name.
    pub name: String,
    /// Its module in the ramdisk.
    pub file: String,
    /// Its capabilities, in handle order.
    pub grants: Vec<Grant>,
    /// The limits the line sets; the others keep their defaults.
    pub limits: LimitDecl,
    /// Whether it is started again after it ends.
    pub restart: bool,
    /// The manifest line, for messages.
    pub line: usize,
}

/// Limits an actor line sets (`None`: the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LimitDecl {
    /// `memory=PAGES`: largest linear memory, in Wasm pages.
    pub memory_pages: Option<u32>,
    /// `handles=N`: most capabilities.
    pub handles: Option<usize>,
    /// `children=N`: most live processes it started.
    pub children: Option<u32>,
    /// `queue=N`: largest capacity of an endpoint it creates.
    pub queue: Option<usize>,
    /// `kmem=KIB`: most kernel memory charged to it, in KiB.
    pub kmem_kib: Option<usize>,
}

/// The valid declarations of a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Manifest {
    /// Endpoints to create.
    pub endpoints: Vec<EndpointDecl>,
    /// Shared-memory objects to create.
    pub shared_memory: Vec<SharedMemoryDecl>,
    /// Actors to start, in order.
    pub actors: Vec<ActorDecl>,
    /// The endpoint the kernel log is copied to, if any.
    pub log_to: Option<String>,
}

/// A line the kernel could not use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong with it.
    pub message: Problem,
}

/// What is wrong with a manifest line; the words it names are the line's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The first word is no declaration.
    UnknownDeclaration(String),
    /// A declaration without the name it needs (`"name"` or `"endpoint name"`).
    MissingName(&'static str),
    /// A word that cannot be a name (it holds `=` or `:`).
    NotAName(String),
    /// A name declared before, or one of the kernel's.
    AlreadyDeclared(String),
    /// `key=value` whose value is no number from 1 to `max`.
    BadNumber { word: String, key: &'static str, max: usize },
    /// A word the declaration does not take.
    UnknownOption(String),
    /// An `shm` line without `size=`.
    MissingSize,
    /// A `log` line with more than one name.
    LogTakesOneName,
    /// A second `log` line.
    LogAlreadySet,
    /// `log` names no declared endpoint.
    NotAnEndpoint(String),
    /// A grant without `:`.
    GrantWithoutRights(String),
    /// A grant of an object no line declares.
    Undeclared(String),
    /// A letter that is no right.
    NotARight { letter: char, grant: String },
    /// A grant of no rights at all.
    NoRights(String),
}

impl core::fmt::Display for Problem {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::UnknownDeclaration(word) => {
                write!(f, "unknown declaration `{word}` (expected endpoint, shm, actor or log)")
            }
            Self::MissingName(what) => write!(f, "missing {what}"),
            Self::NotAName(word) => write!(f, "`{word}` is not a name"),
            Self::AlreadyDeclared(name) => write!(f, "`{name}` is already declared"),
            Self::BadNumber { word, key, max } => {
                write!(f, "`{word}`: {key} must be a number from 1 to {max}")
            }
            Self::UnknownOption(word) => write!(f, "unknown option `{word}`"),
            Self::MissingSize => write!(f, "missing size=BYTES"),
            Self::LogTakesOneName => write!(f, "`log` takes one endpoint name"),
            Self::LogAlreadySet => write!(f, "the log already goes to an endpoint"),
            Self::NotAnEndpoint(name) => write!(f, "`{name}` is not a declared endpoint"),
            Self::GrantWithoutRights(grant) => write!(f, "grant `{grant}` needs OBJECT:RIGHTS"),
            Self::Undeclared(object) => write!(f, "grant of `{object}`, which no line declares"),
            Self::NotARight { letter, grant } => {
                write!(f, "`{letter}` in `{grant}` is not a right (use r, w, g)")
            }
            Self::NoRights(grant) => write!(f, "grant `{grant}` gives no rights"),
        }
    }
}

impl core::fmt::Display for LineError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{MANIFEST_FILE} line {}: {}", self.line, self.message)
    }
}

/// Objects the kernel provides under reserved names.
const KERNEL_OBJECTS: [(&str, ObjectRef); 5] = [
    ("system", ObjectRef::System),
    ("framebuffer", ObjectRef::Framebuffer),
    ("console.in", ObjectRef::ConsoleIn),
    ("console.out", ObjectRef::ConsoleOut),
    ("ramdisk", ObjectRef::Ramdisk),
];

/// Largest shared-memory object a manifest may declare.
pub const MAX_SHARED_MEMORY: usize = 16 * 1024 * 1024;
/// Largest linear memory an actor line may allow, in 64 KiB Wasm pages (4 GiB: all of Wasm32).
pub const MAX_MEMORY_PAGES: usize = 65536;
/// Largest `handles=`.
pub const MAX_HANDLES: usize = minimalos_abi::MAX_HANDLES;
/// Largest `children=`.
pub const MAX_CHILDREN: usize = 65_536;
/// Largest `kmem=` an actor line may set, in KiB (64 GiB, the kernel heap's virtual range).
pub const MAX_KMEM_KIB: usize = 64 * 1024 * 1024;

/// Largest endpoint capacity a manifest may declare.
pub const MAX_CAPACITY: usize = minimalos_abi::MAX_CAPACITY;

/// Parses `text`; returns the valid declarations and an error for every bad line.
pub fn parse(text: &str) -> (Manifest, Vec<LineError>) {
    let mut manifest = Manifest::default();
    let mut errors = Vec::new();
    // Actor and log lines are resolved once every object is known, so declarations may come in
    // any order.
    let mut deferred = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        let mut words = content.split_whitespace();
        let Some(kind) = words.next() else { continue };
        let result = match kind {
            "endpoint" => parse_endpoint(words, &manifest).map(|e| manifest.endpoints.push(e)),
            "shm" => parse_shared_memory(words, &manifest).map(|s| manifest.shared_memory.push(s)),
            "actor" | "log" => {
                deferred.push((line, kind, content));
                Ok(())
            }
            other => Err(Problem::UnknownDeclaration(other.into())),
        };
        if let Err(message) = result {
            errors.push(LineError { line, message });
        }
    }
    for (line, kind, content) in deferred {
        let words = content.split_whitespace().skip(1);
        let result = if kind == "log" {
            parse_log(words, &manifest).map(|name| manifest.log_to = Some(name))
        } else {
            parse_actor(words, line, &manifest).map(|actor| manifest.actors.push(actor))
        };
        if let Err(message) = result {
            errors.push(LineError { line, message });
        }
    }
    (manifest, errors)
}

fn is_name_taken(manifest: &Manifest, name: &str) -> bool {
    KERNEL_OBJECTS.iter().any(|&(kernel, _)| kernel == name)
        || manifest.endpoints.iter().any(|e| e.name == name)
        || manifest.shared_memory.iter().any(|s| s.name == name)
}

fn object_name<'a>(
    words: &mut impl Iterator<Item = &'a str>,
    manifest: &Manifest,
) -> Result<String, Problem> {
    let name = words.next().ok_or(Problem::MissingName("name"))?;
    if name.contains(['=', ':']) {
        return Err(Problem::NotAName(name.into()));
    }
    if is_name_taken(manifest, name) {
        return Err(Problem::AlreadyDeclared(name.into()));
    }
    Ok(name.to_string())
}

/// Splits `key=value`, with the value parsed as a number in `1..=max`.
fn number(word: &str, key: &'static str, max: usize) -> Result<Option<usize>, Problem> {
    match word.split_once('=') {
        Some((k, value)) if k == key => match value.parse::<usize>() {
            Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
            _ => Err(Problem::BadNumber { word: word.into(), key, max }),
        },
        _ => Ok(None),
    }
}

fn parse_endpoint<'a>(
    mut words: impl Iterator<Item = &'a str>,
    manifest: &Manifest,
) -> Result<EndpointDecl, Problem> {
    let name = object_name(&mut words, manifest)?;
    let mut capacity = DEFAULT_CAPACITY;
    for word in words {
        capacity =
            number(word, "capacity", MAX_CAPACITY)?.ok_or_else(|| Problem::UnknownOption(word.into()))?;
    }
    Ok(EndpointDecl { name, capacity })
}

fn parse_shared_memory<'a>(
    mut words: impl Iterator<Item = &'a str>,
    manifest: &Manifest,
) -> Result<SharedMemoryDecl, Problem> {
    let name = object_name(&mut words, manifest)?;
    let mut size = None;
    for word in words {
        size = Some(
            number(word, "size", MAX_SHARED_MEMORY)?.ok_or_else(|| Problem::UnknownOption(word.into()))?,
        );
    }
    Ok(SharedMemoryDecl { name, size: size.ok_or(Problem::MissingSize)? })
}

fn parse_actor<'a>(
    mut words: impl Iterator<Item = &'a str>,
    line: usize,
    manifest: &Manifest,
) -> Result<ActorDecl, Problem> {
    let name = words.next().ok_or(Problem::MissingName("name"))?.to_string();
    if name.contains(['=', ':']) {
        return Err(Problem::NotAName(name));
    }
    let mut actor = ActorDecl {
        file: format!("{name}.wasm"),
        name,
        grants: Vec::new(),
        limits: LimitDecl::default(),
        restart: false,
        line,
    };
    for word in words {
        let limits = &mut actor.limits;
        if let Some(pages) = number(word, "memory", MAX_MEMORY_PAGES)? {
            limits.memory_pages = Some(pages as u32);
        } else if let Some(n) = number(word, "handles", MAX_HANDLES)? {
            limits.handles = Some(n);
        } else if let Some(n) = number(word, "children", MAX_CHILDREN)? {
            limits.children = Some(n as u32);
        } else if let Some(n) = number(word, "queue", MAX_CAPACITY)? {
            limits.queue = Some(n);
        } else if let Some(kib) = number(word, "kmem", MAX_KMEM_KIB)? {
            limits.kmem_kib = Some(kib);
        } else if word == "restart" {
            actor.restart = true;
        } else {
            match word.split_once('=') {
                Some(("file", file)) if !file.is_empty() => actor.file = file.to_string(),
                Some(("grant", grant)) => actor.grants.push(parse_grant(grant, manifest)?),
                _ => return Err(Problem::UnknownOption(word.into())),
            }
        }
    }
    Ok(actor)
}

fn parse_log<'a>(mut words: impl Iterator<Item = &'a str>, manifest: &Manifest) -> Result<String, Problem> {
    let name = words.next().ok_or(Problem::MissingName("endpoint name"))?;
    if words.next().is_some() {
        return Err(Problem::LogTakesOneName);
    }
    if manifest.log_to.is_some() {
        return Err(Problem::LogAlreadySet);
    }
    if !manifest.endpoints.iter().any(|e| e.name == name) {
        return Err(Problem::NotAnEndpoint(name.into()));
    }
    Ok(name.to_string())
}

fn parse_grant(grant: &str, manifest: &Manifest) -> Result<Grant, Problem> {
    let (object, letters) = grant.split_once(':').ok_or_else(|| Problem::GrantWithoutRights(grant.into()))?;
    let object = if let Some((_, kernel)) = KERNEL_OBJECTS.iter().find(|(name, _)| *name == object) {
        kernel.clone()
    } else if manifest.endpoints.iter().any(|e| e.name == object) {
        ObjectRef::Endpoint(object.to_string())
    } else if manifest.shared_memory.iter().any(|s| s.name == object) {
        ObjectRef::SharedMemory(object.to_string())
    } else if let Some(device) = DeviceMatch::parse(object) {
        ObjectRef::Device(device)
    } else {
        return Err(Problem::Undeclared(object.into()));
    };
    let bits = minimalos_abi::rights_from_letters(letters)
        .map_err(|letter| Problem::NotARight { letter, grant: grant.into() })?;
    let has = |right: i32| bits & right != 0;
    let rights = GrantRights {
        read: has(minimalos_abi::RIGHT_READ),
        write: has(minimalos_abi::RIGHT_WRITE),
        grant: has(minimalos_abi::RIGHT_GRANT),
    };
    if rights == GrantRights::default() {
        return Err(Problem::NoRights(grant.into()));
    }
    Ok(Grant { object, rights })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_manifest_parses_in_any_order() {
        let text = "\
            # the shell talks to the UI\n\
            actor shell grant=ui.req:wg grant=framebuffer:r\n\
            endpoint ui.req capacity=8   # requests\n\
            shm ui.buf size=4096\n\
            actor ui file=ui_server.wasm memory=32 grant=ui.req:r grant=ui.buf:rw\n\
            log ui.req\n";
        let (m, errors) = parse(text);
        assert_eq!(errors, []);
        assert_eq!(m.endpoints, [EndpointDecl { name: "ui.req".into(), capacity: 8 }]);
        assert_eq!(m.shared_memory, [SharedMemoryDecl { name: "ui.buf".into(), size: 4096 }]);
        assert_eq!(m.actors.len(), 2);
        let shell = &m.actors[0];
        assert_eq!((shell.name.as_str(), shell.file.as_str(), shell.line), ("shell", "shell.wasm", 2));
        assert_eq!(
            shell.grants,
            [
                Grant {
                    object: ObjectRef::Endpoint("ui.req".into()),
                    rights: GrantRights { read: false, write: true, grant: true }
                },
                Grant {
                    object: ObjectRef::Framebuffer,
                    rights: GrantRights { read: true, ..Default::default() }
                },
            ]
        );
        assert_eq!(
            (m.actors[1].file.as_str(), m.actors[1].limits.memory_pages),
            ("ui_server.wasm", Some(32))
        );
        assert_eq!(shell.limits.memory_pages, None);
        assert_eq!(m.log_to.as_deref(), Some("ui.req"));
    }

    #[test]
    fn limits_and_restart_are_read_and_checked() {
        let (m, errors) = parse(
            "actor a memory=8 handles=16 children=2 queue=4 kmem=2048 restart\n\
             actor b\n\
             actor c handles=0\n\
             actor d children=99999\n\
             actor e queue=5000\n\
             actor f restart=yes\n",
        );
        let a = &m.actors[0];
        assert_eq!(
            a.limits,
            LimitDecl {
                memory_pages: Some(8),
                handles: Some(16),
                children: Some(2),
                queue: Some(4),
                kmem_kib: Some(2048)
            }
        );
        assert!(a.restart);
        assert_eq!((m.actors[1].limits, m.actors[1].restart), (LimitDecl::default(), false));
        assert_eq!(errors.iter().map(|e| e.line).collect::<Vec<_>>(), [3, 4, 5, 6]);
        assert_eq!(
            errors[0].message,
            Problem::BadNumber { word: "handles=0".into(), key: "handles", max: 1024 },
            "{}",
            errors[0]
        );
        assert!(errors[0].to_string().contains("handles must be a number from 1 to 1024"), "{}", errors[0]);
    }

    #[test]
    fn bad_lines_are_reported_by_number_and_good_lines_still_count() {
        let text = "\
            endpoint a\n\
            endpoint a\n\
            frobnicate x\n\
            endpoint b capacity=0\n\
            shm s\n\
            actor x grant=nowhere:r\n\
            actor y grant=a:rx\n\
            actor z grant=a\n\
            actor w grant=a:\n\
            actor m memory=0\n\
            log nowhere\n\
            actor ok grant=a:r\n\
            log a\n\
            log a\n";
        let (m, errors) = parse(text);
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14]);
        assert_eq!(m.log_to.as_deref(), Some("a"));
        assert_eq!(errors[0].message, Problem::AlreadyDeclared("a".into()));
        assert_eq!(errors[4].message, Problem::Undeclared("nowhere".into()));
        let words: Vec<String> = errors.iter().map(|e| e.message.to_string()).collect();
        assert_eq!(words[1], "unknown declaration `frobnicate` (expected endpoint, shm, actor or log)");
        assert_eq!(words[5], "`x` in `a:rx` is not a right (use r, w, g)");
        assert_eq!(m.endpoints.len(), 1);
        assert_eq!(m.actors.len(), 1);
        assert_eq!(m.actors[0].name, "ok");
    }
}
