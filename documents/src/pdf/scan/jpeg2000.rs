//! JPEG 2000 images, decoded through `hayro` in the colour space their own header names.

use image::RgbImage;

use super::space::Space;
use super::{DocumentError, Encoding, Raster, corrupt};

/// A JPEG 2000 image, in the colour space its own header names; written back as a JPEG
/// (JPEG 2000 is not written).
pub(super) fn jpx(data: &[u8], width: u32, height: u32) -> Result<Raster, DocumentError> {
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
