//! What the server does with one message of `protocol::ui`: draw one-way text, carry out a
//! request and answer it, or ignore anything else. Nothing a client sends can make it panic:
//! a request that does not decode gets `UiError::Malformed`, any other message is logged and
//! dropped.

use alloc::string::String;

use protocol::ui::{self, UiError};
use sdk::{Endpoint, Message, msg};

use crate::console::Console;
use crate::screen::Surface;

/// Handles `message` on `console`, replying through the capability a request carries.
pub fn handle<S: Surface>(console: &mut Console<S>, message: Message) {
    match message {
        Message { opcode: opcode @ (ui::TEXT | ui::LOG), payload, .. } => {
            let text = String::from_utf8_lossy(&payload);
            match opcode {
                ui::TEXT => console.write(&text),
                _ => console.write_log(&text),
            }
            if let Err(error) = console.flush() {
                sdk::println!("drawing failed: {error}");
            }
        }
        Message { opcode: msg::REQUEST, payload, cap: Some(reply_to), sender } => {
            let reply = match msg::decode::<ui::Request<'_>>(&payload) {
                Ok(request) => carry_out(console, request),
                Err(_) => Err(UiError::Malformed),
            };
            let sent = msg::encode(&reply)
                .and_then(|answer| Ok(Endpoint::from(reply_to).try_send(msg::REPLY, &answer, None)?));
            if let Err(error) = sent {
                sdk::println!("cannot reply to pid {sender}: {error}");
            }
        }
        Message { opcode, sender, .. } => {
            sdk::println!("ignored a message with opcode {opcode:#x} from pid {sender}");
        }
    }
}

/// Does what `request` asks and says how it went.
fn carry_out<S: Surface>(console: &mut Console<S>, request: ui::Request<'_>) -> ui::Reply {
    match request {
        ui::Request::Write(text) => console.write(text),
        ui::Request::Clear => console.clear(),
    }
    console.flush().map_err(|error| {
        sdk::println!("drawing failed: {error}");
        UiError::Display
    })
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use protocol::ui;
    use sdk::{Endpoint, Rights, msg};
    use sdk_host::Kernel;

    use super::*;
    use crate::console::tests::{FakeDisplay, UNTOUCHED, XRGB, display, pixel_at, stored};
    use crate::screen::{BACKGROUND, Screen};

    /// A request as `Endpoint::call` sends it: encoded `body`, and the write end of a fresh
    /// reply endpoint, whose read end comes back with it.
    fn request(body: &[u8]) -> (Message, Endpoint) {
        let reply = Endpoint::create(1).unwrap();
        let for_server = reply.capability(Rights::WRITE).unwrap();
        let message =
            Message { sender: 7, opcode: msg::REQUEST, payload: body.to_vec(), cap: Some(for_server) };
        (message, reply)
    }

    fn answer(reply: &Endpoint) -> ui::Reply {
        let message = reply.try_recv().unwrap();
        assert_eq!(message.opcode, msg::REPLY);
        message.decode().unwrap()
    }

    /// Whether any pixel of the display differs from the background.
    fn anything_drawn(display: &FakeDisplay, format: &sdk::FbFormat) -> bool {
        let memory = display.memory.borrow();
        assert_ne!(memory[0], UNTOUCHED, "the console clears the display first");
        let background = stored(format, BACKGROUND);
        (0..format.height).any(|y| (0..format.width).any(|x| pixel_at(format, &memory, x, y) != background))
    }

    #[test]
    fn a_write_request_draws_and_is_answered_ok() {
        let _kernel = Kernel::start();
        let (format, fb) = display(32, XRGB, 8, 2);
        let mut console = Console::new(Screen::new(&fb, format).unwrap()).unwrap();
        let (message, reply) = request(&msg::encode(&ui::Request::Write("MinimalOS")).unwrap());
        handle(&mut console, message);
        assert_eq!(answer(&reply), Ok(()));
        assert!(anything_drawn(&fb, &format));

        let (message, reply) = request(&msg::encode(&ui::Request::Clear).unwrap());
        handle(&mut console, message);
        assert_eq!(answer(&reply), Ok(()));
        assert!(!anything_drawn(&fb, &format));
    }

    #[test]
    fn a_malformed_request_is_answered_with_an_error_and_draws_nothing() {
        let _kernel = Kernel::start();
        let (format, fb) = display(16, [(5, 11), (6, 5), (5, 0)], 8, 2);
        let mut console = Console::new(Screen::new(&fb, format).unwrap()).unwrap();
        let valid = msg::encode(&ui::Request::Write("abc")).unwrap();
        let mut too_long = valid.clone();
        too_long.push(0);
        let bad_utf8 = [0, 2, 0xff, 0xfe];
        for body in [&[][..], &[9], &valid[..valid.len() - 1], &too_long, &bad_utf8] {
            let (message, reply) = request(body);
            handle(&mut console, message);
            assert_eq!(answer(&reply), Err(UiError::Malformed), "{body:?}");
        }
        assert!(!anything_drawn(&fb, &format));
    }

    #[test]
    fn one_way_text_is_drawn_and_other_messages_are_ignored() {
        let kernel = Kernel::start();
        let (format, fb) = display(24, XRGB, 8, 2);
        let mut console = Console::new(Screen::new(&fb, format).unwrap()).unwrap();
        let plain =
            |opcode, payload: &[u8]| Message { sender: 3, opcode, payload: payload.to_vec(), cap: None };
        handle(&mut console, plain(99, b"not drawn"));
        handle(&mut console, plain(msg::REQUEST, b"a request without a reply capability"));
        handle(&mut console, plain(msg::REPLY, b""));
        assert!(!anything_drawn(&fb, &format));
        let logs: Vec<_> = kernel.logs();
        assert_eq!(logs.len(), 3, "{logs:?}");
        assert!(logs[0].contains("ignored a message with opcode 0x63 from pid 3"), "{logs:?}");

        handle(&mut console, plain(ui::TEXT, b"ok \xff"));
        assert!(anything_drawn(&fb, &format));
    }

    #[test]
    fn a_caller_that_went_away_does_not_stop_the_server() {
        let kernel = Kernel::start();
        let (format, fb) = display(32, XRGB, 8, 2);
        let mut console = Console::new(Screen::new(&fb, format).unwrap()).unwrap();
        let (message, reply) = request(&msg::encode(&ui::Request::Write("x")).unwrap());
        drop(reply);
        handle(&mut console, message);
        assert!(anything_drawn(&fb, &format));
        let logs = kernel.logs();
        assert!(logs.iter().any(|l| l.contains("cannot reply to pid 7")), "{logs:?}");
    }
}
