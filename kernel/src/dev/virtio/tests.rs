use super::*;
use crate::dev::pci::{Address, Capability};

/// A made-up common configuration: its bytes, little-endian.
struct Fake([u8; KNOWN_END as usize]);

impl Fake {
    fn new() -> Self {
        Self([0; KNOWN_END as usize])
    }

    fn set(&mut self, offset: u64, width: u8, value: u32) {
        let at = offset as usize;
        self.0[at..at + usize::from(width)].copy_from_slice(&value.to_le_bytes()[..usize::from(width)]);
    }
}

impl Common for Fake {
    fn read(&mut self, offset: u64, width: u8) -> u32 {
        let mut bytes = [0u8; 4];
        let at = offset as usize;
        bytes[..usize::from(width)].copy_from_slice(&self.0[at..at + usize::from(width)]);
        u32::from_le_bytes(bytes)
    }
}

/// The common configuration at offset 0x1000 of BAR 4, as QEMU lays it out.
const GUARD: Guard = Guard { bar: 4, offset: 0x1000, len: 0x1000 };

fn judge(fake: &mut Fake, at: u64, width: u8, value: u32) -> Verdict {
    GUARD.judge(4, 0x1000 + at, width, value, fake)
}

fn function(vendor: u16, device: u16) -> Function {
    Function {
        address: Address { bus: 0, device: 2, function: 0 },
        vendor,
        device,
        class: [2, 0, 0],
        revision: 1,
        bars: [None; 6],
        interrupt_pin: 0,
        capabilities: vec![
            Capability { id: pci::CAP_VENDOR, offset: 0x84 },
            Capability { id: pci::CAP_VENDOR, offset: 0x70 },
        ],
        msix: None,
    }
}

/// Configuration registers of two virtio capabilities: notify (type 2) at 0x84, common
/// (type 1) at 0x70, both in BAR 4.
fn config(offset: u8, common_len: u32) -> u32 {
    match offset {
        0x84 => 2 << 24,
        0x88 | 0x74 => 4,
        0x8c => 0x3000,
        0x90 => 0x1000,
        0x70 => 1 << 24,
        0x78 => 0x1000,
        0x7c => common_len,
        _ => 0,
    }
}

#[test]
fn the_common_configuration_of_a_virtio_device_is_found_from_its_vendor_capabilities() {
    assert_eq!(Guard::find(&function(0x1af4, 0x1000), |o| config(o, 0x1000)), Some(GUARD));
    assert_eq!(Guard::find(&function(0x1af4, 0x1041), |o| config(o, 0x38)).map(|g| g.len), Some(0x38));
    // Not virtio, or a common configuration too short to hold the fields the guard checks.
    assert_eq!(Guard::find(&function(0x8086, 0x100e), |o| config(o, 0x1000)), None);
    assert_eq!(Guard::find(&function(0x1af4, 0x1000), |o| config(o, 0x20)), None);
}

#[test]
fn address_registers_are_never_written_raw_and_unknown_fields_never_at_all() {
    let mut fake = Fake::new();
    for at in [QUEUE_DESC, QUEUE_DESC + 4, QUEUE_DRIVER, QUEUE_DEVICE + 4] {
        assert_eq!(judge(&mut fake, at, 4, 0x1234), Verdict::Refuse, "{at:#x}");
    }
    // Past the known fields (a later virtio's queue reset), another width, a straddle.
    assert_eq!(judge(&mut fake, 0x3a, 2, 1), Verdict::Refuse);
    assert_eq!(judge(&mut fake, QUEUE_SELECT, 4, 0), Verdict::Refuse);
    assert_eq!(judge(&mut fake, 0x13, 2, 0), Verdict::Refuse);
    assert_eq!(GUARD.judge(4, 0xffe, 4, 0, &mut fake), Verdict::Refuse);
    // Beside the common configuration: the notify area, another BAR.
    assert_eq!(GUARD.judge(4, 0x3000, 4, 0, &mut fake), Verdict::Pass);
    assert_eq!(GUARD.judge(1, 0x1000 + QUEUE_DESC, 4, 0, &mut fake), Verdict::Pass);
    assert_eq!(judge(&mut fake, QUEUE_SELECT, 2, 1), Verdict::Pass);
}

#[test]
fn features_that_move_the_rings_are_refused() {
    let mut fake = Fake::new();
    assert_eq!(judge(&mut fake, DRIVER_FEATURE, 4, u32::MAX), Verdict::Pass);
    fake.set(DRIVER_FEATURE_SELECT, 4, 1);
    assert_eq!(judge(&mut fake, DRIVER_FEATURE, 4, 1), Verdict::Pass, "VERSION_1");
    assert_eq!(judge(&mut fake, DRIVER_FEATURE, 4, 1 | 1 << 2), Verdict::Refuse, "RING_PACKED");
    assert_eq!(judge(&mut fake, DRIVER_FEATURE, 4, 1 << 8), Verdict::Refuse, "RING_RESET");
    fake.set(DRIVER_FEATURE_SELECT, 4, 2);
    assert_eq!(judge(&mut fake, DRIVER_FEATURE, 4, 0), Verdict::Pass);
    assert_eq!(judge(&mut fake, DRIVER_FEATURE, 4, 1), Verdict::Refuse);
}

#[test]
fn a_queue_is_enabled_once_with_a_size_and_then_kept_as_it_is() {
    let mut fake = Fake::new();
    fake.set(QUEUE_SELECT, 2, 1);
    assert_eq!(judge(&mut fake, QUEUE_ENABLE, 2, 1), Verdict::Refuse, "size 0");
    fake.set(QUEUE_SIZE, 2, 256);
    assert_eq!(judge(&mut fake, QUEUE_SIZE, 2, 128), Verdict::Pass);
    assert_eq!(judge(&mut fake, QUEUE_ENABLE, 2, 1), Verdict::Enable { queue: 1, size: 256 });
    assert_eq!(judge(&mut fake, QUEUE_ENABLE, 2, 0), Verdict::Refuse, "disabling");
    assert_eq!(GUARD.address_register(4, 0x1000 + QUEUE_DRIVER, &mut fake), Some((1, Ring::Driver)));
    fake.set(QUEUE_ENABLE, 2, 1);
    assert_eq!(judge(&mut fake, QUEUE_SIZE, 2, 512), Verdict::Refuse, "resizing");
    assert_eq!(GUARD.address_register(4, 0x1000 + QUEUE_DRIVER, &mut fake), None, "re-addressing");
    assert_eq!(judge(&mut fake, DEVICE_STATUS, 1, 0), Verdict::Reset);
    assert_eq!(judge(&mut fake, DEVICE_STATUS, 1, 1), Verdict::Pass);
}

#[test]
fn only_the_three_address_registers_take_a_buffer() {
    let mut fake = Fake::new();
    let register = |fake: &mut Fake, at| GUARD.address_register(4, 0x1000 + at, fake);
    assert_eq!(register(&mut fake, QUEUE_DESC), Some((0, Ring::Descriptors)));
    assert_eq!(register(&mut fake, QUEUE_DEVICE), Some((0, Ring::Device)));
    for at in [QUEUE_DESC + 4, QUEUE_ENABLE, 0x38, 0] {
        assert_eq!(register(&mut fake, at), None, "{at:#x}");
    }
    assert_eq!(
        (Ring::Descriptors.bytes(256), Ring::Driver.bytes(256), Ring::Device.bytes(256)),
        (4096, 518, 2054)
    );
}
