//! The boot sequence, in the order the machine needs it. Each step names what it sets up;
//! the code for it lives in its own room.

use crate::arch::{cpu, serial};
use crate::cmdline::{self, KernelTest};
use crate::ramdisk::{self, Ramdisk};
use crate::{boot, fatal, klog, println};

/// Bytes in a MiB, for the banner.
const MIB: u64 = 1024 * 1024;

/// Runs the kernel from the loader's hand-off; never returns.
pub fn start() -> ! {
    let entry_tsc = cpu::rdtsc();
    serial::init();
    klog::init(log::LevelFilter::Info);

    if let Err(e) = boot::check_revision() {
        log::error!("cannot boot: {e}");
        fatal::stop();
    }
    let options = cmdline::set(cmdline::parse(boot::cmdline(), |bad| log::warn!("{bad}")));
    log::set_max_level(options.log_level);

    print_banner(entry_tsc);
    list_ramdisk();

    if let Some(test) = options.ktest {
        run_kernel_test(test);
    }
    log::info!("boot complete; idle");
    cpu::halt_forever()
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
fn list_ramdisk() {
    let module = boot::modules().iter().find(|m| m.path().to_bytes().ends_with(ramdisk::MODULE_NAME.as_bytes()));
    let Some(module) = module else {
        log::warn!("ramdisk: {}", ramdisk::RamdiskError::Missing);
        return;
    };
    // SAFETY: the loader placed the module at `addr` for `size` bytes, in memory it marked
    // executable-and-modules, which the kernel never reuses.
    let bytes = unsafe { core::slice::from_raw_parts(module.addr(), module.size() as usize) };
    match Ramdisk::new(bytes) {
        Ok(disk) => {
            log::info!("ramdisk: {} bytes", bytes.len());
            for entry in disk.entries() {
                log::info!("ramdisk: {:<24} {:>8} bytes", entry.filename().as_str().unwrap_or("<non-UTF-8 name>"), entry.size());
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
            // Just below the canonical-hole top: never mapped by any loader.
            let unmapped = 0x0000_7fff_ffff_f000 as *const u64;
            // SAFETY: deliberately unsound: this read must fault, and the fault handler reports and stops.
            let value = unsafe { unmapped.read_volatile() };
            log::error!("ktest: read {value:#x} from an unmapped address without a fault");
        }
    }
}
