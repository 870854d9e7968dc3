//! People in generated contracts and letters, in Spanish and English, as text, Word, PDF
//! and a scanned page: after `anonymize-file`, no word of any name is left in what a reader
//! sees, and each person has one alias wherever and however they are named.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::binary::bare_command;
use crate::support::required_env;

/// Fixed, so that a failure can be looked at again; the names change with it, not the test.
const SEED: &str = "20261206";
/// Documents of each kind (contract, letter) and language.
const COUNT: &str = "3";

fn generate(out: &Path) -> Vec<Value> {
    let repo = std::path::PathBuf::from(
        std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| env!("CARGO_MANIFEST_DIR").into()),
    )
    .join("..");
    let status = Command::new(required_env("OBSCURA_TEST_PYTHON"))
        .arg(repo.join("documents/tests/fixtures/people/make_people.py"))
        .args([SEED, COUNT])
        .arg(repo.join("anonymization/surrogates"))
        .arg(out)
        .status()
        .unwrap();
    assert!(status.success());
    serde_json::from_slice::<Value>(&std::fs::read(out.join("manifest.json")).unwrap())
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// What a reader of an output file sees, as text.
fn read_back(path: &Path) -> String {
    let run = |command: &mut Command| {
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{command:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    match path.extension().and_then(|extension| extension.to_str()) {
        Some("txt") => std::fs::read_to_string(path).unwrap(),
        Some("pdf") => run(Command::new("pdftotext").arg("-layout").arg(path).arg("-")),
        Some("png") => run(Command::new("tesseract").arg(path).args(["-", "-l", "spa+eng"])),
        Some("docx") => run(Command::new(required_env("OBSCURA_TEST_PYTHON"))
            .args([
                "-c",
                "import docx, sys; print('\\n'.join(p.text for p in docx.Document(sys.argv[1]).paragraphs))",
            ])
            .arg(path)),
        other => panic!("unexpected output {other:?}"),
    }
}

/// Folded for comparison: lower case, without accents.
fn fold(text: &str) -> String {
    text.to_lowercase()
        .chars()
        .map(|character| match character {
            'á' | 'à' | 'ä' => 'a',
            'é' | 'è' | 'ë' => 'e',
            'í' | 'ì' | 'ï' => 'i',
            'ó' | 'ò' | 'ö' => 'o',
            'ú' | 'ù' | 'ü' => 'u',
            other => other,
        })
        .collect()
}

fn has_word(text: &str, word: &str) -> bool {
    let (text, word) = (fold(text), fold(word));
    text.match_indices(&word).any(|(start, _)| {
        let before = text[..start].chars().next_back();
        let after = text[start + word.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// The person aliases of a text, in order (`PERSONA-001`, `PERSON-002`).
fn aliases_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (start, _) in text.match_indices("PERSON") {
        let rest = &text[start..];
        let label = if rest.starts_with("PERSONA-") {
            "PERSONA-"
        } else {
            "PERSON-"
        };
        let digits: String = rest[label.len().min(rest.len())..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        if rest.starts_with(label) && !digits.is_empty() {
            found.push(format!("{label}{digits}"));
        }
    }
    found
}

#[test]
fn every_person_is_replaced_whole_with_one_alias_in_every_format() {
    let directory = tempfile::tempdir().unwrap();
    let input = directory.path().join("in");
    let manifest = generate(&input);
    let mut failures = Vec::new();
    for language in ["es", "en"] {
        let out = directory.path().join(format!("out-{language}"));
        let report_path = directory.path().join(format!("report-{language}.json"));
        let run = bare_command(directory.path())
            .env("OBSCURA__MODELS__DIR", required_env("OBSCURA_TEST_MODELS_DIR"))
            .env("OMP_THREAD_LIMIT", "1")
            .args([
                "anonymize-file",
                "--language",
                language,
                "--level",
                "INTERMEDIATE",
                "--out",
            ])
            .arg(&out)
            .arg("--report")
            .arg(&report_path)
            .arg(input.join(language))
            .output()
            .unwrap();
        let report: Value = serde_json::from_slice(&std::fs::read(&report_path).unwrap()).unwrap();
        if !run.status.success() {
            failures.push(format!("{language}: {}", String::from_utf8_lossy(&run.stderr)));
        }
        // The aliases each file's report gives its people, for the scans, whose output has
        // no text in their place.
        let reported: BTreeMap<String, Vec<String>> = report
            .as_array()
            .unwrap()
            .iter()
            .map(|file| {
                let name = Path::new(file["input"].as_str().unwrap())
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let mut aliases: Vec<String> = file["result"]["entities"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|entity| entity["entity_type"] == "PERSON")
                    .map(|entity| entity["alias"].as_str().unwrap().to_owned())
                    .collect();
                aliases.sort();
                aliases.dedup();
                (name, aliases)
            })
            .collect();
        for document in manifest.iter().filter(|document| document["language"] == language) {
            let name = document["name"].as_str().unwrap();
            let people: Vec<Vec<String>> = serde_json::from_value(document["people"].clone()).unwrap();
            let order: Vec<usize> = serde_json::from_value(document["order"].clone()).unwrap();
            let mut expected_aliases: Option<Vec<String>> = None;
            for extension in ["txt", "docx", "pdf", "png"] {
                let file = format!("{name}.{extension}");
                let path = out.join(&file);
                if !path.exists() {
                    failures.push(format!("{language}/{file}: not written"));
                    continue;
                }
                let text = read_back(&path);
                for word in people.iter().flatten() {
                    if has_word(&text, word) {
                        failures.push(format!("{language}/{file}: {word:?} survives"));
                    }
                }
                if extension == "png" {
                    // A burnt scan has no text in a person's place: its report must give each
                    // person the alias of the text file (OCR may add a false person, such as
                    // "lam" for "I am", which costs a word, not a name).
                    let seen = reported.get(&file).cloned().unwrap_or_default();
                    let wanted = expected_aliases.clone().unwrap_or_default();
                    let missing: Vec<&String> = wanted.iter().filter(|alias| !seen.contains(alias)).collect();
                    if !missing.is_empty() {
                        failures.push(format!(
                            "{language}/{file}: people are {seen:?}, without {missing:?} of the text"
                        ));
                    }
                    continue;
                }
                let aliases = aliases_in(&text);
                if aliases.len() != order.len() {
                    failures.push(format!(
                        "{language}/{file}: {} person aliases for {} mentions: {aliases:?}",
                        aliases.len(),
                        order.len()
                    ));
                    continue;
                }
                // One alias per person, and different people, different aliases.
                let mut of_person: BTreeMap<usize, &String> = BTreeMap::new();
                for (person, alias) in order.iter().zip(&aliases) {
                    if *of_person.entry(*person).or_insert(alias) != alias {
                        failures.push(format!(
                            "{language}/{file}: person {person} is {alias} and {}",
                            of_person[person]
                        ));
                    }
                }
                if of_person.len() == 2 && of_person[&0] == of_person[&1] {
                    failures.push(format!("{language}/{file}: both people are {}", of_person[&0]));
                }
                // The same people have the same aliases in every format of a document.
                let per_person: Vec<String> = order.iter().zip(&aliases).map(|(_, alias)| alias.clone()).collect();
                match &expected_aliases {
                    None => expected_aliases = Some(per_person),
                    Some(expected) if *expected != per_person => {
                        failures.push(format!(
                            "{language}/{file}: aliases {per_person:?}, in the text file {expected:?}"
                        ));
                    }
                    Some(_) => {}
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
