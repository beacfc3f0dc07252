//! [`Framebuffer`]: the boot display's memory, and [`FbFormat`], how its pixels are laid out.

use crate::{Capability, Error, sys};

/// A capability on the boot framebuffer; closed when dropped.
#[derive(Debug)]
pub struct Framebuffer(Capability);

/// The framebuffer's geometry and pixel layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FbFormat {
    /// Pixels per line.
    pub width: u32,
    /// Lines.
    pub height: u32,
    /// Bytes per line.
    pub pitch: u32,
    /// Bits per pixel.
    pub bpp: u32,
    /// Where red sits in a pixel.
    pub red: Channel,
    /// Where green sits in a pixel.
    pub green: Channel,
    /// Where blue sits in a pixel.
    pub blue: Channel,
}

/// One colour channel of a pixel: `size` bits from bit `shift`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Channel {
    /// Width in bits.
    pub size: u8,
    /// Position of the lowest bit.
    pub shift: u8,
}

impl Framebuffer {
    /// The `n`-th grant of this actor's manifest line (counting from 0), as the framebuffer.
    pub const fn from_grant(n: u32) -> Framebuffer {
        Framebuffer(Capability::from_grant(n))
    }

    /// The display's `(width, height)` in pixels; `Error::NotFound` without one.
    pub fn info() -> Result<(u32, u32), Error> {
        let size = Error::check(sys::sys_fb_info())?;
        Ok(((size >> 32) as u32, size as u32))
    }

    /// The display's format; `Error::NotFound` without one.
    pub fn format() -> Result<FbFormat, Error> {
        let mut raw = [0u8; sys::FB_FORMAT_LEN];
        let len = raw.len() as i32;
        // SAFETY: the kernel writes at most `len` bytes, all inside `raw`.
        Error::check(unsafe { sys::sys_fb_format(sys::ptr_mut(&mut raw), len) }.into())?;
        let word = |at: usize| u32::from_le_bytes([raw[at], raw[at + 1], raw[at + 2], raw[at + 3]]);
        let channel = |at: usize| Channel { size: raw[at], shift: raw[at + 1] };
        Ok(FbFormat {
            width: word(0),
            height: word(4),
            pitch: word(8),
            bpp: word(12),
            red: channel(16),
            green: channel(18),
            blue: channel(20),
        })
    }

    /// Size of the framebuffer memory in bytes.
    pub fn size(&self) -> Result<u64, Error> {
        self.0.mem_size()
    }

    /// Copies `pixels` (raw bytes in the display's format) to byte `offset` (needs WRITE).
    pub fn write(&self, offset: u32, pixels: &[u8]) -> Result<(), Error> {
        self.0.mem_write(offset, pixels)
    }

    /// Fills `buf` from the framebuffer at byte `offset` (needs READ).
    pub fn read(&self, offset: u32, buf: &mut [u8]) -> Result<(), Error> {
        self.0.mem_read(offset, buf)
    }
}

impl From<Capability> for Framebuffer {
    /// Treats a capability (say, one received in a message) as the framebuffer.
    fn from(cap: Capability) -> Framebuffer {
        Framebuffer(cap)
    }
}

impl FbFormat {
    /// Byte offset of pixel `(x, y)`.
    pub const fn offset(&self, x: u32, y: u32) -> u32 {
        y * self.pitch + x * (self.bpp / 8)
    }

    /// The pixel value for 8-bit `r`, `g`, `b`, scaled to the channel sizes.
    pub const fn pixel(&self, r: u8, g: u8, b: u8) -> u32 {
        self.red.place(r) | self.green.place(g) | self.blue.place(b)
    }
}

impl Channel {
    const fn place(self, value: u8) -> u32 {
        let bits = if self.size > 8 { 8 } else { self.size };
        if bits == 0 || self.shift >= 32 {
            return 0;
        }
        ((value as u32) >> (8 - bits)) << self.shift
    }
}
