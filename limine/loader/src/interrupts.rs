//! Masking interrupt sources before the jump, as the protocol's entry state requires: every
//! legacy PIC line, and every I/O APIC redirection entry with fixed or lowest-priority delivery.

use core::arch::asm;

/// Data ports of the master and slave 8259 PICs (their interrupt mask registers).
const PIC_DATA_PORTS: [u16; 2] = [0x21, 0xa1];
/// I/O APIC register select, and the data window 16 bytes above it.
const IOREGSEL: u64 = 0x00;
const IOWIN: u64 = 0x10;
/// Register holding the number of redirection entries, and the first entry's low half.
const IOAPICVER: u32 = 0x01;
const IOREDTBL: u32 = 0x10;
const MASKED: u32 = 1 << 16;
/// Delivery modes the protocol masks: fixed (0b000) and lowest priority (0b001).
const DELIVERY_MODE: u32 = 0b111 << 8;
const LOWEST_PRIORITY: u32 = 0b001 << 8;

/// Turns interrupts off and masks the PICs and the I/O APICs at `io_apics`.
///
/// # Safety
/// Boot services must have exited (the firmware no longer drives these controllers), and
/// `io_apics` must be I/O APIC register blocks (as the MADT lists them), identity-mapped.
pub unsafe fn mask_all(io_apics: &[u64]) {
    // SAFETY: clearing IF only stops this CPU from taking interrupts.
    unsafe { asm!("cli", options(nomem, nostack)) };
    for port in PIC_DATA_PORTS {
        // SAFETY: writing 0xff to a PIC's data port after initialisation sets its interrupt mask
        // register; with no PIC present the write goes nowhere.
        unsafe {
            asm!("out dx, al", in("dx") port, in("al") 0xffu8, options(nomem, nostack, preserves_flags))
        };
    }
    for &base in io_apics {
        // SAFETY: the caller vouches that `base` is an I/O APIC; these accesses only read its
        // registers and set mask bits.
        unsafe {
            let entries = (read(base, IOAPICVER) >> 16 & 0xff) + 1;
            for i in 0..entries {
                let register = IOREDTBL + 2 * i;
                let low = read(base, register);
                if low & DELIVERY_MODE <= LOWEST_PRIORITY {
                    write(base, register, low | MASKED);
                }
            }
        }
    }
}

/// # Safety
/// `base` must be an identity-mapped I/O APIC register block.
unsafe fn read(base: u64, register: u32) -> u32 {
    // SAFETY: per the caller; selecting a register, then reading the window, is how an I/O
    // APIC is accessed.
    unsafe {
        ((base + IOREGSEL) as *mut u32).write_volatile(register);
        ((base + IOWIN) as *const u32).read_volatile()
    }
}

/// # Safety
/// As for [`read`].
unsafe fn write(base: u64, register: u32, value: u32) {
    // SAFETY: per the caller, as in `read`.
    unsafe {
        ((base + IOREGSEL) as *mut u32).write_volatile(register);
        ((base + IOWIN) as *mut u32).write_volatile(value);
    }
}
