//! The CMOS real-time clock, read once at boot for the wall clock (`time::wall`). Its time is
//! taken as UTC, as QEMU's default (`-rtc base=utc`) and most firmware keep it.

use x86_64::instructions::port::Port;

/// The CMOS index register (bit 7 would mask NMIs; it stays clear).
const INDEX: u16 = 0x70;
/// The CMOS data register.
const DATA: u16 = 0x71;

/// Reads CMOS register `register`.
fn read(register: u8) -> u8 {
    // SAFETY: ports 0x70/0x71 are the CMOS, which nothing else in the kernel touches; a read
    // of a clock register has no side effect.
    unsafe {
        Port::<u8>::new(INDEX).write(register);
        Port::<u8>::new(DATA).read()
    }
}

/// The clock's fields, as it counts them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reading([u8; 6]);

/// Tries at reading before the clock counts as broken (an update takes under 2 ms).
const TRIES: usize = 100_000;

/// One reading, taken outside an update (register A's bit 7 marks one in progress).
fn reading() -> Option<Reading> {
    (0..TRIES).find(|_| read(0x0a) & 0x80 == 0)?;
    Some(Reading([0x00, 0x02, 0x04, 0x07, 0x08, 0x09].map(read)))
}

/// Seconds since 1970-01-01 UTC now, as the RTC says; `None` if it reads as nonsense.
pub fn unix_seconds() -> Option<u64> {
    // Two equal readings in a row: none straddles an update.
    let mut last = reading()?;
    let mut same = None;
    for _ in 0..8 {
        let next = reading()?;
        if next == last {
            same = Some(next);
            break;
        }
        last = next;
    }
    let Reading([s, m, h, day, month, year]) = same?;
    let status = read(0x0b);
    let binary = |v: u8| if status & 0x04 != 0 { v } else { (v & 0x0f) + (v >> 4) * 10 };
    // In 12-hour mode, bit 7 of the hour marks the afternoon.
    let hour = match (status & 0x02 == 0, h & 0x80 != 0) {
        (true, pm) => binary(h & 0x7f) % 12 + if pm { 12 } else { 0 },
        (false, _) => binary(h),
    };
    from_fields(2000 + u64::from(binary(year)), binary(month), binary(day), hour, binary(m), binary(s))
}

/// Seconds since 1970 of a UTC date and time, if the fields are in range.
fn from_fields(year: u64, month: u8, day: u8, hour: u8, minute: u8, second: u8) -> Option<u64> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    // Days from 1970-01-01 to the date (the civil-from-days method: years from March on).
    let (y, m) = if month <= 2 { (year - 1, u64::from(month) + 9) } else { (year, u64::from(month) - 3) };
    let era = y / 400;
    let year_of_era = y - era * 400;
    let day_of_year = (153 * m + 2) / 5 + u64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = (era * 146_097 + day_of_era).checked_sub(719_468)?;
    Some(days * 86_400 + u64::from(hour) * 3600 + u64::from(minute) * 60 + u64::from(second))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_count_the_seconds_since_1970() {
        assert_eq!(from_fields(1970, 1, 1, 0, 0, 0), Some(0));
        assert_eq!(from_fields(2000, 3, 1, 0, 0, 0), Some(951_868_800));
        assert_eq!(from_fields(2026, 12, 6, 11, 30, 5), Some(1_796_556_605));
        assert_eq!(from_fields(2024, 2, 29, 23, 59, 59), Some(1_709_251_199));
        assert_eq!(from_fields(2026, 13, 1, 0, 0, 0), None);
        assert_eq!(from_fields(2026, 1, 0, 0, 0, 0), None);
    }
}
