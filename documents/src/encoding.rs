//! The text encoding of plain-text documents: a byte-order mark when there is one, UTF-8
//! when the bytes are valid UTF-8, otherwise the legacy encoding `chardetng` finds most
//! likely (Windows-1252 for most Western European text).

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE};

/// A decoded text and the encoding it was read in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub text: String,
    /// The WHATWG name of the encoding (`UTF-8`, `UTF-16LE`, `windows-1252`, …).
    pub encoding: &'static str,
    /// Whether the bytes began with a byte-order mark.
    pub had_bom: bool,
}

/// Bytes that are not text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodingError {
    #[error("the file holds NUL bytes outside UTF-16: it is binary, not text")]
    Binary,
    #[error("the file is not valid {encoding}")]
    Malformed { encoding: &'static str },
}

/// Decodes `bytes` as text.
pub fn decode(bytes: &[u8]) -> Result<Decoded, EncodingError> {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        let (text, malformed) = encoding.decode_without_bom_handling(&bytes[bom_length..]);
        if malformed {
            return Err(EncodingError::Malformed {
                encoding: encoding.name(),
            });
        }
        return Ok(Decoded {
            text: text.into_owned(),
            encoding: encoding.name(),
            had_bom: true,
        });
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        if text.contains('\0') {
            return Err(EncodingError::Binary);
        }
        return Ok(Decoded {
            text: text.to_owned(),
            encoding: UTF_8.name(),
            had_bom: false,
        });
    }
    if let Some(encoding) = utf16_without_bom(bytes) {
        let (text, malformed) = encoding.decode_without_bom_handling(bytes);
        if !malformed {
            return Ok(Decoded {
                text: text.into_owned(),
                encoding: encoding.name(),
                had_bom: false,
            });
        }
    }
    if bytes.contains(&0) {
        return Err(EncodingError::Binary);
    }
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let encoding = detector.guess(None, true);
    let (text, malformed) = encoding.decode_without_bom_handling(bytes);
    if malformed {
        return Err(EncodingError::Malformed {
            encoding: encoding.name(),
        });
    }
    Ok(Decoded {
        text: text.into_owned(),
        encoding: encoding.name(),
        had_bom: false,
    })
}

/// UTF-16 without a byte-order mark, recognized by ASCII text's zero bytes: most odd bytes
/// zero (little-endian) or most even ones.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.len() < 4 || !bytes.len().is_multiple_of(2) {
        return None;
    }
    let pairs = bytes.len() / 2;
    let zero_high = bytes
        .chunks_exact(2)
        .filter(|pair| pair[1] == 0 && pair[0] != 0)
        .count();
    let zero_low = bytes
        .chunks_exact(2)
        .filter(|pair| pair[0] == 0 && pair[1] != 0)
        .count();
    if zero_high * 10 >= pairs * 7 {
        Some(UTF_16LE)
    } else if zero_low * 10 >= pairs * 7 {
        Some(UTF_16BE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_recognized() {
        let plain = decode("Teléfono de José".as_bytes()).unwrap();
        assert_eq!(
            (plain.text.as_str(), plain.encoding, plain.had_bom),
            ("Teléfono de José", "UTF-8", false)
        );

        let with_bom = decode(b"\xEF\xBB\xBFhola").unwrap();
        assert_eq!((with_bom.text.as_str(), with_bom.had_bom), ("hola", true));

        let (latin, _, _) =
            encoding_rs::WINDOWS_1252.encode("El paciente José Pérez Núñez, de Málaga, llamó ayer a las 10.");
        let legacy = decode(&latin).unwrap();
        assert_eq!(legacy.encoding, "windows-1252");
        assert!(legacy.text.contains("José Pérez Núñez"));

        let utf16: Vec<u8> = "Ana López".encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode(&utf16).unwrap().text, "Ana López");
        let mut marked = vec![0xFF, 0xFE];
        marked.extend(&utf16);
        assert_eq!(decode(&marked).unwrap().encoding, "UTF-16LE");

        assert_eq!(
            decode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\xff\xfe\x00"),
            Err(EncodingError::Binary)
        );
    }
}
