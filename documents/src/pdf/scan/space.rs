//! Colour spaces of image samples: gray, RGB, CMYK, ICC-based and indexed, and a pixel's
//! colour from its components.

use image::Rgb;
use lopdf::Object;

use super::{DocumentError, corrupt, integer};

/// The components of a colour space, and its palette when it is indexed.
pub(super) enum Space {
    Gray,
    Rgb,
    Cmyk,
    Indexed { base: Box<Space>, palette: Vec<u8> },
}

impl Space {
    pub(super) fn components(&self) -> usize {
        match self {
            Space::Gray | Space::Indexed { .. } => 1,
            Space::Rgb => 3,
            Space::Cmyk => 4,
        }
    }

    pub(super) fn read(document: &lopdf::Document, object: &Object) -> Result<Space, DocumentError> {
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
    pub(super) fn rgb(&self, components: &[f32]) -> Rgb<u8> {
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
