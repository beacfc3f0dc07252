//! The boot sequence, in the order the machine needs it. Each step names what it sets up;
//! the code for it lives in its own room.

use core::time::Duration;
use x86_64::instructions::interrupts;

use crate::arch::{self, acpi, cpu, irq, serial};
use crate::boot::{self, BootInfo};
use crate::cmdline::{self, KernelTest};
use crate::dev;
use crate::mem::{self, stack::KernelStack};
use crate::ramdisk::{self, Ramdisk};
use crate::system::supervisor::{self, Supervisor};
use crate::system::{init, ktest, launch, manifest, native_ipc, requests};
use crate::task::{Executor, fiber, preempt};
use crate::{fatal, klog, println, proc, smp, time};

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
    arch::backtrace::set_main_stack(stack.bottom()..top);
    // What the hardware glue tells the scheduler, and asks it: `arch` knows nothing of `task`.
    arch::backtrace::set_fiber_stack(fiber::current_stack);
    arch::exceptions::on_stack_fault(fiber::on_stack_fault);
    irq::on_tick(preempt::on_tick);
    // The boot stack lives for the rest of the kernel's life.
    core::mem::forget(stack);
    // SAFETY: the tables are the ones this CPU runs on (`mem::init` made them, and they map
    // the kernel); `top` is the top of a freshly mapped stack that nothing else uses and that
    // is never freed.
    unsafe { cpu::enter_kernel_space(cpu::page_table_root(), top, on_kernel_stack, 0) }
}

/// The rest of the boot, on the kernel's own stack and page tables.
extern "C" fn on_kernel_stack(_: u64) -> ! {
    let Some(info) = boot::info() else { die("cannot boot", "no boot snapshot") };
    let tsc_hz = time::clock::calibrate();
    let cpus = smp::start_others(run_other_cpu);
    // SAFETY: responses were copied by `boot::snapshot` and nothing reads them from here on;
    // every CPU runs on the kernel's own tables and stacks (`smp::start_others` waited).
    let reclaimed = unsafe { mem::reclaim_bootloader_memory(info.reclaimable.iter().cloned()) };
    let stats = mem::stats();
    log::debug!(
        "memory: {} MiB managed, {} MiB free ({} KiB reclaimed from the loader), heap {} KiB",
        stats.total_frames * mem::PAGE_SIZE / MIB,
        stats.free_frames * mem::PAGE_SIZE / MIB,
        reclaimed / 1024,
        stats.heap_bytes / 1024
    );

    match info.kernel_file.map(crate::symbols::init) {
        Some(Ok(functions)) => log::debug!("symbols: {functions} functions, for fault reports"),
        Some(Err(e)) => log::warn!("symbols: {e}; fault reports show addresses only"),
        None => log::warn!("symbols: the loader gave no kernel file; fault reports show addresses only"),
    }

    let options = cmdline::get();
    match crate::arch::rtc::unix_seconds() {
        Some(seconds) => time::wall::set(seconds),
        None => log::warn!("time: the RTC reads as nonsense; the wall clock starts at 1970"),
    }
    serial::enable_input();
    start_interrupts(info);
    preempt::set_slice_cycles(time::clock::duration_to_cycles(Duration::from_micros(options.slice_us)));
    smp::release();
    log::debug!(
        "time: TSC {}.{:03} MHz (invariant: {}), tick {} Hz, slice {} us",
        tsc_hz / 1_000_000,
        tsc_hz / 1_000 % 1_000,
        cpu::has_invariant_tsc(),
        irq::TICK_HZ,
        options.slice_us
    );

    let disk = find_ramdisk(info);
    if let Some(disk) = &disk {
        list_ramdisk(disk);
    }
    list_pci();
    // Actors draw their kernel memory from what is free now; the rest stays the kernel's.
    mem::kmem::POOL.set(mem::heap_headroom());
    log::debug!(
        "kernel memory: {} MiB for actors (an actor may hold {} MiB unless its manifest line says kmem=)",
        mem::kmem::POOL.capacity() / MIB,
        mem::kmem::POOL.default_limit() / MIB
    );
    let mut executor = Executor::new();
    let mut processes = proc::PROCESSES.lock();
    match options.ktest {
        Some(KernelTest::Fault) => ktest::fault(),
        Some(KernelTest::Overflow) => {
            ktest::spawn_overflow(&mut executor).unwrap_or_else(|e| die("ktest", e))
        }
        Some(KernelTest::Sched) => {
            ktest::spawn_sched(&mut executor).unwrap_or_else(|e| die("ktest", e));
            native_ipc::ping_pong(
                &mut executor,
                &mut processes,
                ktest::IPC_ROUND_TRIPS,
                native_ipc::log_report,
            )
            .unwrap_or_else(|e| die("ktest", e));
        }
        None => {}
    }
    let supervisor = if let Some(disk) = &disk {
        let manifest = cmdline::value(&info.cmdline, "manifest").unwrap_or(manifest::MANIFEST_FILE);
        let system = launch::System {
            executor: &mut executor,
            processes: &mut processes,
            disk,
            framebuffer: info.framebuffer.as_ref(),
            console: None,
        };
        init::start_system(system, manifest)
    } else {
        Supervisor::default()
    };
    drop(processes);
    log::info!("boot complete; {} tasks on {cpus} CPU{}", executor.len(), if cpus == 1 { "" } else { "s" });
    run(executor, disk, supervisor)
}

/// Walks the PCI buses: one line of what is there, and at `log=debug` each function's
/// registers and capabilities.
fn list_pci() {
    let functions = dev::pci::functions();
    log::info!("pci: {}", dev::pci::Summary(functions));
    for function in functions {
        log::debug!(
            "pci: {function}, revision {}, BARs {:x?}, interrupt pin {}, capabilities {:x?}, MSI-X {:x?}",
            function.revision,
            function.bars,
            function.interrupt_pin,
            function.capabilities.iter().map(|c| c.id).collect::<alloc::vec::Vec<_>>(),
            function.msix
        );
    }
}

/// Routes device interrupts and starts the timer; the kernel cannot schedule without them.
fn start_interrupts(info: &BootInfo) {
    let Some(rsdp) = info.rsdp else { die("interrupts", "the firmware has no ACPI RSDP") };
    // Base revision 2 reports the RSDP as a direct-map address; later ones as physical.
    let rsdp = rsdp.checked_sub(info.hhdm_offset).unwrap_or(rsdp);
    let model = acpi::interrupt_model(rsdp).unwrap_or_else(|e| die("interrupts", e));
    let setup = irq::init(&model).unwrap_or_else(|e| die("interrupts", e));
    log::debug!(
        "interrupts: local APIC in {} mode, {} I/O APIC(s), COM1 on GSI {}, APIC timer {} kHz",
        setup.apic_mode,
        model.io_apics.len(),
        setup.serial_gsi,
        setup.timer_hz / 1000
    );
}

/// The boot CPU's executor loop: fire due timers, serve the requests actors made of the
/// kernel and the supervisor's restarts, poll what is runnable, sleep until the next interrupt.
fn run(mut executor: Executor, disk: Option<Ramdisk<'static>>, mut supervisor: Supervisor) -> ! {
    // The loader entered the kernel with interrupts off; tasks run with them on.
    interrupts::enable();
    loop {
        time::timer::fire_expired(time::now());
        requests::serve(&mut executor, disk.as_ref());
        supervisor.tick(&mut executor, disk.as_ref(), time::now());
        let polls =
            executor.run_ready(|tsc| requests::pending() || kernel_work_due(time::clock::instant_at(tsc)));
        // The boot CPU keeps its tick while halted: it wakes sleepers and the supervisor.
        let busy = || requests::pending() || kernel_work_due(time::now());
        if polls == 0 || !work_arrives_soon(&executor, busy) {
            halt_until_work(&executor, false, busy);
        }
    }
}

/// Every other CPU's executor loop: as the boot CPU's, without the kernel's own work, and with
/// no tick while halted (a wake from another CPU interrupts it).
fn run_other_cpu() -> ! {
    let mut executor = Executor::new();
    interrupts::enable();
    loop {
        time::timer::fire_expired(time::now());
        let polls = executor.run_ready(|tsc| time::timer::due(time::clock::instant_at(tsc)));
        let busy = || time::timer::due(time::now());
        if polls == 0 || !work_arrives_soon(&executor, busy) {
            halt_until_work(&executor, true, busy);
        }
    }
}

/// How long a CPU that has just run tasks looks for more before it halts: the next message of
/// an exchange with another CPU then costs neither an interrupt nor a halt's exit (guest halt
/// polling, as Linux's haltpoll does). Only after work: a CPU woken by a bare tick halts at
/// once, so an idle machine stays idle.
const IDLE_POLL: Duration = Duration::from_micros(50);

/// Whether work arrives for this CPU (or `busy` says the kernel has some) within [`IDLE_POLL`].
fn work_arrives_soon(executor: &Executor, busy: impl Fn() -> bool) -> bool {
    let end = cpu::rdtsc() + time::clock::duration_to_cycles(IDLE_POLL);
    while cpu::rdtsc() < end {
        if executor.has_ready() || busy() {
            return true;
        }
        core::hint::spin_loop();
    }
    false
}

/// Halts this CPU until an interrupt, unless `busy` or the executor says there is work; with
/// `tickless`, the CPU's timer is stopped meanwhile.
fn halt_until_work(executor: &Executor, tickless: bool, busy: impl Fn() -> bool) {
    // Interrupts off between the check and `hlt`, so a wake-up that lands in between is not
    // missed: `sti; hlt` only lets it in once the CPU is halted, which ends the halt.
    interrupts::disable();
    if !executor.may_halt() || busy() {
        executor.woke();
        interrupts::enable();
        return;
    }
    if tickless {
        irq::stop_tick();
    }
    executor.halting();
    interrupts::enable_and_hlt();
    if tickless {
        irq::start_tick();
    }
    executor.woke();
}

/// Whether a sleeper's deadline or a supervised restart has come at `now`.
fn kernel_work_due(now: time::Instant) -> bool {
    time::timer::due(now) || supervisor::due(now)
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
        "MinimalOS {} | loader: {loader} {loader_version} | memory: {usable_mib} MiB usable | framebuffer: {fb_width}x{fb_height} | Wasm engine: {} | entry to banner: {cycles} TSC cycles",
        env!("CARGO_PKG_VERSION"),
        crate::wasm::engine::NAME,
    );
}

/// The ramdisk module, if the loader brought a valid one (problems are logged).
fn find_ramdisk(info: &BootInfo) -> Option<Ramdisk<'static>> {
    let Some(module) = info.modules.iter().find(|m| m.path.ends_with(ramdisk::MODULE_NAME)) else {
        log::warn!("ramdisk: {}", ramdisk::RamdiskError::Missing);
        return None;
    };
    log::debug!("ramdisk: {} bytes from {}", module.data.len(), module.path);
    Ramdisk::new(module.data).inspect_err(|e| log::error!("ramdisk: {e}")).ok()
}

/// Logs each file of the ramdisk with its size.
fn list_ramdisk(disk: &Ramdisk<'_>) {
    for entry in disk.entries() {
        let name = entry.filename();
        log::debug!("ramdisk: {:<24} {:>8} bytes", name.as_str().unwrap_or("<non-UTF-8 name>"), entry.size());
    }
}
