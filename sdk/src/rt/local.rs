//! Actor-wide state for the runtime: [`actor_local!`] declares a static of which the actor has
//! one copy (on the host, one per thread, so each test runs its own actor).

/// Declares `static NAME: Type = const_init;`, read with `NAME.with(|value| ...)`.
macro_rules! actor_local {
    (static $name:ident: $ty:ty = $init:expr;) => {
        #[cfg(target_arch = "wasm32")]
        static $name: $crate::rt::local::Local<$ty> = $crate::rt::local::Local($init);
        #[cfg(not(target_arch = "wasm32"))]
        std::thread_local! {
            static $name: $ty = const { $init };
        }
    };
}
pub(crate) use actor_local;

/// A static the actor's only thread reaches.
#[cfg(target_arch = "wasm32")]
pub(crate) struct Local<T>(pub(crate) T);

// SAFETY: an actor is a single-threaded Wasm instance: this target is built without the atomics
// feature, so there is no second thread that could share the value.
#[cfg(target_arch = "wasm32")]
unsafe impl<T> Sync for Local<T> {}

#[cfg(target_arch = "wasm32")]
impl<T> Local<T> {
    /// Runs `f` on the value, as `LocalKey::with` does on the host.
    pub(crate) fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0)
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
compile_error!("the actor runtime is single-threaded; build actors without the atomics feature");
