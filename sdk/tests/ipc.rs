//! What the SDK does on the host beyond the ABI's behaviour cases (`actors/abi_check`, run
//! both here and in QEMU): the framebuffer type against a host framebuffer, and error text.

use sdk::{Error, Framebuffer};
use sdk_host::Kernel;

#[test]
fn the_framebuffer_takes_pixels_within_bounds() {
    let kernel = Kernel::start();
    // The host kernel has no boot framebuffer to describe.
    assert_eq!(Framebuffer::info(), Err(Error::NotFound));
    assert_eq!(Framebuffer::format().unwrap_err(), Error::NotFound);
    let fb = Framebuffer::from_grant(kernel.grant_framebuffer(640, 480) as u32);
    let at = (479 * 640 + 639) * 4;
    fb.write(at, &0x0012_3456u32.to_le_bytes()).unwrap();
    let mut back = [0u8; 4];
    fb.read(at, &mut back).unwrap();
    assert_eq!(u32::from_le_bytes(back), 0x0012_3456);
    assert_eq!(fb.size(), Ok(640 * 480 * 4));
    assert_eq!(fb.write(at + 1, &back), Err(Error::OutOfBounds));
}

#[test]
fn errors_read_as_text() {
    assert_eq!(Error::BufferTooSmall.to_string(), "buffer too small");
    assert_eq!(Error::Unknown(-99).to_string(), "error code -99");
}
