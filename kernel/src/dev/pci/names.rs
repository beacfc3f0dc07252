//! What a PCI class code means, in a few words, for the boot log and for people.

/// The class code (class, subclass, programming interface) as words: `network`, `display`,
/// `SATA controller`, or the class's name alone when the subclass is not one listed here.
pub fn class_name(class: [u8; 3]) -> &'static str {
    match (class[0], class[1]) {
        (0x01, 0x01) => "IDE controller",
        (0x01, 0x06) => "SATA controller",
        (0x01, 0x08) => "NVMe controller",
        (0x01, _) => "storage",
        (0x02, 0x00) => "Ethernet",
        (0x02, _) => "network",
        (0x03, _) => "display",
        (0x04, _) => "multimedia",
        (0x05, _) => "memory controller",
        (0x06, 0x00) => "host bridge",
        (0x06, 0x01) => "ISA bridge",
        (0x06, 0x04) => "PCI bridge",
        (0x06, _) => "bridge",
        (0x07, _) => "communication",
        (0x08, _) => "system peripheral",
        (0x09, _) => "input",
        (0x0c, 0x03) => "USB controller",
        (0x0c, 0x05) => "SMBus",
        (0x0c, _) => "serial bus",
        (0xff, _) => "unassigned class",
        _ => "other",
    }
}
