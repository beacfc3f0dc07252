//! The figures of the shell's `bench` answers, read the way a person reads them: the line
//! that names a figure, the number after its label.

use serde_json::{Value, json};

/// Round-trip latency percentiles, in ns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Percentiles {
    pub min: u64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
}

impl Percentiles {
    /// Whether they rise from min to max, as sorted samples must.
    pub fn ordered(&self) -> bool {
        self.min <= self.p50 && self.p50 <= self.p90 && self.p90 <= self.p99 && self.p99 <= self.max
    }

    pub(crate) fn json(&self) -> Value {
        json!({"min": self.min, "p50": self.p50, "p90": self.p90, "p99": self.p99, "max": self.max})
    }

    /// The `ns:` line of a bench answer: `min A  p50 B  p90 C  p99 D  max E`.
    fn parse(answer: &str) -> Option<Percentiles> {
        let ns = answer.lines().find(|l| l.trim_start().starts_with("ns:"))?;
        Some(Percentiles {
            min: number_after(ns, "min ")?,
            p50: number_after(ns, "p50 ")?,
            p90: number_after(ns, "p90 ")?,
            p99: number_after(ns, "p99 ")?,
            max: number_after(ns, "max ")?,
        })
    }
}

/// What the shell's `bench ipc` printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpcFigures {
    pub trips: u64,
    pub rt_ns: Percentiles,
    pub messages_per_s: u64,
    /// One `sys_clock_ns` call, included in every sample.
    pub clock_ns: u64,
    pub tsc_mhz: u64,
}

impl IpcFigures {
    /// The p50 less one clock call: about the round trip alone, as every sample holds the part
    /// of one `sys_clock_ns` call after its clock read and the part of the next before its read.
    pub(crate) fn p50_less_clock(&self) -> u64 {
        self.rt_ns.p50.saturating_sub(self.clock_ns)
    }
}

/// The number right after `label` in `text`.
fn number_after(text: &str, label: &str) -> Option<u64> {
    let rest = &text[text.find(label)? + label.len()..];
    rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// What the shell's `bench path` printed: ns per host call, per send + try_recv pair, per
/// lone yield.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathFigures {
    pub host_call_ns: u64,
    pub send_try_recv_ns: u64,
    pub yield_ns: u64,
}

/// The figures of a `bench path` answer, if it has them all.
pub fn parse_path(answer: &str) -> Option<PathFigures> {
    let after_colon = |label: &str| {
        let line = answer.lines().find(|l| l.trim_start().starts_with(label))?;
        number_after(line, ": ")
    };
    Some(PathFigures {
        host_call_ns: after_colon("host call")?,
        send_try_recv_ns: after_colon("sys_cap_send + sys_cap_try_recv")?,
        yield_ns: after_colon("sys_yield alone")?,
    })
}

/// The figures of a `bench ipc` answer, if it has them all.
pub fn parse_ipc(answer: &str) -> Option<IpcFigures> {
    // Kernel log lines may land anywhere in the answer, even inside the echoed command.
    let header = answer.lines().find(|l| l.contains("ipc round trip: "))?;
    Some(IpcFigures {
        trips: number_after(header, "round trip: ")?,
        rt_ns: Percentiles::parse(answer)?,
        messages_per_s: number_after(answer, "throughput: ")?,
        clock_ns: number_after(answer, "clock: ")?,
        tsc_mhz: number_after(answer, "tsc: ")?,
    })
}

/// What the shell's `bench pairs` printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PairsFigures {
    /// Pairs that ran at once.
    pub pairs: u64,
    /// Round trips each pair made.
    pub trips_each: u64,
    /// Every pair's round trips over the time from the first pair's start to the last one's end.
    pub rt_per_s: u64,
}

/// The figures of a `bench pairs` answer, if it has them all.
pub fn parse_pairs(answer: &str) -> Option<PairsFigures> {
    // Kernel log lines may land anywhere in the answer; a refusal (`bench pairs: 2 pairs need
    // ...`) names no actors.
    let header = answer.lines().find(|l| l.contains("pairs: ") && l.contains(" x bench_ping"))?;
    let aggregate = answer.lines().find(|l| l.contains("aggregate: "))?;
    Some(PairsFigures {
        pairs: number_after(header, "pairs: ")?,
        trips_each: number_after(header, "at once, ")?,
        rt_per_s: number_after(aggregate, "aggregate: ")?,
    })
}

/// What the shell's `bench spawn` printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpawnFigures {
    pub actors: u64,
    /// Start time of one actor, µs: min, p50, p99, mean, max.
    pub start_us: [u64; 5],
    /// Per idle actor: kernel heap (KiB), physical memory all in (bytes), kernel memory
    /// charged (KiB).
    pub heap_kib: u64,
    pub physical_bytes: u64,
    pub charged_kib: u64,
    /// The Wasm round trip p50 (ns) with few idle actors alive (how many, the figure), and with
    /// all of them; absent when the run started too few.
    pub rt_alive: Option<RoundTripAlive>,
}

/// Round trip p50s of a `bench spawn` run at two actor counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RoundTripAlive {
    pub few: u64,
    pub few_ns: u64,
    pub all_ns: u64,
}

/// The figures of a `bench spawn` answer, if it has them all.
pub fn parse_spawn(answer: &str) -> Option<SpawnFigures> {
    let start = answer.lines().find(|l| l.contains("start us:"))?;
    let memory = answer.lines().find(|l| l.contains("per actor: "))?;
    let rt = answer.lines().find(|l| l.contains("ipc round trip p50: "));
    Some(SpawnFigures {
        actors: number_after(answer, "spawn: ")?,
        start_us: [
            number_after(start, "min ")?,
            number_after(start, "p50 ")?,
            number_after(start, "p99 ")?,
            number_after(start, "mean ")?,
            number_after(start, "max ")?,
        ],
        heap_kib: number_after(memory, "kernel heap ")?,
        physical_bytes: number_after(memory, " = ")?,
        charged_kib: number_after(memory, "charged ")?,
        rt_alive: rt.and_then(|rt| {
            Some(RoundTripAlive {
                few_ns: number_after(rt, "p50: ")?,
                few: number_after(rt, "ns with ")?,
                all_ns: number_after(rt, "alive, ")?,
            })
        }),
    })
}

/// The percentiles of a `bench ipc-native` answer, if it has them.
pub fn parse_native(answer: &str) -> Option<Percentiles> {
    answer.lines().find(|l| l.contains("ipc-native round trip: "))?;
    Percentiles::parse(answer)
}

/// What the shell's `bench console` printed: lines drawn, their wall time and `ui_server`'s
/// CPU time, in ms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsoleFigures {
    pub lines: u64,
    pub wall_ms: u64,
    pub ui_server_cpu_ms: u64,
}

/// The figures of a `bench console` answer, if it has them all.
pub fn parse_console(answer: &str) -> Option<ConsoleFigures> {
    let line = |label: &str| answer.lines().find(|l| l.trim_start().starts_with(label));
    Some(ConsoleFigures {
        lines: number_after(line("console: ")?, "console: ")?,
        wall_ms: number_after(line("wall: ")?, "wall: ")?,
        ui_server_cpu_ms: number_after(line("ui_server CPU: ")?, "CPU: ")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_figures_parse_from_their_lines() {
        let answer = "bench path\r\npath: fastest of 20 batches of 500, less the loop's own 78 ns\r\n  host call \
                      (sys_tsc_hz): 265 ns\r\n  sys_cap_send + sys_cap_try_recv, 8 bytes, no wait: 2661 ns\r\n  \
                      sys_yield alone (fiber to executor and back): 563 ns\r\n";
        let path = parse_path(answer).unwrap();
        assert_eq!((path.host_call_ns, path.send_try_recv_ns, path.yield_ns), (265, 2661, 563));
        assert_eq!(parse_path("bench path: test/bench_path.wasm ended without figures\r\n"), None);
    }

    #[test]
    fn the_pairs_answer_gives_the_aggregate() {
        let answer = "bench pairs 2 1000\r\npairs: 2 x bench_ping <-> bench_pong at once, 1000 round trips of 8 \
                      bytes each, pair i on CPU i % 2\r\n  pair 0 on CPU 0: p50 1000 ns, 500000 round trips/s over its own \
                      2000000 ns, begun 0 ns after the first\r\n  pair 1 on CPU 1: p50 1000 ns, 512820 round trips/s \
                      over its own 1950000 ns, begun 100000 ns after the first\r\n  aggregate: 975609 round trips/s: \
                      2000 round trips in 2050000 ns, from the first pair's first round trip to the last pair's last\r\n";
        let pairs = parse_pairs(answer).expect("figures");
        assert_eq!(pairs, PairsFigures { pairs: 2, trips_each: 1000, rt_per_s: 975_609 });
        let refused = "bench pairs 2\r\nbench pairs: 2 pairs need two CPUs; this machine has 1 (bench pairs 1 runs on \
                       one)\r\n";
        assert_eq!(parse_pairs(refused), None);
    }

    #[test]
    fn the_native_answer_gives_its_percentiles() {
        let answer = "bench ipc-native 1000\r\nipc-native round trip: 1000 x 8 bytes, ipc-ping <-> ipc-pong \
                      (kernel tasks, no Wasm)\r\n  ns:     min 600  p50 700  p90 800  p99 900  max 5000\r\n";
        let native = parse_native(answer).expect("figures");
        assert_eq!(native, Percentiles { min: 600, p50: 700, p90: 800, p99: 900, max: 5000 });
        assert_eq!(native.json(), json!({"min": 600, "p50": 700, "p90": 800, "p99": 900, "max": 5000}));
        assert_eq!(parse_native("bench ipc-native: no rights\r\n"), None);
    }
}
