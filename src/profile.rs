//! `make profile`: where the instructions of one Wasm IPC round trip go, by kernel symbol.
//!
//! Boots the default image under `ACCEL=icount` (so the count is exact and no host timing
//! enters it) with QEMU's gdb server, starts a long `bench ipc` at the shell, then has gdb stop
//! at a `sys_cap_call` and single-step through [`PERIODS`] whole periods of the exchange, each
//! one iteration of `bench_ping`'s loop (two `sys_cap_call`s, one by each actor). In a period
//! `bench_ping` reads the clock twice; the stretch from the clock call that starts a sample to
//! the one that ends it (taken around the period's end, where it wraps) is exactly what one
//! `bench ipc` sample measures, and the rest is the loop storing the sample. The shortest
//! sample is reported: a longer one took in other work (the trip through the executor a pair of
//! actors calling each other makes once a time slice, a timer). Each instruction of the sample is
//! counted under the kernel symbol it lies in, so inlined code counts in its caller; the table
//! goes to the console and to `build/profile/round_trip.txt`. The trace itself stays in
//! `build/profile/steps.txt`, one instruction a line with its address (`symbol @address`),
//! for a finer look by source line: `addr2line -i -f -C -e <kernel> <addresses>`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::artifacts;
use crate::bench::{PROMPT, boot};
use crate::host;
use crate::qemu::{Accel, GdbServer};

/// Where the period starts and ends.
const START: &str = "kernel::wasm::abi::ipc::sys_cap_call";
/// The clock call around each sample.
const CLOCK: &str = "kernel::wasm::abi::process::sys_clock_ns";
/// How the gdb script marks the first instruction of a clock call.
const CLOCK_MARK: &str = "> ";
/// What separates an instruction's symbol from its address in the trace.
const AT: &str = " @";
/// The load that keeps round trips going while gdb attaches.
const LOAD: &str = "bench ipc 1000000";
/// Ends the trace line of an indirect jump (a return, `call *`, `jmp *`).
const INDIRECT: &str = " *";
/// Periods stepped; the shortest sample is reported.
const PERIODS: usize = 2;
/// Most instructions stepped before giving up (a period is about 5 000).
const MAX_STEPS: u32 = 50_000;
/// How long the stepping may take (gdb steps a few hundred instructions a second).
const GDB_TIMEOUT: Duration = Duration::from_secs(600);

/// Profiles one round trip; returns the report's path.
pub fn run() -> Result<PathBuf, String> {
    host::ensure(&[host::GDB]).map_err(|e| e.to_string())?;
    let dir = artifacts::repo_root().join("build/profile");
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let steps_file = dir.join("steps.txt");
    let _ = std::fs::remove_file(&steps_file);

    eprintln!("profile: booting the default image under icount with a gdb server");
    let mut machine = boot("profile", None, Accel::Icount, 1, GdbServer::Running)?;
    machine.wait_for(PROMPT, Duration::from_secs(180)).map_err(|e| e.to_string())?;
    machine.send(&format!("{LOAD}\r")).map_err(|e| e.to_string())?;
    // Past the actors' start, into the steady exchange.
    thread::sleep(Duration::from_secs(2));
    eprintln!("profile: stepping one round trip from `{START}` (a minute or two)");
    let stepped = step(&dir, &steps_file);
    machine.kill();
    stepped?;

    let steps = std::fs::read_to_string(&steps_file).map_err(|e| format!("{}: {e}", steps_file.display()))?;
    let steps = without_crate_hashes(&steps);
    let trace: Vec<&str> = steps.lines().filter(|l| !l.is_empty()).collect();
    if trace.len() as u32 >= MAX_STEPS {
        return Err(format!(
            "`{START}` did not come round {} times within {MAX_STEPS} instructions",
            2 * PERIODS
        ));
    }
    let samples =
        periods(&trace).into_iter().map(|p| sample(p).map(|s| (s, p))).collect::<Result<Vec<_>, _>>()?;
    let lengths: Vec<usize> = samples.iter().map(|(s, _)| s.len()).collect();
    let Some((shortest, period)) = samples.into_iter().min_by_key(|(s, _)| s.len()) else {
        return Err("the trace holds no whole period".into());
    };
    let steps: Vec<Step> = period.iter().filter_map(|line| Step::parse(line)).collect();
    let report = report(&shortest, period.len(), &lengths, tcg_lookups(&steps));
    print!("{report}");
    let path = dir.join("round_trip.txt");
    std::fs::write(&path, report).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Runs gdb against the running machine, writing each stepped instruction's symbol to `out`.
fn step(dir: &Path, out: &Path) -> Result<(), String> {
    let script = dir.join("step.gdb");
    std::fs::write(&script, gdb_script(out)).map_err(|e| format!("{}: {e}", script.display()))?;
    let mut gdb = Command::new("gdb")
        .args(["-q", "-batch", "-x"])
        .arg(&script)
        .arg(artifacts::kernel())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run gdb: {e}"))?;
    let deadline = Instant::now() + GDB_TIMEOUT;
    loop {
        match gdb.try_wait().map_err(|e| e.to_string())? {
            Some(_) if out.is_file() => return Ok(()),
            Some(status) => {
                let mut why = String::new();
                if let Some(mut stderr) = gdb.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut stderr, &mut why);
                }
                return Err(format!("gdb ended ({status}) without a trace: {}", why.trim()));
            }
            None if Instant::now() >= deadline => {
                let _ = gdb.kill();
                return Err(format!("gdb did not finish within {} s", GDB_TIMEOUT.as_secs()));
            }
            None => thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// The gdb script: stop at [`START`], then step until it begins again twice later.
fn gdb_script(out: &Path) -> String {
    format!(
        r#"set pagination off
set confirm off
target remote localhost:1234
python
import gdb
def address(name):
    symbol = gdb.lookup_global_symbol(name) or gdb.lookup_static_symbol(name)
    if symbol is None:
        raise gdb.GdbError("no symbol %s in the kernel" % name)
    return int(symbol.value().address)
start = address("{START}")
clock = address("{CLOCK}")
gdb.execute("hbreak *%d" % start)
gdb.execute("continue")
gdb.execute("delete")
names = {{}}
lines = []
arch = gdb.selected_frame().architecture()
hits = 0
while len(lines) < {MAX_STEPS}:
    pc = int(gdb.parse_and_eval("$pc"))
    if pc == start and lines:
        hits += 1
        if hits == {hits}:
            break
    if pc not in names:
        names[pc] = gdb.execute("info symbol %d" % pc, to_string=True).split(" + ")[0].split(" in section")[0].strip()
        asm = arch.disassemble(pc)[0]["asm"]
        if asm.startswith("ret") or ("*" in asm and asm.startswith(("call", "jmp"))):
            names[pc] += "{AT}%x{INDIRECT}" % pc
        else:
            names[pc] += "{AT}%x" % pc
    lines.append(("{CLOCK_MARK}" if pc == clock else "") + names[pc])
    gdb.execute("stepi", to_string=True)
with open("{out}.part", "w") as f:
    f.write("\n".join(lines) + "\n")
import os
os.rename("{out}.part", "{out}")
end
detach
"#,
        out = out.display(),
        hits = 2 * PERIODS,
    )
}

/// The trace cut into its periods: each starts where the first line's instruction (the entry of
/// [`START`]) comes round for the first, third... time and takes two calls.
fn periods<'a, 'b>(trace: &'b [&'a str]) -> Vec<&'b [&'a str]> {
    let Some(entry) = trace.first().and_then(|line| Step::parse(line)) else {
        return Vec::new();
    };
    let mut starts: Vec<usize> = trace
        .iter()
        .enumerate()
        .filter(|(_, line)| Step::parse(line).is_some_and(|step| step.address == entry.address))
        .map(|(i, _)| i)
        .step_by(2)
        .collect();
    starts.push(trace.len());
    starts.windows(2).map(|w| &trace[w[0]..w[1]]).filter(|p| !p.is_empty()).collect()
}

/// The instructions of one sample, from the period's trace: from the second clock call's start
/// to the end, then from the beginning to the first one's.
fn sample<'a>(period: &[&'a str]) -> Result<Vec<&'a str>, String> {
    let clocks: Vec<usize> =
        period.iter().enumerate().filter(|(_, line)| line.starts_with(CLOCK_MARK)).map(|(i, _)| i).collect();
    let [end, start] = clocks[..] else {
        return Err(format!("expected two clock calls in one period, found {}", clocks.len()));
    };
    let symbols: Vec<&str> = period[start..]
        .iter()
        .chain(&period[..end])
        .map(|line| line.strip_prefix(CLOCK_MARK).unwrap_or(line))
        .collect();
    if !symbols.iter().any(|s| s.starts_with(START)) {
        return Err(format!("the stretch between the clock calls has no `{START}`"));
    }
    Ok(symbols)
}

/// One traced instruction: where it is, and whether it jumps indirectly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Step {
    address: u64,
    indirect: bool,
}

impl Step {
    /// The instruction of a trace line (`symbol @address`, then [`INDIRECT`] if it is one).
    fn parse(line: &str) -> Option<Step> {
        let (_, at) = line.split_once(AT)?;
        let (address, indirect) = at.strip_suffix(INDIRECT).map_or((at, false), |a| (a, true));
        Some(Step { address: u64::from_str_radix(address, 16).ok()?, indirect })
    }
}

/// Block lookups in `period` run over and over, and how many miss QEMU's jump cache.
///
/// QEMU's TCG chains a translated block straight to the next only for a direct jump inside the
/// page the block began in. Every other step (a return, an indirect call or jump, a jump or
/// fall-through into another page) looks its target up in a per-CPU cache of 4096 blocks, and
/// on a miss in a global hash table. Two targets of the period that hash to one slot evict each
/// other on every pass: a layout accident that slows the same instructions by 15-20 ns a miss
/// (measured), so a change anywhere in the kernel can move the TCG round trip by hundreds of
/// nanoseconds. Page bits 12-23 and offset bits 0-11 hash as in QEMU 7.2 to 9.
fn tcg_lookups(period: &[Step]) -> (usize, usize) {
    let next = period.iter().cycle().skip(1);
    let targets: Vec<u64> = period
        .iter()
        .zip(next)
        .filter(|(from, to)| from.indirect || from.address >> 12 != to.address >> 12)
        .map(|(_, to)| to.address)
        .collect();
    let slot = |pc: u64| {
        let mixed = pc ^ (pc >> 6);
        ((mixed >> 6) & 0xfc0) | (mixed & 0x3f)
    };
    let mut cache = HashMap::new();
    let mut misses = 0;
    // The first pass fills the cache; the second counts what a steady exchange misses.
    for _pass in 0..2 {
        misses = targets.iter().filter(|&&target| cache.insert(slot(target), target) != Some(target)).count();
    }
    (targets.len(), misses)
}

/// The table: instructions per symbol, most first, with their share; `lengths` are every
/// stepped period's sample, `tcg` the period's block lookups and jump-cache misses.
fn report(symbols: &[&str], period: usize, lengths: &[usize], tcg: (usize, usize)) -> String {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for line in symbols {
        let symbol = line.split_once(AT).map_or(*line, |(symbol, _address)| symbol);
        *counts.entry(simplify(symbol)).or_default() += 1;
    }
    let mut rows: Vec<(String, usize)> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let total = symbols.len();
    let mut text = format!(
        "One `{LOAD}` sample (a round trip between two clock reads): {total} instructions under\n\
         icount, by kernel symbol (inlined code counts in its caller). The whole loop iteration\n\
         takes {period}; the rest stores the sample. Samples stepped: {lengths:?}, the shortest\n\
         shown. Under QEMU's TCG the iteration makes {lookups} block lookups, of which {misses}\n\
         miss the jump cache (simulated; see `tcg_lookups` in src/profile.rs).\n\n",
        lookups = tcg.0,
        misses = tcg.1
    );
    for (symbol, count) in rows {
        let _ = writeln!(text, "{count:6} {:5.1}%  {symbol}", 100.0 * count as f64 / total.max(1) as f64);
    }
    text
}

/// `text` without the crate disambiguators that symbols carry since Rust 1.98's mangling, which
/// gdb prints inside each name (`kernel[432d7f6c4d611f60]::wasm::…`).
fn without_crate_hashes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find(']') {
            Some(close) if close > 0 && after[..close].chars().all(|c| c.is_ascii_hexdigit()) => {
                rest = &after[close + 1..];
            }
            _ => {
                out.push('[');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A symbol without its hash suffix and generic arguments, so instances of one function add up.
fn simplify(symbol: &str) -> String {
    let mut out = String::with_capacity(symbol.len());
    let mut depth = 0usize;
    for c in symbol.chars() {
        match c {
            '<' => depth += 1,
            '>' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    match out.rfind("::h") {
        Some(at) if out.len() - at == 19 && out[at + 3..].chars().all(|c| c.is_ascii_hexdigit()) => {
            out.truncate(at);
            out
        }
        _ => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crate_disambiguators_are_dropped_and_other_brackets_kept() {
        let line = "kernel[432d7f6c4d611f60]::wasm::abi::ipc::sys_cap_call @ffffffff8002fc20";
        assert_eq!(without_crate_hashes(line), "kernel::wasm::abi::ipc::sys_cap_call @ffffffff8002fc20");
        assert_eq!(without_crate_hashes("<[u8] as core[ab12]::X>::f[]"), "<[u8] as core::X>::f[]");
    }

    #[test]
    fn symbols_lose_their_hash_and_generic_arguments() {
        assert_eq!(
            simplify("kernel::proc::process::Process::send_payload::hf85fe8e322e9df24"),
            "kernel::proc::process::Process::send_payload"
        );
        assert_eq!(
            simplify("<talc::Talck<R,O> as core::alloc::GlobalAlloc>::dealloc::h0123456789abcdef"),
            "::dealloc"
        );
        assert_eq!(simplify("memcpy"), "memcpy");
        assert_eq!(simplify("a::hash_map"), "a::hash_map", "only a real hash suffix goes");
    }

    #[test]
    fn the_sample_wraps_from_the_second_clock_call_to_the_first() {
        let period = [START, "pong", "> clock", "clock", "store", "> clock", "clock", "ping"];
        let stretch = sample(&period).unwrap();
        assert_eq!(stretch, ["clock", "clock", "ping", START, "pong"]);
        assert!(sample(&period[..3]).is_err(), "one clock call is not a period");
        assert!(sample(&["> clock", "x", "> clock"]).is_err(), "a sample without the call");
    }

    #[test]
    fn the_trace_is_cut_where_every_second_call_begins() {
        let trace = ["call @a", "x @b", "call @a", "y @c", "call @a", "z @d", "call @a", "w @e"];
        let periods = periods(&trace);
        assert_eq!(periods, [&trace[..4], &trace[4..]]);
        assert!(super::periods(&[]).is_empty());
    }

    #[test]
    fn trace_lines_give_the_address_and_whether_the_jump_is_indirect() {
        assert_eq!(Step::parse("f @ff10"), Some(Step { address: 0xff10, indirect: false }));
        assert_eq!(Step::parse("f @ff10 *"), Some(Step { address: 0xff10, indirect: true }));
        assert_eq!(Step::parse("no address"), None);
    }

    #[test]
    fn lookups_are_indirect_or_cross_page_steps_and_shared_slots_miss() {
        let step = |address, indirect| Step { address, indirect };
        // Straight-line code in one page: the blocks chain, nothing is looked up.
        assert_eq!(tcg_lookups(&[step(0x1000, false), step(0x1004, false)]), (0, 0));
        // A return and a jump into another page are looked up; distinct slots all hit.
        let hits = [step(0x1000, true), step(0x1040, false), step(0x2000, false), step(0x2004, false)];
        assert_eq!(tcg_lookups(&hits), (3, 0));
        // 0x1000 and 0x1041 share a slot (offset bits 0-5 xor 6-11 agree): each evicts the other.
        let shared = [step(0x3000, true), step(0x1000, false), step(0x3000, true), step(0x1041, false)];
        assert_eq!(tcg_lookups(&shared), (4, 2));
    }

    #[test]
    fn the_report_counts_per_symbol_most_first() {
        let report = report(
            &["b::h0123456789abcdef @ff10", "a", "b::hfedcba9876543210 @ff20", "c"],
            6,
            &[4, 9],
            (7, 2),
        );
        let rows: Vec<&str> = report.lines().skip(6).collect();
        assert!(report.contains("7 block lookups, of which 2"), "{report}");
        assert!(report.contains(": 4 instructions"), "{report}");
        assert!(report.contains("takes 6;"), "{report}");
        assert!(report.contains("[4, 9]"), "{report}");
        assert_eq!(rows, ["     2  50.0%  b", "     1  25.0%  a", "     1  25.0%  c"]);
    }
}
