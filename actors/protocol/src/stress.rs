//! The stress check's messages (`actors/stress` and its senders, `actors/stress_sender`): raw
//! opcodes and a fixed 12-byte record, so the check measures the kernel's message path, not an
//! encoding.

/// A numbered message: [`Record`] with the sender's count.
pub const DATA: u32 = 1;
/// A sender's last message: [`Record`] with how many it sent.
pub const DONE: u32 = 2;
/// The checker's first message to a sender, on its control endpoint: its number (`u32`, LE).
pub const ID: u32 = 3;
/// The checker's order to a sender to stop (no payload).
pub const STOP: u32 = 4;

/// A sender's number and a count, as its messages carry them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Which sender.
    pub sender: u32,
    /// The message's count, or the total sent.
    pub count: u64,
}

impl Record {
    /// Bytes of a record.
    pub const LEN: usize = 12;

    /// Its bytes: the sender, then the count, little-endian.
    pub fn to_bytes(self) -> [u8; Self::LEN] {
        let mut bytes = [0; Self::LEN];
        bytes[..4].copy_from_slice(&self.sender.to_le_bytes());
        bytes[4..].copy_from_slice(&self.count.to_le_bytes());
        bytes
    }

    /// The record `bytes` hold, if they are one.
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let bytes: &[u8; Self::LEN] = bytes.try_into().ok()?;
        let (sender, count) = bytes.split_at(4);
        Some(Self {
            sender: u32::from_le_bytes(sender.try_into().ok()?),
            count: u64::from_le_bytes(count.try_into().ok()?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_as_written_and_only_whole() {
        let record = Record { sender: 7, count: u64::MAX - 1 };
        let bytes = record.to_bytes();
        assert_eq!(bytes[..4], 7u32.to_le_bytes());
        assert_eq!(Record::from_bytes(&bytes), Some(record));
        assert_eq!(Record::from_bytes(&bytes[..11]), None);
        assert_eq!(Record::from_bytes(&[0; 13]), None);
    }
}
