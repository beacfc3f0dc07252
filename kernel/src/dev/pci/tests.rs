use super::*;
use std::collections::BTreeMap;

/// One made-up function: its registers, and for each BAR the address bits it implements.
struct Fake {
    regs: [u32; 64],
    bar_masks: [u32; 6],
}

/// A made-up machine's configuration space.
#[derive(Default)]
struct Machine {
    functions: BTreeMap<Address, Fake>,
    /// Every write, in order: (address, offset, value).
    writes: Vec<(Address, u8, u32)>,
}

impl Machine {
    /// Adds a function with ids, class, header type, and BARs given as (initial value, mask of
    /// the bits that stick when all ones are written).
    fn add(
        &mut self,
        address: Address,
        ids: (u16, u16),
        class: [u8; 3],
        header: u8,
        bars: &[(u32, u32)],
    ) -> &mut Fake {
        let mut regs = [0u32; 64];
        regs[0] = u32::from(ids.1) << 16 | u32::from(ids.0);
        regs[2] = u32::from_be_bytes([class[0], class[1], class[2], 1]);
        regs[3] = u32::from(header) << 16;
        regs[1] = 0b111;
        let mut bar_masks = [0; 6];
        for (i, &(value, mask)) in bars.iter().enumerate() {
            regs[4 + i] = value;
            bar_masks[i] = mask;
        }
        self.functions.entry(address).or_insert(Fake { regs, bar_masks })
    }
}

impl ConfigSpace for Machine {
    fn read(&mut self, address: Address, offset: u8) -> u32 {
        self.functions.get(&address).map_or(u32::MAX, |f| f.regs[usize::from(offset / 4)])
    }

    fn write(&mut self, address: Address, offset: u8, value: u32) {
        self.writes.push((address, offset, value));
        let Some(f) = self.functions.get_mut(&address) else { return };
        let index = usize::from(offset / 4);
        match index {
            4..=9 => {
                let mask = f.bar_masks[index - 4];
                let high_half = index > 4 && f.regs[index - 1] & 0b111 == 0b100;
                // The type bits stay; the address bits keep what the BAR implements.
                let type_bits = match f.regs[index] {
                    _ if high_half => 0,
                    r if r & 1 == 1 => r & 0b11,
                    r => r & 0b1111,
                };
                f.regs[index] = (value & mask & !type_bits_mask(high_half, type_bits)) | type_bits;
            }
            _ => f.regs[index] = value,
        }
    }
}

/// The low bits of a BAR that hold its type rather than its address.
fn type_bits_mask(high_half: bool, type_bits: u32) -> u32 {
    match () {
        _ if high_half => 0,
        _ if type_bits & 1 == 1 => 0b11,
        _ => 0b1111,
    }
}

fn at(bus: u8, device: u8, function: u8) -> Address {
    Address { bus, device, function }
}

#[test]
fn bars_are_decoded_and_sized_and_the_command_register_is_restored() {
    let mut m = Machine::default();
    m.add(
        at(0, 3, 0),
        (0x1af4, 0x1041),
        [0x02, 0x00, 0x00],
        0,
        &[
            (0xc041, 0xffff_ffe0),      // I/O ports 0xc040, 32 of them
            (0xfebd_1000, 0xffff_f000), // 32-bit memory, 4 KiB
            (0, 0),                     // not implemented
            (0x0000_000c, 0xffff_c000), // 64-bit prefetchable memory, low half: 16 KiB
            (0x0000_0001, 0xffff_ffff), // its high half: at 0x1_0000_0000
            (0, 0),
        ],
    );
    let found = enumerate(&mut m);
    assert_eq!(found.len(), 1);
    let f = &found[0];
    assert_eq!((f.vendor, f.device, f.class), (0x1af4, 0x1041, [0x02, 0, 0]));
    assert_eq!(f.bars[0], Some(Bar::Io { base: 0xc040, size: 32 }));
    assert_eq!(f.bars[1], Some(Bar::Memory { base: 0xfebd_1000, size: 4096, prefetchable: false }));
    assert_eq!(f.bars[2], None);
    assert_eq!(f.bars[3], Some(Bar::Memory { base: 0x1_0000_0000, size: 16 * 1024, prefetchable: true }));
    assert_eq!(f.bars[4], None, "the high half of a 64-bit BAR is not a BAR");
    assert_eq!(f.to_string(), "00:03.0 1af4:1041 Ethernet");
    // Decoding was off while the BARs held all ones, and every BAR got its value back.
    let writes = &m.writes;
    let first_probe = writes.iter().position(|w| w.2 == u32::MAX).unwrap();
    assert_eq!(writes[first_probe - 1], (at(0, 3, 0), COMMAND, 0b100));
    assert_eq!(*writes.last().unwrap(), (at(0, 3, 0), COMMAND, 0b111));
    assert_eq!(m.functions[&at(0, 3, 0)].regs[4..10], [0xc041, 0xfebd_1000, 0, 0x0000_000c, 1, 0]);
}

#[test]
fn the_walk_follows_bridges_and_multifunction_devices() {
    let mut m = Machine::default();
    m.add(at(0, 0, 0), (0x8086, 0x29c0), [0x06, 0x00, 0x00], 0, &[]);
    // A multifunction device: functions 0 and 2.
    m.add(at(0, 0x1f, 0), (0x8086, 0x2918), [0x06, 0x01, 0x00], 0x80, &[]);
    m.add(at(0, 0x1f, 2), (0x8086, 0x2922), [0x01, 0x06, 0x01], 0, &[]);
    // Function 3 of a single-function device is not looked at.
    m.add(at(0, 2, 0), (0x1234, 0x1111), [0x03, 0x00, 0x00], 0, &[]);
    m.add(at(0, 2, 3), (0xdead, 0xbeef), [0x03, 0x00, 0x00], 0, &[]);
    // A bridge to bus 5, with a device behind it.
    m.add(at(0, 4, 0), (0x1b36, 0x0001), [0x06, 0x04, 0x00], 1, &[]).regs[6] = 0x00_05_05_00;
    m.add(at(5, 0, 0), (0x1af4, 0x1042), [0x01, 0x00, 0x00], 0, &[]);
    // Nothing on bus 7, which no bridge leads to.
    m.add(at(7, 0, 0), (0x1af4, 0x1043), [0x07, 0x80, 0x00], 0, &[]);
    let found: Vec<String> = enumerate(&mut m).iter().map(|f| f.to_string()).collect();
    assert_eq!(
        found,
        [
            "00:00.0 8086:29c0 host bridge",
            "00:02.0 1234:1111 display",
            "00:04.0 1b36:0001 PCI bridge",
            "00:1f.0 8086:2918 ISA bridge",
            "00:1f.2 8086:2922 SATA controller",
            "05:00.0 1af4:1042 storage",
        ]
    );
}

#[test]
fn capabilities_are_listed_and_a_looping_list_ends() {
    let mut m = Machine::default();
    let f = m.add(at(0, 3, 0), (0x1af4, 0x1041), [0x02, 0x00, 0x00], 0, &[]);
    f.regs[1] |= STATUS_CAPABILITIES;
    f.regs[usize::from(CAPABILITIES_POINTER / 4)] = 0x98;
    f.regs[0x98 / 4] = 0x84_11; // MSI-X, next at 0x84
    f.regs[0x84 / 4] = 0x70_09; // vendor, next at 0x70
    f.regs[0x70 / 4] = 0x98_09; // vendor, next back at 0x98: a loop
    let found = enumerate(&mut m);
    let caps = &found[0].capabilities;
    assert_eq!(caps.len(), MAX_CAPABILITIES, "a loop is cut at the bound");
    assert_eq!(
        caps[..3],
        [
            Capability { id: CAP_MSIX, offset: 0x98 },
            Capability { id: CAP_VENDOR, offset: 0x84 },
            Capability { id: CAP_VENDOR, offset: 0x70 },
        ]
    );
    assert_eq!(found[0].capability(CAP_MSIX), Some(Capability { id: CAP_MSIX, offset: 0x98 }));
    assert_eq!(found[0].capability(CAP_MSI), None);
}

#[test]
fn an_msix_table_is_located() {
    let mut m = Machine::default();
    let f = m.add(at(0, 3, 0), (0x1af4, 0x1041), [0x02, 0x00, 0x00], 0, &[]);
    f.regs[1] |= STATUS_CAPABILITIES;
    f.regs[usize::from(CAPABILITIES_POINTER / 4)] = 0x98;
    f.regs[0x98 / 4] = 2 << 16 | CAP_MSIX as u32; // 3 entries, end of list
    f.regs[0x9c / 4] = 0x0000_0001; // table: BAR 1, offset 0
    f.regs[0xa0 / 4] = 0x0000_0801; // pending bits: BAR 1, offset 0x800
    let msix = enumerate(&mut m)[0].msix.expect("MSI-X");
    assert_eq!(msix, Msix { entries: 3, table: (1, 0), pending: (1, 0x800) });
    // A table in a BAR that cannot exist is not MSI-X the kernel can use.
    m.functions.get_mut(&at(0, 3, 0)).unwrap().regs[0x9c / 4] = 0x0000_0007;
    assert_eq!(enumerate(&mut m)[0].msix, None);
}
