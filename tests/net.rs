//! Boots the default image with two ports of the host's 127.0.0.1 forwarded to the guest's
//! echo (7) and web (80) servers, and uses them as a person's programs would: echo, the status
//! page, a file, an upload that then runs, bad requests, a flood past the echo server's
//! backlog, a client that stalls, and the card's driver killed and restarted. Only 127.0.0.1
//! is reached, with every wait bounded.
//!
//! The machines have one CPU whatever `SMP` says (see `QemuOptions::network`). One boot serves
//! those checks; its serial log is saved as `build/test/net.serial.log`. A
//! second boot (`tests/wasm/dev.manifest`, log `dev.serial.log`) gives the card to
//! `actors/dev_check`, a driver that tries everything the kernel must refuse.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use minimalos::bench::ask;
use minimalos::qemu::{self, Accel, Machine, QemuOptions};

use common::{default_image, image, line_with, number_after, test_dir};

/// Longest wait for the network to come up, an answer, or a connection.
const WAIT: Duration = Duration::from_secs(60);
/// Where the serial log goes, under `build/test/`.
const LOG: &str = "net.serial.log";
/// The echo server's backlog (`actors/echo`), and how many connections the flood opens.
const ECHO_BACKLOG: usize = 32;
const FLOOD: usize = ECHO_BACKLOG + 8;

/// What the session saw.
#[derive(Default)]
struct Session {
    log: String,
    echo_small: Vec<u8>,
    echo_bulk_ok: bool,
    page: String,
    not_found: String,
    upload: String,
    run_upload: String,
    bad: Vec<(String, String)>,
    flood_served: usize,
    net_after_flood: String,
    stall_closed_after: Option<Duration>,
    echo_after_restart: Vec<u8>,
    echo_after_stack_restart: Vec<u8>,
    ps_after: String,
}

fn session() -> &'static Session {
    static SESSION: OnceLock<Result<Session, String>> = OnceLock::new();
    let result = SESSION.get_or_init(|| {
        let iso = default_image("net", "on_fatal=exit")?;
        let accel = Accel::from_env().map_err(|e| e.to_string())?;
        let (echo, web) = (qemu::free_port()?, qemu::free_port()?);
        let options = QemuOptions {
            accel,
            cpus: Some(1),
            network: true,
            forwards: vec![(echo, 7), (web, 80)],
            ..QemuOptions::new(iso)
        };
        let mut machine = Machine::boot(&options).map_err(|e| format!("cannot start QEMU: {e}"))?;
        let session = drive(&mut machine, echo, web);
        let _ = machine.save_log(&test_dir().join(LOG));
        machine.kill();
        session.map_err(|e| format!("{e}; see build/test/{LOG}"))
    });
    result.as_ref().unwrap_or_else(|e| panic!("{e}"))
}

/// Connects to `port`, retrying while the guest is not listening yet.
fn connect(port: u16) -> Result<TcpStream, String> {
    let deadline = Instant::now() + WAIT;
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(stream) => {
                stream.set_read_timeout(Some(WAIT)).map_err(|e| e.to_string())?;
                return Ok(stream);
            }
            Err(e) if Instant::now() >= deadline => return Err(format!("cannot connect to {port}: {e}")),
            Err(_) => thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// Sends `data` to the echo server and reads as many bytes back.
fn echo(port: u16, data: &[u8]) -> Result<Vec<u8>, String> {
    let mut stream = connect(port)?;
    let writer = {
        let (mut stream, data) = (stream.try_clone().map_err(|e| e.to_string())?, data.to_vec());
        thread::spawn(move || stream.write_all(&data))
    };
    let mut back = vec![0u8; data.len()];
    stream.read_exact(&mut back).map_err(|e| format!("echo: {e}"))?;
    writer.join().map_err(|_| "the writer panicked")?.map_err(|e| e.to_string())?;
    Ok(back)
}

/// Sends `request` as it is and reads the answer until the server closes.
fn exchange(port: u16, request: &[u8]) -> Result<String, String> {
    let mut stream = connect(port)?;
    stream.write_all(request).map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    // A reset after the answer (the server closed with bytes unread) still leaves the answer.
    let _ = stream.read_to_end(&mut answer);
    Ok(String::from_utf8_lossy(&answer).into_owned())
}

/// `GET path` with `Connection: close`; the whole answer as bytes.
fn get(port: u16, path: &str) -> Result<Vec<u8>, String> {
    let mut stream = connect(port)?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(|e| e.to_string())?;
    Ok(answer)
}

/// Waits until the console says `started` a second time (the first being the boot's).
fn started_again(machine: &Machine, started: &str) -> Result<(), String> {
    let deadline = Instant::now() + WAIT;
    while machine.output().matches(started).count() < 2 {
        if Instant::now() >= deadline {
            return Err(format!("`{started}` only once in {} s", WAIT.as_secs()));
        }
        thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// The body of an HTTP answer.
fn body(answer: &[u8]) -> &[u8] {
    answer.windows(4).position(|w| w == b"\r\n\r\n").map_or(&[], |at| &answer[at + 4..])
}

fn drive(machine: &mut Machine, echo_port: u16, web: u16) -> Result<Session, String> {
    common::wait_for_boot(machine)?;
    machine.wait_for("by DHCP", WAIT).map_err(|e| e.to_string())?;
    let mut session = Session { echo_small: echo(echo_port, b"hello, echo\n")?, ..Session::default() };
    let bulk: Vec<u8> = (0..256 * 1024u32).map(|i| (i % 251) as u8).collect();
    session.echo_bulk_ok = echo(echo_port, &bulk)? == bulk;

    session.page = String::from_utf8_lossy(&get(web, "/")?).into_owned();
    session.not_found = String::from_utf8_lossy(&get(web, "/no/such/file")?).into_owned();
    let module = get(web, "/hello.wasm")?;
    let module = body(&module);
    let mut put =
        format!("PUT /tmp/hi.wasm HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", module.len())
            .into_bytes();
    put.extend_from_slice(module);
    session.upload = exchange(web, &put)?;
    session.run_upload = ask(machine, "run /tmp/hi.wasm", WAIT)?;

    let long_head = format!("GET / HTTP/1.1\r\nX-Long: {}\r\n\r\n", "a".repeat(9000));
    let bad: [(&str, &[u8]); 6] = [
        ("garbage", b"GARBAGE\r\n\r\n"),
        ("long head", long_head.as_bytes()),
        ("huge upload", b"PUT /tmp/huge HTTP/1.1\r\nContent-Length: 5000000\r\n\r\n"),
        ("method", b"DELETE / HTTP/1.1\r\nConnection: close\r\n\r\n"),
        ("version", b"GET / HTTP/2.0\r\n\r\n"),
        ("chunked", b"PUT /tmp/c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
    ];
    for (what, request) in bad {
        session.bad.push((what.to_owned(), exchange(web, request)?));
    }

    // Connections held open at once, past the backlog: the stack resets the extra ones.
    let mut held = Vec::new();
    for _ in 0..FLOOD {
        held.push(connect(echo_port)?);
    }
    for stream in &mut held {
        stream.set_read_timeout(Some(Duration::from_secs(10))).map_err(|e| e.to_string())?;
        let mut byte = [0u8; 1];
        if stream.write_all(b"x").is_ok() && stream.read_exact(&mut byte).is_ok() {
            session.flood_served += 1;
        }
    }
    drop(held);
    thread::sleep(Duration::from_secs(2));
    session.net_after_flood = ask(machine, "net", WAIT)?;

    let mut stalled = connect(web)?;
    stalled.write_all(b"GET / HTTP/1.1\r\nHost: slow").map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut rest = Vec::new();
    if stalled.read_to_end(&mut rest).is_ok() {
        session.stall_closed_after = Some(started.elapsed());
    }

    let ps = ask(machine, "ps", WAIT)?;
    let driver = ps.lines().find(|l| l.contains("virtio_net")).ok_or("no virtio_net in ps")?;
    let pid = driver.split_whitespace().next().ok_or("no pid")?;
    ask(machine, &format!("kill {pid}"), WAIT)?;
    started_again(machine, "started virtio_net (virtio_net.wasm) as pid")?;
    session.echo_after_restart = echo(echo_port, b"again\n")?;
    session.ps_after = ask(machine, "ps", WAIT)?;

    // The stack itself: the servers' sockets fail instead of hanging, the servers end and are
    // restarted, and listen on the new stack.
    let stack = session.ps_after.lines().find(|l| l.contains("netstack")).ok_or("no netstack in ps")?;
    let pid = stack.split_whitespace().next().ok_or("no pid")?;
    ask(machine, &format!("kill {pid}"), WAIT)?;
    started_again(machine, "started netstack (netstack.wasm) as pid")?;
    started_again(machine, "started echo (echo.wasm) as pid")?;
    session.echo_after_stack_restart = echo(echo_port, b"once more\n")?;
    session.log = machine.output();
    Ok(session)
}

#[test]
fn the_stack_takes_its_address_by_dhcp_and_echo_returns_every_byte_in_order() {
    let session = session();
    let line = line_with(&session.log, "by DHCP", LOG);
    assert!(line.contains("netstack: 10.0.2.15/24 by DHCP"), "{line}");
    assert_eq!(session.echo_small, b"hello, echo\n");
    assert!(session.echo_bulk_ok, "256 KiB came back changed");
}

#[test]
fn the_status_page_and_files_are_served() {
    let session = session();
    assert!(session.page.starts_with("HTTP/1.1 200 OK\r\n"), "{}", session.page);
    for part in ["<h1>MinimalOS</h1>", "<td>virtio_net</td>", "<td>httpd</td>", "10.0.2.15/24"] {
        assert!(session.page.contains(part), "{part} missing: {}", session.page);
    }
    assert!(session.not_found.starts_with("HTTP/1.1 404 Not Found\r\n"), "{}", session.not_found);
}

#[test]
fn an_uploaded_module_runs_without_rebuilding_the_image() {
    let session = session();
    assert!(session.upload.starts_with("HTTP/1.1 201 Created\r\n"), "{}", session.upload);
    assert!(session.upload.contains("stored "), "{}", session.upload);
    assert!(session.run_upload.contains("hello from a Wasm actor"), "{}", session.run_upload);
}

#[test]
fn bad_requests_get_their_status() {
    let expected = [
        ("garbage", "400"),
        ("long head", "413"),
        ("huge upload", "413"),
        ("method", "405"),
        ("version", "505"),
        ("chunked", "501"),
    ];
    for ((what, answer), (named, status)) in session().bad.iter().zip(expected) {
        assert_eq!(what, named);
        assert!(answer.starts_with(&format!("HTTP/1.1 {status} ")), "{what}: {answer}");
    }
}

#[test]
fn a_flood_past_the_backlog_is_refused_and_counted_and_nothing_stays_open() {
    let session = session();
    // Connections of the checks before may still be closing and count against the backlog.
    assert!(session.flood_served >= ECHO_BACKLOG / 2, "{} of {FLOOD} served", session.flood_served);
    assert!(session.flood_served < FLOOD, "all {FLOOD} served past a backlog of {ECHO_BACKLOG}");
    let tcp = line_with(&session.net_after_flood, "tcp: ", LOG);
    // `tcp: O open, A accepted, R refused; ...`
    assert!(number_after(tcp, "accepted, ") > 0, "{tcp}");
    assert!(tcp.contains("tcp: 0 open"), "{tcp}");
}

#[test]
fn a_client_that_stalls_mid_request_is_closed() {
    let closed = session().stall_closed_after.expect("the stalled connection was never closed");
    assert!(closed < WAIT, "{closed:?}");
}

#[test]
fn the_driver_restarts_and_the_network_comes_back_with_no_other_actor_restarted() {
    let session = session();
    assert_eq!(session.echo_after_restart, b"again\n");
    for actor in ["netstack", "httpd", "echo"] {
        let row =
            session.ps_after.lines().find(|l| l.contains(actor)).unwrap_or_else(|| panic!("{actor} gone"));
        assert!(!row.contains("exited") && !row.contains("killed"), "{row}");
    }
    assert!(!session.log.contains("restart 2"), "something restarted twice");
}

#[test]
fn when_the_stack_ends_the_servers_sockets_fail_and_they_come_back_with_it() {
    let session = session();
    assert_eq!(session.echo_after_stack_restart, b"once more\n");
    let ended = line_with(&session.log, "echo[", LOG);
    assert!(
        session.log.contains("the network stack is gone"),
        "the echo server's socket did not fail: {ended}"
    );
}

/// The verdict line of `dev_check`, from its own boot.
fn device_check() -> &'static str {
    static VERDICT: OnceLock<Result<String, String>> = OnceLock::new();
    let result = VERDICT.get_or_init(|| {
        let iso = image("dev", "on_fatal=exit manifest=test/dev.manifest")?;
        let accel = Accel::from_env().map_err(|e| e.to_string())?;
        let options = QemuOptions { accel, cpus: Some(1), network: true, ..QemuOptions::new(iso) };
        let mut machine = Machine::boot(&options).map_err(|e| format!("cannot start QEMU: {e}"))?;
        let verdict = machine.wait_for_line("dev_check: ", WAIT).map_err(|e| e.to_string());
        let _ = machine.save_log(&test_dir().join("dev.serial.log"));
        machine.kill();
        verdict.map_err(|e| format!("{e}; see build/test/dev.serial.log"))
    });
    result.as_ref().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn a_driver_cannot_aim_its_device_outside_its_buffers_and_its_buffers_come_back() {
    let verdict = device_check();
    assert!(verdict.contains("dev_check: ok: "), "{verdict}");
    assert!(number_after(verdict, "ok: ") >= 53, "{verdict}");
}
