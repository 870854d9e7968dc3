//! The ZIP container of a Word document: opened within the limits against expansion, with an
//! encrypted package told apart from a damaged one.

use std::io::Cursor;

use crate::{DocumentError, Limits};

pub(super) fn corrupt(error: zip::result::ZipError) -> DocumentError {
    if let zip::result::ZipError::InvalidPassword = error {
        return DocumentError::Encrypted;
    }
    if let zip::result::ZipError::UnsupportedArchive(message) = &error
        && (message.contains("encrypt") || message.contains("Password"))
    {
        return DocumentError::Encrypted;
    }
    DocumentError::Corrupt(error.to_string())
}

/// Opens the ZIP container, refusing archives that would expand past the limits.
pub(super) fn open_archive<'a>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<zip::ZipArchive<Cursor<&'a [u8]>>, DocumentError> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    if archive.len() > limits.max_zip_entries {
        return Err(DocumentError::ZipBomb(format!(
            "{} entries; at most {} are read",
            archive.len(),
            limits.max_zip_entries
        )));
    }
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let file = archive.by_index_raw(index).map_err(corrupt)?;
        if file.encrypted() {
            return Err(DocumentError::Encrypted);
        }
        total = total.saturating_add(file.size());
        let ratio = file.size() / file.compressed_size().max(1);
        if file.size() > 1 << 20 && ratio > limits.max_zip_ratio {
            return Err(DocumentError::ZipBomb(format!(
                "{} expands {ratio} times; at most {} is read",
                file.name().map_err(corrupt)?,
                limits.max_zip_ratio
            )));
        }
    }
    if total > limits.max_uncompressed_bytes {
        return Err(DocumentError::ZipBomb(format!(
            "{total} bytes uncompressed; at most {} are read",
            limits.max_uncompressed_bytes
        )));
    }
    Ok(archive)
}
