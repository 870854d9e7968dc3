//! Tests of image streams decoded to pixels and written back in their encoding.

use image::Rgb;
use image::codecs::jpeg::JpegEncoder;
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
