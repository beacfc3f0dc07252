//! The MinimalOS loader: a UEFI application that boots the kernel named in `limine.conf`
//! through the Limine boot protocol (base revision 2), as Limine 8.x would. This file is the
//! boot sequence; each step lives in its own module.
#![no_std]
#![no_main]
#![deny(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]

extern crate alloc;

mod acpi;
mod address_space;
mod ap_trampoline;
mod cpu;
mod error;
mod executable;
mod framebuffer;
mod handoff;
mod interrupts;
mod lapic;
mod memory;
mod mp;
mod responses;
mod tsc;
mod volume;

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::convert::Infallible;
use core::sync::atomic::{AtomicBool, Ordering};
use limine_config::Timeout;
use minimalos_loader::madt;
use minimalos_loader::memory_map::{self, Entry, EntryType};
use minimalos_loader::protocol::{HHDM_OFFSET, id};
use minimalos_loader::requests;
use uefi::boot::{self, MemoryType};
use uefi::mem::memory_map::MemoryMap;
use uefi::{Status, entry, println};

use crate::error::Error;
use crate::memory::Arena;
use crate::responses::{BootFacts, FileAnswer};
use crate::volume::Volume;

/// How every line the loader prints starts.
const NAME: &str = concat!("MinimalOS loader ", env!("CARGO_PKG_VERSION"));

/// How long a failure stays on screen before control returns to the firmware.
const ERROR_PAUSE_US: usize = 10_000_000;

/// Memory-map entries reserved beyond twice the firmware's count: ExitBootServices and the
/// overlays can only add a few, and there is no way to ask for more once boot services end.
const MEMORY_MAP_SLACK: usize = 64;

/// Set just before ExitBootServices: from then on nothing may call the firmware.
static BOOT_SERVICES_EXITED: AtomicBool = AtomicBool::new(false);

#[entry]
fn main() -> Status {
    match boot() {
        Ok(never) => match never {},
        Err(error) => {
            println!("{NAME}: error: {error}");
            boot::stall(ERROR_PAUSE_US);
            error.status()
        }
    }
}

/// Loads everything, answers the requests, and jumps to the kernel.
fn boot() -> Result<Infallible, Error> {
    // The boot manager's five-minute watchdog would reset the machine during a long timeout;
    // a firmware without one has nothing to disable.
    let _ = boot::set_watchdog_timer(0, 0x10000, None);
    let mut volume = Volume::open()?;
    let (config_path, text) = volume.read_config()?;
    let config_error = |error| Error::Config { path: config_path, error };
    let config = limine_config::parse(&text).map_err(config_error)?;
    let entry = config.boot_entry().map_err(config_error)?;
    // One line says what booted, once everything is loaded: a quiet console before the kernel's.
    let chosen = format!("{config_path}, entry {} ({})", entry.index, entry.name);
    if let Timeout::Seconds(seconds @ 1..) = config.timeout {
        println!("{NAME}: booting in {seconds} s (timeout)");
        boot::stall(usize::try_from(seconds).unwrap_or(usize::MAX).saturating_mul(1_000_000));
    }

    let kernel_path = volume.resolve(entry.kernel)?;
    let kernel_file = volume.load(kernel_path, "kernel")?;
    let kernel = executable::load(kernel_file.bytes(), kernel_path)?;
    let scan = requests::scan(kernel.image)?;
    let mut modules = Vec::with_capacity(entry.modules.len());
    for module in entry.modules {
        let path = volume.resolve(&module.path)?;
        modules.push(FileAnswer { file: volume.load(path, "module")?, path, cmdline: &module.cmdline });
    }
    let loaded = format!(
        "kernel {kernel_path} ({} KiB), {} module{}",
        kernel_file.size().div_ceil(1024),
        modules.len(),
        if modules.len() == 1 { "" } else { "s" }
    );

    let framebuffer = framebuffer::query();
    let rsdp = acpi::rsdp();
    let madt_table = rsdp.and_then(acpi::madt).unwrap_or_default();
    let io_apics = madt::io_apics(madt_table);
    let features = cpu::probe()?;

    let stack_size = responses::stack_size(&scan, kernel.image);
    let stack = memory::allocate(stack_size, memory_map::PAGE_SIZE, "the kernel stack")?;
    let mut arena = Arena::new();
    let gdt = handoff::gdt(&mut arena)?;
    // The APs are only started when the kernel asks; they get stacks of the BSP's size.
    let mut mp = match scan.find(id::MP) {
        Some(_) => Some(mp::prepare(&madt::processors(madt_table), stack_size, &mut arena)?),
        None => None,
    };

    let firmware_map: Vec<Entry> = limine_entries(&firmware_memory_map()?).collect();
    let facts = BootFacts {
        kernel_file: FileAnswer { file: kernel_file, path: kernel_path, cmdline: entry.cmdline },
        modules: &modules,
        volume: volume.info,
        physical_base: kernel.physical_base,
        virtual_base: kernel.virtual_base,
        framebuffer: framebuffer.as_ref(),
        rsdp: rsdp.map(acpi::Rsdp::address),
        mp: mp.as_ref().map(mp::Mp::response),
        memory_map_capacity: 2 * firmware_map.len() + 2 * (modules.len() + 3) + MEMORY_MAP_SLACK,
    };
    let answers = responses::answer(&scan, kernel.image, &facts, &mut arena)?;
    let framebuffer_range = framebuffer.as_ref().map(|fb| fb.address..fb.address + fb.size());
    let page_tables = address_space::build(&address_space::Contents {
        revision: scan.revision,
        memory_map: &firmware_map,
        kernel: &kernel,
        framebuffer: framebuffer_range.clone(),
        features,
        ap_trampoline: mp.as_ref().and_then(mp::Mp::trampoline_page),
    })?;
    if let Some(mp) = &mut mp {
        mp.configure(page_tables, features, gdt)?;
    }

    // What the firmware only knows as loader data, the memory map must call what it is.
    let placed = |base: u64, length: u64| Entry { base, length, kind: EntryType::EXECUTABLE_AND_MODULES };
    let mut overlays = Vec::with_capacity(modules.len() + 3);
    overlays.push(placed(kernel.physical_base, kernel.size()));
    overlays.push(placed(kernel_file.base(), kernel_file.size()));
    overlays.extend(modules.iter().map(|m| placed(m.file.base(), m.file.size())));
    if let Some(range) = framebuffer_range {
        overlays.push(Entry {
            base: range.start,
            length: range.end - range.start,
            kind: EntryType::FRAMEBUFFER,
        });
    }

    if scan.requested_revision > scan.revision {
        println!(
            "{NAME}: the kernel asks for base revision {}; booting it with {} (it can tell)",
            scan.requested_revision, scan.revision
        );
    }
    let unsupported = match answers.unsupported {
        0 => String::new(),
        n => format!(" ({n} not supported)"),
    };
    let screen = framebuffer
        .as_ref()
        .map_or("none".into(), |fb| format!("{}x{}", fb.current.width, fb.current.height));
    println!(
        "{NAME}: {chosen}: {loaded}; base revision {}, {} requests answered{unsupported}, framebuffer {screen}; starting the kernel",
        scan.revision, answers.answered,
    );

    // Files and protocols must be closed while boot services still exist.
    drop(volume);
    let handoff = handoff::Handoff {
        page_tables,
        stack_top: stack + stack_size + HHDM_OFFSET,
        entry: kernel.entry,
        gdt,
        features,
        keep_identity_map: scan.revision == 0,
    };
    BOOT_SERVICES_EXITED.store(true, Ordering::Relaxed);
    // SAFETY: nothing opened through boot services is used or dropped after this point: the
    // volume is closed, and this function never returns, so no loader value is dropped.
    let final_map = unsafe { boot::exit_boot_services(None) };
    // SAFETY: boot services have exited; the addresses are the MADT's I/O APICs, which the
    // firmware's page tables, still in use, identity-map.
    unsafe { interrupts::mask_all(&io_apics) };
    if let Some(mp) = &mut mp {
        // SAFETY: boot services have exited and interrupts are off; `configure` ran with the
        // kernel's page tables, which `address_space::build` gave the trampoline page.
        unsafe { mp.start() };
    }
    if let Some(mut pending) = answers.memory_map {
        match memory_map::build(limine_entries(&final_map), &overlays, pending.entries()) {
            Ok(count) => pending.finish(count),
            // Unreachable with the slack reserved, and unreportable: the console is gone.
            Err(memory_map::TooManyEntries) => halt(),
        }
    }
    // SAFETY: boot services have exited and interrupts are off; `address_space::build` mapped
    // the hand-off code, and the stack, GDT and kernel are in memory the HHDM covers.
    unsafe { handoff::enter(&handoff) }
}

/// A firmware memory map's entries in Limine types.
fn limine_entries(map: &impl MemoryMap) -> impl Iterator<Item = Entry> + '_ {
    map.entries().map(|d| Entry {
        base: d.phys_start,
        length: d.page_count * memory_map::PAGE_SIZE,
        kind: memory_map::translate(d.ty),
    })
}

/// The firmware's current memory map.
fn firmware_memory_map() -> Result<uefi::mem::memory_map::MemoryMapOwned, Error> {
    boot::memory_map(MemoryType::LOADER_DATA).map_err(|e| Error::MemoryMap(e.status()))
}

/// Stops the CPU for good.
fn halt() -> ! {
    loop {
        // SAFETY: `cli; hlt` only stops this CPU.
        unsafe { core::arch::asm!("cli", "hlt", options(nomem, nostack)) };
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    if !BOOT_SERVICES_EXITED.load(Ordering::Relaxed) {
        println!("{NAME}: internal error: {info}");
        boot::stall(ERROR_PAUSE_US);
        // SAFETY: boot services are active; the loader gives control back to the firmware and
        // none of its code runs again.
        unsafe { boot::exit(boot::image_handle(), Status::ABORTED, 0, core::ptr::null_mut()) }
    }
    halt()
}
