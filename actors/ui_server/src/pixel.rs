//! Pixels in the framebuffer's own format: [`Layout`] checks a format once and packs colours
//! into the bytes it wants, for any depth of 16, 24 or 32 bits and any channel positions.

use core::fmt;

use sdk::FbFormat;

/// A colour with 8 bits per channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `self` over `under` at coverage `alpha` (0: only `under`, 255: only `self`).
    pub fn over(self, under: Rgb, alpha: u8) -> Rgb {
        let mix = |top: u8, bottom: u8| {
            let (a, top, bottom) = (u32::from(alpha), u32::from(top), u32::from(bottom));
            // At most 255 * 255 + 127 before the division, so the result fits in a byte.
            ((top * a + bottom * (255 - a) + 127) / 255) as u8
        };
        Rgb(mix(self.0, under.0), mix(self.1, under.1), mix(self.2, under.2))
    }
}

/// A framebuffer format the renderer can draw on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    format: FbFormat,
    bytes_per_pixel: usize,
}

/// Why a framebuffer format cannot be drawn on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unsupported {
    /// Not 16, 24 or 32 bits per pixel (palettes and packed sub-byte pixels are not drawn).
    Depth(u32),
    /// A colour channel is empty or reaches past the pixel's bits.
    Channel,
    /// A line's pixels do not fit in the pitch.
    Pitch,
    /// Smaller than one character cell, or too large for 32-bit byte offsets.
    Size,
}

impl Layout {
    /// The layout of `format`, if the renderer supports it.
    pub fn new(format: FbFormat) -> Result<Layout, Unsupported> {
        let bytes_per_pixel = match format.bpp {
            16 | 24 | 32 => format.bpp as usize / 8,
            other => return Err(Unsupported::Depth(other)),
        };
        for channel in [format.red, format.green, format.blue] {
            if channel.size == 0 || u32::from(channel.size) + u32::from(channel.shift) > format.bpp {
                return Err(Unsupported::Channel);
            }
        }
        if u64::from(format.width) * bytes_per_pixel as u64 > u64::from(format.pitch) {
            return Err(Unsupported::Pitch);
        }
        if u64::from(format.pitch) * u64::from(format.height) > u64::from(u32::MAX) {
            return Err(Unsupported::Size);
        }
        Ok(Layout { format, bytes_per_pixel })
    }

    /// The format this layout was made for.
    pub const fn format(&self) -> &FbFormat {
        &self.format
    }

    /// Bytes of one pixel: 2, 3 or 4.
    pub const fn bytes_per_pixel(&self) -> usize {
        self.bytes_per_pixel
    }

    /// The pixel for `colour`: its first [`Self::bytes_per_pixel`] bytes, little-endian as
    /// the framebuffer stores them, the rest zero.
    pub const fn pack(&self, colour: Rgb) -> [u8; 4] {
        self.format.pixel(colour.0, colour.1, colour.2).to_le_bytes()
    }
}

impl fmt::Display for Unsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unsupported::Depth(bpp) => write!(f, "{bpp} bits per pixel (16, 24 and 32 are drawn)"),
            Unsupported::Channel => f.write_str("a colour channel outside the pixel"),
            Unsupported::Pitch => f.write_str("a pitch smaller than a line of pixels"),
            Unsupported::Size => f.write_str("a display smaller than a character or over 4 GiB"),
        }
    }
}

#[cfg(test)]
mod tests {
    use sdk::Channel;

    use super::*;

    const fn channel(size: u8, shift: u8) -> Channel {
        Channel { size, shift }
    }

    /// A 4x2 display with `bpp` and the red, green, blue channels `(size, shift)`.
    fn format(bpp: u32, [r, g, b]: [(u8, u8); 3]) -> FbFormat {
        FbFormat {
            width: 4,
            height: 2,
            pitch: 64,
            bpp,
            red: channel(r.0, r.1),
            green: channel(g.0, g.1),
            blue: channel(b.0, b.1),
        }
    }

    const ORANGE: Rgb = Rgb(0xff, 0x80, 0x10);

    #[test]
    fn packs_32_bit_xrgb_as_blue_green_red_in_memory() {
        let layout = Layout::new(format(32, [(8, 16), (8, 8), (8, 0)])).unwrap();
        assert_eq!(layout.bytes_per_pixel(), 4);
        assert_eq!(layout.pack(ORANGE), [0x10, 0x80, 0xff, 0]);
    }

    #[test]
    fn packs_32_bit_rgbx_and_bgrx() {
        let rgbx = Layout::new(format(32, [(8, 0), (8, 8), (8, 16)])).unwrap();
        assert_eq!(rgbx.pack(ORANGE), [0xff, 0x80, 0x10, 0]);
        let bgrx = Layout::new(format(32, [(8, 8), (8, 16), (8, 24)])).unwrap();
        assert_eq!(bgrx.pack(ORANGE), [0, 0xff, 0x80, 0x10]);
    }

    #[test]
    fn packs_24_bit_in_three_bytes() {
        let layout = Layout::new(format(24, [(8, 16), (8, 8), (8, 0)])).unwrap();
        assert_eq!(layout.bytes_per_pixel(), 3);
        assert_eq!(layout.pack(ORANGE)[..3], [0x10, 0x80, 0xff]);
    }

    #[test]
    fn packs_16_bit_565_keeping_the_high_bits() {
        let layout = Layout::new(format(16, [(5, 11), (6, 5), (5, 0)])).unwrap();
        assert_eq!(layout.bytes_per_pixel(), 2);
        // Red 0xff keeps 5 bits (31), green 0x80 keeps 6 (32), blue 0x10 keeps 5 (2).
        let expected: u16 = (31 << 11) | (32 << 5) | 2;
        assert_eq!(layout.pack(ORANGE)[..2], expected.to_le_bytes());
        assert_eq!(layout.pack(Rgb(0xff, 0xff, 0xff))[..2], [0xff, 0xff]);
    }

    #[test]
    fn refuses_what_it_cannot_draw() {
        let xrgb = [(8, 16), (8, 8), (8, 0)];
        assert_eq!(Layout::new(format(8, xrgb)), Err(Unsupported::Depth(8)));
        assert_eq!(Layout::new(format(16, xrgb)), Err(Unsupported::Channel), "red past bit 16");
        assert_eq!(Layout::new(format(32, [(0, 16), (8, 8), (8, 0)])), Err(Unsupported::Channel));
        let narrow = FbFormat { pitch: 15, ..format(32, xrgb) };
        assert_eq!(Layout::new(narrow), Err(Unsupported::Pitch));
        let huge = FbFormat { width: 100_000, height: 100_000, pitch: 400_000, ..format(32, xrgb) };
        assert_eq!(Layout::new(huge), Err(Unsupported::Size));
    }

    #[test]
    fn coverage_blends_between_the_two_colours() {
        let (white, black) = (Rgb(255, 255, 255), Rgb(0, 0, 0));
        assert_eq!(white.over(black, 0), black);
        assert_eq!(white.over(black, 255), white);
        assert_eq!(white.over(black, 128), Rgb(128, 128, 128));
        assert_eq!(Rgb(200, 0, 100).over(Rgb(0, 200, 100), 51), Rgb(40, 160, 100));
    }
}
