//! Device grants: which PCI function a `pci.…` name matches.

use alloc::vec::Vec;

/// Which PCI function a device grant names: `pci.VVVV.DDDD` (vendor and device id, hex),
/// `pci.class.CC` or `pci.class.CC.SS` (class and subclass, hex).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DeviceMatch {
    /// Vendor and device id.
    Id { vendor: u16, device: u16 },
    /// Class, and subclass if given.
    Class { class: u8, subclass: Option<u8> },
}

impl DeviceMatch {
    /// Reads `pci.…` as the grant syntax gives it; `None` if it is no device name.
    pub fn parse(name: &str) -> Option<Self> {
        let rest = name.strip_prefix("pci.")?;
        let hex = |word: &str, digits: usize| {
            let hex = word.len() == digits && word.bytes().all(|b| b.is_ascii_hexdigit());
            hex.then(|| u16::from_str_radix(word, 16).ok()).flatten()
        };
        let words: Vec<&str> = rest.split('.').collect();
        match words.as_slice() {
            ["class", class] => Some(Self::Class { class: hex(class, 2)? as u8, subclass: None }),
            ["class", class, sub] => {
                Some(Self::Class { class: hex(class, 2)? as u8, subclass: Some(hex(sub, 2)? as u8) })
            }
            [vendor, device] => Some(Self::Id { vendor: hex(vendor, 4)?, device: hex(device, 4)? }),
            _ => None,
        }
    }

    /// Whether a function with these ids and class (class, subclass) matches.
    pub fn matches(&self, vendor: u16, device: u16, class: [u8; 2]) -> bool {
        match *self {
            Self::Id { vendor: v, device: d } => v == vendor && d == device,
            Self::Class { class: c, subclass } => c == class[0] && subclass.is_none_or(|s| s == class[1]),
        }
    }
}

impl core::fmt::Debug for DeviceMatch {
    /// As the manifest writes it (ids in hex), for logs that show a grant.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Display::fmt(self, f)
    }
}

impl core::fmt::Display for DeviceMatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Id { vendor, device } => write!(f, "pci.{vendor:04x}.{device:04x}"),
            Self::Class { class, subclass: None } => write!(f, "pci.class.{class:02x}"),
            Self::Class { class, subclass: Some(sub) } => write!(f, "pci.class.{class:02x}.{sub:02x}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn device_names_parse_and_match() {
        let virtio_net = DeviceMatch::parse("pci.1af4.1000").unwrap();
        assert_eq!(virtio_net, DeviceMatch::Id { vendor: 0x1af4, device: 0x1000 });
        assert!(virtio_net.matches(0x1af4, 0x1000, [0x02, 0x00]));
        assert!(!virtio_net.matches(0x1af4, 0x1041, [0x02, 0x00]));
        let network = DeviceMatch::parse("pci.class.02").unwrap();
        assert!(network.matches(0x8086, 0x100e, [0x02, 0x00]));
        assert!(!network.matches(0x8086, 0x100e, [0x03, 0x00]));
        let ethernet = DeviceMatch::parse("pci.class.02.00").unwrap();
        assert!(!ethernet.matches(0x1af4, 0x1000, [0x02, 0x80]));
        for name in ["pci.1af4.1000", "pci.class.02", "pci.class.02.00"] {
            assert_eq!(DeviceMatch::parse(name).unwrap().to_string(), name);
        }
        for bad in [
            "pci",
            "pci.",
            "pci.1af4",
            "pci.1af4.100",
            "pci.xyzw.1000",
            "pci.class.2",
            "pci.class.02.00.1",
            "pci.+1af.1000",
            "vfs",
        ] {
            assert_eq!(DeviceMatch::parse(bad), None, "{bad}");
        }
    }
}
