//! The boot sequence, in the order the machine needs it. Each step names what it sets up;
//! the code for it lives in its own room.

use crate::arch::{self, cpu, serial};
use crate::boot::{self, BootInfo};
use crate::cmdline::{self, KernelTest};
use crate::mem::{self, stack::KernelStack};
use crate::ramdisk::{self, Ramdisk};
use crate::{fatal, klog, println};

/// Bytes in a MiB, for the log.
const MIB: u64 = 1024 * 1024;

/// The kernel's own boot stack, replacing the loader's so its memory can be reclaimed.
const KERNEL_STACK_SIZE: u64 = 256 * 1024;

/// Runs the kernel from the loader's hand-off; never returns.
pub fn start() -> ! {
    let entry_tsc = cpu::rdtsc();
    serial::init();
    klog::init(log::LevelFilter::Info);
    arch::init();

    if let Err(e) = boot::check_revision() {
        log::error!("cannot boot: {e}");
        fatal::stop();
    }
    print_banner(entry_tsc);
    let options = cmdline::set(cmdline::parse(boot::cmdline(), |bad| log::warn!("{bad}")));
    log::set_max_level(options.log_level);

    let memory = boot::memory_map().and_then(|map| Ok((map, boot::hhdm_offset()?)));
    let (memory_map, hhdm_offset) = memory.unwrap_or_else(|e| die("cannot boot", e));
    mem::init(memory_map, hhdm_offset).unwrap_or_else(|e| die("memory", e));
    boot::snapshot().unwrap_or_else(|e| die("cannot boot", e));
    let stack = KernelStack::new(KERNEL_STACK_SIZE).unwrap_or_else(|e| die("kernel stack", e));
    let top = stack.top();
    // The boot stack lives for the rest of the kernel's life.
    core::mem::forget(stack);
    // SAFETY: `top` is the top of a freshly mapped stack that nothing else uses and that is
    // never freed.
    unsafe { cpu::switch_stack(top, on_kernel_stack) }
}

/// The rest of the boot, on the kernel's own stack and page tables.
extern "C" fn on_kernel_stack() -> ! {
    let Some(info) = boot::info() else { die("cannot boot", "no boot snapshot") };
    // SAFETY: responses were copied by `boot::snapshot` and nothing reads them from here on;
    // the CPU runs on the kernel's own tables and stack.
    let reclaimed = unsafe { mem::reclaim_bootloader_memory(info.reclaimable.iter().cloned()) };
    let stats = mem::stats();
    log::info!(
        "memory: {} MiB managed, {} MiB free ({} KiB reclaimed from the loader), heap {} KiB",
        stats.total_frames * mem::PAGE_SIZE / MIB,
        stats.free_frames * mem::PAGE_SIZE / MIB,
        reclaimed / 1024,
        stats.heap_bytes / 1024
    );

    list_ramdisk(info);
    if let Some(test) = cmdline::get().ktest {
        run_kernel_test(test);
    }
    log::info!("boot complete; idle");
    cpu::halt_forever()
}

/// Logs why the boot cannot go on, then stops.
fn die(step: &str, error: impl core::fmt::Display) -> ! {
    log::error!("{step}: {error}");
    fatal::stop()
}

/// The first line a person sees: who we are, who loaded us, and what the machine has.
fn print_banner(entry_tsc: u64) {
    let (loader, loader_version) = boot::loader();
    let usable_mib = boot::memory_map().map_or(0, |entries| {
        entries
            .iter()
            .filter(|e| e.entry_type == limine::memory_map::EntryType::USABLE)
            .map(|e| e.length)
            .sum::<u64>()
            / MIB
    });
    let (fb_width, fb_height) = boot::framebuffer().map_or((0, 0), |fb| (fb.width(), fb.height()));
    let cycles = cpu::rdtsc().wrapping_sub(entry_tsc);
    println!(
        "MinimalOS {} | loader: {loader} {loader_version} | memory: {usable_mib} MiB usable | framebuffer: {fb_width}x{fb_height} | entry to banner: {cycles} TSC cycles",
        env!("CARGO_PKG_VERSION"),
    );
}

/// Logs each file of the ramdisk with its size.
fn list_ramdisk(info: &BootInfo) {
    let Some(module) = info.modules.iter().find(|m| m.path.ends_with(ramdisk::MODULE_NAME)) else {
        log::warn!("ramdisk: {}", ramdisk::RamdiskError::Missing);
        return;
    };
    match Ramdisk::new(module.data) {
        Ok(disk) => {
            log::info!("ramdisk: {} bytes from {}", module.data.len(), module.path);
            for entry in disk.entries() {
                let name = entry.filename();
                log::info!("ramdisk: {:<24} {:>8} bytes", name.as_str().unwrap_or("<non-UTF-8 name>"), entry.size());
            }
        }
        Err(e) => log::error!("ramdisk: {e}"),
    }
}

/// Runs a check selected with `ktest=` on the command line.
fn run_kernel_test(test: KernelTest) {
    match test {
        KernelTest::Fault => {
            log::info!("ktest: reading an unmapped address; a page-fault report must follow");
            // Just below the top of the lower canonical half: nothing maps it.
            let unmapped = 0x0000_7fff_ffff_f000 as *const u64;
            // SAFETY: deliberately invalid: this read must fault, and the fault handler reports
            // and stops the machine.
            let value = unsafe { unmapped.read_volatile() };
            log::error!("ktest: read {value:#x} from an unmapped address without a fault");
        }
    }
}
