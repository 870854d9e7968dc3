//! What a file is, recognized by its first bytes and its name, and the formats an output is
//! exported in.

use serde::Serialize;

use crate::DocumentError;

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Text,
    Markdown,
    Csv,
    Json,
    Html,
    Docx,
    Pdf,
    Png,
    Jpeg,
    Tiff,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Markdown => "Markdown",
            Format::Csv => "CSV",
            Format::Json => "JSON",
            Format::Html => "HTML",
            Format::Docx => "DOCX",
            Format::Pdf => "PDF",
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
            Format::Tiff => "TIFF",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Text => "txt",
            Format::Markdown => "md",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Html => "html",
            Format::Docx => "docx",
            Format::Pdf => "pdf",
            Format::Png => "png",
            Format::Jpeg => "jpg",
            Format::Tiff => "tiff",
        }
    }

    /// The format a file name's extension promises, if it names one.
    pub fn from_extension(file_name: &str) -> Option<Format> {
        let extension = file_name.rsplit_once('.')?.1.to_ascii_lowercase();
        Some(match extension.as_str() {
            "txt" | "text" | "log" => Format::Text,
            "md" | "markdown" => Format::Markdown,
            "csv" | "tsv" => Format::Csv,
            "json" => Format::Json,
            "html" | "htm" | "xhtml" => Format::Html,
            "docx" => Format::Docx,
            "pdf" => Format::Pdf,
            "png" => Format::Png,
            "jpg" | "jpeg" => Format::Jpeg,
            "tif" | "tiff" => Format::Tiff,
            _ => return None,
        })
    }

    pub fn is_text(self) -> bool {
        matches!(
            self,
            Format::Text | Format::Markdown | Format::Csv | Format::Json | Format::Html
        )
    }
}

/// The format of an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    /// The input's own format.
    Original,
    Pdf,
    Docx,
    /// The anonymized text alone.
    Txt,
    /// The anonymized text, with the entities and their aliases (never the originals).
    Json,
    /// A table of the entities.
    Csv,
}

impl ExportFormat {
    pub fn parse(name: &str) -> Option<ExportFormat> {
        Some(match name.to_ascii_lowercase().as_str() {
            "original" => ExportFormat::Original,
            "pdf" => ExportFormat::Pdf,
            "docx" => ExportFormat::Docx,
            "txt" | "text" => ExportFormat::Txt,
            "json" => ExportFormat::Json,
            "csv" => ExportFormat::Csv,
            _ => return None,
        })
    }
}

/// Recognizes a file by its first bytes, and checks them against the name's extension.
pub fn sniff(bytes: &[u8], file_name: Option<&str>) -> Result<Format, DocumentError> {
    let claimed = file_name.and_then(Format::from_extension);
    let magic = if bytes.starts_with(b"%PDF-") {
        Some(Format::Pdf)
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some(Format::Docx)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(Format::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(Format::Jpeg)
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some(Format::Tiff)
    } else if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An OLE compound file: a password-protected Office file, or a legacy .doc.
        return match claimed {
            Some(Format::Docx) => Err(DocumentError::Encrypted),
            _ => Err(DocumentError::Unsupported(
                "legacy Office files (.doc, .xls) are not read; save it as .docx".into(),
            )),
        };
    } else {
        None
    };
    match (claimed, magic) {
        (Some(claimed), Some(found)) if claimed != found => Err(DocumentError::Mislabeled {
            expected: claimed.name(),
            found: format!("a {} file", found.name()),
        }),
        (Some(claimed), None) if !claimed.is_text() => Err(DocumentError::Mislabeled {
            expected: claimed.name(),
            found: "not one (its first bytes do not match)".into(),
        }),
        (_, Some(found)) => Ok(found),
        (Some(claimed), None) => Ok(claimed),
        (None, None) => Ok(Format::Text),
    }
}
