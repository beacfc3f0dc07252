//! [`select`]: the first of two futures to finish, taking them as written (no `pin!`, no
//! `Unpin` bound), so a loop can race a fresh `recv()` against a timer every time round.

use core::future::{Future, poll_fn};
use core::pin::pin;
use core::task::Poll;

pub use futures_util::future::Either;

/// Waits for whichever of `a` and `b` finishes first and drops the other; `a` wins a tie.
///
/// What the loser had done is undone only as far as dropping it undoes it: the SDK's own
/// futures (`recv`, `send`, `sleep`, a [`Ticker`](super::Ticker) tick) lose nothing when
/// dropped before they finish.
pub async fn select<A: Future, B: Future>(a: A, b: B) -> Either<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Either::Left(out));
        }
        b.as_mut().poll(cx).map(Either::Right)
    })
    .await
}
