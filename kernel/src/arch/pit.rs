//! The legacy PIT (8254), used once at boot as a known-frequency reference to measure the TSC
//! and the LAPIC timer against. Channel 2 is used because its gate and output are readable
//! through port 0x61 without an interrupt.

use x86_64::instructions::port::Port;

/// The PIT's input clock, fixed by the PC architecture.
pub const PIT_HZ: u64 = 1_193_182;

const CHANNEL2_DATA: u16 = 0x42;
const COMMAND: u16 = 0x43;
/// Port B of the keyboard controller: bit 0 gates channel 2, bit 1 drives the speaker, bit 5
/// reads channel 2's output.
const PORT_B: u16 = 0x61;

/// Rate, in counts per second, of a counter that advanced `counted` while the PIT counted
/// `ticks` (0 for no ticks).
pub fn rate(counted: u64, ticks: u16) -> u64 {
    if ticks == 0 {
        return 0;
    }
    u64::try_from(u128::from(counted) * u128::from(PIT_HZ) / u128::from(ticks)).unwrap_or(u64::MAX)
}

/// Runs `during` once while the PIT counts `ticks` input-clock ticks (at most 65535, about
/// 55 ms) and returns what `during` returned at the start and at the end.
pub fn measure<T>(ticks: u16, mut during: impl FnMut() -> T) -> (T, T) {
    let mut port_b = Port::<u8>::new(PORT_B);
    let mut command = Port::<u8>::new(COMMAND);
    let mut data = Port::<u8>::new(CHANNEL2_DATA);
    // SAFETY: the PIT and port B are fixed PC devices the kernel uses nowhere else; channel 2
    // only drives the speaker, which is kept off.
    unsafe {
        let b = port_b.read();
        port_b.write((b & !0x02) & !0x01);
        // Channel 2, low then high byte, mode 0 (output goes high when the count reaches 0).
        command.write(0b1011_0000);
        data.write(ticks as u8);
        data.write((ticks >> 8) as u8);
        let b = port_b.read();
        // Raising the gate starts the count.
        port_b.write(b | 0x01);
        let start = during();
        while port_b.read() & 0x20 == 0 {}
        let end = during();
        port_b.write(b & !0x01);
        (start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_do_not_overflow() {
        // A 3 GHz TSC over 10 ms of PIT ticks.
        assert_eq!(rate(30_000_000, 11_931), 3_000_206_185);
        assert_eq!(rate(5, 0), 0);
        assert_eq!(rate(u64::MAX, 1), u64::MAX);
    }
}
