//! [`Terminal`]: where the shell's output goes: the `console.out` endpoint, and a mirror on
//! the display through `ui_server` (`protocol::ui`) when the shell has one.

use alloc::string::String;

use protocol::ui;
use sdk::{Endpoint, Error, sys};

/// Where the shell's output goes as it is produced: a [`Terminal`], or a `String` that
/// collects it (the tests').
#[allow(async_fn_in_trait, reason = "an actor is single-threaded: no caller needs the future to be Send")]
pub trait Output {
    /// Shows `text`.
    async fn show(&mut self, text: &str) -> Result<(), Error>;
}

impl Output for String {
    async fn show(&mut self, text: &str) -> Result<(), Error> {
        self.push_str(text);
        Ok(())
    }
}

impl Output for Terminal {
    async fn show(&mut self, text: &str) -> Result<(), Error> {
        Terminal::show(self, text).await
    }
}

/// Opcode of the shell's output messages (the console service prints any message's payload).
const OUTPUT: u32 = 1;

/// The serial console's output endpoint, and the display's when there is one.
#[derive(Debug)]
pub struct Terminal {
    out: Endpoint,
    mirror: Option<Endpoint>,
}

impl Terminal {
    /// Output to `out`, the `console.out` endpoint, and to `mirror`, the `ui.req` endpoint.
    pub const fn new(out: Endpoint, mirror: Option<Endpoint>) -> Terminal {
        Terminal { out, mirror }
    }

    /// Shows `text` on the console, then on the display, waiting while either's queue is
    /// full. A display that fails is dropped and the shell goes on with the console alone.
    pub async fn show(&mut self, text: &str) -> Result<(), Error> {
        for piece in pieces(text, sys::MAX_PAYLOAD) {
            self.out.send(OUTPUT, piece.as_bytes(), None).await?;
        }
        if let Some(mirror) = &self.mirror {
            for piece in pieces(text, ui::MAX_TEXT) {
                if let Err(failed) = mirror.send(ui::TEXT, piece.as_bytes(), None).await {
                    sdk::println!("no longer mirroring to the display: {failed}");
                    self.mirror = None;
                    break;
                }
            }
        }
        Ok(())
    }
}

/// `text` cut into pieces of at most `max` bytes (at least 4), each whole characters.
fn pieces(text: &str, max: usize) -> impl Iterator<Item = &str> {
    let mut rest = text;
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        // A character is at most 4 bytes, so a cut of `max` bytes keeps at least one.
        let cut = if rest.len() <= max { rest.len() } else { rest.floor_char_boundary(max.max(4)) };
        let (piece, after) = rest.split_at(cut);
        rest = after;
        Some(piece)
    })
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use super::*;

    #[test]
    fn pieces_are_whole_characters_within_the_limit() {
        let text = "aé€😀b";
        for max in 4..=12 {
            let cut: Vec<&str> = pieces(text, max).collect();
            assert_eq!(cut.concat(), text, "max {max}");
            assert!(cut.iter().all(|piece| !piece.is_empty() && piece.len() <= max), "{cut:?}");
        }
        assert_eq!(pieces("", 4).count(), 0);
        assert_eq!(pieces("abcdefghij", 4).collect::<Vec<_>>(), ["abcd", "efgh", "ij"]);
    }
}
