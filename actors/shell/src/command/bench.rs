//! The `bench` line: which benchmark, and its numbers and words. Numbers that are left out
//! take the defaults of [`crate::bench`]; the ranges are checked there, where the benchmark
//! runs, so that a refusal names the limits it breaks.

use super::{Command, ParseError};
use crate::bench::{
    DEFAULT_CONSOLE_LINES, DEFAULT_NATIVE_TRIPS, DEFAULT_PAIR_TRIPS, DEFAULT_SIZE, DEFAULT_SPAWNS,
    DEFAULT_TRIPS,
};

/// What a `bench` line that fits no usage is told.
const USAGE: ParseError<'static> = ParseError::Usage(
    "bench ipc [N] [SIZE] [xcore] [samples] | ipc-native [N] | pairs P [N] | spawn [N] \
     | preempt [N] [spin|bulk|log] [samples] | wasm | path | console [N]",
);

/// What `bench` measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bench {
    /// `bench ipc [N] [SIZE] [xcore] [samples]`.
    Ipc(Ipc),
    /// `bench ipc-native [N]`: round trips.
    IpcNative(u32),
    /// `bench pairs P [N]`: how many pairs, and the round trips each makes.
    Pairs(u32, u32),
    /// `bench spawn [N]`: how many actors.
    Spawn(u32),
    /// `bench preempt [N] [spin|bulk|log] [samples]`: round trips, the hog beside them, whether
    /// every sample is logged.
    Preempt(u32, Hog, bool),
    /// `bench wasm`.
    Wasm,
    /// `bench path`.
    Path,
    /// `bench console [N]`: how many lines.
    Console(u32),
}

/// A `bench ipc` line: one pair of actors timing round trips.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipc {
    /// Round trips.
    pub trips: u32,
    /// Payload bytes of each message.
    pub size: u32,
    /// Whether the two actors share a CPU (`xcore`: they do not).
    pub cores: Cores,
    /// `samples`: every round trip is logged as well.
    pub samples: bool,
}

/// Where the two actors of `bench ipc` run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cores {
    /// Both on CPU 0, whatever the number of CPUs: the figure means the same on every machine.
    Same,
    /// `xcore`: `bench_ping` on CPU 0, `bench_pong` on CPU 1, so every message crosses.
    Cross,
}

/// The CPU hog `bench preempt` runs beside the round trips: each holds the CPU a different way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Hog {
    /// A loop of plain instructions (`test/spinner.wasm`).
    Spin,
    /// A loop of 16 MiB `memory.fill` and `memory.copy` (`test/attack_bulk.wasm`).
    Bulk,
    /// A loop of 1 KiB `sys_log` calls (`test/attack_log.wasm`).
    Log,
}

impl Hog {
    /// Its word on the command line.
    pub fn word(self) -> &'static str {
        match self {
            Hog::Spin => "spin",
            Hog::Bulk => "bulk",
            Hog::Log => "log",
        }
    }

    /// The module it runs.
    pub fn file(self) -> &'static str {
        match self {
            Hog::Spin => "test/spinner.wasm",
            Hog::Bulk => "test/attack_bulk.wasm",
            Hog::Log => "test/attack_log.wasm",
        }
    }
}

/// Whether `word` is one of the words that may follow a benchmark's numbers.
fn is_flag(word: &str) -> bool {
    matches!(word, "samples" | "xcore")
}

/// The benchmark the words after `bench` ask for.
pub(super) fn parse<'a>(words: impl Iterator<Item = &'a str>) -> Result<Command<'a>, ParseError<'a>> {
    let mut words = words.peekable();
    let number = |word: Option<&'a str>, what, default| match word {
        None => Ok(default),
        Some(text) => text.parse().map_err(|_| ParseError::NotANumber(what, text)),
    };
    let command = match words.next() {
        Some("ipc") => {
            let trips = number(words.next_if(|w| !is_flag(w)), "round trip count", DEFAULT_TRIPS)?;
            let size = number(words.next_if(|w| !is_flag(w)), "payload size", DEFAULT_SIZE)?;
            let (mut cores, mut samples) = (Cores::Same, false);
            // The words after the numbers, in either order, each once.
            while let Some(word) = words.next_if(|w| is_flag(w)) {
                match word {
                    "xcore" if cores == Cores::Same => cores = Cores::Cross,
                    "samples" if !samples => samples = true,
                    _ => return Err(USAGE),
                }
            }
            Bench::Ipc(Ipc { trips, size, cores, samples })
        }
        Some("ipc-native") => {
            Bench::IpcNative(number(words.next(), "round trip count", DEFAULT_NATIVE_TRIPS)?)
        }
        Some("pairs") => {
            let pairs = words.next().ok_or(USAGE)?;
            let pairs = pairs.parse().map_err(|_| ParseError::NotANumber("pair count", pairs))?;
            Bench::Pairs(pairs, number(words.next(), "round trip count", DEFAULT_PAIR_TRIPS)?)
        }
        Some("spawn") => Bench::Spawn(number(words.next(), "actor count", DEFAULT_SPAWNS)?),
        Some("preempt") => {
            let trips = number(words.next_if(|w| *w != "samples"), "round trip count", DEFAULT_TRIPS)?;
            let hog = match words.next_if(|w| *w != "samples") {
                None | Some("spin") => Hog::Spin,
                Some("bulk") => Hog::Bulk,
                Some("log") => Hog::Log,
                Some(_) => return Err(USAGE),
            };
            Bench::Preempt(trips, hog, words.next_if_eq(&"samples").is_some())
        }
        Some("wasm") => Bench::Wasm,
        Some("path") => Bench::Path,
        Some("console") => Bench::Console(number(words.next(), "line count", DEFAULT_CONSOLE_LINES)?),
        _ => return Err(USAGE),
    };
    match words.next() {
        None => Ok(Command::Bench(command)),
        Some(_) => Err(USAGE),
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    fn ipc(
        trips: u32,
        size: u32,
        cores: Cores,
        samples: bool,
    ) -> Result<Command<'static>, ParseError<'static>> {
        Ok(Command::Bench(Bench::Ipc(Ipc { trips, size, cores, samples })))
    }

    #[test]
    fn ipc_takes_numbers_then_its_words_in_either_order() {
        use Cores::{Cross, Same};
        assert_eq!(parse("bench ipc"), ipc(10_000, 8, Same, false));
        assert_eq!(parse("bench ipc 200"), ipc(200, 8, Same, false));
        assert_eq!(parse("bench ipc 200 64"), ipc(200, 64, Same, false));
        assert_eq!(parse("bench ipc 200 samples"), ipc(200, 8, Same, true));
        assert_eq!(parse("bench ipc samples"), ipc(10_000, 8, Same, true));
        assert_eq!(parse("bench ipc 200 64 samples"), ipc(200, 64, Same, true));
        assert_eq!(parse("bench ipc xcore"), ipc(10_000, 8, Cross, false));
        assert_eq!(parse("bench ipc 200 xcore"), ipc(200, 8, Cross, false));
        assert_eq!(parse("bench ipc 200 64 xcore samples"), ipc(200, 64, Cross, true));
        assert_eq!(parse("bench ipc 200 samples xcore"), ipc(200, 8, Cross, true));
        for line in
            ["bench ipc 200 samples 64", "bench ipc xcore 200", "bench ipc xcore xcore", "bench ipc 1 2 3"]
        {
            assert_eq!(parse(line), Err(USAGE), "{line}");
        }
        assert_eq!(parse("bench ipc x"), Err(ParseError::NotANumber("round trip count", "x")));
    }

    #[test]
    fn pairs_needs_its_count() {
        assert_eq!(parse("bench pairs 2"), Ok(Command::Bench(Bench::Pairs(2, 20_000))));
        assert_eq!(parse("bench pairs 4 500"), Ok(Command::Bench(Bench::Pairs(4, 500))));
        assert_eq!(parse("bench pairs"), Err(USAGE));
        assert_eq!(parse("bench pairs 2 500 9"), Err(USAGE));
        assert_eq!(parse("bench pairs two"), Err(ParseError::NotANumber("pair count", "two")));
        assert_eq!(parse("bench pairs 2 x"), Err(ParseError::NotANumber("round trip count", "x")));
    }

    #[test]
    fn the_other_benchmarks_and_their_defaults() {
        let bench = |b| Ok(Command::Bench(b));
        assert_eq!(parse("bench ipc-native"), bench(Bench::IpcNative(100_000)));
        assert_eq!(parse("bench ipc-native 500"), bench(Bench::IpcNative(500)));
        assert_eq!(parse("bench wasm"), bench(Bench::Wasm));
        assert_eq!(parse("bench path"), bench(Bench::Path));
        assert_eq!(parse("bench console"), bench(Bench::Console(1000)));
        assert_eq!(parse("bench console 20"), bench(Bench::Console(20)));
        assert_eq!(parse("bench console x"), Err(ParseError::NotANumber("line count", "x")));
        assert_eq!(parse("bench spawn"), bench(Bench::Spawn(10)));
        assert_eq!(parse("bench spawn 3"), bench(Bench::Spawn(3)));
        assert_eq!(parse("bench preempt 50"), bench(Bench::Preempt(50, Hog::Spin, false)));
        assert_eq!(parse("bench preempt 50 bulk"), bench(Bench::Preempt(50, Hog::Bulk, false)));
        assert_eq!(parse("bench preempt 50 log"), bench(Bench::Preempt(50, Hog::Log, false)));
        assert_eq!(parse("bench preempt 50 log samples"), bench(Bench::Preempt(50, Hog::Log, true)));
        assert_eq!(parse("bench preempt samples"), bench(Bench::Preempt(10_000, Hog::Spin, true)));
        assert!(parse("bench preempt 50 nap").is_err());
        assert!(parse("bench").is_err() && parse("bench fly").is_err());
    }
}
