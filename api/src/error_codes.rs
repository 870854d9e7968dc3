//! The one table of problem codes: every `code` an answer or a document's error state can
//! carry, with its kind, HTTP status, title and meaning. The status mapping, the
//! `/docs/errors` page and the OpenAPI schema of `Problem.code` are all made from it, and a
//! test checks that every code the sources can return is here.

use obscura_detection::ErrorKind;

/// One problem code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode {
    /// Stable snake_case identifier; never changes once published.
    pub code: &'static str,
    /// The kind of failure; `None` for codes of the HTTP layer (405, 415) that no domain
    /// error has.
    pub kind: Option<ErrorKind>,
    pub status: u16,
    /// A short summary of the problem type, the `title` of its answers.
    pub title: &'static str,
    /// What it means and what to do, for `/docs/errors`.
    pub doc: &'static str,
}

const fn entry(
    code: &'static str,
    kind: Option<ErrorKind>,
    status: u16,
    title: &'static str,
    doc: &'static str,
) -> ErrorCode {
    ErrorCode {
        code,
        kind,
        status,
        title,
        doc,
    }
}

use ErrorKind::{
    Conflict, Forbidden, Internal, Invalid, NotFound, TooLarge, Unauthenticated, Unavailable, Unsupported,
};

/// Every problem code, grouped by where it comes from.
pub const ERROR_CODES: &[ErrorCode] = &[
    // The HTTP layer: bodies, queries, paths, routes.
    entry(
        "bad_request",
        Some(Invalid),
        400,
        "Bad request",
        "The request is malformed.",
    ),
    entry(
        "invalid_json",
        Some(Invalid),
        400,
        "Invalid JSON",
        "The body is not valid JSON.",
    ),
    entry(
        "invalid_utf8",
        Some(Invalid),
        400,
        "Invalid UTF-8",
        "The body is not UTF-8 text.",
    ),
    entry(
        "invalid_body",
        Some(Invalid),
        400,
        "Invalid body",
        "The body is JSON but does not match the operation's schema; `errors` names each field.",
    ),
    entry(
        "unreadable_body",
        Some(Invalid),
        400,
        "Unreadable body",
        "The body could not be read.",
    ),
    entry(
        "invalid_query",
        Some(Invalid),
        400,
        "Invalid query",
        "A query parameter is missing or malformed.",
    ),
    entry(
        "invalid_path",
        Some(Invalid),
        400,
        "Invalid path",
        "A path parameter is malformed (an id that is not a UUID), or a JSON key path of `include`/`exclude` is not valid.",
    ),
    entry(
        "unsupported_media_type",
        None,
        415,
        "Unsupported media type",
        "The Content-Type is not accepted by this operation.",
    ),
    entry(
        "unprocessable_entity",
        Some(Unsupported),
        422,
        "Unprocessable request",
        "The request is well-formed but asks for something this server cannot do.",
    ),
    entry(
        "unauthenticated",
        Some(Unauthenticated),
        401,
        "Unauthenticated",
        "No API key was sent, or it is wrong or revoked.",
    ),
    entry(
        "forbidden",
        Some(Forbidden),
        403,
        "Forbidden",
        "The API key's role may not perform this operation.",
    ),
    entry(
        "route_not_found",
        Some(NotFound),
        404,
        "No such route",
        "No route matches the path.",
    ),
    entry(
        "method_not_allowed",
        None,
        405,
        "Method not allowed",
        "The path exists but not with this method.",
    ),
    entry(
        "request_timeout",
        Some(Unavailable),
        503,
        "Request timed out",
        "The request took longer than server.request_timeout_secs.",
    ),
    entry(
        "payload_too_large",
        Some(TooLarge),
        413,
        "Payload too large",
        "The body is larger than the configured limit.",
    ),
    entry(
        "http_error",
        None,
        400,
        "HTTP error",
        "An HTTP error without a more specific code; its status is the answer's.",
    ),
    entry(
        "service_unavailable",
        Some(Unavailable),
        503,
        "Service unavailable",
        "A dependency of the request is unavailable; retry later.",
    ),
    entry(
        "internal_error",
        Some(Internal),
        500,
        "Internal error",
        "A fault of the server; quote the request id when reporting it.",
    ),
    // Keys, jobs, storage and the database.
    entry(
        "api_key_not_found",
        Some(NotFound),
        404,
        "API key not found",
        "No active API key has this id: it does not exist or is already revoked.",
    ),
    entry(
        "job_not_found",
        Some(NotFound),
        404,
        "Job not found",
        "No job with this id exists for the caller's tenant.",
    ),
    entry(
        "blob_not_found",
        Some(NotFound),
        404,
        "Blob not found",
        "The stored object does not exist.",
    ),
    entry(
        "invalid_blob_key",
        Some(Invalid),
        400,
        "Invalid blob key",
        "A storage key is not valid.",
    ),
    entry(
        "storage_operation_unsupported",
        Some(Unsupported),
        422,
        "Storage operation unsupported",
        "The configured blob store cannot do this.",
    ),
    entry(
        "storage_unavailable",
        Some(Unavailable),
        503,
        "Storage unavailable",
        "The blob store could not be reached; retry later.",
    ),
    entry(
        "storage_misconfigured",
        Some(Internal),
        500,
        "Storage misconfigured",
        "The blob store configuration is invalid.",
    ),
    entry(
        "database_unavailable",
        Some(Unavailable),
        503,
        "Database unavailable",
        "The database could not be reached; retry later.",
    ),
    entry(
        "database_error",
        Some(Internal),
        500,
        "Database error",
        "The database refused an operation.",
    ),
    // Projects and documents.
    entry(
        "project_not_found",
        Some(NotFound),
        404,
        "Project not found",
        "The project does not exist in your tenant.",
    ),
    entry(
        "project_name_taken",
        Some(Conflict),
        409,
        "Project name taken",
        "Another project of your tenant has this name; names are unique per tenant.",
    ),
    entry(
        "document_not_found",
        Some(NotFound),
        404,
        "Document not found",
        "The document does not exist in your tenant, or its upload has not completed.",
    ),
    entry(
        "upload_too_large",
        Some(TooLarge),
        413,
        "Upload too large",
        "The file is over server.max_upload_bytes (10 MiB by default); use a presigned upload for larger files.",
    ),
    entry(
        "empty_file",
        Some(Invalid),
        400,
        "Empty file",
        "The uploaded file has no bytes.",
    ),
    entry(
        "duplicate_document",
        Some(Conflict),
        409,
        "Duplicate document",
        "The project holds a document with the same content already; the detail names it.",
    ),
    entry(
        "invalid_filename",
        Some(Invalid),
        400,
        "Invalid file name",
        "The file name is empty, holds control characters or is longer than 255 characters.",
    ),
    entry(
        "upload_interrupted",
        Some(Invalid),
        400,
        "Upload interrupted",
        "The request body broke off before the file was whole; nothing was stored.",
    ),
    // Document jobs, review and exports.
    entry(
        "document_busy",
        Some(Conflict),
        409,
        "Document busy",
        "The document is being processed (its state is PROCESSING); wait for its job to end, or cancel it.",
    ),
    entry(
        "not_detected",
        Some(Unsupported),
        422,
        "Not detected",
        "The document has not been through detection; POST /api/v1/documents/{id}/detect first.",
    ),
    entry(
        "not_anonymized",
        Some(Unsupported),
        422,
        "Not anonymized",
        "The document has not been anonymized; POST /api/v1/documents/{id}/anonymize first.",
    ),
    entry(
        "original_deleted",
        Some(Conflict),
        409,
        "Original deleted",
        "The project does not keep originals, and this document's original was deleted once it was anonymized and its leak check passed; it cannot be detected or anonymized again.",
    ),
    entry(
        "leak_check_failed",
        Some(Conflict),
        409,
        "Leak check failed",
        "The output of this document still holds an original value; review and anonymize it again. An admin may export it anyway with allow_leaks=true, which is audited.",
    ),
    entry(
        "glossary_contended",
        Some(Unavailable),
        503,
        "Glossary contended",
        "Other anonymizations of the project kept changing its glossary; the job is retried.",
    ),
    entry(
        "invalid_review_item",
        Some(Invalid),
        400,
        "Invalid review item",
        "A review item cannot apply; errors[].loc names it (body.items[i]) and nothing of the batch was kept.",
    ),
    entry(
        "entity_not_found",
        Some(NotFound),
        404,
        "Entity not found",
        "A review item names an entity that is not one of this document's; errors[].loc names the item.",
    ),
    entry(
        "too_many_items",
        Some(TooLarge),
        413,
        "Too many items",
        "A review holds at most 1000 items; send the rest in another request.",
    ),
    entry(
        "upload_url_invalid",
        Some(Forbidden),
        403,
        "Upload URL invalid",
        "The upload URL's signature does not match; use the URL POST /api/v1/uploads answered, unchanged.",
    ),
    entry(
        "upload_expired",
        Some(NotFound),
        404,
        "Upload expired",
        "The upload URL expired (server.presigned_upload_ttl_secs) and the announced upload was removed; announce the file again.",
    ),
    entry(
        "upload_already_received",
        Some(Conflict),
        409,
        "Upload already received",
        "The API's upload URL takes one PUT; complete the upload, or if its check fails the URL takes the file again.",
    ),
    entry(
        "upload_missing",
        Some(Invalid),
        400,
        "Upload missing",
        "Nothing arrived at the upload URL; send the file there before completing the upload.",
    ),
    entry(
        "upload_mismatch",
        Some(Invalid),
        400,
        "Upload mismatch",
        "What arrived differs from what was announced (its size or SHA-256); it was removed, and the URL takes the file again until it expires.",
    ),
    entry(
        "glossary_entry_not_found",
        Some(NotFound),
        404,
        "Glossary entry not found",
        "The glossary entry is not in this project's glossary.",
    ),
    entry(
        "invalid_glossary_change",
        Some(Invalid),
        400,
        "Invalid glossary change",
        "The merge or split cannot be made: entries of different categories, none to merge, or an entry that has an alias of its own already.",
    ),
    entry(
        "job_finished",
        Some(Conflict),
        409,
        "Job finished",
        "The job ended already (succeeded, failed or cancelled); there is nothing to cancel.",
    ),
    entry(
        "cancelled",
        Some(Conflict),
        409,
        "Cancelled",
        "A document's state: its job was cancelled. Detect or anonymize it again.",
    ),
    // Sanitization sessions.
    entry(
        "session_not_found",
        Some(NotFound),
        404,
        "Session not found",
        "The sanitization session does not exist or has expired.",
    ),
    entry(
        "session_conflict",
        Some(Conflict),
        409,
        "Session conflict",
        "Other requests kept changing the session while this one ran; send it again.",
    ),
    entry(
        "session_sealing_failed",
        Some(Internal),
        500,
        "Session sealing failed",
        "The session's state could not be sealed or opened with the server's keys.",
    ),
    entry(
        "session_state_invalid",
        Some(Internal),
        500,
        "Session state invalid",
        "A stored session could not be read.",
    ),
    // Detection.
    entry(
        "text_too_large",
        Some(TooLarge),
        413,
        "Text too large",
        "The text is larger than one detection call accepts (64 MiB); send it in pieces.",
    ),
    entry(
        "unknown_entity",
        Some(Invalid),
        400,
        "Unknown entity type",
        "An entity type is neither a type of the taxonomy nor one of its aliases (see GET /api/v1/entities).",
    ),
    entry(
        "score_out_of_range",
        Some(Invalid),
        400,
        "Score out of range",
        "A score or threshold is not between 0 and 1.",
    ),
    entry(
        "list_too_long",
        Some(TooLarge),
        413,
        "List too long",
        "An allow or deny list has more than 10,000 entries.",
    ),
    entry(
        "invalid_language",
        Some(Invalid),
        400,
        "Invalid language",
        "The language is not an ISO 639-1 code such as `en` or `es`.",
    ),
    entry(
        "unknown_refinement",
        Some(Invalid),
        400,
        "Unknown refinement step",
        "A profile switches off a span refinement step that does not exist; the error lists the steps.",
    ),
    entry(
        "recognizer_failed",
        Some(Unavailable),
        503,
        "Recognizer failed",
        "A recognizer (a model's inference) failed, so nothing was reported: a partial answer would look complete. `detail` names the recognizer; `on_recognizer_error: skip` accepts an answer without it, which names it in `skipped_recognizers`.",
    ),
    entry(
        "unknown_pack",
        Some(Invalid),
        400,
        "Unknown pack or profile",
        "A pattern pack or profile does not exist.",
    ),
    entry(
        "pack_unreadable",
        Some(Internal),
        500,
        "Pack unreadable",
        "A configured pattern pack file could not be read.",
    ),
    entry(
        "invalid_pack",
        Some(Invalid),
        400,
        "Invalid pack",
        "A pattern pack is not valid: its error names the file and field.",
    ),
    entry(
        "duplicate_pack",
        Some(Conflict),
        409,
        "Duplicate pack",
        "Two pattern packs have the same name.",
    ),
    // NER models.
    entry(
        "model_not_found",
        Some(NotFound),
        404,
        "Model not found",
        "No model with this id is installed in models.dir.",
    ),
    entry(
        "model_architecture_unsupported",
        Some(Unsupported),
        422,
        "Model architecture unsupported",
        "The model is not a BERT, RoBERTa, XLM-R or DeBERTa-v2 token classifier.",
    ),
    entry(
        "model_config_invalid",
        Some(Invalid),
        400,
        "Model config invalid",
        "The model's config.json is not valid.",
    ),
    entry(
        "model_files_invalid",
        Some(Invalid),
        400,
        "Model files invalid",
        "The model directory is incomplete or unreadable.",
    ),
    entry(
        "model_tokenizer_invalid",
        Some(Invalid),
        400,
        "Model tokenizer invalid",
        "The model's tokenizer.json is not valid.",
    ),
    entry(
        "model_weights_invalid",
        Some(Invalid),
        400,
        "Model weights invalid",
        "The model's weights are missing, of the wrong shape, or not all used.",
    ),
    entry(
        "model_label_unmapped",
        Some(Invalid),
        400,
        "Model label unmapped",
        "A label of the model has no entity type in obscura-model.json.",
    ),
    entry(
        "model_inference_failed",
        Some(Internal),
        500,
        "Model inference failed",
        "The model failed on an input.",
    ),
    // Anonymization.
    entry(
        "unknown_strategy",
        Some(Invalid),
        400,
        "Unknown strategy",
        "The anonymization strategy is not one of replace, hash, mask, surrogate, remove, tag, encrypt, generalize.",
    ),
    entry(
        "span_out_of_range",
        Some(Invalid),
        400,
        "Span out of range",
        "A detection's offsets are outside the text.",
    ),
    entry(
        "key_not_configured",
        Some(Internal),
        500,
        "Key not configured",
        "The operator needs a key (encryption) that the server has not configured.",
    ),
    entry(
        "key_invalid",
        Some(Invalid),
        400,
        "Key invalid",
        "A key given for an operator is not valid.",
    ),
    entry(
        "not_decryptable",
        Some(Invalid),
        400,
        "Not decryptable",
        "A value is not one this tenant's keys encrypted, or it was altered.",
    ),
    entry(
        "vault_error",
        Some(Internal),
        500,
        "Vault error",
        "The alias vault could not be read or written.",
    ),
    entry(
        "json_too_deep",
        Some(TooLarge),
        413,
        "JSON too deep",
        "The JSON value nests deeper than security.json_max_depth.",
    ),
    entry(
        "json_too_many_strings",
        Some(TooLarge),
        413,
        "JSON has too many strings",
        "The JSON value holds more strings than one request scans (100,000).",
    ),
    entry(
        "invalid_csv",
        Some(Invalid),
        400,
        "Invalid CSV",
        "The CSV document cannot be read; the error names the row.",
    ),
    // Documents: the error states of a file.
    entry(
        "too_large",
        Some(TooLarge),
        413,
        "File too large",
        "The file is larger than the limit.",
    ),
    entry(
        "encrypted",
        Some(Invalid),
        400,
        "File encrypted",
        "The file is encrypted or password-protected; save it without a password first.",
    ),
    entry(
        "corrupt",
        Some(Invalid),
        400,
        "File damaged",
        "The file is damaged or truncated.",
    ),
    entry(
        "mislabeled",
        Some(Invalid),
        400,
        "File mislabeled",
        "The file's name says one format and its bytes another.",
    ),
    entry(
        "too_many_pages",
        Some(TooLarge),
        413,
        "Too many pages",
        "The document has more pages than the limit.",
    ),
    entry(
        "too_many_pixels",
        Some(TooLarge),
        413,
        "Too many pixels",
        "An image has more pixels than the limit.",
    ),
    entry(
        "too_expanded",
        Some(TooLarge),
        413,
        "File expands too much",
        "The file expands too much to be read safely (a compression bomb).",
    ),
    entry(
        "unsupported",
        Some(Unsupported),
        422,
        "Format unsupported",
        "The file's format or a feature of it is not supported.",
    ),
    entry(
        "timed_out",
        Some(Unavailable),
        503,
        "Timed out",
        "The document took longer than its time limit.",
    ),
    entry(
        "not_text",
        Some(Invalid),
        400,
        "Not text",
        "The file is not text in an encoding that can be recognized.",
    ),
    entry(
        "unreadable",
        Some(Invalid),
        400,
        "File unreadable",
        "The file could not be read from where it was given.",
    ),
    entry(
        "parser_failed",
        Some(Internal),
        500,
        "Parser failed",
        "Reading the file hit a fault of ours; the other files of a batch go on. Please report it.",
    ),
];

/// The entry of `code`.
pub fn lookup(code: &str) -> Option<&'static ErrorCode> {
    ERROR_CODES.iter().find(|entry| entry.code == code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::status_for;

    #[test]
    fn codes_are_unique_snake_case_and_their_status_is_their_kind_s() {
        let mut seen = std::collections::BTreeSet::new();
        for entry in ERROR_CODES {
            assert!(seen.insert(entry.code), "{} is listed twice", entry.code);
            assert!(
                entry
                    .code
                    .chars()
                    .all(|character| character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_'),
                "{}",
                entry.code
            );
            if let Some(kind) = entry.kind {
                assert_eq!(status_for(kind).as_u16(), entry.status, "{}", entry.code);
            }
            assert!(!entry.title.is_empty() && entry.doc.ends_with('.'), "{}", entry.code);
        }
    }

    /// Every code the workspace's sources can return, read from them: the string literals
    /// of each `fn code` of an error type, of `code_for_status`, and the codes given to
    /// `ApiError::new` and `ApiError::invalid_field`.
    fn codes_in_sources() -> std::collections::BTreeMap<String, String> {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut found = std::collections::BTreeMap::new();
        let mut pending = vec![root.clone()];
        while let Some(directory) = pending.pop() {
            for entry in std::fs::read_dir(&directory).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                if path.is_dir() {
                    if !name.starts_with('.')
                        && !["target", "fuzz", "frontend", "datasets", "tests"].contains(&name.as_str())
                    {
                        pending.push(path);
                    }
                } else if name.ends_with(".rs") && name != "error_codes.rs" {
                    let source = std::fs::read_to_string(&path).unwrap();
                    let file = path.strip_prefix(&root).unwrap().display().to_string();
                    // Fields named `code` are problem codes in the API crate only (elsewhere
                    // they are such things as validation issues).
                    for code in codes_in(&source, file.starts_with("api")) {
                        found.entry(code).or_insert_with(|| file.clone());
                    }
                }
            }
        }
        found
    }

    fn codes_in(source: &str, code_fields: bool) -> Vec<String> {
        let mut codes = Vec::new();
        // The `code` of each error type (other types' codes, such as validation issues,
        // are not problem codes), and the status fallback.
        let opening = "fn code(&self) -> &'static str {";
        let mut bodies = Vec::new();
        for (start, _) in source.match_indices("ErrorClass for ") {
            if let Some(offset) = source[start..].find(opening) {
                bodies.push(start + offset + opening.len());
            }
        }
        let fallback = "fn code_for_status(status: StatusCode) -> &'static str {";
        bodies.extend(source.match_indices(fallback).map(|(start, _)| start + fallback.len()));
        for start in bodies {
            let body = &source[start..];
            let mut depth = 1;
            let end = body
                .char_indices()
                .find(|(_, character)| {
                    match character {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map_or(body.len(), |(index, _)| index);
            codes.extend(literals(&body[..end]));
        }
        let calls: &[&str] = if code_fields {
            &["ApiError::new(", "ApiError::invalid_field(", "code: \""]
        } else {
            &["ApiError::new(", "ApiError::invalid_field("]
        };
        for call in calls.iter().copied() {
            for (start, _) in source.match_indices(call) {
                let rest = source[start + call.len()..].trim_start();
                // `new(status, "code", ...)` names the code second, `invalid_field("code", ...)` first.
                let rest = if call == "ApiError::new(" {
                    // The first argument ends at the first comma outside parentheses.
                    let mut depth = 0_i32;
                    let comma = rest.char_indices().find(|(_, character)| {
                        match character {
                            '(' => depth += 1,
                            ')' => depth -= 1,
                            _ => {}
                        }
                        depth < 0 || (depth == 0 && *character == ',')
                    });
                    match comma {
                        Some((at, ',')) => rest[at + 1..].trim_start(),
                        _ => continue,
                    }
                } else if call == "code: \"" {
                    &source[start + call.len() - 1..]
                } else {
                    rest
                };
                if let Some(literal) = literals(rest).into_iter().next().filter(|_| rest.starts_with('"')) {
                    codes.push(literal);
                }
            }
        }
        codes
    }

    /// The snake_case string literals of `text`.
    fn literals(text: &str) -> Vec<String> {
        text.split('"')
            .skip(1)
            .step_by(2)
            .filter(|literal| {
                !literal.is_empty()
                    && literal.chars().all(|character| {
                        character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_'
                    })
            })
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_code_the_sources_can_return_is_in_the_table() {
        let found = codes_in_sources();
        assert!(found.len() > 40, "the scan found only {found:?}");
        let missing: Vec<String> = found
            .iter()
            .filter(|(code, _)| lookup(code).is_none())
            .map(|(code, file)| format!("{code} ({file})"))
            .collect();
        assert!(missing.is_empty(), "not in ERROR_CODES: {missing:?}");
        let unused: Vec<&str> = ERROR_CODES
            .iter()
            .map(|entry| entry.code)
            .filter(|code| !found.contains_key(*code))
            .collect();
        assert!(unused.is_empty(), "in ERROR_CODES but returned nowhere: {unused:?}");
    }

    #[test]
    fn the_scan_reads_each_way_a_code_is_given() {
        let source = r#"
            impl ErrorClass for Mine {
                fn code(&self) -> &'static str { match self { A => "first_code", B => if x { "second_code" } else { "third" } } }
            }
            impl Issue { fn code(&self) -> &'static str { "not_a_problem_code" } }
            fn other() { ApiError::new(StatusCode::BAD_REQUEST, "fourth_code", "Detail text."); }
            fn more() { ApiError::invalid_field("fifth_code", "body.x", "must be"); ApiError::new(status, code, "x"); }
            fn last() { ApiError::new(rejection.status(), "sixth_code", "The body."); }
        "#;
        assert_eq!(
            codes_in(source, true),
            [
                "first_code",
                "second_code",
                "third",
                "fourth_code",
                "sixth_code",
                "fifth_code"
            ]
        );
    }
}
