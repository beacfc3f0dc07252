//! The legacy 8259 PIC pair: remapped away from the exception vectors, then fully masked.
//!
//! The kernel takes interrupts through the APICs. The 8259s still get programmed because
//! firmware may leave them mapped onto vectors 8–15, where a stray IRQ would look like a
//! double fault; remapped to [`PIC_VECTOR_BASE`]..+16, a spurious one is recognisable and ignored.

use x86_64::instructions::port::Port;

/// First vector of the remapped PICs (IRQ 0); IRQ 7 and IRQ 15 are their spurious vectors.
pub const PIC_VECTOR_BASE: u8 = 32;
/// Vectors the remapped PICs can raise.
pub const PIC_VECTORS: core::ops::Range<u8> = PIC_VECTOR_BASE..PIC_VECTOR_BASE + 16;

/// Remaps both PICs to [`PIC_VECTOR_BASE`] and masks every line.
pub fn remap_and_mask() {
    let (mut cmd1, mut data1) = (Port::<u8>::new(0x20), Port::<u8>::new(0x21));
    let (mut cmd2, mut data2) = (Port::<u8>::new(0xa0), Port::<u8>::new(0xa1));
    // Port 0x80 is unused; writing it gives old PICs time between initialisation words.
    let mut delay = Port::<u8>::new(0x80);
    // SAFETY: the standard initialisation sequence of the PC's 8259 pair, which no other code
    // drives; it ends with every line masked, so the PICs deliver nothing afterwards.
    unsafe {
        let mut write = |port: &mut Port<u8>, value: u8| {
            port.write(value);
            delay.write(0);
        };
        write(&mut cmd1, 0x11); // ICW1: initialise, ICW4 follows
        write(&mut cmd2, 0x11);
        write(&mut data1, PIC_VECTOR_BASE); // ICW2: vector base
        write(&mut data2, PIC_VECTOR_BASE + 8);
        write(&mut data1, 0x04); // ICW3: secondary on IRQ 2
        write(&mut data2, 0x02); // ICW3: cascade identity
        write(&mut data1, 0x01); // ICW4: 8086 mode
        write(&mut data2, 0x01);
        write(&mut data1, 0xff); // mask everything
        write(&mut data2, 0xff);
    }
}
