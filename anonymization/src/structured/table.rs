//! CSV: column-aware; header names are hints, the header row and the delimiter are kept,
//! and rows keep their number of fields.

use super::json::{JsonOptions, Walker};
use super::{StructuredError, StructuredOutput};
use crate::given::Finder;
use crate::{Policy, Scope};

/// Options of CSV anonymization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvOptions {
    pub delimiter: u8,
    /// Whether the first row names the columns.
    pub has_header: bool,
    /// Columns (by header name) left alone.
    pub exclude_columns: Vec<String>,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions {
            delimiter: b',',
            has_header: true,
            exclude_columns: Vec::new(),
        }
    }
}

/// A CSV that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("CSV row {row}: {message}")]
pub struct CsvError {
    pub row: u64,
    pub message: String,
}

/// Anonymizes a CSV document cell by cell, with header names as hints; replacement paths
/// are `row[column]` (1-based rows counting the header).
pub fn anonymize_csv(
    text: &str,
    finder: &Finder<'_>,
    policy: &Policy,
    scope: &mut Scope<'_>,
    options: &CsvOptions,
) -> Result<StructuredOutput<String>, StructuredError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(options.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut writer = csv::WriterBuilder::new()
        .delimiter(options.delimiter)
        .flexible(true)
        .from_writer(Vec::with_capacity(text.len()));
    let json_options = JsonOptions::default();
    let mut walker = Walker {
        finder,
        policy,
        scope,
        options: &json_options,
        include: Vec::new(),
        exclude: Vec::new(),
        strings: 0,
        replacements: Vec::new(),
        skipped: Vec::new(),
        found: None,
        prepared: None,
        propagation: None,
    };
    let mut headers: Vec<String> = Vec::new();
    for (index, record) in reader.records().enumerate() {
        let record = record.map_err(|error| {
            StructuredError::Csv(CsvError {
                row: error.position().map_or(index as u64 + 1, |position| position.line()),
                message: error.to_string(),
            })
        })?;
        let row = index + 1;
        if row == 1 && options.has_header {
            headers = record.iter().map(str::to_owned).collect();
            writer
                .write_record(&record)
                .map_err(|error| csv_write_error(row, &error))?;
            continue;
        }
        let mut out = Vec::with_capacity(record.len());
        for (column, cell) in record.iter().enumerate() {
            let name = headers.get(column).cloned().unwrap_or_else(|| column.to_string());
            if options.exclude_columns.iter().any(|excluded| excluded == &name) {
                out.push(cell.to_owned());
                continue;
            }
            let path = vec![row.to_string(), name.clone()];
            out.push(walker.string(cell, &path, Some(&name))?);
        }
        writer
            .write_record(&out)
            .map_err(|error| csv_write_error(row, &error))?;
    }
    let bytes = writer.into_inner().map_err(|error| {
        StructuredError::Csv(CsvError {
            row: 0,
            message: error.to_string(),
        })
    })?;
    let mut output = String::from_utf8(bytes).map_err(|error| {
        StructuredError::Csv(CsvError {
            row: 0,
            message: error.to_string(),
        })
    })?;
    // The writer ends every row with a newline; keep the input's ending.
    if !text.ends_with('\n') && output.ends_with('\n') {
        output.pop();
    }
    Ok(StructuredOutput {
        content: output,
        replacements: walker.replacements,
        skipped: walker.skipped,
    })
}

fn csv_write_error(row: usize, error: &csv::Error) -> StructuredError {
    StructuredError::Csv(CsvError {
        row: row as u64,
        message: error.to_string(),
    })
}
