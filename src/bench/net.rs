//! The network, measured from the host's side through forwarded ports of 127.0.0.1, on a boot
//! of the default image (the benchmark image runs no network, so that its actors stay out of
//! the other measurements): the TCP echo round trip, bulk throughput through the echo server,
//! and HTTP requests per second with Debian's `wrk` (2 threads, 8 connections, 10 s). Every
//! wait is bounded; nothing but 127.0.0.1 is reached.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{BOOT_TIMEOUT, boot_forwarding, wait_for_boot};
use crate::host;
use crate::qemu::{self, Accel, GdbServer};

/// Round trips timed, after [`WARM_UP`] untimed.
const ROUND_TRIPS: usize = 2000;
const WARM_UP: usize = 200;
/// Bytes of each round trip's message.
const MESSAGE: usize = 64;
/// Bytes sent through the echo server for the throughput.
const BULK: usize = 16 * 1024 * 1024;
/// What `wrk` fetches: a small file of the ramdisk, served by `httpd` from the vfs.
const HTTP_PATH: &str = "/boot.manifest";
/// `wrk`'s threads, connections and seconds.
const WRK: (u32, u32, u32) = (2, 8, 10);
/// Longest wait for the network to come up, or for any answer.
const WAIT: Duration = Duration::from_secs(60);

/// What the network measured.
#[derive(Debug, Clone)]
pub struct NetFigures {
    /// Echo round trips of [`MESSAGE`] bytes, µs: min, p50, p99, max.
    pub echo_rt_us: [f64; 4],
    /// Bytes per second each way through the echo server, in MB/s (10^6).
    pub bulk_mb_s: f64,
    /// HTTP requests per second, as `wrk` counts them.
    pub http_rps: f64,
}

impl NetFigures {
    /// The figures as `results.json` keys.
    pub fn json(&self) -> Vec<(&'static str, Value)> {
        let [min, p50, p99, max] = self.echo_rt_us;
        vec![
            (
                "tcp_echo_rt_us",
                json!({"min": min, "p50": p50, "p99": p99, "max": max, "n": ROUND_TRIPS, "bytes": MESSAGE}),
            ),
            ("tcp_bulk_mb_s", json!(self.bulk_mb_s)),
            (
                "http_rps",
                json!({"rps": self.http_rps, "path": HTTP_PATH, "threads": WRK.0, "connections": WRK.1, "seconds": WRK.2}),
            ),
        ]
    }

    /// The figures as a section of `results.md`.
    pub fn markdown(&self) -> String {
        let [min, p50, p99, max] = self.echo_rt_us;
        let mut md = String::from("\n## Network (from the host, through QEMU's user-mode network)\n\n");
        let _ = writeln!(md, "| measure | figure |\n| --- | --- |");
        let _ = writeln!(
            md,
            "| TCP echo round trip, {MESSAGE} bytes, {ROUND_TRIPS} trips | min {min:.0} µs, p50 {p50:.0} µs, p99 {p99:.0} µs, max {max:.0} µs |"
        );
        let _ = writeln!(
            md,
            "| TCP bulk through the echo server, {} MiB | {:.2} MB/s each way |",
            BULK >> 20,
            self.bulk_mb_s
        );
        let _ = writeln!(
            md,
            "| HTTP `GET {HTTP_PATH}`, wrk -t{} -c{} -d{}s | {:.0} requests/s |",
            WRK.0, WRK.1, WRK.2, self.http_rps
        );
        md
    }
}

/// Boots the default image with the echo and web ports forwarded and measures.
pub fn measure(accel: Accel, cpus: u32) -> Result<NetFigures, String> {
    host::ensure(&[host::WRK]).map_err(|e| e.to_string())?;
    let (echo, web) = (qemu::free_port()?, qemu::free_port()?);
    eprintln!("bench: booting the default image for the network, echo on 127.0.0.1:{echo}, web on :{web}");
    let mut machine = boot_forwarding("net", None, accel, cpus, GdbServer::Off, vec![(echo, 7), (web, 80)])?;
    let figures = wait_for_boot(&mut machine, BOOT_TIMEOUT)
        .and_then(|_| machine.wait_for("by DHCP", WAIT).map_err(|e| e.to_string()))
        .and_then(|()| {
            eprintln!("bench: TCP echo round trips");
            let echo_rt_us = round_trips(echo)?;
            eprintln!("bench: TCP bulk through the echo server");
            let bulk_mb_s = bulk(echo)?;
            eprintln!("bench: HTTP requests with wrk");
            let http_rps = wrk(web)?;
            Ok(NetFigures { echo_rt_us, bulk_mb_s, http_rps })
        });
    let _ = machine.save_log(&crate::artifacts::repo_root().join("build/bench/net.serial.log"));
    machine.kill();
    figures
}

/// Connects to the echo server, with every read bounded.
fn connect(port: u16) -> Result<TcpStream, String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("echo: {e}"))?;
    stream.set_read_timeout(Some(WAIT)).map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(stream)
}

/// Min, p50, p99 and max of [`ROUND_TRIPS`] echo round trips, in µs.
fn round_trips(port: u16) -> Result<[f64; 4], String> {
    let mut stream = connect(port)?;
    let message = [0x5au8; MESSAGE];
    let mut back = [0u8; MESSAGE];
    let mut times = Vec::with_capacity(ROUND_TRIPS);
    for i in 0..WARM_UP + ROUND_TRIPS {
        let start = Instant::now();
        stream.write_all(&message).map_err(|e| e.to_string())?;
        stream.read_exact(&mut back).map_err(|e| format!("echo: {e}"))?;
        if i >= WARM_UP {
            times.push(start.elapsed().as_secs_f64() * 1e6);
        }
    }
    times.sort_by(f64::total_cmp);
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    Ok([at(0.0), at(0.5), at(0.99), at(1.0)])
}

/// MB/s each way while [`BULK`] bytes go through the echo server and back.
fn bulk(port: u16) -> Result<f64, String> {
    let mut stream = connect(port)?;
    let mut writer = stream.try_clone().map_err(|e| e.to_string())?;
    let start = Instant::now();
    let sender = thread::spawn(move || {
        let chunk = vec![0xa5u8; 64 * 1024];
        (0..BULK / chunk.len()).try_for_each(|_| writer.write_all(&chunk))
    });
    let mut buf = vec![0u8; 64 * 1024];
    let mut received = 0;
    while received < BULK {
        match stream.read(&mut buf) {
            Ok(0) => return Err(format!("echo closed after {received} bytes")),
            Ok(n) => received += n,
            Err(e) => return Err(format!("echo: {e} after {received} bytes")),
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    sender.join().map_err(|_| "the sender panicked")?.map_err(|e| e.to_string())?;
    Ok(BULK as f64 / seconds / 1e6)
}

/// `wrk`'s requests per second against `httpd`.
fn wrk(port: u16) -> Result<f64, String> {
    let (threads, connections, seconds) = WRK;
    let output = Command::new("wrk")
        .args([
            format!("-t{threads}"),
            format!("-c{connections}"),
            format!("-d{seconds}s"),
            "--timeout".into(),
            "5s".into(),
        ])
        .arg(format!("http://127.0.0.1:{port}{HTTP_PATH}"))
        .output()
        .map_err(|e| format!("cannot run wrk: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_wrk(&text).ok_or_else(|| format!("wrk saw errors or no requests/s:\n{text}"))
}

/// The `Requests/sec:` figure of `wrk`'s report; `None` without one, or when some answers
/// were not 2xx or 3xx (a rate of errors is no figure).
pub fn parse_wrk(text: &str) -> Option<f64> {
    if text.contains("Non-2xx or 3xx responses") {
        return None;
    }
    let line = text.lines().find(|l| l.trim_start().starts_with("Requests/sec:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrk_reports_its_rate() {
        let report = "Running 10s test @ http://127.0.0.1:8080/\n  2 threads and 8 connections\n  \
                      1234 requests in 10.00s, 1.2MB read\nRequests/sec:    123.40\nTransfer/sec:   12.3KB\n";
        assert_eq!(parse_wrk(report), Some(123.4));
        assert_eq!(parse_wrk("nothing"), None);
        assert_eq!(parse_wrk(&format!("{report}  Non-2xx or 3xx responses: 3\n")), None);
    }
}
