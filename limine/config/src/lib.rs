//! Parser for Limine's `limine.conf`, in the syntax Limine 8.x and later read, keeping what a
//! Limine-protocol boot needs: the entries, their kernel, command line and modules, and the
//! `timeout` and `default_entry` globals. Other options are accepted and ignored, as Limine
//! ignores options that do not apply.
#![no_std]

extern crate alloc;

mod path;

pub use path::{Path, PathError, Resource};

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

/// The expansion of Limine's built-in `${ARCH}` macro on this architecture.
const ARCH: &str = "x86-64";

/// A parsed configuration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// How long to wait before booting the default entry.
    pub timeout: Timeout,
    /// 1-based index of the entry to boot.
    pub default_entry: usize,
    /// The menu entries, in file order.
    pub entries: Vec<Entry>,
    /// Where `default_entry` was set, for errors about it.
    default_entry_line: Option<usize>,
}

/// The `timeout` global.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timeout {
    /// Boot the default entry after this many seconds (Limine's default is 5).
    Seconds(u64),
    /// `timeout: no`: wait for the user in Limine's menu.
    Never,
}

/// One `/Name` menu entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The title after the `/`.
    pub name: String,
    /// Line of the `/Name` header.
    pub line: usize,
    /// `protocol:`, lower-cased.
    pub protocol: Option<String>,
    /// `path:` or its Limine 8 spelling `kernel_path:`.
    pub kernel: Option<Path>,
    /// `cmdline:` or `kernel_cmdline:`.
    pub cmdline: Option<String>,
    /// `module_path:` lines, each with the `module_cmdline:` or `module_string:` after it.
    pub modules: Vec<Module>,
}

/// A module to load beside the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Where the file is.
    pub path: Path,
    /// The string handed to the kernel with it (empty when none was given).
    pub cmdline: String,
}

/// The entry to boot, checked to be bootable through the Limine protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BootEntry<'a> {
    /// 1-based index of the entry.
    pub index: usize,
    /// The entry's title.
    pub name: &'a str,
    /// The kernel executable.
    pub kernel: &'a Path,
    /// The kernel command line (empty when none was given).
    pub cmdline: &'a str,
    /// Modules, in configuration order.
    pub modules: &'a [Module],
}

/// What is wrong with a configuration file; line numbers are 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// A line that is neither a comment, an entry, a macro nor `key: value`.
    ExpectedOption { line: usize },
    /// A `${...}` definition without `${NAME}=value` shape.
    BadMacro { line: usize },
    /// A `${NAME}` use with no definition before it.
    UndefinedMacro { line: usize, name: String },
    /// A `/` header with no title.
    EmptyEntryName { line: usize },
    /// A `//Name` sub-entry; entry directories are not supported.
    SubEntry { line: usize },
    /// An entry option before the first entry.
    OutsideEntry { line: usize, key: String },
    /// A numeric option whose value is not a number in range.
    BadNumber { line: usize, key: String, value: String },
    /// A path option whose value is not a Limine path.
    BadPath { line: usize, error: PathError },
    /// `module_cmdline:` or `module_string:` before any `module_path:` of its entry.
    ModuleStringWithoutModule { line: usize },
    /// A second kernel path (e.g. both `kernel_path:` and `path:`) naming another file.
    ConflictingKernelPaths { line: usize },
    /// The file has no entries.
    NoEntries,
    /// `default_entry` is past the last entry.
    DefaultEntryOutOfRange { line: Option<usize>, index: usize, count: usize },
    /// The entry to boot has no `protocol:`.
    MissingProtocol { line: usize },
    /// The entry to boot uses another protocol than `limine`.
    UnsupportedProtocol { line: usize, protocol: String },
    /// The entry to boot has no `path:` / `kernel_path:`.
    MissingKernelPath { line: usize },
}

impl ConfigError {
    /// The line the error is about, when there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            Self::ExpectedOption { line }
            | Self::BadMacro { line }
            | Self::UndefinedMacro { line, .. }
            | Self::EmptyEntryName { line }
            | Self::SubEntry { line }
            | Self::OutsideEntry { line, .. }
            | Self::BadNumber { line, .. }
            | Self::BadPath { line, .. }
            | Self::ModuleStringWithoutModule { line }
            | Self::ConflictingKernelPaths { line }
            | Self::MissingProtocol { line }
            | Self::UnsupportedProtocol { line, .. }
            | Self::MissingKernelPath { line } => Some(*line),
            Self::DefaultEntryOutOfRange { line, .. } => *line,
            Self::NoEntries => None,
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(line) = self.line() {
            write!(f, "line {line}: ")?;
        }
        match self {
            Self::ExpectedOption { .. } => {
                write!(f, "expected `key: value`, `/Entry name`, `${{MACRO}}=value` or `# comment`")
            }
            Self::BadMacro { .. } => write!(f, "a macro definition has the form `${{NAME}}=value`"),
            Self::UndefinedMacro { name, .. } => write!(f, "macro `${{{name}}}` is not defined"),
            Self::EmptyEntryName { .. } => write!(f, "entry has no name after the `/`"),
            Self::SubEntry { .. } => write!(f, "sub-entries (`//Name`) are not supported"),
            Self::OutsideEntry { key, .. } => {
                write!(f, "`{key}` belongs to an entry, but no `/Entry` line comes before it")
            }
            Self::BadNumber { key, value, .. } => write!(f, "`{key}: {value}` is not a valid number"),
            Self::BadPath { error, .. } => write!(f, "bad path: {error}"),
            Self::ModuleStringWithoutModule { .. } => {
                write!(f, "module command line given before any `module_path` in this entry")
            }
            Self::ConflictingKernelPaths { .. } => {
                write!(f, "this entry already names a different kernel path")
            }
            Self::NoEntries => write!(f, "no boot entries (lines starting with `/`)"),
            Self::DefaultEntryOutOfRange { index, count, .. } => {
                write!(f, "default_entry is {index}, but there are only {count} entries")
            }
            Self::MissingProtocol { .. } => write!(f, "the entry to boot has no `protocol:`"),
            Self::UnsupportedProtocol { protocol, .. } => {
                write!(f, "the entry to boot uses protocol `{protocol}`; only `limine` is supported")
            }
            Self::MissingKernelPath { .. } => {
                write!(f, "the entry to boot has no `path:` (or `kernel_path:`)")
            }
        }
    }
}

impl Config {
    /// The `default_entry` entry, checked to be a Limine-protocol entry with a kernel.
    pub fn boot_entry(&self) -> Result<BootEntry<'_>, ConfigError> {
        if self.entries.is_empty() {
            return Err(ConfigError::NoEntries);
        }
        let entry = self.entries.get(self.default_entry - 1).ok_or(ConfigError::DefaultEntryOutOfRange {
            line: self.default_entry_line,
            index: self.default_entry,
            count: self.entries.len(),
        })?;
        match entry.protocol.as_deref() {
            None => return Err(ConfigError::MissingProtocol { line: entry.line }),
            Some("limine") => {}
            Some(other) => {
                return Err(ConfigError::UnsupportedProtocol {
                    line: entry.line,
                    protocol: other.to_string(),
                });
            }
        }
        let kernel = entry.kernel.as_ref().ok_or(ConfigError::MissingKernelPath { line: entry.line })?;
        Ok(BootEntry {
            index: self.default_entry,
            name: &entry.name,
            kernel,
            cmdline: entry.cmdline.as_deref().unwrap_or(""),
            modules: &entry.modules,
        })
    }
}

/// Parses a whole `limine.conf`. As in Limine, an option given twice keeps its first value;
/// option names are case-insensitive and unknown options are ignored.
pub fn parse(text: &str) -> Result<Config, ConfigError> {
    let mut config = Config {
        timeout: Timeout::Seconds(5),
        default_entry: 1,
        entries: Vec::new(),
        default_entry_line: None,
    };
    let mut timeout_seen = false;
    let mut macros: Vec<(String, String)> = Vec::new();

    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if let Some(definition) = trimmed.strip_prefix("${") {
            let (name, value) = definition.split_once("}=").ok_or(ConfigError::BadMacro { line })?;
            if name.is_empty() || name.contains(['{', '}', '$']) {
                return Err(ConfigError::BadMacro { line });
            }
            let value = expand(value, &macros, line)?;
            macros.push((name.to_string(), value));
            continue;
        }
        let trimmed = expand(trimmed, &macros, line)?;
        if trimmed.starts_with('/') {
            let title = trimmed.trim_start_matches('/');
            if trimmed.len() - title.len() > 1 {
                return Err(ConfigError::SubEntry { line });
            }
            let title = title.trim_start_matches('+').trim();
            if title.is_empty() {
                return Err(ConfigError::EmptyEntryName { line });
            }
            config.entries.push(Entry {
                name: title.to_string(),
                line,
                protocol: None,
                kernel: None,
                cmdline: None,
                modules: Vec::new(),
            });
            continue;
        }

        let (key, value) = trimmed.split_once(':').ok_or(ConfigError::ExpectedOption { line })?;
        let key = key.trim().to_ascii_lowercase();
        let value = value.trim();
        if key.is_empty() || key.contains(char::is_whitespace) {
            return Err(ConfigError::ExpectedOption { line });
        }
        let number = |value: &str| {
            value.parse::<u64>().map_err(|_| ConfigError::BadNumber {
                line,
                key: key.clone(),
                value: value.to_string(),
            })
        };

        match key.as_str() {
            "timeout" if !timeout_seen => {
                timeout_seen = true;
                config.timeout =
                    if value == "no" { Timeout::Never } else { Timeout::Seconds(number(value)?) };
            }
            "default_entry" if config.default_entry_line.is_none() => {
                config.default_entry = match usize::try_from(number(value)?) {
                    Ok(n) if n >= 1 => n,
                    _ => {
                        return Err(ConfigError::BadNumber { line, key, value: value.to_string() });
                    }
                };
                config.default_entry_line = Some(line);
            }
            "protocol" | "path" | "kernel_path" | "cmdline" | "kernel_cmdline" | "module_path"
            | "module_cmdline" | "module_string" => {
                let entry = config
                    .entries
                    .last_mut()
                    .ok_or_else(|| ConfigError::OutsideEntry { line, key: key.clone() })?;
                entry_option(entry, &key, value, line)?;
            }
            _ => {}
        }
    }
    Ok(config)
}

/// Applies one entry-local option.
fn entry_option(entry: &mut Entry, key: &str, value: &str, line: usize) -> Result<(), ConfigError> {
    let path = |value: &str| Path::parse(value).map_err(|error| ConfigError::BadPath { line, error });
    match key {
        "protocol" => {
            entry.protocol.get_or_insert_with(|| value.to_ascii_lowercase());
        }
        "path" | "kernel_path" => {
            let kernel = path(value)?;
            match &entry.kernel {
                None => entry.kernel = Some(kernel),
                Some(existing) if *existing == kernel => {}
                Some(_) => return Err(ConfigError::ConflictingKernelPaths { line }),
            }
        }
        "cmdline" | "kernel_cmdline" => {
            entry.cmdline.get_or_insert_with(|| value.to_string());
        }
        "module_path" => entry.modules.push(Module { path: path(value)?, cmdline: String::new() }),
        _ => {
            let module = entry.modules.last_mut().ok_or(ConfigError::ModuleStringWithoutModule { line })?;
            module.cmdline = value.to_string();
        }
    }
    Ok(())
}

/// Replaces each `${NAME}` with its definition (or a built-in).
fn expand(text: &str, macros: &[(String, String)], line: usize) -> Result<String, ConfigError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}').ok_or(ConfigError::BadMacro { line })?;
        let name = &after[..end];
        // Later definitions override earlier ones, as a re-assignment would.
        let value = macros
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .or((name == "ARCH").then_some(ARCH))
            .ok_or_else(|| ConfigError::UndefinedMacro { line, name: name.to_string() })?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// The project's own configuration, which real Limine must read too.
    const PROJECT_CONFIG: &str = include_str!("../../limine.conf");

    #[test]
    fn project_config_boots_the_kernel_with_the_ramdisk() {
        let config = parse(PROJECT_CONFIG).unwrap();
        assert_eq!(config.timeout, Timeout::Seconds(0));
        let entry = config.boot_entry().unwrap();
        assert_eq!(entry.index, 1);
        assert_eq!(entry.name, "MinimalOS");
        assert_eq!(entry.kernel.path, "/boot/kernel");
        assert_eq!(entry.kernel.resource, Resource::Boot { partition: None });
        assert_eq!(entry.cmdline, "");
        assert_eq!(entry.modules.len(), 1);
        assert_eq!(entry.modules[0].path.path, "/boot/ramdisk.tar");
        assert_eq!(entry.modules[0].cmdline, "ramdisk");
    }

    #[test]
    fn full_entry_with_aliases_comments_and_unknown_options() {
        let text = "\
# global options
TIMEOUT: 3
serial: yes
default_entry: 2
interface_branding: x: y

/First
    protocol: linux
/+Second
    comment: the one we boot
    PROTOCOL: Limine
    path: boot():/k
    kernel_cmdline: log=debug ktest=fault
    module_path: boot():/a.tar
    module_string: first
    module_path: boot(1):/b
    module_path: boot():/c
    module_cmdline: third
    kaslr: no
";
        let config = parse(text).unwrap();
        assert_eq!(config.timeout, Timeout::Seconds(3));
        assert_eq!(config.entries.len(), 2);
        let entry = config.boot_entry().unwrap();
        assert_eq!(entry.index, 2);
        assert_eq!(entry.name, "Second");
        assert_eq!(entry.kernel.path, "/k");
        assert_eq!(entry.cmdline, "log=debug ktest=fault");
        let modules: Vec<_> =
            entry.modules.iter().map(|m| (m.path.to_string(), m.cmdline.as_str())).collect();
        assert_eq!(
            modules,
            vec![("boot():/a.tar".into(), "first"), ("boot(1):/b".into(), ""), ("boot():/c".into(), "third"),]
        );
    }

    #[test]
    fn first_value_wins_and_defaults_apply() {
        let config = parse("/E\nprotocol: limine\nkernel_path: boot():/k\ncmdline: a\ncmdline: b\n").unwrap();
        assert_eq!(config.timeout, Timeout::Seconds(5));
        let entry = config.boot_entry().unwrap();
        assert_eq!(entry.cmdline, "a");
        assert_eq!(parse("timeout: no\n/E\n").unwrap().timeout, Timeout::Never);
    }

    #[test]
    fn both_kernel_spellings_must_agree() {
        let same = "/E\nprotocol: limine\nkernel_path: boot():/k\npath: boot():/k\n";
        assert!(parse(same).unwrap().boot_entry().is_ok());
        let different = "/E\nprotocol: limine\nkernel_path: boot():/k\npath: boot():/other\n";
        assert_eq!(parse(different), Err(ConfigError::ConflictingKernelPaths { line: 4 }));
    }

    #[test]
    fn macros_expand_including_the_built_in_arch() {
        let text = "${K}=boot():/kernel-${ARCH}\n/E\nprotocol: limine\npath: ${K}\n";
        let config = parse(text).unwrap();
        assert_eq!(config.boot_entry().unwrap().kernel.path, "/kernel-x86-64");
        assert_eq!(
            parse("/E\npath: ${NOPE}\n"),
            Err(ConfigError::UndefinedMacro { line: 2, name: "NOPE".into() })
        );
        assert_eq!(parse("${X=1\n"), Err(ConfigError::BadMacro { line: 1 }));
    }

    #[test]
    fn syntax_errors_name_their_line() {
        assert_eq!(parse("/E\nprotocol limine\n"), Err(ConfigError::ExpectedOption { line: 2 }));
        assert_eq!(parse("PROTOCOL=limine\n"), Err(ConfigError::ExpectedOption { line: 1 }));
        assert_eq!(parse("\n\n/\n"), Err(ConfigError::EmptyEntryName { line: 3 }));
        assert_eq!(parse("/E\n//Sub\n"), Err(ConfigError::SubEntry { line: 2 }));
        assert_eq!(
            parse("path: boot():/k\n"),
            Err(ConfigError::OutsideEntry { line: 1, key: "path".into() })
        );
        assert_eq!(
            parse("timeout: soon\n"),
            Err(ConfigError::BadNumber { line: 1, key: "timeout".into(), value: "soon".into() })
        );
        assert_eq!(
            parse("default_entry: 0\n"),
            Err(ConfigError::BadNumber { line: 1, key: "default_entry".into(), value: "0".into() })
        );
        assert_eq!(
            parse("/E\nmodule_path: ramdisk.tar\n"),
            Err(ConfigError::BadPath { line: 2, error: PathError::MissingResource })
        );
        assert_eq!(parse("/E\nmodule_cmdline: x\n"), Err(ConfigError::ModuleStringWithoutModule { line: 2 }));
    }

    #[test]
    fn entry_selection_errors() {
        assert_eq!(parse("timeout: 0\n").unwrap().boot_entry(), Err(ConfigError::NoEntries));
        assert_eq!(
            parse("default_entry: 3\n/A\n/B\n").unwrap().boot_entry(),
            Err(ConfigError::DefaultEntryOutOfRange { line: Some(1), index: 3, count: 2 })
        );
        assert_eq!(
            parse("/A\npath: boot():/k\n").unwrap().boot_entry(),
            Err(ConfigError::MissingProtocol { line: 1 })
        );
        assert_eq!(
            parse("/A\nprotocol: multiboot2\n").unwrap().boot_entry(),
            Err(ConfigError::UnsupportedProtocol { line: 1, protocol: "multiboot2".into() })
        );
        assert_eq!(
            parse("/A\nprotocol: limine\n").unwrap().boot_entry(),
            Err(ConfigError::MissingKernelPath { line: 1 })
        );
    }

    #[test]
    fn errors_display_with_their_line() {
        let error = parse("/E\nprotocol limine\n").unwrap_err();
        assert!(error.to_string().starts_with("line 2: expected `key: value`"));
        assert_eq!(ConfigError::NoEntries.to_string(), "no boot entries (lines starting with `/`)");
    }
}
