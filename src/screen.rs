//! Screenshots: the binary PPM images QEMU's `screendump` writes (`Machine::screendump`), read
//! as pixels tests can look at.

/// An RGB image, 8 bits per channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// `width * height` RGB triples, row by row.
    pub rgb: Vec<u8>,
}

impl Image {
    /// Reads a binary PPM (`P6`, maximum value 255).
    pub fn from_ppm(ppm: &[u8]) -> Result<Image, String> {
        // Four whitespace-separated header fields, then one whitespace byte.
        let mut fields = Vec::new();
        let mut at = 0;
        while fields.len() < 4 {
            let start = at + ppm[at..].iter().take_while(|b| b.is_ascii_whitespace()).count();
            at = start + ppm[start..].iter().take_while(|b| !b.is_ascii_whitespace()).count();
            if start == at {
                return Err("truncated PPM header".into());
            }
            fields.push(String::from_utf8_lossy(&ppm[start..at]).into_owned());
        }
        let number = |i: usize| fields[i].parse::<usize>().map_err(|e| format!("PPM field {i}: {e}"));
        if fields[0] != "P6" || number(3)? != 255 {
            return Err(format!("not an 8-bit binary PPM: {fields:?}"));
        }
        let (width, height) = (number(1)?, number(2)?);
        let rgb = ppm.get(at + 1..).unwrap_or_default().to_vec();
        if rgb.len() != width * height * 3 {
            return Err(format!("{width}x{height} PPM with {} bytes of pixels", rgb.len()));
        }
        Ok(Image { width, height, rgb })
    }

    /// The pixel at column `x`, row `y`.
    pub fn pixel(&self, x: usize, y: usize) -> [u8; 3] {
        let at = (y * self.width + x) * 3;
        [self.rgb[at], self.rgb[at + 1], self.rgb[at + 2]]
    }

    /// The pixels of the rectangle `x` × `y`, clipped to the image.
    pub fn pixels(
        &self,
        x: std::ops::Range<usize>,
        y: std::ops::Range<usize>,
    ) -> impl Iterator<Item = [u8; 3]> + '_ {
        let x = x.start.min(self.width)..x.end.min(self.width);
        let y = y.start.min(self.height)..y.end.min(self.height);
        y.flat_map(move |y| x.clone().map(move |x| self.pixel(x, y)))
    }
}

#[cfg(test)]
mod tests {
    use super::Image;

    #[test]
    fn a_binary_ppm_is_read_and_bad_ones_are_refused() {
        let mut ppm = b"P6\n2 1\n255\n".to_vec();
        ppm.extend_from_slice(&[1, 2, 3, 4, 5, 6]);
        let image = Image::from_ppm(&ppm).unwrap();
        assert_eq!((image.width, image.height, image.pixel(1, 0)), (2, 1, [4, 5, 6]));
        assert_eq!(image.pixels(0..5, 0..5).count(), 2, "clipped to the image");
        assert!(Image::from_ppm(b"P6\n2 1\n255\n\x01").is_err(), "short pixel data");
        assert!(Image::from_ppm(b"P3\n1 1\n255\n\x01\x02\x03").is_err(), "not binary");
        assert!(Image::from_ppm(b"P6 1").is_err(), "truncated header");
    }
}
