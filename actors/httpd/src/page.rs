//! The status page at `/`: what the system is doing now, as HTML, from the `system` object and
//! the network stack.

use alloc::format;
use alloc::string::String;
use sdk::{ProcState, ProcessInfo};

use crate::{Body, Response, Services};

/// The page, built afresh for each request.
pub async fn status(services: &Services) -> Response {
    let mut html = String::from(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>MinimalOS</title></head><body>\n<h1>MinimalOS</h1>\n",
    );
    let uptime = sdk::sys::sys_clock_ns() / 1_000_000_000;
    html += &format!("<p>Up {}h {:02}m {:02}s.</p>\n", uptime / 3600, uptime / 60 % 60, uptime % 60);
    if let Ok(cpus) = services.system.cpus() {
        html += "<h2>CPUs</h2>\n<table><tr><th>CPU</th><th>busy</th><th>tasks</th></tr>\n";
        for (i, cpu) in cpus.iter().enumerate() {
            let total = (cpu.busy_ns + cpu.idle_ns).max(1);
            html += &format!(
                "<tr><td>{i}</td><td>{}%</td><td>{}</td></tr>\n",
                cpu.busy_ns * 100 / total,
                cpu.tasks
            );
        }
        html += "</table>\n";
    }
    if let Ok(memory) = services.system.memory() {
        let mib = |bytes: u64| bytes / (1024 * 1024);
        html += &format!(
            "<h2>Memory</h2>\n<p>{} MiB of {} MiB free; kernel heap {} MiB used of {} MiB; {} MiB charged to actors of {} MiB.</p>\n",
            mib(memory.physical_free),
            mib(memory.physical_total),
            mib(memory.heap_used),
            mib(memory.heap_size),
            mib(memory.charged),
            mib(memory.charge_capacity)
        );
    }
    if let Ok(net) = services.network.status().await {
        let [a, b, c, d] = net.address;
        html += &format!(
            "<h2>Network</h2>\n<p>{a}.{b}.{c}.{d}/{}; frames {} in, {} out, {} dropped; connections {} open, {} accepted, {} refused; {} bytes in, {} out.</p>\n",
            net.prefix,
            net.frames_in,
            net.frames_out,
            net.frames_dropped,
            net.connections,
            net.accepted,
            net.refused,
            net.bytes_in,
            net.bytes_out
        );
    }
    if let Ok(processes) = services.system.processes() {
        html += "<h2>Processes</h2>\n<table><tr><th>pid</th><th>name</th><th>state</th><th>CPU ms</th><th>kernel memory</th></tr>\n";
        for process in processes.iter().filter(|p| is_alive(p)) {
            html += &format!(
                "<tr><td>{}</td><td>{}</td><td>{:?}</td><td>{}</td><td>{} KiB</td></tr>\n",
                process.pid,
                escape(&process.name),
                process.state,
                process.cpu_ns / 1_000_000,
                process.memory_bytes / 1024
            );
        }
        html += "</table>\n";
    }
    html += "</body></html>\n";
    Response {
        status: (200, "OK"),
        content_type: "text/html; charset=utf-8",
        body: Body::Bytes(html.into_bytes()),
    }
}

fn is_alive(process: &ProcessInfo) -> bool {
    matches!(process.state, ProcState::Ready | ProcState::Running | ProcState::Blocked)
}

/// `text` with HTML's special characters escaped.
fn escape(text: &str) -> String {
    text.chars().fold(String::new(), |mut out, c| {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            c => out.push(c),
        }
        out
    })
}
