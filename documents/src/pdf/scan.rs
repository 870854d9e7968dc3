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

use std::io::Write as _;

use flate2::Compression;
use flate2::write::ZlibEncoder;
use image::codecs::jpeg::JpegEncoder;
use image::{GrayImage, ImageFormat, ImageReader, Rgb, RgbImage};
use lopdf::{Dictionary, Object, Stream};

use super::super::{DocumentError, Limits};

/// JPEG quality for a scan written back; a scan was lossy already.
const JPEG_QUALITY: u8 = 90;

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

/// The components of a colour space, and its palette when it is indexed.
enum Space {
    Gray,
    Rgb,
    Cmyk,
    Indexed { base: Box<Space>, palette: Vec<u8> },
}

impl Space {
    fn components(&self) -> usize {
        match self {
            Space::Gray | Space::Indexed { .. } => 1,
            Space::Rgb => 3,
            Space::Cmyk => 4,
        }
    }

    fn read(document: &lopdf::Document, object: &Object) -> Result<Space, DocumentError> {
        let object = document.dereference(object).map(|(_, object)| object).unwrap_or(object);
        let unsupported = |name: &[u8]| {
            DocumentError::Unsupported(format!(
                "an image in the {} colour space, which is not read",
                String::from_utf8_lossy(name)
            ))
        };
        match object {
            Object::Name(name) => match name.as_slice() {
                b"DeviceGray" | b"CalGray" | b"G" => Ok(Space::Gray),
                b"DeviceRGB" | b"CalRGB" | b"RGB" => Ok(Space::Rgb),
                b"DeviceCMYK" | b"CMYK" => Ok(Space::Cmyk),
                other => Err(unsupported(other)),
            },
            Object::Array(items) => {
                let family = items.first().and_then(|name| name.as_name().ok()).unwrap_or(b"");
                match family {
                    b"CalGray" => Ok(Space::Gray),
                    b"CalRGB" => Ok(Space::Rgb),
                    b"ICCBased" => {
                        let stream = items
                            .get(1)
                            .and_then(|stream| document.dereference(stream).ok())
                            .and_then(|(_, stream)| stream.as_stream().ok())
                            .ok_or_else(|| corrupt("an ICC colour space without its profile"))?;
                        match integer(&stream.dict, b"N") {
                            Some(1) => Ok(Space::Gray),
                            Some(3) => Ok(Space::Rgb),
                            Some(4) => Ok(Space::Cmyk),
                            Some(_) | None => Err(corrupt("an ICC profile with an odd number of components")),
                        }
                    }
                    b"Indexed" | b"I" => {
                        let base = Space::read(
                            document,
                            items.get(1).ok_or_else(|| corrupt("a palette without a base"))?,
                        )?;
                        if matches!(base, Space::Indexed { .. }) {
                            return Err(corrupt("a palette of a palette"));
                        }
                        let palette = match items.get(3).map(|lookup| document.dereference(lookup)) {
                            Some(Ok((_, Object::String(bytes, _)))) => bytes.clone(),
                            Some(Ok((_, Object::Stream(stream)))) => stream
                                .decompressed_content_with_limit(1 << 20)
                                .map_err(|error| corrupt(&error.to_string()))?,
                            Some(_) | None => return Err(corrupt("a palette without its colours")),
                        };
                        Ok(Space::Indexed {
                            base: Box::new(base),
                            palette,
                        })
                    }
                    other => Err(unsupported(other)),
                }
            }
            Object::Null
            | Object::Boolean(_)
            | Object::Integer(_)
            | Object::Real(_)
            | Object::String(..)
            | Object::Dictionary(_)
            | Object::Stream(_)
            | Object::Reference(_) => Err(corrupt("a colour space that is not a name or an array")),
        }
    }

    /// One pixel's colour from its components, each scaled to 0..=1.
    fn rgb(&self, components: &[f32]) -> Rgb<u8> {
        let byte = |value: f32| (value.clamp(0.0, 1.0) * 255.0).round() as u8;
        match self {
            Space::Gray => {
                let gray = byte(components[0]);
                Rgb([gray, gray, gray])
            }
            Space::Rgb => Rgb([byte(components[0]), byte(components[1]), byte(components[2])]),
            Space::Cmyk => {
                let [cyan, magenta, yellow, black] = [components[0], components[1], components[2], components[3]];
                Rgb([
                    byte((1.0 - cyan) * (1.0 - black)),
                    byte((1.0 - magenta) * (1.0 - black)),
                    byte((1.0 - yellow) * (1.0 - black)),
                ])
            }
            Space::Indexed { base, palette } => {
                let width = base.components();
                let index = components[0] as usize;
                let entry: Vec<f32> = (0..width)
                    .map(|component| {
                        palette
                            .get(index * width + component)
                            .map_or(0.0, |&value| f32::from(value) / 255.0)
                    })
                    .collect();
                base.rgb(&entry)
            }
        }
    }
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

/// A CCITT fax image: black and white, one bit per pixel.
fn fax(
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
fn jbig2(
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
fn jbig2_regions_fit(data: &[u8], max_pixels: u64) -> Result<(), DocumentError> {
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

/// A JPEG 2000 image, in the colour space its own header names; written back as a JPEG
/// (JPEG 2000 is not written).
fn jpx(data: &[u8], width: u32, height: u32) -> Result<Raster, DocumentError> {
    let jpx_error = |error: hayro_jpeg2000::DecodeError| corrupt(&format!("JPEG 2000: {error}"));
    let image = hayro_jpeg2000::Image::new(data, &hayro_jpeg2000::DecodeSettings::default()).map_err(jpx_error)?;
    if (image.width(), image.height()) != (width, height) {
        return Err(corrupt(&format!(
            "a JPEG 2000 image of {} by {} pixels where the PDF says {width} by {height}",
            image.width(),
            image.height()
        )));
    }
    let colours = usize::from(image.color_space().num_channels());
    let channels = colours + usize::from(image.has_alpha());
    let space = match colours {
        1 => Space::Gray,
        3 => Space::Rgb,
        4 => Space::Cmyk,
        _ => {
            return Err(DocumentError::Unsupported(format!(
                "a JPEG 2000 image with {colours} colour channels, which is not read"
            )));
        }
    };
    let samples = image.decode().map_err(jpx_error)?;
    if samples.len() != (width as usize) * (height as usize) * channels {
        return Err(corrupt("a JPEG 2000 image that decodes to the wrong size"));
    }
    let mut components = vec![0.0_f32; colours];
    let mut pixels = RgbImage::new(width, height);
    for (pixel, chunk) in pixels.pixels_mut().zip(samples.chunks_exact(channels)) {
        for (component, &sample) in components.iter_mut().zip(chunk) {
            *component = f32::from(sample) / 255.0;
        }
        *pixel = space.rgb(&components);
    }
    Ok(Raster {
        pixels,
        encoding: Encoding::Jpeg { gray: colours == 1 },
    })
}

/// Samples after lopdf's filters: packed rows of components.
fn samples(
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

#[cfg(test)]
mod tests {
    use lopdf::{Document, dictionary};

    use super::*;
    use obscura_detection::ErrorClass;

    fn stream(dictionary: Dictionary, content: Vec<u8>) -> Stream {
        Stream::new(dictionary, content)
    }

    fn read(stream: &Stream) -> Result<Raster, DocumentError> {
        decode(&Document::with_version("1.7"), stream, &Limits::default())
    }

    fn round_trip(stream: &mut Stream, raster: &Raster) -> Raster {
        encode(stream, raster).unwrap();
        read(stream).unwrap()
    }

    #[test]
    fn gray_rgb_cmyk_and_indexed_samples_become_pixels() {
        let gray = stream(
            dictionary! { "Width" => 2, "Height" => 1, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
            vec![0, 255],
        );
        let raster = read(&gray).unwrap();
        assert_eq!(raster.pixels.as_raw(), &[0, 0, 0, 255, 255, 255]);
        assert_eq!(raster.encoding, Encoding::Deflated { gray: true });

        let cmyk = stream(
            dictionary! { "Width" => 1, "Height" => 1, "ColorSpace" => "DeviceCMYK", "BitsPerComponent" => 8 },
            vec![255, 0, 0, 0],
        );
        assert_eq!(read(&cmyk).unwrap().pixels.as_raw(), &[0, 255, 255], "full cyan");

        let indexed = stream(
            dictionary! {
                "Width" => 3, "Height" => 1, "BitsPerComponent" => 4,
                "ColorSpace" => vec![
                    Object::Name(b"Indexed".to_vec()),
                    Object::Name(b"DeviceRGB".to_vec()),
                    Object::Integer(1),
                    Object::string_literal(vec![255, 0, 0, 0, 0, 255]),
                ],
            },
            vec![0x01, 0x00],
        );
        assert_eq!(
            read(&indexed).unwrap().pixels.as_raw(),
            &[255, 0, 0, 0, 0, 255, 255, 0, 0]
        );
    }

    #[test]
    fn one_bit_images_and_masks_keep_black_as_black() {
        // 0 is black in a gray image; a decode array of [1 0] swaps it.
        let plain = stream(
            dictionary! { "Width" => 3, "Height" => 1, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 1 },
            vec![0b0100_0000],
        );
        let raster = read(&plain).unwrap();
        assert_eq!(raster.pixels.as_raw(), &[0, 0, 0, 255, 255, 255, 0, 0, 0]);
        assert_eq!(raster.encoding, Encoding::Bilevel { mask: false });
        let mut swapped = plain.clone();
        swapped.dict.set("Decode", vec![1.into(), 0.into()]);
        assert_eq!(
            read(&swapped).unwrap().pixels.as_raw(),
            &[255, 255, 255, 0, 0, 0, 255, 255, 255]
        );

        let mut mask = stream(
            dictionary! { "Width" => 3, "Height" => 1, "ImageMask" => true },
            vec![0b0100_0000],
        );
        let mut raster = read(&mask).unwrap();
        assert_eq!(raster.encoding, Encoding::Bilevel { mask: true });
        raster.pixels.put_pixel(1, 0, Rgb([0, 0, 0]));
        let again = round_trip(&mut mask, &raster);
        assert_eq!(again.pixels.as_raw(), &[0; 9], "the burnt pixel is painted");
        assert!(mask.dict.get(b"ColorSpace").is_err(), "a mask has no colour space");
    }

    /// An image in CCITT Group 4, by the `fax` crate's own encoder.
    fn group_4(black: &dyn Fn(u32, u32) -> bool, width: u32, height: u32) -> Vec<u8> {
        let mut encoder = fax::encoder::Encoder::new(fax::VecWriter::new());
        for y in 0..height {
            let line = (0..width).map(|x| {
                if black(x, y) {
                    fax::Color::Black
                } else {
                    fax::Color::White
                }
            });
            encoder.encode_line(line, u16::try_from(width).unwrap()).unwrap();
        }
        encoder.finish().unwrap().finish()
    }

    #[test]
    fn a_group_4_fax_decodes_and_is_written_back_as_one_bit() {
        // The fax crate's own encoder writes the test image: a black square on white.
        let (width, height) = (16_u16, 8_u16);
        let black = |x: u16, y: u16| (4..12).contains(&x) && (2..6).contains(&y);
        let data = group_4(&|x, y| black(x as u16, y as u16), u32::from(width), u32::from(height));
        let mut image = stream(
            dictionary! {
                "Width" => i64::from(width), "Height" => i64::from(height),
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 1,
                "Filter" => "CCITTFaxDecode",
                "DecodeParms" => dictionary! { "K" => -1, "Columns" => i64::from(width), "Rows" => i64::from(height) },
            },
            data,
        );
        let raster = read(&image).unwrap();
        for y in 0..u32::from(height) {
            for x in 0..u32::from(width) {
                let expected = if black(x as u16, y as u16) { 0 } else { 255 };
                assert_eq!(raster.pixels.get_pixel(x, y).0[0], expected, "({x}, {y})");
            }
        }
        let again = round_trip(&mut image, &raster);
        assert_eq!(again.pixels, raster.pixels);
        assert_eq!(image.dict.get(b"Filter").unwrap().as_name().unwrap(), b"FlateDecode");

        let mut wrong = image.clone();
        wrong.dict.set("Width", 17);
        assert!(read(&wrong).is_err());
    }

    #[test]
    fn a_jpeg_is_read_and_written_back_as_a_jpeg() {
        let mut pixels = RgbImage::from_pixel(32, 16, Rgb([255, 255, 255]));
        for x in 0..16 {
            for y in 0..16 {
                pixels.put_pixel(x, y, Rgb([0, 0, 0]));
            }
        }
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, 95)
            .encode_image(&pixels)
            .unwrap();
        let mut image = stream(
            dictionary! {
                "Width" => 32, "Height" => 16, "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8,
                "Filter" => "DCTDecode",
            },
            jpeg,
        );
        let mut raster = read(&image).unwrap();
        assert_eq!(raster.encoding, Encoding::Jpeg { gray: false });
        assert!(raster.pixels.get_pixel(4, 4).0[0] < 30 && raster.pixels.get_pixel(28, 4).0[0] > 225);
        for x in 16..32 {
            for y in 0..16 {
                raster.pixels.put_pixel(x, y, Rgb([0, 0, 0]));
            }
        }
        let again = round_trip(&mut image, &raster);
        assert!(again.pixels.get_pixel(28, 4).0[0] < 30, "the burnt half is black");
        assert_eq!(image.dict.get(b"Filter").unwrap().as_name().unwrap(), b"DCTDecode");
    }

    /// A JBIG2 stream in the embedded organization: a page information segment and one
    /// immediate generic region coded with MMR (CCITT Group 4, from the `fax` encoder).
    fn jbig2_stream(black: &dyn Fn(u32, u32) -> bool, width: u32, height: u32) -> Vec<u8> {
        let mmr = group_4(black, width, height);
        let segment = |number: u32, kind: u8, data: &[u8]| {
            let mut out = number.to_be_bytes().to_vec();
            out.extend([kind, 0, 1]);
            out.extend(u32::try_from(data.len()).unwrap().to_be_bytes());
            out.extend(data);
            out
        };
        let mut page = Vec::new();
        for value in [width, height, 0, 0] {
            page.extend(value.to_be_bytes());
        }
        page.extend([0, 0, 0]);
        let mut region = Vec::new();
        for value in [width, height, 0, 0] {
            region.extend(value.to_be_bytes());
        }
        // External combination operator OR; generic region flags: MMR.
        region.extend([0, 1]);
        region.extend(mmr);
        let mut out = segment(0, 48, &page);
        out.extend(segment(1, 38, &region));
        out.extend(segment(2, 49, &[]));
        out
    }

    #[test]
    fn jbig2_images_are_read_black_and_white_and_written_as_one_bit() {
        let (width, height) = (64, 16);
        let black = |x: u32, y: u32| (10..30).contains(&x) && (4..12).contains(&y);
        let mut document = Document::with_version("1.7");
        let globals = document.add_object(Stream::new(Dictionary::new(), Vec::new()));
        let mut jbig2 = stream(
            dictionary! {
                "Width" => width, "Height" => height, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 1,
                "Filter" => "JBIG2Decode", "DecodeParms" => dictionary! { "JBIG2Globals" => globals },
            },
            jbig2_stream(&black, width, height),
        );
        let raster = decode(&document, &jbig2, &Limits::default()).unwrap();
        assert_eq!(raster.encoding, Encoding::Bilevel { mask: false });
        for (x, y, pixel) in raster.pixels.enumerate_pixels() {
            let expected = if black(x, y) { 0 } else { 255 };
            assert_eq!(pixel.0, [expected; 3], "({x}, {y})");
        }
        // Written back deflated at one bit, without the JBIG2 parameters.
        let again = round_trip(&mut jbig2, &raster);
        assert_eq!(again.pixels, raster.pixels);
        assert!(jbig2.dict.get(b"DecodeParms").is_err());
        // A region larger than the pixel limit is refused before it is decoded.
        let mut huge = jbig2_stream(&black, width, height);
        // The region's width, after its own segment header (11 bytes) and the page's segment.
        huge[41..45].copy_from_slice(&60_000_u32.to_be_bytes());
        huge[45..49].copy_from_slice(&60_000_u32.to_be_bytes());
        let error = read(&stream(
            dictionary! { "Width" => width, "Height" => height, "Filter" => "JBIG2Decode" },
            huge,
        ))
        .unwrap_err();
        assert_eq!(error.code(), "too_many_pixels", "{error}");
        // A page size other than the PDF's is refused.
        let mut wrong = jbig2_stream(&black, width, height);
        wrong[11..15].copy_from_slice(&32_u32.to_be_bytes());
        let error = read(&stream(
            dictionary! { "Width" => width, "Height" => height, "Filter" => "JBIG2Decode" },
            wrong,
        ))
        .unwrap_err();
        assert!(error.to_string().contains("64 by 16"), "{error}");
    }

    #[test]
    fn bad_images_get_clear_errors() {
        let too_big = stream(
            dictionary! { "Width" => 100_000, "Height" => 100_000, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
            Vec::new(),
        );
        assert_eq!(read(&too_big).err().map(|error| error.code()), Some("too_many_pixels"));
        let short = stream(
            dictionary! { "Width" => 10, "Height" => 10, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8 },
            vec![0; 20],
        );
        assert_eq!(read(&short).err().map(|error| error.code()), Some("corrupt"));
        let jbig2 = stream(
            dictionary! { "Width" => 10, "Height" => 10, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 1, "Filter" => "JBIG2Decode" },
            vec![0; 20],
        );
        let error = read(&jbig2).unwrap_err();
        assert_eq!(error.code(), "corrupt");
        assert!(error.to_string().contains("JBIG2"), "{error}");
        let jpx = stream(
            dictionary! { "Width" => 10, "Height" => 10, "Filter" => "JPXDecode" },
            b"not a JPEG 2000 codestream".to_vec(),
        );
        let error = read(&jpx).unwrap_err();
        assert_eq!(error.code(), "corrupt");
        assert!(error.to_string().contains("JPEG 2000"), "{error}");
        let sixteen = stream(
            dictionary! { "Width" => 1, "Height" => 1, "ColorSpace" => "DeviceGray", "BitsPerComponent" => 16 },
            vec![0; 2],
        );
        assert_eq!(read(&sixteen).err().map(|error| error.code()), Some("unsupported"));
    }
}
