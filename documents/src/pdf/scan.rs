//! The images a PDF page draws, as pixels: decoded from their stream for OCR, and written
//! back once detected values are burnt into them.
//!
//! Read: JPEG (`DCTDecode`), CCITT Group 4 and Group 3 one-dimensional fax
//! (`CCITTFaxDecode`), and samples behind any filter lopdf decodes (`FlateDecode`, LZW,
//! run-length, ASCII), in 1, 2, 4 or 8 bits per component, in gray, RGB, CMYK, ICC-based
//! and indexed colour spaces, and stencil masks; JBIG2 (`JBIG2Decode`, with its globals) and
//! JPEG 2000 (`JPXDecode`) through the `hayro` decoders. 16-bit samples and mixed-mode faxes
//! are refused by name. Written: JPEG again for a JPEG, and JPEG for a JPEG 2000; one bit per
//! pixel, deflated, for a bilevel image (a fax, a JBIG2 image or a mask); and deflated 8-bit
//! samples otherwise.

use image::{ImageFormat, ImageReader, RgbImage};
use lopdf::{Dictionary, Object, Stream};

use super::super::{DocumentError, Limits};

mod bilevel;
mod jpeg2000;
mod samples;
mod space;
mod write_back;

pub use write_back::encode;

use bilevel::{fax, jbig2, jbig2_regions_fit};
use jpeg2000::jpx;
use samples::samples;

/// How an image is written back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Jpeg {
        gray: bool,
    },
    /// One bit per pixel; `mask` for a stencil mask (`ImageMask`).
    Bilevel {
        mask: bool,
    },
    Deflated {
        gray: bool,
    },
}

/// An image's pixels and how to write them back.
#[derive(Debug, Clone)]
pub struct Raster {
    pub pixels: RgbImage,
    pub encoding: Encoding,
}

fn corrupt(what: &str) -> DocumentError {
    DocumentError::Corrupt(format!("an image: {what}"))
}

fn integer(dictionary: &Dictionary, key: &[u8]) -> Option<i64> {
    dictionary.get(key).ok().and_then(|value| value.as_i64().ok())
}

/// Decodes an image XObject after checking its size.
pub fn decode(document: &lopdf::Document, stream: &Stream, limits: &Limits) -> Result<Raster, DocumentError> {
    let dictionary = &stream.dict;
    let width = integer(dictionary, b"Width").filter(|&width| width > 0);
    let height = integer(dictionary, b"Height").filter(|&height| height > 0);
    let (Some(width), Some(height)) = (width, height) else {
        return Err(corrupt("no width or height"));
    };
    let pixels = (width as u64).saturating_mul(height as u64);
    if pixels > limits.max_image_pixels {
        return Err(DocumentError::TooManyPixels {
            pixels,
            limit: limits.max_image_pixels,
        });
    }
    let (width, height) = (
        u32::try_from(width).map_err(|_| corrupt("too wide"))?,
        u32::try_from(height).map_err(|_| corrupt("too tall"))?,
    );
    let filters: Vec<Vec<u8>> = stream
        .filters()
        .map(|filters| filters.into_iter().map(<[u8]>::to_vec).collect())
        .unwrap_or_default();
    let image_filter = filters
        .last()
        .filter(|filter| {
            matches!(
                filter.as_slice(),
                b"DCTDecode" | b"DCT" | b"CCITTFaxDecode" | b"CCF" | b"JBIG2Decode" | b"JPXDecode"
            )
        })
        .cloned();
    let limit = usize::try_from(limits.max_uncompressed_bytes).unwrap_or(usize::MAX);
    let data = if image_filter.is_some() && filters.len() > 1 {
        // The filters before the image's own (an ASCII armour, say).
        let mut outer = stream.clone();
        outer.dict.set(
            "Filter",
            Object::Array(
                filters[..filters.len() - 1]
                    .iter()
                    .map(|filter| Object::Name(filter.clone()))
                    .collect(),
            ),
        );
        outer
            .decompressed_content_with_limit(limit)
            .map_err(|error| corrupt(&error.to_string()))?
    } else if image_filter.is_some() {
        stream.content.clone()
    } else {
        stream.decompressed_content_with_limit(limit).map_err(|error| {
            if let lopdf::Error::Unimplemented(_) = error {
                DocumentError::Unsupported(format!(
                    "an image compressed with {}, which is not read",
                    filters
                        .iter()
                        .map(|filter| String::from_utf8_lossy(filter).into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            } else {
                corrupt(&error.to_string())
            }
        })?
    };
    let mask = dictionary.get(b"ImageMask").and_then(Object::as_bool).unwrap_or(false);
    let inverted = dictionary
        .get(b"Decode")
        .and_then(Object::as_array)
        .ok()
        .and_then(|decode| decode.first())
        .and_then(|first| first.as_float().ok())
        .is_some_and(|first| first > 0.5);
    match image_filter.as_deref() {
        Some(b"DCTDecode" | b"DCT") => {
            let mut reader = ImageReader::with_format(std::io::Cursor::new(&data), ImageFormat::Jpeg);
            let mut decoding_limits = image::Limits::default();
            decoding_limits.max_alloc = Some(pixels.saturating_mul(16).max(1 << 20));
            reader.limits(decoding_limits);
            let decoded = reader.decode().map_err(|error| corrupt(&error.to_string()))?;
            let gray = !decoded.color().has_color();
            let mut pixels = crate::image::into_rgb(decoded);
            if inverted {
                image::imageops::invert(&mut pixels);
            }
            Ok(Raster {
                pixels,
                encoding: Encoding::Jpeg { gray },
            })
        }
        Some(b"CCITTFaxDecode" | b"CCF") => fax(&data, dictionary, width, height, mask, inverted),
        Some(b"JBIG2Decode") => {
            jbig2_regions_fit(&data, limits.max_image_pixels)?;
            jbig2(document, &data, dictionary, (width, height), limit, mask, inverted)
        }
        // A JPEG 2000 image's Decode array is ignored (PDF 32000, 8.9.5.2).
        Some(b"JPXDecode") => jpx(&data, width, height),
        Some(other) => Err(DocumentError::Unsupported(format!(
            "an image compressed with {}, which is not read",
            String::from_utf8_lossy(other)
        ))),
        None => samples(document, &data, dictionary, width, height, mask, inverted),
    }
}

#[cfg(test)]
mod tests;
