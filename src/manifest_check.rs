//! The boot manifest an image will boot, checked when the image is built: the same checks and
//! the same words as the kernel's at boot (`minimalos-manifest`), and every actor's module
//! present in the ramdisk, so a mistake stops `make run` before QEMU starts.

use std::fmt;

use minimalos_manifest::{MANIFEST_FILE, parse};

/// What is wrong with the manifest an image boots, one line of text each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestErrors {
    /// The manifest's path in the ramdisk.
    pub path: String,
    pub problems: Vec<String>,
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the boot manifest has mistakes, so the image was not built:")?;
        for problem in &self.problems {
            write!(f, "\n  {problem}")?;
        }
        Ok(())
    }
}

/// The ramdisk path of the manifest that the kernel command line `cmdline` boots.
pub fn booted_manifest(cmdline: &str) -> &str {
    cmdline.split_whitespace().find_map(|word| word.strip_prefix("manifest=")).unwrap_or(MANIFEST_FILE)
}

/// Checks the manifest at `path` among `files` (ramdisk names and their bytes).
pub fn check(path: &str, files: &[(String, Vec<u8>)]) -> Result<(), ManifestErrors> {
    let fail = |problems| Err(ManifestErrors { path: path.into(), problems });
    let Some((_, text)) = files.iter().find(|(name, _)| name == path) else {
        return fail(vec![format!("no `{path}` in the ramdisk: the kernel would start no actors")]);
    };
    let (manifest, errors) = parse(&String::from_utf8_lossy(text));
    let mut problems: Vec<(usize, String)> =
        errors.iter().map(|error| (error.line, error.message.to_string())).collect();
    for actor in &manifest.actors {
        if !files.iter().any(|(name, _)| *name == actor.file) {
            let why = format!("actor {} not started: no file `{}` in the ramdisk", actor.name, actor.file);
            problems.push((actor.line, why));
        }
    }
    // In the file's order, as a person reads it.
    problems.sort_by_key(|(line, _)| *line);
    let problems: Vec<String> =
        problems.into_iter().map(|(line, why)| format!("{path} line {line}: {why}")).collect();
    if problems.is_empty() { Ok(()) } else { fail(problems) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(manifest: &str) -> Vec<(String, Vec<u8>)> {
        vec![("boot.manifest".into(), manifest.as_bytes().to_vec()), ("hello.wasm".into(), Vec::new())]
    }

    #[test]
    fn a_good_manifest_passes() {
        assert_eq!(check("boot.manifest", &files("endpoint e\nactor hello grant=e:rw\n")), Ok(()));
    }

    #[test]
    fn mistakes_are_reported_with_their_lines_in_the_kernels_words() {
        let errors = check("boot.manifest", &files("actor hello grant=nope:r\nactor ghost\nfrobnicate\n"))
            .expect_err("three mistakes");
        assert_eq!(errors.problems.len(), 3, "{errors}");
        assert_eq!(errors.problems[0], "boot.manifest line 1: grant of `nope`, which no line declares");
        assert_eq!(
            errors.problems[1],
            "boot.manifest line 2: actor ghost not started: no file `ghost.wasm` in the ramdisk"
        );
        assert!(
            errors.problems[2].starts_with("boot.manifest line 3: unknown declaration `frobnicate`"),
            "{errors}"
        );
        assert!(errors.to_string().starts_with("the boot manifest has mistakes"), "{errors}");
        let missing = check("test/x.manifest", &files("")).expect_err("no such file");
        assert_eq!(
            missing.problems,
            ["no `test/x.manifest` in the ramdisk: the kernel would start no actors"]
        );
    }

    #[test]
    fn the_manifest_option_names_the_file() {
        assert_eq!(booted_manifest("log=debug manifest=test/abi.manifest"), "test/abi.manifest");
        assert_eq!(booted_manifest("log=debug"), "boot.manifest");
    }
}
