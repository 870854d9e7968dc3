//! Pixels written back into an image's stream: JPEG, one bit per pixel deflated, or deflated
//! 8-bit samples.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, Rgb};
use lopdf::{Dictionary, Stream};

use super::{DocumentError, Encoding, Raster, corrupt};

/// JPEG quality for a scan written back; a scan was lossy already.
const JPEG_QUALITY: u8 = 90;

fn deflate(bytes: &[u8]) -> Result<Vec<u8>, DocumentError> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .map_err(|error| corrupt(&error.to_string()))
}

/// Writes pixels back into the image's stream, in its encoding; the stream keeps its
/// other entries (a soft mask, interpolation), and loses what described the old samples.
pub fn encode(stream: &mut Stream, raster: &Raster) -> Result<(), DocumentError> {
    let (width, height) = raster.pixels.dimensions();
    let luminance = || {
        GrayImage::from_fn(width, height, |x, y| {
            let Rgb([red, green, blue]) = *raster.pixels.get_pixel(x, y);
            image::Luma([((u32::from(red) * 299 + u32::from(green) * 587 + u32::from(blue) * 114) / 1000) as u8])
        })
    };
    let dictionary = &mut stream.dict;
    for key in [
        &b"DecodeParms"[..],
        b"Decode",
        b"Filter",
        b"Length",
        b"DL",
        b"SMaskInData",
    ] {
        dictionary.remove(key);
    }
    if dictionary.get(b"Mask").is_ok_and(|mask| mask.as_array().is_ok()) {
        // A colour-key mask names sample values of the old encoding.
        dictionary.remove(b"Mask");
    }
    let (content, filter) = match raster.encoding {
        Encoding::Jpeg { gray } => {
            let mut out = Vec::new();
            let mut encoder = JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY);
            let written = if gray {
                encoder.encode_image(&luminance())
            } else {
                encoder.encode_image(&raster.pixels)
            };
            written.map_err(|error| corrupt(&error.to_string()))?;
            set_space(dictionary, gray, 8);
            (out, "DCTDecode")
        }
        Encoding::Bilevel { mask } => {
            let gray = luminance();
            let row_bytes = (width as usize).div_ceil(8);
            let mut packed = vec![0_u8; row_bytes * height as usize];
            for (x, y, image::Luma([level])) in gray.enumerate_pixels() {
                // 1 is white in a gray image and unpainted in a mask.
                if *level >= 128 {
                    packed[y as usize * row_bytes + x as usize / 8] |= 0x80 >> (x % 8);
                }
            }
            if mask {
                dictionary.set("BitsPerComponent", 1);
                dictionary.remove(b"ColorSpace");
            } else {
                set_space(dictionary, true, 1);
            }
            (deflate(&packed)?, "FlateDecode")
        }
        Encoding::Deflated { gray } => {
            let samples = if gray {
                luminance().into_raw()
            } else {
                raster.pixels.as_raw().clone()
            };
            set_space(dictionary, gray, 8);
            (deflate(&samples)?, "FlateDecode")
        }
    };
    dictionary.set("Filter", filter);
    stream.set_content(content);
    // Written as it is: compressing a JPEG or a deflated stream again gains nothing.
    stream.allows_compression = false;
    Ok(())
}

fn set_space(dictionary: &mut Dictionary, gray: bool, bits: i64) {
    dictionary.set("ColorSpace", if gray { "DeviceGray" } else { "DeviceRGB" });
    dictionary.set("BitsPerComponent", bits);
}
