//! [`Screen`]: the framebuffer as a grid of character cells. A row of cells is rendered into a
//! band buffer in the actor's memory, one glyph height of pixel lines laid out with the
//! framebuffer's pitch, and reaches the framebuffer in one host call; no call is made per pixel.

use alloc::vec;
use alloc::vec::Vec;

use noto_sans_mono_bitmap::{FontWeight, RasterHeight, RasterizedChar, get_raster, get_raster_width};
use sdk::{Error, FbFormat, Framebuffer};

use crate::pixel::{Layout, Rgb, Unsupported};

/// The font: Noto Sans Mono, regular, 16 pixels from ascender to descender.
const WEIGHT: FontWeight = FontWeight::Regular;
const HEIGHT: RasterHeight = RasterHeight::Size16;

/// Pixels across one character cell (the font's advance, spacing included).
pub const CELL_WIDTH: usize = get_raster_width(WEIGHT, HEIGHT);
/// Pixel lines of one character cell.
pub const CELL_HEIGHT: usize = HEIGHT.val();

/// Colour of empty screen.
pub const BACKGROUND: Rgb = Rgb(0x10, 0x18, 0x28);
/// Colour of text.
pub const FOREGROUND: Rgb = Rgb(0xe8, 0xe8, 0xe8);

/// Where rendered pixels go: the framebuffer, or a byte buffer in tests.
pub trait Surface {
    /// Copies `bytes` to byte `offset` of the display memory.
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Error>;
}

impl Surface for Framebuffer {
    fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Error> {
        Framebuffer::write(self, offset, bytes)
    }
}

/// The display as character cells.
pub struct Screen<S> {
    surface: S,
    layout: Layout,
    /// The pixel for each glyph coverage, text over background, so drawing does no arithmetic.
    shades: [[u8; 4]; 256],
    /// One cell row of pixel lines, `pitch` bytes apart.
    band: Vec<u8>,
    /// One pixel line of background, to start a band from.
    blank_line: Vec<u8>,
}

impl<S: Surface> Screen<S> {
    /// A screen drawing on `surface`, whose memory has the layout `format` describes.
    pub fn new(surface: S, format: FbFormat) -> Result<Screen<S>, Unsupported> {
        let layout = Layout::new(format)?;
        if (format.width as usize) < CELL_WIDTH || (format.height as usize) < CELL_HEIGHT {
            return Err(Unsupported::Size);
        }
        let mut shades = [[0; 4]; 256];
        for (alpha, shade) in (0..=u8::MAX).zip(&mut shades) {
            *shade = layout.pack(FOREGROUND.over(BACKGROUND, alpha));
        }
        let pixel = layout.pack(BACKGROUND);
        let blank_line = pixel[..layout.bytes_per_pixel()].repeat(format.width as usize);
        let band = vec![0; format.pitch as usize * CELL_HEIGHT];
        Ok(Screen { surface, layout, shades, band, blank_line })
    }

    /// Character cells across.
    pub fn columns(&self) -> usize {
        self.layout.format().width as usize / CELL_WIDTH
    }

    /// Character cells down.
    pub fn rows(&self) -> usize {
        self.layout.format().height as usize / CELL_HEIGHT
    }

    /// Paints the whole display background, including the strips right of and below the
    /// cells, which nothing draws on later.
    pub fn clear(&mut self) -> Result<(), Error> {
        self.blank_band();
        let height = self.layout.format().height as usize;
        for top in (0..height).step_by(CELL_HEIGHT) {
            self.write_band(top, CELL_HEIGHT.min(height - top))?;
        }
        Ok(())
    }

    /// Draws `cells`, the characters of cell row `row` from the left; cells past the display's
    /// columns are not drawn, and a row past its rows draws nothing.
    pub fn draw_row(&mut self, row: usize, cells: &[char]) -> Result<(), Error> {
        if row >= self.rows() {
            return Ok(());
        }
        self.blank_band();
        for (column, &c) in cells.iter().enumerate().take(self.columns()) {
            if c == ' ' {
                continue;
            }
            let Some(glyph) = glyph(c) else { continue };
            let x = column * CELL_WIDTH;
            match self.layout.bytes_per_pixel() {
                2 => self.put_glyph::<2>(x, &glyph),
                3 => self.put_glyph::<3>(x, &glyph),
                _ => self.put_glyph::<4>(x, &glyph),
            }
        }
        self.write_band(row * CELL_HEIGHT, CELL_HEIGHT)
    }

    /// Fills every pixel line of the band with background.
    fn blank_band(&mut self) {
        let pitch = self.layout.format().pitch as usize;
        for line in self.band.chunks_exact_mut(pitch) {
            line[..self.blank_line.len()].copy_from_slice(&self.blank_line);
        }
    }

    /// Renders `glyph` into the band with its left edge at pixel `x`, for `N` bytes per pixel
    /// (a constant, so each pixel is a fixed-size copy).
    fn put_glyph<const N: usize>(&mut self, x: usize, glyph: &RasterizedChar) {
        let pitch = self.layout.format().pitch as usize;
        for (line, coverage) in self.band.chunks_exact_mut(pitch).zip(glyph.rows()) {
            let Some(span) = line.get_mut(x * N..(x + coverage.len()) * N) else { return };
            let (pixels, _) = span.as_chunks_mut::<N>();
            for (pixel, &alpha) in pixels.iter_mut().zip(coverage) {
                pixel.copy_from_slice(&self.shades[usize::from(alpha)][..N]);
            }
        }
    }

    /// Copies the band's first `lines` pixel lines to the display from pixel line `top`. The
    /// last line stops at the last pixel: the padding after it may be the end of the memory.
    fn write_band(&mut self, top: usize, lines: usize) -> Result<(), Error> {
        let pitch = self.layout.format().pitch as usize;
        let len = (lines - 1) * pitch + self.blank_line.len();
        // `Layout` checked that every offset inside the display fits in 32 bits.
        self.surface.write((top * pitch) as u32, &self.band[..len])
    }
}

/// The font's glyph for `c`, or its `?` for a character it lacks.
fn glyph(c: char) -> Option<RasterizedChar> {
    get_raster(c, WEIGHT, HEIGHT).or_else(|| get_raster('?', WEIGHT, HEIGHT))
}
