//! Image files decoded to pixels, within the pixel limit, and pixels encoded again in an
//! image format with nothing else written.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageFormat, ImageReader, RgbImage};

use super::{DocumentError, Format, Limits};

fn image_format(format: Format) -> Option<ImageFormat> {
    match format {
        Format::Png => Some(ImageFormat::Png),
        Format::Jpeg => Some(ImageFormat::Jpeg),
        Format::Tiff => Some(ImageFormat::Tiff),
        Format::Text | Format::Markdown | Format::Csv | Format::Json | Format::Html | Format::Docx | Format::Pdf => {
            None
        }
    }
}

/// Decodes an image after checking its size.
pub fn decode(bytes: &[u8], format: Format, limits: &Limits) -> Result<RgbImage, DocumentError> {
    let kind =
        image_format(format).ok_or_else(|| DocumentError::Unsupported(format!("{} is not an image", format.name())))?;
    let corrupt = |error: image::ImageError| DocumentError::Corrupt(format!("{}: {error}", format.name()));
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), kind)
        .into_dimensions()
        .map_err(corrupt)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_image_pixels {
        return Err(DocumentError::TooManyPixels {
            pixels,
            limit: limits.max_image_pixels,
        });
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind);
    let mut decoding_limits = image::Limits::default();
    decoding_limits.max_alloc = Some(pixels.saturating_mul(16).max(1 << 20));
    reader.limits(decoding_limits);
    Ok(into_rgb(reader.decode().map_err(corrupt)?))
}

/// The pixels as RGB. Gray pixels (scans) are widened here directly: the `image` crate's
/// general conversion goes through its colour-space machinery and takes several times as long.
pub fn into_rgb(image: DynamicImage) -> RgbImage {
    if let DynamicImage::ImageRgb8(rgb) = image {
        return rgb;
    }
    if let DynamicImage::ImageLuma8(gray) = &image {
        let (width, height) = gray.dimensions();
        let samples = gray.as_raw().iter().flat_map(|&sample| [sample; 3]).collect();
        if let Some(rgb) = RgbImage::from_raw(width, height, samples) {
            return rgb;
        }
    }
    image.to_rgb8()
}

/// Encodes pixels in an image format; nothing but the pixels is written. An image whose
/// pixels are all gray (a scan) is written in gray, and a TIFF is deflated, so that the
/// output stays near the input's size.
pub fn encode(image: &RgbImage, format: Format) -> Result<Vec<u8>, DocumentError> {
    let kind =
        image_format(format).ok_or_else(|| DocumentError::Unsupported(format!("{} is not an image", format.name())))?;
    let failed = |error: String| DocumentError::Corrupt(format!("writing {}: {error}", format.name()));
    let (width, height) = image.dimensions();
    let pixels = match gray_samples(image).and_then(|samples| GrayImage::from_raw(width, height, samples)) {
        Some(gray) => DynamicImage::ImageLuma8(gray),
        None => DynamicImage::ImageRgb8(image.clone()),
    };
    let mut out = Cursor::new(Vec::new());
    if kind == ImageFormat::Tiff {
        let mut encoder = tiff::encoder::TiffEncoder::new(&mut out)
            .map_err(|error| failed(error.to_string()))?
            .with_compression(tiff::encoder::Compression::Deflate(
                tiff::encoder::DeflateLevel::Balanced,
            ));
        let written = if let DynamicImage::ImageLuma8(gray) = &pixels {
            encoder.write_image::<tiff::encoder::colortype::Gray8>(width, height, gray.as_raw())
        } else {
            encoder.write_image::<tiff::encoder::colortype::RGB8>(width, height, image.as_raw())
        };
        written.map_err(|error| failed(error.to_string()))?;
    } else {
        pixels
            .write_to(&mut out, kind)
            .map_err(|error| failed(error.to_string()))?;
    }
    Ok(out.into_inner())
}

/// One sample per pixel when every pixel is gray (a scan), for Tesseract: it thresholds each
/// channel of a colour image separately, which takes three times as long for the same pixels.
pub(super) fn gray_samples(image: &RgbImage) -> Option<Vec<u8>> {
    let mut gray = Vec::with_capacity(image.as_raw().len() / 3);
    for pixel in image.as_raw().chunks_exact(3) {
        let [red, green, blue] = [pixel[0], pixel[1], pixel[2]];
        if red != green || green != blue {
            return None;
        }
        gray.push(red);
    }
    Some(gray)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;
    use obscura_detection::ErrorClass;

    #[test]
    fn a_gray_scan_is_written_gray_and_a_tiff_deflated() {
        let mut page = RgbImage::from_pixel(400, 300, Rgb([255, 255, 255]));
        for x in 50..150 {
            for y in 50..80 {
                page.put_pixel(x, y, Rgb([0, 0, 0]));
            }
        }
        let tiff = encode(&page, Format::Tiff).unwrap();
        assert!(tiff.len() < 10_000, "{} bytes; raw RGB would be 360,000", tiff.len());
        assert_eq!(decode(&tiff, Format::Tiff, &Limits::default()).unwrap(), page);
        let png = encode(&page, Format::Png).unwrap();
        let kind = image::load_from_memory(&png).unwrap().color();
        assert_eq!(kind, image::ColorType::L8);
        // A colour image stays in colour.
        page.put_pixel(0, 0, Rgb([200, 10, 10]));
        let png = encode(&page, Format::Png).unwrap();
        assert_eq!(image::load_from_memory(&png).unwrap().color(), image::ColorType::Rgb8);
        assert_eq!(
            decode(&encode(&page, Format::Tiff).unwrap(), Format::Tiff, &Limits::default()).unwrap(),
            page
        );
    }

    #[test]
    fn oversized_images_are_refused_before_decoding() {
        let image = RgbImage::from_pixel(200, 100, Rgb([255, 255, 255]));
        let png = encode(&image, Format::Png).unwrap();
        let small = Limits {
            max_image_pixels: 10_000,
            ..Limits::default()
        };
        assert_eq!(
            decode(&png, Format::Png, &small).err().map(|error| error.code()),
            Some("too_many_pixels")
        );
        assert_eq!(
            decode(&png, Format::Png, &Limits::default()).unwrap().dimensions(),
            (200, 100)
        );
        assert_eq!(
            decode(&png[..40], Format::Png, &Limits::default())
                .err()
                .map(|error| error.code()),
            Some("corrupt")
        );
    }
}
