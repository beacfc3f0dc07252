//! The ACPI MADT ("APIC" table) read from a byte buffer: the I/O APICs the hand-off masks and
//! the processors the MP request starts. Finding the table in memory is `acpi.rs`'s job,
//! starting the processors `mp.rs`'s.

use alloc::vec::Vec;

/// Bytes before the first entry: the system description table header (36), the local APIC
/// address (4) and the flags (4).
pub const ENTRIES_OFFSET: usize = 44;

/// Entry types (ACPI 6.5, 5.2.12).
const LOCAL_APIC: u8 = 0;
const IO_APIC: u8 = 1;
const LOCAL_X2APIC: u8 = 9;

/// Processor flags: the CPU is usable now, or (when not enabled) can be brought online.
const ENABLED: u32 = 1 << 0;
const ONLINE_CAPABLE: u32 = 1 << 1;

/// A processor the MADT lists as enabled or online-capable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Processor {
    /// ACPI processor UID.
    pub uid: u32,
    /// Local APIC ID (an x2APIC ID for type-9 entries).
    pub apic_id: u32,
}

/// Every entry as (type, its bytes, header included), in table order. Stops at the table's
/// length (or the buffer's end, if shorter) and at the first malformed entry.
fn entries(madt: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    let length = le_u32(madt, 4).map_or(0, |l| l as usize).min(madt.len());
    let mut rest = madt.get(ENTRIES_OFFSET..length).unwrap_or_default();
    core::iter::from_fn(move || {
        let (&kind, &size) = (rest.first()?, rest.get(1)?);
        let entry = rest.get(..usize::from(size)).filter(|_| size >= 2)?;
        rest = &rest[entry.len()..];
        Some((kind, entry))
    })
}

/// Physical addresses of the I/O APICs.
pub fn io_apics(madt: &[u8]) -> Vec<u64> {
    entries(madt)
        .filter(|&(kind, _)| kind == IO_APIC)
        .filter_map(|(_, entry)| le_u32(entry, 4).map(u64::from))
        .collect()
}

/// The processors that are enabled or online-capable, in table order, each APIC ID once:
/// firmware may list a CPU both as a local APIC and as a local x2APIC, and the first wins.
pub fn processors(madt: &[u8]) -> Vec<Processor> {
    let mut found: Vec<Processor> = Vec::new();
    for (kind, entry) in entries(madt) {
        let parsed = match kind {
            // uid u8, APIC ID u8, flags u32.
            LOCAL_APIC if entry.len() >= 8 => le_u32(entry, 4)
                .map(|flags| (Processor { uid: u32::from(entry[2]), apic_id: u32::from(entry[3]) }, flags)),
            // Reserved u16, x2APIC ID u32, flags u32, uid u32.
            LOCAL_X2APIC if entry.len() >= 16 => {
                match (le_u32(entry, 4), le_u32(entry, 8), le_u32(entry, 12)) {
                    (Some(apic_id), Some(flags), Some(uid)) => Some((Processor { uid, apic_id }, flags)),
                    _ => None,
                }
            }
            _ => None,
        };
        if let Some((processor, flags)) = parsed
            && flags & (ENABLED | ONLINE_CAPABLE) != 0
            && !found.iter().any(|p| p.apic_id == processor.apic_id)
        {
            found.push(processor);
        }
    }
    found
}

/// The CPUs an MP response can list, in table order: the BSP, named by its APIC ID (with UID
/// 0, first, when the table misses it), and every other processor whose APIC ID `reachable`
/// says an IPI can address.
pub fn mp_cpus(processors: &[Processor], bsp: u32, reachable: impl Fn(u32) -> bool) -> Vec<Processor> {
    let mut cpus: Vec<Processor> =
        processors.iter().copied().filter(|p| p.apic_id == bsp || reachable(p.apic_id)).collect();
    if !cpus.iter().any(|p| p.apic_id == bsp) {
        cpus.insert(0, Processor { uid: 0, apic_id: bsp });
    }
    cpus
}

/// The little-endian `u32` at `offset`, if the buffer holds it.
fn le_u32(bytes: &[u8], offset: usize) -> Option<u32> {
    let field = bytes.get(offset..offset.checked_add(4)?)?;
    Some(u32::from_le_bytes(field.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    /// A MADT with these entries; its length field covers them all.
    fn madt(entries: &[&[u8]]) -> Vec<u8> {
        let mut table = vec![0u8; ENTRIES_OFFSET];
        table[..4].copy_from_slice(b"APIC");
        table.extend(entries.concat());
        let length = table.len() as u32;
        table[4..8].copy_from_slice(&length.to_le_bytes());
        table
    }

    fn local_apic(uid: u8, apic_id: u8, flags: u32) -> Vec<u8> {
        let mut entry = vec![LOCAL_APIC, 8, uid, apic_id];
        entry.extend(flags.to_le_bytes());
        entry
    }

    fn local_x2apic(uid: u32, apic_id: u32, flags: u32) -> Vec<u8> {
        let mut entry = vec![LOCAL_X2APIC, 16, 0, 0];
        for field in [apic_id, flags, uid] {
            entry.extend(field.to_le_bytes());
        }
        entry
    }

    fn io_apic(id: u8, address: u32) -> Vec<u8> {
        let mut entry = vec![IO_APIC, 12, id, 0];
        entry.extend(address.to_le_bytes());
        entry.extend(0u32.to_le_bytes());
        entry
    }

    fn cpu(uid: u32, apic_id: u32) -> Processor {
        Processor { uid, apic_id }
    }

    #[test]
    fn enabled_and_online_capable_processors_in_table_order() {
        let table = madt(&[
            &local_apic(0, 0, ENABLED),
            &io_apic(0, 0xfec0_0000),
            &local_apic(1, 2, ENABLED),
            &local_apic(2, 4, 0),
            &local_apic(3, 6, ONLINE_CAPABLE),
            &[2, 10, 0, 0, 0, 0, 0, 0, 0, 0], // an interrupt source override
            &local_x2apic(300, 0x100, ENABLED),
        ]);
        assert_eq!(processors(&table), vec![cpu(0, 0), cpu(1, 2), cpu(3, 6), cpu(300, 0x100)]);
        assert_eq!(io_apics(&table), vec![0xfec0_0000]);
    }

    #[test]
    fn mp_lists_the_bsp_and_the_reachable_processors() {
        let table = [cpu(0, 0), cpu(1, 1), cpu(2, 0x1ff), cpu(3, 3)];
        let xapic = |id: u32| id < 0xff;
        assert_eq!(mp_cpus(&table, 1, xapic), vec![cpu(0, 0), cpu(1, 1), cpu(3, 3)]);
        assert_eq!(mp_cpus(&table, 1, |_| false), vec![cpu(1, 1)], "no APIC to start them with");
        assert_eq!(
            mp_cpus(&table[1..], 0, xapic),
            vec![cpu(0, 0), cpu(1, 1), cpu(3, 3)],
            "a BSP the table misses comes first"
        );
        assert_eq!(mp_cpus(&[], 5, xapic), vec![cpu(0, 5)], "no MADT");
    }

    #[test]
    fn a_cpu_listed_twice_counts_once() {
        let table =
            madt(&[&local_apic(0, 0, ENABLED), &local_x2apic(0, 0, ENABLED), &local_x2apic(1, 1, ENABLED)]);
        assert_eq!(processors(&table), vec![cpu(0, 0), cpu(1, 1)]);
    }

    #[test]
    fn malformed_entries_end_the_walk() {
        let zero_length = madt(&[&local_apic(0, 0, ENABLED), &[LOCAL_APIC, 0], &local_apic(1, 1, ENABLED)]);
        assert_eq!(processors(&zero_length), vec![cpu(0, 0)]);
        let mut truncated = madt(&[&local_apic(0, 0, ENABLED), &local_apic(1, 1, ENABLED)]);
        truncated.truncate(truncated.len() - 3);
        assert_eq!(processors(&truncated), vec![cpu(0, 0)], "the buffer ends inside the second entry");
        let mut short_x2apic = local_x2apic(2, 2, ENABLED);
        short_x2apic.truncate(12);
        short_x2apic[1] = 12;
        let short = madt(&[&[LOCAL_APIC, 4, 1, 1], &short_x2apic, &local_apic(3, 3, ENABLED)]);
        assert_eq!(processors(&short), vec![cpu(3, 3)], "entries too short for their type are skipped");
    }

    #[test]
    fn the_length_field_bounds_the_table() {
        let mut table = madt(&[&local_apic(0, 0, ENABLED)]);
        table.extend(local_apic(1, 1, ENABLED));
        assert_eq!(processors(&table), vec![cpu(0, 0)], "bytes past the table's length are not entries");
        assert!(processors(&table[..20]).is_empty());
    }
}
