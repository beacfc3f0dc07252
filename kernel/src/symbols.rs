//! The kernel's own function symbols, read from its ELF file (which the loader hands over in
//! memory it never reuses), so a fault report can name the functions of a backtrace.
//!
//! Nothing is copied or sorted at boot: a lookup scans the symbol table, which is fine for the
//! few addresses of a report and allocates nothing, as a fault handler must not.

use core::fmt;

/// The file's symbol table and its string table.
#[derive(Clone, Copy)]
pub struct Symbols {
    symtab: &'static [u8],
    strtab: &'static [u8],
}

/// Why the kernel file gives no symbols.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolError {
    /// Not a 64-bit little-endian ELF file, or cut short.
    NotElf,
    /// It has no symbol table (it was stripped).
    Stripped,
}

impl fmt::Display for SymbolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::NotElf => "the kernel file is not a 64-bit ELF file",
            Self::Stripped => "the kernel file has no symbol table",
        })
    }
}

const SHT_SYMTAB: u32 = 2;
const STT_FUNC: u8 = 2;
const SYMBOL_SIZE: usize = 24;
const SECTION_HEADER_SIZE: usize = 64;

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

impl Symbols {
    /// The symbols of the ELF file `elf`; every offset in it is checked against its length.
    pub fn from_elf(elf: &'static [u8]) -> Result<Self, SymbolError> {
        // Magic, 64-bit, little-endian.
        if elf.get(..6) != Some(b"\x7fELF\x02\x01") {
            return Err(SymbolError::NotElf);
        }
        let section_offset = usize::try_from(u64_at(elf, 0x28).ok_or(SymbolError::NotElf)?).ok();
        let sections = usize::from(u16_at(elf, 0x3c).ok_or(SymbolError::NotElf)?);
        let section = |index: usize| -> Option<&'static [u8]> {
            let at = section_offset?.checked_add(index.checked_mul(SECTION_HEADER_SIZE)?)?;
            elf.get(at..at.checked_add(SECTION_HEADER_SIZE)?)
        };
        let contents = |header: &[u8]| -> Option<&'static [u8]> {
            let (offset, size) =
                (usize::try_from(u64_at(header, 0x18)?).ok()?, usize::try_from(u64_at(header, 0x20)?).ok()?);
            elf.get(offset..offset.checked_add(size)?)
        };
        for index in 0..sections {
            let header = section(index).ok_or(SymbolError::NotElf)?;
            if u32_at(header, 4) != Some(SHT_SYMTAB) {
                continue;
            }
            let strings = u32_at(header, 0x28).and_then(|link| section(link as usize));
            let (Some(symtab), Some(strtab)) = (contents(header), strings.and_then(contents)) else {
                return Err(SymbolError::NotElf);
            };
            return Ok(Self { symtab, strtab });
        }
        Err(SymbolError::Stripped)
    }

    /// How many function symbols there are.
    pub fn functions(&self) -> usize {
        self.symtab.as_chunks::<SYMBOL_SIZE>().0.iter().filter(|s| s[4] & 0xf == STT_FUNC).count()
    }

    /// The function containing `addr`, and how far into it `addr` is.
    pub fn lookup(&self, addr: u64) -> Option<(&'static str, u64)> {
        self.symtab.as_chunks::<SYMBOL_SIZE>().0.iter().find_map(|symbol| {
            let (start, size) = (u64_at(symbol, 8)?, u64_at(symbol, 16)?);
            // Section index 0: an undefined symbol, with no address of its own.
            let defined = symbol[4] & 0xf == STT_FUNC && u16_at(symbol, 6)? != 0;
            let inside = defined && addr >= start && addr - start < size.max(1);
            inside.then(|| Some((self.name(u32_at(symbol, 0)? as usize)?, addr - start)))?
        })
    }

    /// The NUL-terminated string at `offset` of the string table.
    fn name(&self, offset: usize) -> Option<&'static str> {
        let rest = self.strtab.get(offset..)?;
        let end = rest.iter().position(|&b| b == 0)?;
        core::str::from_utf8(&rest[..end]).ok()
    }
}

static SYMBOLS: spin::Once<Symbols> = spin::Once::new();

/// Reads the symbols of the kernel file `elf` for later reports; returns how many functions
/// they name.
pub fn init(elf: &'static [u8]) -> Result<usize, SymbolError> {
    let symbols = Symbols::from_elf(elf)?;
    Ok(SYMBOLS.call_once(|| symbols).functions())
}

/// `addr` as a report shows it: `name+0xoffset`, demangled, or nothing known.
pub fn describe(addr: u64) -> Option<impl fmt::Display> {
    let (name, offset) = SYMBOLS.get()?.lookup(addr)?;
    Some(Described { name, offset })
}

struct Described {
    name: &'static str,
    offset: u64,
}

impl fmt::Display for Described {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `{:#}` leaves out the hash rustc appends to every symbol.
        write!(f, "{:#}+{:#x}", rustc_demangle::demangle(self.name), self.offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test binary's own file, which keeps its symbol table.
    fn own_file() -> &'static [u8] {
        let bytes = std::fs::read("/proc/self/exe").expect("the test binary is readable");
        Box::leak(bytes.into_boxed_slice())
    }

    #[test]
    fn a_function_is_found_by_any_address_inside_it() {
        let symbols = Symbols::from_elf(own_file()).expect("the test binary has symbols");
        assert!(symbols.functions() > 100);
        // The symbol table's own view of a function, found by name, then looked up by address.
        let (start, size) = symbols
            .symtab
            .as_chunks::<SYMBOL_SIZE>()
            .0
            .iter()
            .filter(|s| s[4] & 0xf == STT_FUNC)
            .filter_map(|s| Some((symbols.name(u32_at(s, 0)? as usize)?, u64_at(s, 8)?, u64_at(s, 16)?)))
            .find(|(name, _, size)| name.contains("symbols5tests") && *size > 1)
            .map(|(_, start, size)| (start, size))
            .expect("this module's functions are in the table");
        let (name, offset) = symbols.lookup(start + size - 1).expect("found");
        assert!(name.contains("symbols"), "{name}");
        assert_eq!(offset, size - 1);
        assert_eq!(symbols.lookup(0), None);
    }

    #[test]
    fn files_that_are_not_elf_or_are_cut_short_are_refused() {
        assert_eq!(Symbols::from_elf(b"not an elf file").err(), Some(SymbolError::NotElf));
        let file = own_file();
        assert!(Symbols::from_elf(&file[..64]).is_err());
        assert!(Symbols::from_elf(&file[..4096]).is_err());
    }
}
