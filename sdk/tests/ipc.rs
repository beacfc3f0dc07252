//! Handles, messages, typed payloads and request/reply against the fake kernel.

use sdk::rt::{block_on, join, spawn};
use sdk::sys::{self, fake};
use sdk::{Capability, Endpoint, Error, Framebuffer, Request, Rights, SharedMem, msg};

#[test]
fn a_message_too_large_for_the_buffer_stays_queued_and_is_received_whole() {
    fake::reset();
    let queue = Endpoint::create(2).unwrap();
    let big: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    queue.try_send(9, &big, None).unwrap();

    let mut small = [0u8; 64];
    // SAFETY: the fake writes at most 64 bytes into `small`.
    let result = unsafe { sys::sys_cap_try_recv(queue.raw(), sys::ptr_mut(&mut small), 64) };
    assert_eq!(result, i64::from(sys::E_BUFFER_TOO_SMALL));
    assert_eq!(small[..8], [9, 0, 0, 0, 0xb8, 0x0b, 0, 0], "opcode 9, 3000 bytes");
    assert_eq!(small[8..16], (-1i64).to_le_bytes());

    let message = queue.try_recv().unwrap();
    assert_eq!((message.sender, message.opcode), (fake::PID as u64, 9));
    assert_eq!(message.payload, big);
    assert_eq!(queue.try_recv().unwrap_err(), Error::Empty);
}

/// A request in the layout a receive writes: opcode, payload length, no capability, payload.
/// A `sys_cap_call` buffer of 64 bytes: the route, then the request (no capability moves).
fn call_buffer(route: (&Endpoint, &Endpoint), opcode: u32, payload: &[u8]) -> [u8; 64] {
    let mut buf = [0u8; 64];
    let route = sys::CallRoute { handle: route.0.raw(), reply: route.1.raw() };
    buf[..16].copy_from_slice(&route.to_bytes());
    let header = sys::MessageHeader { opcode, len: payload.len() as u32, cap: sys::NO_CAP };
    buf[16..32].copy_from_slice(&header.to_bytes());
    buf[32..32 + payload.len()].copy_from_slice(payload);
    buf
}

#[test]
fn a_call_sends_then_receives_and_sends_nothing_when_its_receive_side_is_bad() {
    fake::reset();
    let requests = Endpoint::create(2).unwrap();
    let replies = Endpoint::create(2).unwrap();
    replies.try_send(7, b"answer", None).unwrap();
    let mut buf = call_buffer((&requests, &replies), 3, b"ask");
    let route = buf[..16].to_vec();
    // SAFETY: the fake reads and writes at most 64 bytes of `buf`.
    let sender = unsafe { sys::sys_cap_call(sys::ptr_mut(&mut buf), 64) };
    assert_eq!(sender, fake::PID);
    assert_eq!((buf[16], buf[20], &buf[32..38]), (7, 6, &b"answer"[..]), "the answer is over the request");
    assert_eq!(&buf[..16], &route[..], "the route stays for the next call");
    let asked = requests.try_recv().unwrap();
    assert_eq!((asked.opcode, &asked.payload[..]), (3, &b"ask"[..]));

    // A reply handle without READ: refused before the send.
    let write_only = replies.derive(Rights::WRITE).unwrap();
    let mut buf = call_buffer((&requests, &write_only), 3, b"ask");
    // SAFETY: as above.
    let refused = unsafe { sys::sys_cap_call(sys::ptr_mut(&mut buf), 64) };
    assert_eq!(refused, i64::from(sys::E_NO_RIGHTS));
    // A payload length beyond the buffer, or a buffer shorter than route and header: refused too.
    let mut buf = call_buffer((&requests, &replies), 3, b"ask");
    buf[20] = 33;
    // SAFETY: as above.
    let refused = unsafe { sys::sys_cap_call(sys::ptr_mut(&mut buf), 64) };
    assert_eq!(refused, i64::from(sys::E_INVALID_ARGUMENT));
    // SAFETY: as above, 31 bytes.
    let refused = unsafe { sys::sys_cap_call(sys::ptr_mut(&mut buf[..31]), 31) };
    assert_eq!(refused, i64::from(sys::E_INVALID_ARGUMENT));
    assert_eq!(requests.try_recv().unwrap_err(), Error::Empty, "nothing was sent");
}

#[test]
fn call_blocking_sends_then_returns_the_answer_even_one_larger_than_its_first_buffer() {
    fake::reset();
    let requests = Endpoint::create(2).unwrap();
    let replies = Endpoint::create(2).unwrap();
    let big: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    replies.try_send(5, b"small", None).unwrap();
    replies.try_send(6, &big, None).unwrap();
    let answer = requests.call_blocking(1, b"first", &replies).unwrap();
    assert_eq!((answer.opcode, answer.payload.as_slice()), (5, &b"small"[..]));
    let answer = requests.call_blocking(2, b"second", &replies).unwrap();
    assert_eq!((answer.opcode, answer.payload), (6, big));
    let sent: Vec<Vec<u8>> = (0..2).map(|_| requests.try_recv().unwrap().payload).collect();
    assert_eq!(sent, [b"first".to_vec(), b"second".to_vec()]);
    let read_only = replies.derive(Rights::WRITE).unwrap();
    assert_eq!(requests.call_blocking(3, b"x", &read_only).unwrap_err(), Error::NoRights);
    assert_eq!(requests.try_recv().unwrap_err(), Error::Empty, "nothing sent");
}

#[test]
fn sending_respects_capacity_rights_and_the_closed_rules() {
    fake::reset();
    let queue = Endpoint::create(1).unwrap();
    let reader = queue.derive(Rights::READ).unwrap();
    assert_eq!(queue.derive(Rights::READ).unwrap().derive(Rights::WRITE).unwrap_err(), Error::NoRights);
    assert_eq!(queue.derive(Rights::from_bits(8)).unwrap_err(), Error::InvalidArgument);
    assert_eq!(reader.try_send(0, b"", None).unwrap_err().error, Error::NoRights);
    assert_eq!(queue.try_send(0, &[0; 4097], None).unwrap_err().error, Error::TooLarge);
    queue.try_send(1, b"a", None).unwrap();
    assert_eq!(queue.try_send(2, b"b", None).unwrap_err().error, Error::Full);

    // Queued messages outlive the last writer; then receivers get Closed.
    drop(queue);
    assert_eq!(reader.try_recv().unwrap().payload, b"a");
    assert_eq!(reader.try_recv().unwrap_err(), Error::Closed);

    let writer = Endpoint::create(1).unwrap().derive(Rights::WRITE).unwrap();
    assert_eq!(writer.try_send(0, b"", None).unwrap_err().error, Error::Closed);
    assert_eq!(Endpoint::create(0).unwrap_err(), Error::InvalidArgument);
    assert_eq!(Endpoint::create(4097).unwrap_err(), Error::InvalidArgument);
}

#[test]
fn handles_close_on_drop_and_are_never_reused() {
    fake::reset();
    let first = Endpoint::create(1).unwrap();
    let raw = first.raw();
    drop(first);
    assert_eq!(fake::open_handles(), 0);
    assert_eq!(sys::sys_cap_close(raw), sys::E_INVALID_HANDLE);
    let second = Endpoint::create(1).unwrap();
    assert_ne!(second.raw(), raw);
    assert_eq!(Endpoint::from_grant(raw as u32).try_recv().unwrap_err(), Error::InvalidHandle);
}

#[test]
fn a_capability_moves_with_its_message() {
    fake::reset();
    let queue = Endpoint::create(4).unwrap();
    let carried = Endpoint::create(1).unwrap();
    carried.try_send(5, b"inside", None).unwrap();
    let no_grant = carried.derive(Rights::READ).unwrap();

    let refused = queue.try_send(0, b"", Some(no_grant.into_capability())).unwrap_err();
    assert_eq!(refused.error, Error::NoRights);
    let kept = refused.cap.expect("a failed send gives the capability back");
    assert_eq!(Endpoint::from(kept).try_recv().unwrap().opcode, 5);

    let receiving = queue.try_send(
        1,
        b"",
        Some(carried.derive(Rights::READ | Rights::WRITE | Rights::GRANT).unwrap().into_capability()),
    );
    assert_eq!(receiving.unwrap_err().error, Error::NotMovable, "a receiving capability stays in tables");

    let sending = carried.derive(Rights::WRITE | Rights::GRANT).unwrap();
    let before = fake::open_handles();
    queue.try_send(1, b"", Some(sending.into_capability())).unwrap();
    assert_eq!(fake::open_handles(), before - 1, "the sent handle left this table");
    let message = queue.try_recv().unwrap();
    let received = Endpoint::from(message.cap.expect("the capability arrived"));
    assert_eq!(received.try_send(6, b"", None).map_err(Error::from), Ok(()));
}

#[test]
fn a_message_for_a_full_table_stays_queued() {
    fake::reset();
    let queue = Endpoint::create(1).unwrap();
    let sending = Endpoint::create(1).unwrap().derive(Rights::WRITE | Rights::GRANT).unwrap();
    queue.try_send(0, b"", Some(sending.into_capability())).unwrap();
    let filler: Vec<Endpoint> = std::iter::from_fn(|| Endpoint::create(1).ok()).collect();
    assert_eq!(fake::open_handles(), 1024);
    assert_eq!(queue.try_recv().unwrap_err(), Error::TooManyHandles);
    drop(filler);
    assert!(queue.try_recv().unwrap().cap.is_some());
}

#[test]
fn the_wait_list_reports_each_entry() {
    fake::reset();
    let queue = Endpoint::create(1).unwrap();
    queue.try_send(0, b"", None).unwrap();
    let mut list = [0u8; 32];
    list[..8].copy_from_slice(&queue.raw().to_le_bytes());
    list[8..12].copy_from_slice(&(sys::READABLE | sys::WRITABLE).to_le_bytes());
    list[16..24].copy_from_slice(&77i64.to_le_bytes());
    list[24..28].copy_from_slice(&sys::READABLE.to_le_bytes());
    // SAFETY: the fake writes only inside `list`.
    let ready = unsafe { sys::sys_cap_wait(sys::ptr_mut(&mut list), 2, sys::NO_DEADLINE) };
    assert_eq!(ready, 2);
    assert_eq!(list[12..16], sys::READABLE.to_le_bytes(), "full: readable, not writable");
    assert_eq!(list[28..32], sys::READY_INVALID.to_le_bytes());
    // SAFETY: as above.
    assert_eq!(unsafe { sys::sys_cap_wait(sys::ptr_mut(&mut list), 0, 0) }, sys::E_INVALID_ARGUMENT);
    list[8..12].copy_from_slice(&0u32.to_le_bytes());
    // SAFETY: as above.
    let no_interest = unsafe { sys::sys_cap_wait(sys::ptr_mut(&mut list), 2, 0) };
    assert_eq!(no_interest, sys::E_INVALID_ARGUMENT, "an entry interested in nothing");
}

#[test]
fn typed_messages_round_trip_with_their_opcode() {
    fake::reset();
    block_on(async {
        let queue = Endpoint::create(4).unwrap();
        queue.send_msg(3, &("hello", 42u64, [1u8, 2, 3])).await.unwrap();
        let (opcode, value): (u32, (String, u64, [u8; 3])) = queue.recv_msg().await.unwrap();
        assert_eq!((opcode, value), (3, ("hello".into(), 42, [1, 2, 3])));
    });
}

#[test]
fn malformed_payloads_decode_to_an_error() {
    fake::reset();
    block_on(async {
        let queue = Endpoint::create(8).unwrap();
        queue.try_send(1, &[0xff, 0xff, 0xff], None).unwrap();
        assert_eq!(queue.recv_msg::<String>().await.unwrap_err(), Error::Malformed);
        queue.try_send(1, &msg::encode(&7u8).unwrap(), None).unwrap();
        assert_eq!(queue.recv_msg::<(u8, u8)>().await.unwrap_err(), Error::Malformed, "too short");
        queue.try_send(1, &[7, 0], None).unwrap();
        assert_eq!(queue.recv_msg::<u8>().await.unwrap_err(), Error::Malformed, "bytes left over");
        queue.try_send(msg::REQUEST, &msg::encode(&1u32).unwrap(), None).unwrap();
        assert_eq!(queue.recv_request::<u32>().await.unwrap_err(), Error::Malformed, "no reply capability");
    });
}

#[test]
fn request_and_reply_round_trip() {
    fake::reset();
    let sums = block_on(async {
        let requests = Endpoint::create(4).unwrap();
        let client = requests.derive(Rights::WRITE).unwrap();
        let server = spawn(async move {
            for _ in 0..2 {
                let request: Request<(u32, u32)> = requests.recv_request().await.unwrap();
                assert_eq!(request.sender, fake::PID as u64);
                let (a, b) = request.body;
                request.reply(&(a + b)).unwrap();
            }
        });
        let sums = join(client.call::<_, u32>(&(2u32, 3u32)), client.call::<_, u32>(&(40u32, 2u32))).await;
        server.await;
        drop(client);
        sums
    });
    assert_eq!(sums, (Ok(5), Ok(42)));
    assert_eq!(fake::open_handles(), 0, "every reply endpoint was closed");
}

#[test]
fn a_request_dropped_unanswered_fails_the_call() {
    fake::reset();
    let answer = block_on(async {
        let requests = Endpoint::create(4).unwrap();
        let client = requests.derive(Rights::WRITE).unwrap();
        spawn(async move { drop(requests.recv_request::<u8>().await) });
        client.call::<_, u8>(&1u8).await
    });
    assert_eq!(answer, Err(Error::Closed));
}

#[test]
fn a_reply_of_the_wrong_type_is_malformed() {
    fake::reset();
    let answer = block_on(async {
        let requests = Endpoint::create(4).unwrap();
        let client = requests.derive(Rights::WRITE).unwrap();
        spawn(async move {
            let request = requests.recv_request::<u8>().await.unwrap();
            request.reply("not a number").unwrap();
        });
        client.call::<_, (u64, u64)>(&1u8).await
    });
    assert_eq!(answer, Err(Error::Malformed));
}

#[test]
fn shared_memory_reads_and_writes_within_bounds() {
    fake::reset();
    let shm = SharedMem::from_grant(0);
    assert_eq!(fake::grant_shm(4096, sys::RIGHT_READ | sys::RIGHT_WRITE), 0);
    assert_eq!(shm.size(), Ok(4096));
    shm.write(4090, b"abcdef").unwrap();
    let mut back = [0u8; 6];
    shm.read(4090, &mut back).unwrap();
    assert_eq!(&back, b"abcdef");
    assert_eq!(shm.write(4091, b"abcdef"), Err(Error::OutOfBounds));
    assert_eq!(shm.derive(Rights::READ).unwrap().write(0, b"x"), Err(Error::NoRights));
    assert_eq!(Endpoint::from(Capability::from_grant(0)).try_recv().unwrap_err(), Error::WrongKind);
}

#[test]
fn the_framebuffer_reports_its_format_and_takes_pixels() {
    fake::reset();
    assert_eq!(Framebuffer::info(), Err(Error::NotFound));
    fake::grant_framebuffer(640, 480);
    let fb = Framebuffer::from_grant(0);
    assert_eq!(Framebuffer::info(), Ok((640, 480)));
    let format = Framebuffer::format().unwrap();
    assert_eq!((format.pitch, format.bpp), (2560, 32));
    let pixel = format.pixel(0x12, 0x34, 0x56);
    assert_eq!(pixel, 0x0012_3456);
    let at = format.offset(639, 479);
    fb.write(at, &pixel.to_le_bytes()).unwrap();
    let mut back = [0u8; 4];
    fb.read(at, &mut back).unwrap();
    assert_eq!(u32::from_le_bytes(back), pixel);
    assert_eq!(fb.size(), Ok(640 * 480 * 4));
}

#[test]
fn errors_read_as_text() {
    assert_eq!(Error::BufferTooSmall.to_string(), "buffer too small");
    assert_eq!(Error::Unknown(-99).to_string(), "error code -99");
}
