//! Pages for people: the start page at `/`, and `/docs/errors`, which explains each problem
//! `code` (problem `type` URIs point there).

use axum::response::Html;

use crate::error_codes::ERROR_CODES;

/// The start page, from `frontend/index.html`.
pub async fn get_start_page() -> Html<&'static str> {
    Html(include_str!("../../../frontend/index.html"))
}

/// An HTML page with one anchored entry per error code.
pub async fn get_error_codes() -> Html<String> {
    let mut page = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Obscura error codes</title></head>\
         <body><h1>Obscura error codes</h1><p>Every error answer is <code>application/problem+json</code>; \
         its <code>code</code> is one of these.</p><dl>",
    );
    for entry in ERROR_CODES {
        page.push_str(&format!(
            "<dt id=\"{code}\"><code>{code}</code> ({status}) {title}</dt><dd>{doc}</dd>",
            code = entry.code,
            status = entry.status,
            title = entry.title,
            doc = entry.doc
        ));
    }
    page.push_str("</dl></body></html>");
    Html(page)
}
