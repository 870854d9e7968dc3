//! The table is checked against the sources: every code an error type or a handler can
//! return is in it, and every code in it is returned somewhere.

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
    let root = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("..");
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
            } else if name.ends_with(".rs")
                // The table, and these tests with their examples of each way a code is given.
                && name != "error_codes.rs"
                && !path.ends_with("error_codes/tests.rs")
            {
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
                && literal
                    .chars()
                    .all(|character| character.is_ascii_lowercase() || character.is_ascii_digit() || character == '_')
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
