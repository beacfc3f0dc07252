//! Log levels against the kernel (`sdk-host`), in a test binary of its own: the level is the
//! whole process's, and `trace` would fill the log the other tests read.

use sdk::{Endpoint, Error};
use sdk_host::Kernel;

#[test]
fn each_level_shows_what_it_promises() {
    let kernel = Kernel::start();
    sdk::println!("output");
    sdk::warn!("a warning");
    sdk::debug!("not at info");
    kernel.set_log_level("trace");
    sdk::debug!("at trace");
    let empty = Endpoint::create(1).unwrap();
    assert_eq!(empty.try_recv().unwrap_err(), Error::Empty);
    assert_eq!(Endpoint::from_grant(77).try_recv().unwrap_err(), Error::InvalidHandle);
    kernel.set_log_level("info");
    assert_eq!(
        kernel.logs(),
        [
            "output",
            "[WARN ] a warning",
            "[DEBUG] at trace",
            "[TRACE] sys_cap_try_recv returned E_EMPTY",
            "[DEBUG] sys_cap_try_recv returned E_INVALID_HANDLE",
            // Dropping the endpoint closes the handle it never had.
            "[DEBUG] sys_cap_close returned E_INVALID_HANDLE",
        ]
    );
}
