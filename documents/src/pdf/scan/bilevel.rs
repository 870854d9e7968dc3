//! Black-and-white images: CCITT fax and JBIG2 streams decoded to pixels, which are written
//! back at one bit per pixel.

use image::{Rgb, RgbImage};
use lopdf::{Dictionary, Object};

use super::{DocumentError, Encoding, Raster, corrupt, integer};

/// A CCITT fax image: black and white, one bit per pixel.
pub(super) fn fax(
    data: &[u8],
    dictionary: &Dictionary,
    width: u32,
    height: u32,
    mask: bool,
    inverted: bool,
) -> Result<Raster, DocumentError> {
    let parameters = filter_parameters(dictionary);
    let parameter = |key: &[u8]| parameters.and_then(|parameters| integer(parameters, key));
    let k = parameter(b"K").unwrap_or(0);
    let columns = parameter(b"Columns").unwrap_or(1728);
    let black_is_one = parameters
        .and_then(|parameters| parameters.get(b"BlackIs1").and_then(Object::as_bool).ok())
        .unwrap_or(false);
    let columns = u16::try_from(columns)
        .ok()
        .filter(|&columns| u32::from(columns) == width)
        .ok_or_else(|| corrupt("a fax whose columns are not its width"))?;
    let rows = u16::try_from(height).map_err(|_| corrupt("a fax over 65,535 lines"))?;
    let mut pixels = RgbImage::from_pixel(width, height, Rgb([255, 255, 255]));
    let mut row = 0_u32;
    // A sample of 0 paints black in a gray image (and paints a mask) unless the decode
    // array swaps it; BlackIs1 swaps which fax colour gives 0.
    let dark_when_black = black_is_one == inverted;
    let mut line = |transitions: &[u16]| {
        if row >= height {
            return;
        }
        for (x, colour) in fax::decoder::pels(transitions, columns).enumerate() {
            let black = colour == fax::Color::Black;
            if black == dark_when_black {
                pixels.put_pixel(x as u32, row, Rgb([0, 0, 0]));
            }
        }
        row += 1;
    };
    let decoded = match k {
        k if k < 0 => fax::decoder::decode_g4(data.iter().copied(), columns, Some(rows), &mut line),
        0 => fax::decoder::decode_g3(data.iter().copied(), &mut line),
        _ => {
            return Err(DocumentError::Unsupported(
                "a fax image in mixed one- and two-dimensional coding (K > 0), which is not read".into(),
            ));
        }
    };
    if decoded.is_none() && row == 0 {
        return Err(corrupt("a fax image that does not decode"));
    }
    Ok(Raster {
        pixels,
        encoding: Encoding::Bilevel { mask },
    })
}

/// The decode parameters of an image's own filter (the last one).
fn filter_parameters(dictionary: &Dictionary) -> Option<&Dictionary> {
    match dictionary.get(b"DecodeParms") {
        Ok(Object::Dictionary(parameters)) => Some(parameters),
        Ok(Object::Array(list)) => list.last().and_then(|parameters| parameters.as_dict().ok()),
        Ok(_) | Err(_) => None,
    }
}

/// A JBIG2 image (the embedded organization, with its `JBIG2Globals` when it has them):
/// black and white, written back at one bit per pixel.
pub(super) fn jbig2(
    document: &lopdf::Document,
    data: &[u8],
    dictionary: &Dictionary,
    (width, height): (u32, u32),
    limit: usize,
    mask: bool,
    inverted: bool,
) -> Result<Raster, DocumentError> {
    let settings = hayro_jbig2::DecodeSettings::default();
    let globals_data = match filter_parameters(dictionary).and_then(|parameters| parameters.get(b"JBIG2Globals").ok()) {
        Some(Object::Reference(id)) => {
            let stream = document
                .get_object(*id)
                .and_then(Object::as_stream)
                .map_err(|_| corrupt("JBIG2 globals that are not a stream"))?;
            Some(if stream.filters().is_ok() {
                stream
                    .decompressed_content_with_limit(limit)
                    .map_err(|error| corrupt(&format!("JBIG2 globals: {error}")))?
            } else {
                stream.content.clone()
            })
        }
        Some(Object::Stream(stream)) => Some(stream.content.clone()),
        Some(_) | None => None,
    };
    let jbig2_error = |error: hayro_jbig2::DecodeError| corrupt(&format!("JBIG2: {error}"));
    let globals = globals_data
        .as_deref()
        .map(|globals| hayro_jbig2::Globals::new(globals, &settings))
        .transpose()
        .map_err(jbig2_error)?;
    let page = hayro_jbig2::Page::new_embedded(data, globals.as_ref(), &settings).map_err(jbig2_error)?;
    if (page.width(), page.height()) != (width, height) {
        return Err(corrupt(&format!(
            "a JBIG2 image of {} by {} pixels where the PDF says {width} by {height}",
            page.width(),
            page.height()
        )));
    }
    // JBIG2 paints 1 black; the filter's output, as PDF reads it, is 0 for black.
    let dark_when_black = !inverted;
    let mut sink = Bilevel {
        pixels: RgbImage::from_pixel(width, height, Rgb([255, 255, 255])),
        dark_when_black,
        x: 0,
        y: 0,
    };
    page.decode(&mut sink).map_err(jbig2_error)?;
    Ok(Raster {
        pixels: sink.pixels,
        encoding: Encoding::Bilevel { mask },
    })
}

/// Checks, before decoding, that no region of a JBIG2 stream (the embedded organization)
/// is larger than `max_pixels`: the decoder sizes each region's bitmap from the region's own
/// header, whatever the page's size.
pub(super) fn jbig2_regions_fit(data: &[u8], max_pixels: u64) -> Result<(), DocumentError> {
    let truncated = || corrupt("a JBIG2 segment header is cut short");
    let read_u32 = |at: usize| -> Result<u32, DocumentError> {
        let bytes = data
            .get(at..at.checked_add(4).ok_or_else(truncated)?)
            .ok_or_else(truncated)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    };
    let mut at = 0_usize;
    while at < data.len() {
        let number = read_u32(at)?;
        let flags = *data.get(at + 4).ok_or_else(truncated)?;
        let kind = flags & 0x3f;
        at += 5;
        let first = *data.get(at).ok_or_else(truncated)?;
        let referred = if first >> 5 == 7 {
            let count = (read_u32(at)? & 0x1fff_ffff) as usize;
            at = at.checked_add(4 + (count + 1).div_ceil(8)).ok_or_else(truncated)?;
            count
        } else {
            at += 1;
            usize::from(first >> 5)
        };
        let reference_size = match number {
            0..=256 => 1,
            257..=65_536 => 2,
            _ => 4,
        };
        at = at
            .checked_add(referred.checked_mul(reference_size).ok_or_else(truncated)?)
            .and_then(|at| at.checked_add(if flags & 0x40 != 0 { 4 } else { 1 }))
            .ok_or_else(truncated)?;
        let length = read_u32(at)?;
        at += 4;
        if length == u32::MAX {
            return Err(DocumentError::Unsupported(
                "a JBIG2 segment of unknown length, which is not read".into(),
            ));
        }
        // Region segments: text, halftone, generic and refinement regions.
        if matches!(kind, 6 | 7 | 22 | 23 | 36 | 38 | 39 | 40 | 42 | 43) {
            let pixels = u64::from(read_u32(at)?) * u64::from(read_u32(at + 4)?);
            if pixels > max_pixels {
                return Err(DocumentError::TooManyPixels {
                    pixels,
                    limit: max_pixels,
                });
            }
        }
        at = at.checked_add(length as usize).ok_or_else(truncated)?;
    }
    Ok(())
}

/// Receives a JBIG2 image's pixels, row by row.
struct Bilevel {
    pixels: RgbImage,
    dark_when_black: bool,
    x: u32,
    y: u32,
}

impl hayro_jbig2::Decoder for Bilevel {
    fn push_pixel(&mut self, black: bool) {
        if black == self.dark_when_black && self.x < self.pixels.width() && self.y < self.pixels.height() {
            self.pixels.put_pixel(self.x, self.y, Rgb([0, 0, 0]));
        }
        self.x += 1;
    }

    fn push_pixel_chunk(&mut self, black: bool, chunk_count: u32) {
        for _ in 0..chunk_count.saturating_mul(8) {
            self.push_pixel(black);
        }
    }

    fn next_line(&mut self) {
        self.x = 0;
        self.y += 1;
    }
}
