//! [`Glyphs`]: the font's characters as cells of pixels in the display's own format. The
//! printable ASCII characters are rendered once, when the server starts, so drawing one is a
//! copy of its pixel lines; any other character is rendered when it is drawn.

use alloc::vec;
use alloc::vec::Vec;

use noto_sans_mono_bitmap::{FontWeight, RasterHeight, RasterizedChar, get_raster, get_raster_width};

use crate::pixel::{Layout, Rgb};

/// The font: Noto Sans Mono, regular, 16 pixels from ascender to descender.
const WEIGHT: FontWeight = FontWeight::Regular;
const HEIGHT: RasterHeight = RasterHeight::Size16;

/// Pixels across one character cell (the font's advance, spacing included).
pub const CELL_WIDTH: usize = get_raster_width(WEIGHT, HEIGHT);
/// Pixel lines of one character cell.
pub const CELL_HEIGHT: usize = HEIGHT.val();

/// The characters rendered in advance: the printable ASCII ones, which are nearly all a
/// console shows.
const CACHED: core::ops::RangeInclusive<char> = ' '..='~';

/// Character cells, ready to copy.
pub struct Glyphs {
    bytes_per_pixel: usize,
    /// The pixel for each glyph coverage, text over background, so rendering does no arithmetic.
    shades: [[u8; 4]; 256],
    /// The cells of [`CACHED`], in order, each [`CELL_HEIGHT`] lines of [`Self::line_bytes`].
    cached: Vec<u8>,
}

impl Glyphs {
    /// The font in `layout`'s format, `text` over `background`.
    pub fn new(layout: &Layout, text: Rgb, background: Rgb) -> Glyphs {
        let mut shades = [[0; 4]; 256];
        for (alpha, shade) in (0..=u8::MAX).zip(&mut shades) {
            *shade = layout.pack(text.over(background, alpha));
        }
        let mut glyphs = Glyphs { bytes_per_pixel: layout.bytes_per_pixel(), shades, cached: Vec::new() };
        let (line, cell) = (glyphs.line_bytes(), glyphs.cell_bytes());
        let mut cached = vec![0; cell * CACHED.count()];
        for (c, pixels) in CACHED.zip(cached.chunks_exact_mut(cell)) {
            glyphs.render(c, pixels, line);
        }
        glyphs.cached = cached;
        glyphs
    }

    /// Bytes of one pixel line of a cell.
    pub const fn line_bytes(&self) -> usize {
        CELL_WIDTH * self.bytes_per_pixel
    }

    /// Bytes of a whole cell, its lines one after the other.
    const fn cell_bytes(&self) -> usize {
        CELL_HEIGHT * self.line_bytes()
    }

    /// Draws `c` into `cell`, whose pixel lines start `stride` bytes apart (at least
    /// [`Self::line_bytes`]; `cell` holds at least `(CELL_HEIGHT - 1) * stride + line_bytes`).
    pub fn draw(&self, c: char, cell: &mut [u8], stride: usize) {
        let line = self.line_bytes();
        if !CACHED.contains(&c) {
            return self.render(c, cell, stride);
        }
        let index = c as usize - *CACHED.start() as usize;
        let pixels = &self.cached[index * self.cell_bytes()..][..self.cell_bytes()];
        for (source, target) in pixels.chunks_exact(line).zip(cell.chunks_mut(stride)) {
            target[..line].copy_from_slice(source);
        }
    }

    /// Renders `c` (the font's `?` if it lacks `c`) into `cell`, as [`Self::draw`] takes it.
    fn render(&self, c: char, cell: &mut [u8], stride: usize) {
        let Some(glyph) = get_raster(c, WEIGHT, HEIGHT).or_else(|| get_raster('?', WEIGHT, HEIGHT)) else {
            return;
        };
        match self.bytes_per_pixel {
            2 => self.render_in::<2>(&glyph, cell, stride),
            3 => self.render_in::<3>(&glyph, cell, stride),
            _ => self.render_in::<4>(&glyph, cell, stride),
        }
    }

    /// [`Self::render`] for `N` bytes per pixel (a constant, so each pixel is a fixed-size
    /// copy). The font's rasters are all one cell, so every pixel of the cell is written.
    fn render_in<const N: usize>(&self, glyph: &RasterizedChar, cell: &mut [u8], stride: usize) {
        for (line, coverage) in cell.chunks_mut(stride).zip(glyph.rows()) {
            let (pixels, _) = line[..CELL_WIDTH * N].as_chunks_mut::<N>();
            for (pixel, &alpha) in pixels.iter_mut().zip(coverage) {
                pixel.copy_from_slice(&self.shades[usize::from(alpha)][..N]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use sdk::{Channel, FbFormat};

    use super::*;

    /// A 32-bit `0x00RRGGBB` layout.
    fn layout() -> Layout {
        let channel = |shift| Channel { size: 8, shift };
        let format = FbFormat {
            width: 64,
            height: 32,
            pitch: 256,
            bpp: 32,
            red: channel(16),
            green: channel(8),
            blue: channel(0),
        };
        Layout::new(format).unwrap()
    }

    const WHITE: Rgb = Rgb(255, 255, 255);
    const BLACK: Rgb = Rgb(0, 0, 0);

    /// `c` drawn into a cell of its own, lines `stride` bytes apart, over bytes of 0x5a.
    fn drawn(glyphs: &Glyphs, c: char, stride: usize) -> Vec<u8> {
        let mut cell = vec![0x5a; (CELL_HEIGHT - 1) * stride + glyphs.line_bytes()];
        glyphs.draw(c, &mut cell, stride);
        cell
    }

    #[test]
    fn a_cached_glyph_is_the_glyph_rendered() {
        let glyphs = Glyphs::new(&layout(), WHITE, BLACK);
        let stride = glyphs.line_bytes() + 12;
        for c in ['A', 'g', '~', ' '] {
            let mut rendered = vec![0x5a; (CELL_HEIGHT - 1) * stride + glyphs.line_bytes()];
            glyphs.render(c, &mut rendered, stride);
            assert_eq!(drawn(&glyphs, c, stride), rendered, "{c:?}");
        }
    }

    #[test]
    fn a_cell_is_drawn_whole_and_nothing_between_its_lines() {
        let glyphs = Glyphs::new(&layout(), WHITE, BLACK);
        let (line, stride) = (glyphs.line_bytes(), glyphs.line_bytes() + 8);
        for c in ['W', 'é', ' '] {
            let cell = drawn(&glyphs, c, stride);
            for (y, pixels) in cell.chunks(stride).enumerate() {
                assert!(pixels[..line].iter().all(|&b| b != 0x5a), "{c:?}: line {y} not drawn");
                assert!(pixels[line..].iter().all(|&b| b == 0x5a), "{c:?}: drawn past line {y}");
            }
        }
        assert!(drawn(&glyphs, ' ', stride).iter().all(|&b| b == 0 || b == 0x5a), "a blank is background");
    }

    #[test]
    fn a_character_the_font_lacks_is_its_question_mark() {
        let glyphs = Glyphs::new(&layout(), WHITE, BLACK);
        let stride = glyphs.line_bytes();
        assert_eq!(drawn(&glyphs, '€', stride), drawn(&glyphs, '?', stride));
        assert_ne!(drawn(&glyphs, '!', stride), drawn(&glyphs, '?', stride));
    }
}
