//! [`Utf8Stream`]: a program's output, which comes as bytes in messages of up to 4 KiB, as text
//! to show.

use alloc::string::String;
use alloc::vec::Vec;

/// Bytes to text across messages: a character cut between two messages is held back until
/// the rest of it comes; bytes that are no UTF-8 show as U+FFFD.
#[derive(Default)]
pub struct Utf8Stream {
    held: Vec<u8>,
}

impl Utf8Stream {
    /// The text of what was held and `bytes`, but for an unfinished character at the end.
    pub fn text(&mut self, bytes: &[u8]) -> String {
        self.held.extend_from_slice(bytes);
        let mut text = String::new();
        let mut rest = self.held.as_slice();
        loop {
            match core::str::from_utf8(rest) {
                Ok(valid) => {
                    text.push_str(valid);
                    rest = &[];
                    break;
                }
                Err(error) => {
                    let (valid, after) = rest.split_at(error.valid_up_to());
                    text.push_str(core::str::from_utf8(valid).unwrap_or_default());
                    match error.error_len() {
                        Some(bad) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            rest = &after[bad..];
                        }
                        // Cut short: the rest of the character may come in the next message.
                        None => {
                            rest = after;
                            break;
                        }
                    }
                }
            }
        }
        self.held = rest.to_vec();
        text
    }

    /// What is held, when no more comes.
    pub fn finish(&mut self) -> String {
        let text = String::from_utf8_lossy(&self.held).into_owned();
        self.held.clear();
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_cut_between_messages_are_whole_and_bad_bytes_are_marked() {
        let mut text = Utf8Stream::default();
        let euro = "€".as_bytes();
        assert_eq!(text.text(b"a"), "a");
        assert_eq!(text.text(&euro[..1]), "");
        assert_eq!(text.text(&euro[1..2]), "");
        assert_eq!(text.text(&[euro[2], b'b']), "€b");
        assert_eq!(text.text(b"\xffc\xc3"), "\u{fffd}c");
        assert_eq!(text.finish(), "\u{fffd}", "a cut character at the very end");
        assert_eq!(text.finish(), "");
    }
}
