//! The cases. Each is a plain function that panics when the kernel answers otherwise than
//! `docs/ABI.md` says; [`cases!`] lists them for the Wasm actor and makes each a host test.

use alloc::string::String;
use alloc::vec::Vec;

use sdk::rt::{block_on, join, spawn};
use sdk::sys;
use sdk::{Capability, Client, Delivery, Endpoint, Error, Mailbox, Rights, SharedMem, System, msg};

use crate::{GRANTS, SHM, SHM_BYTES, SYSTEM};

/// Declares the cases: the functions, [`CASES`] in order, and a host test for each.
macro_rules! cases {
    ($(fn $name:ident() $body:block)*) => {
        $(fn $name() $body)*

        /// Every case, by name, in the order the actor runs them.
        pub const CASES: &[(&str, fn())] = &[$((stringify!($name), $name)),*];

        #[cfg(test)]
        mod host {
            $(
                #[test]
                fn $name() {
                    let _kernel = crate::host_kernel();
                    super::$name();
                }
            )*
        }
    };
}

/// This actor's pid, as the kernel stamps it on what it sends.
fn me() -> u64 {
    let mirror = Endpoint::create(1).unwrap();
    mirror.try_send(0, &[], None).unwrap();
    mirror.try_recv().unwrap().sender
}

/// How many capabilities this actor holds, as the process table reports them.
fn handles() -> u32 {
    handles_of(me())
}

/// How many capabilities process `pid` holds (this actor's pid, when it cannot make the
/// endpoint [`me`] needs).
fn handles_of(pid: u64) -> u32 {
    // Borrowed, not owned: dropping the grant would close it.
    let system = core::mem::ManuallyDrop::new(System::from_grant(SYSTEM));
    let table = system.processes().unwrap();
    table.into_iter().find(|p| p.pid == pid).expect("this actor is listed").handles
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

cases! {
    fn a_message_too_large_for_the_buffer_stays_queued_and_is_received_whole() {
        let queue = Endpoint::create(2).unwrap();
        let big: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
        queue.try_send(9, &big, None).unwrap();

        let mut small = [0u8; 64];
        // SAFETY: the kernel writes at most 64 bytes into `small`.
        let result = unsafe { sys::sys_cap_try_recv(queue.raw(), sys::ptr_mut(&mut small), 64) };
        assert_eq!(result, i64::from(sys::E_BUFFER_TOO_SMALL));
        assert_eq!(small[..8], [9, 0, 0, 0, 0xb8, 0x0b, 0, 0], "opcode 9, 3000 bytes");
        assert_eq!(small[8..16], (-1i64).to_le_bytes());

        let message = queue.try_recv().unwrap();
        assert_eq!((message.sender, message.opcode), (me(), 9));
        assert_eq!(message.payload, big);
        assert_eq!(queue.try_recv().unwrap_err(), Error::Empty);
    }

    fn a_call_sends_then_receives_and_sends_nothing_when_its_receive_side_is_bad() {
        let requests = Endpoint::create(2).unwrap();
        let replies = Endpoint::create(2).unwrap();
        replies.try_send(7, b"answer", None).unwrap();
        let mut buf = call_buffer((&requests, &replies), 3, b"ask");
        let route = buf[..16].to_vec();
        // SAFETY: the kernel reads and writes at most 64 bytes of `buf`.
        let sender = unsafe { sys::sys_cap_call(sys::ptr_mut(&mut buf), 64) };
        assert_eq!(sender, me() as i64);
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

    fn call_blocking_sends_then_returns_the_answer_even_one_larger_than_its_first_buffer() {
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

    fn sending_respects_capacity_rights_and_the_closed_rules() {
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

    fn handles_close_on_drop_and_are_never_reused() {
        let first = Endpoint::create(1).unwrap();
        let raw = first.raw();
        drop(first);
        assert_eq!(handles(), GRANTS);
        assert_eq!(sys::sys_cap_close(raw), sys::E_INVALID_HANDLE);
        let second = Endpoint::create(1).unwrap();
        assert_ne!(second.raw(), raw);
        assert_eq!(Endpoint::from_grant(raw as u32).try_recv().unwrap_err(), Error::InvalidHandle);
    }

    fn a_capability_moves_with_its_message() {
        let queue = Endpoint::create(4).unwrap();
        let carried = Endpoint::create(1).unwrap();
        carried.try_send(5, b"inside", None).unwrap();
        let no_grant = carried.capability(Rights::READ).unwrap();

        let refused = queue.try_send(0, b"", Some(no_grant)).unwrap_err();
        assert_eq!(refused.error, Error::NoRights);
        let kept = refused.cap.expect("a failed send gives the capability back");
        assert_eq!(Endpoint::from(kept).try_recv().unwrap().opcode, 5);

        let receiving = queue.try_send(
            1,
            b"",
            Some(carried.capability(Rights::READ | Rights::WRITE | Rights::GRANT).unwrap()),
        );
        assert_eq!(receiving.unwrap_err().error, Error::NotMovable, "a receiving capability stays in tables");

        let sending = carried.capability(Rights::WRITE | Rights::GRANT).unwrap();
        let before = handles();
        queue.try_send(1, b"", Some(sending)).unwrap();
        assert_eq!(handles(), before - 1, "the sent handle left this table");
        let message = queue.try_recv().unwrap();
        let received = Endpoint::from(message.cap.expect("the capability arrived"));
        assert_eq!(received.try_send(6, b"", None).map_err(Error::from), Ok(()));
    }

    fn a_message_for_a_full_table_stays_queued() {
        let me = me();
        let queue = Endpoint::create(1).unwrap();
        let sending = Endpoint::create(1).unwrap().capability(Rights::WRITE | Rights::GRANT).unwrap();
        queue.try_send(0, b"", Some(sending)).unwrap();
        let filler: Vec<Endpoint> = core::iter::from_fn(|| Endpoint::create(1).ok()).collect();
        assert_eq!(handles_of(me), 1024);
        assert_eq!(queue.try_recv().unwrap_err(), Error::TooManyHandles);
        drop(filler);
        assert!(queue.try_recv().unwrap().cap.is_some());
    }

    fn the_wait_list_reports_each_entry() {
        let queue = Endpoint::create(1).unwrap();
        queue.try_send(0, b"", None).unwrap();
        let mut list = [0u8; 32];
        list[..8].copy_from_slice(&queue.raw().to_le_bytes());
        list[8..12].copy_from_slice(&(sys::READABLE | sys::WRITABLE).to_le_bytes());
        list[16..24].copy_from_slice(&77i64.to_le_bytes());
        list[24..28].copy_from_slice(&sys::READABLE.to_le_bytes());
        // SAFETY: the kernel writes only inside `list`.
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

    fn typed_messages_round_trip_with_their_opcode() {
        block_on(async {
            let queue = Endpoint::create(4).unwrap();
            queue.send_msg(3, &("hello", 42u64, [1u8, 2, 3])).await.unwrap();
            let (opcode, value): (u32, (String, u64, [u8; 3])) = queue.recv_msg().await.unwrap();
            assert_eq!((opcode, value), (3, ("hello".into(), 42, [1, 2, 3])));
        });
    }

    fn malformed_payloads_decode_to_an_error() {
        block_on(async {
            let queue = Endpoint::create(8).unwrap();
            queue.try_send(1, &[0xff, 0xff, 0xff], None).unwrap();
            assert_eq!(queue.recv_msg::<String>().await.unwrap_err(), Error::Malformed);
            queue.try_send(1, &msg::encode(&7u8).unwrap(), None).unwrap();
            assert_eq!(queue.recv_msg::<(u8, u8)>().await.unwrap_err(), Error::Malformed, "too short");
            queue.try_send(1, &[7, 0], None).unwrap();
            assert_eq!(queue.recv_msg::<u8>().await.unwrap_err(), Error::Malformed, "bytes left over");
        });
    }

    fn request_and_reply_round_trip() {
        let me = me();
        let sums = block_on(async {
            let requests = Endpoint::create(4).unwrap();
            let client = requests.derive(Rights::WRITE).unwrap();
            let client: Client<(u32, u32), u32> = Client::new(client);
            let server = spawn(async move {
                let requests: Mailbox<(u32, u32), u32> = Mailbox::new(requests);
                for _ in 0..2 {
                    let request = requests.next().await.unwrap().unwrap();
                    assert_eq!(request.sender, me);
                    let (a, b) = request.body;
                    assert_eq!(request.reply(&(a + b)), Delivery::Delivered);
                }
            });
            let sums = join(client.call(&(2, 3)), client.call(&(40, 2))).await;
            server.await;
            drop(client);
            sums
        });
        assert_eq!(sums, (Ok(5), Ok(42)));
        assert_eq!(handles(), GRANTS, "every reply endpoint was closed");
    }

    fn a_request_dropped_unanswered_fails_the_call() {
        let answer = block_on(async {
            let requests = Endpoint::create(4).unwrap();
            let client = requests.derive(Rights::WRITE).unwrap();
            spawn(async move { drop(Mailbox::<u8, u8>::new(requests).next().await) });
            client.call::<_, u8>(&1u8).await
        });
        assert_eq!(answer, Err(Error::Closed));
    }

    fn a_reply_of_the_wrong_type_is_malformed() {
        let answer = block_on(async {
            let requests = Endpoint::create(4).unwrap();
            let client = requests.derive(Rights::WRITE).unwrap();
            spawn(async move {
                let request = Mailbox::<u8, String>::new(requests).next().await.unwrap().unwrap();
                assert_eq!(request.reply(&"not a number".into()), Delivery::Delivered);
            });
            client.call::<_, (u64, u64)>(&1u8).await
        });
        assert_eq!(answer, Err(Error::Malformed));
    }

    fn a_mailbox_serves_on_through_noise_and_callers_that_left() {
        let (served, confused, answered) = block_on(async {
            let requests = Endpoint::create(8).unwrap();
            let mailbox: Mailbox<u32, u32> = Mailbox::new(requests.derive(Rights::READ).unwrap());
            let client: Client<u32, u32> = Client::new(requests.derive(Rights::WRITE).unwrap());
            drop(requests);
            let server = spawn(async move {
                let mut served = Vec::new();
                while let Some(request) = mailbox.next().await.unwrap() {
                    let body = request.body;
                    served.push((body, request.reply(&(body + 1))));
                }
                served
            });
            let to_server = client.endpoint();
            to_server.try_send(7, b"not a request", None).unwrap();
            let gone = Endpoint::create(1).unwrap();
            let reply_to = gone.capability(Rights::WRITE | Rights::GRANT).unwrap();
            to_server.try_send(msg::REQUEST, &msg::encode(&1u32).unwrap(), Some(reply_to)).unwrap();
            drop(gone);
            let confused = to_server.call::<_, u32>("not a number").await;
            let answered = client.call(&41).await;
            drop(client);
            (server.await, confused, answered)
        });
        assert_eq!(served, [(1, Delivery::CallerGone), (41, Delivery::Delivered)], "ends once no client is left");
        assert_eq!(confused, Err(Error::Malformed), "a request that does not decode is rejected");
        assert_eq!(answered, Ok(42));
    }

    fn log_levels_are_checked_and_out_of_bounds_text_is_refused() {
        let text = b"a warning from the ABI check";
        assert_eq!(sys::sys_log_level(2, sys::ptr(text), text.len() as i32), 0);
        assert_eq!(sys::sys_log_level(5, sys::ptr(text), 4), 0, "below the kernel's level: dropped, not an error");
        assert_eq!(sys::sys_log_level(0, sys::ptr(text), 4), sys::E_INVALID_ARGUMENT);
        assert_eq!(sys::sys_log_level(6, sys::ptr(text), 4), sys::E_INVALID_ARGUMENT);
        assert_eq!(sys::sys_log_level(1, i32::MAX - 2, 16), sys::E_OUT_OF_BOUNDS);
        assert_eq!(sys::sys_log_level(5, -1, 16), sys::E_OUT_OF_BOUNDS, "checked even when dropped");
    }

    fn shared_memory_reads_and_writes_within_bounds() {
        let shm = SharedMem::from_grant(SHM);
        assert_eq!(shm.size(), Ok(SHM_BYTES as u64));
        shm.write(4090, b"abcdef").unwrap();
        let mut back = [0u8; 6];
        shm.read(4090, &mut back).unwrap();
        assert_eq!(&back, b"abcdef");
        assert_eq!(shm.write(4091, b"abcdef"), Err(Error::OutOfBounds));
        assert_eq!(shm.derive(Rights::READ).unwrap().write(0, b"x"), Err(Error::NoRights));
        assert_eq!(Endpoint::from(Capability::from_grant(0)).try_recv().unwrap_err(), Error::WrongKind);
    }
}
