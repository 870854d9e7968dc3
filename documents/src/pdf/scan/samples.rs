//! Image samples after lopdf's filters: packed rows of 1, 2, 4 or 8-bit components in a colour
//! space, and stencil masks.

use image::{Rgb, RgbImage};
use lopdf::Dictionary;

use super::space::Space;
use super::{DocumentError, Encoding, Raster, corrupt, integer};

/// Samples after lopdf's filters: packed rows of components.
pub(super) fn samples(
    document: &lopdf::Document,
    data: &[u8],
    dictionary: &Dictionary,
    width: u32,
    height: u32,
    mask: bool,
    inverted: bool,
) -> Result<Raster, DocumentError> {
    let (space, bits) = if mask {
        (Space::Gray, 1)
    } else {
        let space = Space::read(
            document,
            dictionary
                .get(b"ColorSpace")
                .map_err(|_| corrupt("an image without a colour space"))?,
        )?;
        (space, integer(dictionary, b"BitsPerComponent").unwrap_or(8))
    };
    if !matches!(bits, 1 | 2 | 4 | 8) {
        return Err(DocumentError::Unsupported(format!(
            "an image with {bits} bits per component, which is not read"
        )));
    }
    let bits = bits as usize;
    let components = space.components();
    let row_bytes = (width as usize * components * bits).div_ceil(8);
    if data.len() < row_bytes * height as usize {
        return Err(corrupt("fewer samples than its size needs"));
    }
    let indexed = matches!(space, Space::Indexed { .. });
    let maximum = ((1_u32 << bits) - 1) as f32;
    // A sample's value: an index for a palette, otherwise scaled to 0..=1 (swapped by a
    // decode array that starts above its end, as `[1 0]` does).
    let value = |sample: u32| {
        if indexed {
            sample as f32
        } else if inverted {
            1.0 - sample as f32 / maximum
        } else {
            sample as f32 / maximum
        }
    };
    let mut pixels = RgbImage::new(width, height);
    let mut pixel = vec![0.0_f32; components];
    for (y, row) in data.chunks(row_bytes).take(height as usize).enumerate() {
        for x in 0..width as usize {
            for (component, slot) in pixel.iter_mut().enumerate() {
                let bit = (x * components + component) * bits;
                let byte = row[bit / 8];
                let sample = if bits == 8 {
                    u32::from(byte)
                } else {
                    u32::from(byte >> (8 - bits - bit % 8)) & ((1 << bits) - 1)
                };
                *slot = value(sample);
            }
            let colour = if mask {
                // A mask paints (black, as scans are) where its value is 0.
                if pixel[0] < 0.5 {
                    Rgb([0, 0, 0])
                } else {
                    Rgb([255, 255, 255])
                }
            } else {
                space.rgb(&pixel)
            };
            pixels.put_pixel(x as u32, y as u32, colour);
        }
    }
    let encoding = if bits == 1 && components == 1 && !indexed {
        Encoding::Bilevel { mask }
    } else {
        Encoding::Deflated {
            gray: matches!(space, Space::Gray),
        }
    };
    Ok(Raster { pixels, encoding })
}
