//! The boot manifest parser on arbitrary text: it never panics, every error names a line of
//! the text, and every actor it accepts has a name and a file.
#![no_main]

use kernel::system::manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let text = String::from_utf8_lossy(bytes);
    let lines = text.lines().count();
    let (parsed, errors) = manifest::parse(&text);
    for error in &errors {
        assert!((1..=lines).contains(&error.line), "error on line {} of {lines}", error.line);
    }
    for actor in &parsed.actors {
        assert!(!actor.name.is_empty() && !actor.file.is_empty());
        assert!((1..=lines).contains(&actor.line));
    }
});
