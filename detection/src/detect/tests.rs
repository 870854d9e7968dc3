use super::*;

fn detector() -> Detector {
    Detector::with_builtin_packs().unwrap()
}

fn found(text: &str, language: &str) -> Vec<(String, String)> {
    let options = DetectOptions {
        language: Some(language.into()),
        ..DetectOptions::default()
    };
    detector()
        .detect(text, &options)
        .unwrap()
        .detections
        .into_iter()
        .map(|detection| {
            (
                detection.entity_type.to_string(),
                text[detection.byte_start..detection.byte_end].to_owned(),
            )
        })
        .collect()
}

fn has(found: &[(String, String)], entity: &str, value: &str) -> bool {
    found.iter().any(|(kind, text)| kind == entity && text == value)
}

/// The description of a fake model recognizer.
fn model_info(name: &str, entity: &str) -> RecognizerInfo {
    RecognizerInfo {
        name: name.into(),
        kind: RecognizerKind::Ner,
        entities: vec![entity.into()],
        languages: vec!["any".into()],
        description: String::new(),
        settings: BTreeMap::new(),
    }
}

/// A model-like recognizer, sure that every run of seven digits is a national id.
#[derive(Debug)]
struct SureGuesser(RecognizerInfo);

impl Recognizer for SureGuesser {
    fn info(&self) -> &RecognizerInfo {
        &self.0
    }

    fn recognize(
        &self,
        text: &AnalyzedText<'_>,
        _request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Candidate>, RecognizerError> {
        Ok({
            let characters: Vec<char> = text.normalized().chars().collect();
            (0..characters.len().saturating_sub(6))
                .filter(|&start| characters[start..start + 7].iter().all(char::is_ascii_digit))
                .map(|start| Candidate {
                    entity_type: "NATIONAL_ID".into(),
                    start,
                    end: start + 7,
                    score: 0.99,
                    recognizer: "ner/guesser".into(),
                    pattern: None,
                    validator: None,
                    context_words: Vec::new(),
                    base_score: 0.99,
                    only_a_place: false,
                })
                .collect()
        })
    }
}

/// A model-like recognizer that reports e-mail addresses with the sentence's full stop.
#[derive(Debug)]
struct SloppyEmails(RecognizerInfo);

impl Recognizer for SloppyEmails {
    fn info(&self) -> &RecognizerInfo {
        &self.0
    }

    fn recognize(
        &self,
        text: &AnalyzedText<'_>,
        _request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Candidate>, RecognizerError> {
        Ok({
            let characters: Vec<char> = text.normalized().chars().collect();
            let Some(at) = characters.iter().position(|character| *character == '@') else {
                return Ok(Vec::new());
            };
            let start = characters[..at]
                .iter()
                .rposition(|character| *character == ' ')
                .map_or(0, |space| space + 1);
            vec![Candidate {
                entity_type: "EMAIL_ADDRESS".into(),
                start,
                end: characters.len(),
                score: 0.999,
                recognizer: "ner/sloppy".into(),
                pattern: None,
                validator: None,
                context_words: Vec::new(),
                base_score: 0.999,
                only_a_place: false,
            }]
        })
    }
}

/// A model whose inference always fails.
#[derive(Debug)]
struct Broken(RecognizerInfo);

impl Recognizer for Broken {
    fn info(&self) -> &RecognizerInfo {
        &self.0
    }

    fn recognize(
        &self,
        _text: &AnalyzedText<'_>,
        _request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Candidate>, RecognizerError> {
        Err(RecognizerError::new("inference failed: shape mismatch"))
    }
}

#[test]
fn a_failing_recognizer_fails_the_detection_unless_skipping_is_asked_for() {
    let detector = Detector::new(
        &crate::pack::builtin_packs().unwrap(),
        vec![Arc::new(Broken(model_info("ner/broken", "PERSON")))],
    )
    .unwrap();
    let text = "Ana Pérez, ana@example.com";
    let error = detector.detect(text, &DetectOptions::default()).unwrap_err();
    assert_eq!(
        (error.code(), error.kind()),
        ("recognizer_failed", ErrorKind::Unavailable)
    );
    assert!(error.to_string().contains("ner/broken"), "{error}");
    assert!(!error.to_string().contains("Ana"), "{error}");

    let options = DetectOptions {
        on_recognizer_error: OnRecognizerError::Skip,
        ..DetectOptions::default()
    };
    let findings = detector.detect(text, &options).unwrap();
    assert_eq!(findings.detections.len(), 1, "{findings:?}");
    assert_eq!(findings.detections[0].entity_type, "EMAIL_ADDRESS");
    assert_eq!(findings.skipped.len(), 1);
    assert_eq!(findings.skipped[0].recognizer, "ner/broken");

    // A recognizer that does not apply is not run, so it cannot fail the detection.
    let only_emails = DetectOptions {
        entities: Some(vec!["EMAIL_ADDRESS".into()]),
        ..DetectOptions::default()
    };
    assert_eq!(detector.detect(text, &only_emails).unwrap().detections.len(), 1);
}

#[test]
fn a_model_span_gives_way_to_an_exact_span_of_the_same_type() {
    let sloppy = SloppyEmails(model_info("ner/sloppy", "EMAIL_ADDRESS"));
    let detector = Detector::new(&crate::pack::builtin_packs().unwrap(), vec![Arc::new(sloppy)]).unwrap();
    let text = "Write to ana@example.com.";
    let found = detector.detect(text, &DetectOptions::default()).unwrap().detections;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(&text[found[0].byte_start..found[0].byte_end], "ana@example.com");
    assert_eq!(found[0].recognizer, "default/email");
}

/// A model that reports one fixed span of one type.
#[derive(Debug)]
struct FixedSpan(RecognizerInfo, &'static str, usize, usize);

impl Recognizer for FixedSpan {
    fn info(&self) -> &RecognizerInfo {
        &self.0
    }

    fn recognize(
        &self,
        _text: &AnalyzedText<'_>,
        _request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Candidate>, RecognizerError> {
        Ok({
            vec![Candidate {
                entity_type: self.1.into(),
                start: self.2,
                end: self.3,
                score: 0.99,
                recognizer: self.0.name.clone(),
                pattern: None,
                validator: None,
                context_words: Vec::new(),
                base_score: 0.99,
                only_a_place: false,
            }]
        })
    }
}

#[test]
fn an_unvalidated_pattern_span_grows_over_the_words_the_model_adds() {
    // The pattern ends at the number; the model goes on to the block's name.
    let text = "Domicilio: calle Mayor 7, bloque Sur. Madrid.";
    let model_end = text[..text.find(". Madrid").unwrap()].chars().count();
    let model = FixedSpan(model_info("ner/address", "ADDRESS"), "ADDRESS", 11, model_end);
    let detector = Detector::new(&crate::pack::builtin_packs().unwrap(), vec![Arc::new(model)]).unwrap();
    let options = DetectOptions {
        language: Some("es".into()),
        ..DetectOptions::default()
    };
    let found = detector.detect(text, &options).unwrap().detections;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        &text[found[0].byte_start..found[0].byte_end],
        "calle Mayor 7, bloque Sur"
    );
    assert_ne!(found[0].recognizer, "ner/address");
}

/// A recognizer of any kind that reports one fixed person span.
#[derive(Debug)]
struct FixedPerson(RecognizerInfo, usize, usize, f32);

impl Recognizer for FixedPerson {
    fn info(&self) -> &RecognizerInfo {
        &self.0
    }

    fn recognize(
        &self,
        _text: &AnalyzedText<'_>,
        _request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Candidate>, RecognizerError> {
        Ok({
            vec![Candidate {
                entity_type: "PERSON".into(),
                start: self.1,
                end: self.2,
                score: self.3,
                recognizer: self.0.name.clone(),
                pattern: None,
                validator: None,
                context_words: Vec::new(),
                base_score: self.3,
                only_a_place: false,
            }]
        })
    }
}

#[test]
fn a_model_span_is_kept_over_a_word_list_span_of_the_same_type() {
    let mut word_list = model_info("gazetteer/names", "PERSON");
    word_list.kind = RecognizerKind::Gazetteer;
    let detector = Detector::without_patterns(vec![
        Arc::new(FixedPerson(word_list, 0, 3, 0.9)),
        Arc::new(FixedPerson(model_info("ner/names", "PERSON"), 0, 8, 0.8)),
    ])
    .unwrap();
    let found = detector
        .detect("Ana Ruiz llegó.", &DetectOptions::default())
        .unwrap()
        .detections;
    assert_eq!((found.len(), found[0].start, found[0].end), (1, 0, 8), "{found:?}");

    // A longer word-list span that contains the model's gives way to it too.
    let mut word_list = model_info("gazetteer/names", "PERSON");
    word_list.kind = RecognizerKind::Gazetteer;
    let detector = Detector::without_patterns(vec![
        Arc::new(FixedPerson(word_list, 0, 14, 0.9)),
        Arc::new(FixedPerson(model_info("ner/names", "PERSON"), 0, 8, 0.8)),
    ])
    .unwrap();
    let found = detector
        .detect("Ana Ruiz NºCol: 28", &DetectOptions::default())
        .unwrap()
        .detections;
    assert_eq!((found.len(), found[0].start, found[0].end), (1, 0, 8), "{found:?}");

    // A model's span of another type displaces a word-list span it overlaps.
    let mut word_list = model_info("gazetteer/names", "PERSON");
    word_list.kind = RecognizerKind::Gazetteer;
    let detector = Detector::without_patterns(vec![
        Arc::new(FixedPerson(word_list, 6, 19, 0.95)),
        Arc::new(FixedSpan(model_info("ner/places", "LOCATION"), "LOCATION", 0, 19)),
    ])
    .unwrap();
    let found = detector
        .detect("03900 Benito Juárez, México", &DetectOptions::default())
        .unwrap()
        .detections;
    assert_eq!(
        (found.len(), found[0].entity_type.as_str(), found[0].start, found[0].end),
        (1, "LOCATION", 0, 19),
        "{found:?}"
    );
}

#[test]
fn a_model_s_person_that_is_exactly_a_place_no_one_is_named_after_is_the_place() {
    let detect = |text: &str, start: usize, end: usize| {
        let detector = Detector::without_patterns(vec![
            Arc::new(crate::gazetteer::GazetteerRecognizer::default()),
            Arc::new(FixedPerson(model_info("ner/names", "PERSON"), start, end, 0.9)),
        ])
        .unwrap();
        detector
            .detect(text, &DetectOptions::default())
            .unwrap()
            .detections
            .into_iter()
            .map(|found| {
                (
                    found.entity_type.to_string(),
                    text[found.byte_start..found.byte_end].to_owned(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        detect("Glad that France is moving.", 10, 16),
        [("LOCATION".to_owned(), "France".to_owned())]
    );
    // A place that is also a name stays the model's person; so does a longer span.
    assert_eq!(
        detect("Glad that Jordan is moving.", 10, 16),
        [("PERSON".to_owned(), "Jordan".to_owned())]
    );
    assert_eq!(
        detect("Glad that France Gall is singing.", 10, 21),
        [("PERSON".to_owned(), "France Gall".to_owned())]
    );
}

#[test]
fn context_words_outweigh_a_confident_guess_at_another_type() {
    let guesser = SureGuesser(model_info("ner/guesser", "NATIONAL_ID"));
    let detector = Detector::new(&crate::pack::builtin_packs().unwrap(), vec![Arc::new(guesser)]).unwrap();
    let options = DetectOptions {
        language: Some("es".into()),
        ..DetectOptions::default()
    };
    let text = "Paciente: Ana.\nNHC: 2569870.\nOtro: 2569871.";
    let found: Vec<(String, String)> = detector
        .detect(text, &options)
        .unwrap()
        .detections
        .into_iter()
        .map(|detection| {
            (
                detection.entity_type.to_string(),
                text[detection.byte_start..detection.byte_end].to_owned(),
            )
        })
        .collect();
    assert!(has(&found, "MEDICAL_RECORD_NUMBER", "2569870"), "{found:?}");
    // Without a context word the model's guess stands.
    assert!(has(&found, "NATIONAL_ID", "2569871"), "{found:?}");
}

#[test]
fn english_identifiers() {
    let text = "Email jane.doe@example.com, card 4111 1111 1111 1111, SSN 123-45-6789, IP 192.168.1.20, \
                IBAN GB82 WEST 1234 5698 7654 32, visit https://example.com/path.";
    let hits = found(text, "en");
    for (entity, value) in [
        ("EMAIL_ADDRESS", "jane.doe@example.com"),
        ("CREDIT_CARD", "4111 1111 1111 1111"),
        ("US_SSN", "123-45-6789"),
        ("IP_ADDRESS", "192.168.1.20"),
        ("IBAN_CODE", "GB82 WEST 1234 5698 7654 32"),
        ("URL", "https://example.com/path"),
    ] {
        assert!(has(&hits, entity, value), "{entity} {value} not in {hits:?}");
    }
}

#[test]
fn spanish_identifiers_with_their_checks() {
    let text = "El paciente, con DNI 12345678Z y NIE X1234567L, nacido el 15 de marzo de 1980, \
                teléfono 612 345 678, matrícula 1234 BCD.";
    let hits = found(text, "es");
    for (entity, value) in [
        ("ES_NIF", "12345678Z"),
        ("ES_NIE", "X1234567L"),
        ("DATE_OF_BIRTH", "15 de marzo de 1980"),
        ("PHONE_NUMBER", "612 345 678"),
        ("LICENSE_PLATE", "1234 BCD"),
    ] {
        assert!(has(&hits, entity, value), "{entity} {value} not in {hits:?}");
    }
    let streets = found(
        "Vive en la calle Mayor 7. Domicilio: Avda. de la Constitución, nº 12, 3º B. Pasamos por la plaza Mayor.",
        "es",
    );
    assert!(has(&streets, "ADDRESS", "calle Mayor 7"), "{streets:?}");
    assert!(
        has(&streets, "ADDRESS", "Avda. de la Constitución, nº 12, 3º B"),
        "{streets:?}"
    );
    // A street named without a number or context is a public place, not an address.
    assert!(!has(&streets, "ADDRESS", "plaza Mayor"), "{streets:?}");
    // The floor and door belong to the address; a postal code and the next sentence do not.
    for (line, address) in [
        ("Domicilio: Calle Carmen Romero, 23, 1D.", "Calle Carmen Romero, 23, 1D"),
        ("Domicilio: Paseo de la Armada, 35, 3 D.", "Paseo de la Armada, 35, 3 D"),
        (
            "Domicilio: Calle Pedro Gonu, 28, Bajo A.",
            "Calle Pedro Gonu, 28, Bajo A",
        ),
        (
            "Domicilio: Calle Anastassia Zhorova, 4, 3 Der.",
            "Calle Anastassia Zhorova, 4, 3 Der",
        ),
        ("Domicilio: Calle Rivadavia 12, 4 izq..", "Calle Rivadavia 12, 4 izq"),
        (
            "Av. San Antonio, 47 - 4º Dcha. 02001 Albacete",
            "Av. San Antonio, 47 - 4º Dcha",
        ),
        (
            "Calle Joaquim Folguera, 3 - 5º 2ª 08022 Barcelona",
            "Calle Joaquim Folguera, 3 - 5º 2ª",
        ),
        (
            "Plaza de la Encarnación, 32 - P1 2B 41003 Sevilla",
            "Plaza de la Encarnación, 32 - P1 2B",
        ),
        ("Domicilio: Avda. La Marina 36, 10C.", "Avda. La Marina 36, 10C"),
        ("Domicilio: calle Mayor 7, 28013 Madrid.", "calle Mayor 7"),
        ("Domicilio: calle Mayor 7. Pasamos por la plaza.", "calle Mayor 7"),
    ] {
        let hits = found(line, "es");
        assert!(has(&hits, "ADDRESS", address), "{address} not in {hits:?}");
    }
    // A Spanish age is the number and its unit; a duration is not an age.
    for (line, age) in [
        ("Varón de 53 años sin antecedentes de interés.", Some("53 años")),
        ("Edad: 5 meses. Sexo: mujer.", Some("5 meses")),
        ("Mujer de 80 años de edad que acude por dolor.", Some("80 años")),
        ("Lesión de 4 años de evolución en el párpado.", None),
        ("Intervenido de ulcus duodenal 20 años antes.", None),
        ("Traumatismo lumbar hacía unos 30 años.", None),
        ("Ex fumador de 8 años. No hematuria.", None),
        ("Lleva 3 años libre de enfermedad.", None),
        ("Sin recidiva tras un seguimiento de 4 años.", None),
        ("Tatuaje de 10 años de antigüedad.", None),
    ] {
        let ages: Vec<String> = found(line, "es")
            .into_iter()
            .filter(|(kind, _)| kind == "AGE")
            .map(|(_, value)| value)
            .collect();
        assert_eq!(ages, age.into_iter().map(str::to_owned).collect::<Vec<_>>(), "{line}");
    }
    let wrong_letter = found("DNI 12345678A", "es");
    assert!(
        !wrong_letter.iter().any(|(kind, _)| kind == "ES_NIF"),
        "{wrong_letter:?}"
    );
}

#[test]
fn impossible_dates_and_invalid_cards_are_not_reported() {
    let hits = found("On 31/04/2020 card 4111 1111 1111 1112 was used.", "en");
    assert!(
        !hits
            .iter()
            .any(|(kind, _)| kind == "DATE_TIME" || kind == "CREDIT_CARD"),
        "{hits:?}"
    );
}

#[test]
fn dates_with_two_digit_years_are_found_and_versions_are_not() {
    let hits = found(
        "El 22-7-04 se implantó; la TC (11/10/01) y la versión 1.2.10 de 2011.",
        "es",
    );
    assert!(has(&hits, "DATE_TIME", "22-7-04"), "{hits:?}");
    assert!(has(&hits, "DATE_TIME", "11/10/01"), "{hits:?}");
    assert!(!hits.iter().any(|(_, value)| value.contains("1.2.10")), "{hits:?}");
    assert!(
        !found("El 31-02-04 no existe.", "es")
            .iter()
            .any(|(kind, _)| kind == "DATE_TIME")
    );
    // A longer run of numbers is not a date, nor is a score.
    for text in ["Ref. 6-12-34-56-78 anotada.", "Test de Apgar 9/10/10 al nacer."] {
        let hits = found(text, "es");
        assert!(!hits.iter().any(|(kind, _)| kind == "DATE_TIME"), "{hits:?}");
    }
}

#[test]
fn full_width_digits_are_matched_and_offsets_point_at_the_original() {
    let text = "カード ４１１１ １１１１ １１１１ １１１１ です";
    let hits = found(text, "en");
    assert!(
        has(&hits, "CREDIT_CARD", "４１１１ １１１１ １１１１ １１１１"),
        "{hits:?}"
    );
}

#[test]
fn an_email_inside_a_url_goes_with_the_url() {
    let hits = found("See https://example.com/?to=jane@example.com now", "en");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0].0, "URL");
}

#[test]
fn allow_and_deny_lists() {
    let detector = detector();
    let options = DetectOptions {
        allow_list: vec!["JANE@EXAMPLE.COM".into()],
        deny_list: vec![DenyEntry {
            value: "Project Falcon".into(),
            entity_type: "ORGANIZATION".into(),
        }],
        ..DetectOptions::default()
    };
    let text = "jane@example.com works on project falcon with bob@example.com";
    let hits = detector.detect(text, &options).unwrap().detections;
    let kinds: Vec<(&str, &str)> = hits
        .iter()
        .map(|hit| (hit.entity_type.as_str(), &text[hit.byte_start..hit.byte_end]))
        .collect();
    assert_eq!(
        kinds,
        [("ORGANIZATION", "project falcon"), ("EMAIL_ADDRESS", "bob@example.com")]
    );
}

#[test]
fn thresholds_entities_and_explanations() {
    let detector = detector();
    let text = "Call 612 345 678 or write to ana@example.es";
    let only_email = DetectOptions {
        entities: Some(vec!["email".into()]),
        explain: true,
        ..DetectOptions::default()
    };
    let hits = detector.detect(text, &only_email).unwrap().detections;
    assert_eq!(hits.len(), 1);
    let explanation = hits[0].explanation.as_ref().unwrap();
    assert_eq!(explanation.pattern.as_deref(), Some("email"));
    let strict = DetectOptions {
        min_score: Some(0.99),
        ..DetectOptions::default()
    };
    assert!(detector.detect(text, &strict).unwrap().detections.is_empty());
}

#[test]
fn bad_options_are_named() {
    let detector = detector();
    let unknown = DetectOptions {
        entities: Some(vec!["FAVOURITE_COLOUR".into()]),
        ..DetectOptions::default()
    };
    assert!(
        matches!(detector.detect("x", &unknown), Err(DetectError::UnknownEntity(name)) if name == "FAVOURITE_COLOUR")
    );
    let out_of_range = DetectOptions {
        min_score: Some(1.5),
        ..DetectOptions::default()
    };
    assert!(matches!(
        detector.detect("x", &out_of_range),
        Err(DetectError::ScoreOutOfRange { .. })
    ));
}

#[test]
fn secrets_are_found() {
    let text = "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\npassword: hunter2hunter2\n\
                token ghp_0123456789abcdefghijklmnopqrstuvwxyzAB\n\
                postgres://admin:s3cret@db.internal:5432/app";
    let hits = found(text, "en");
    for (entity, value) in [
        ("AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE"),
        ("PASSWORD", "hunter2hunter2"),
        ("API_KEY", "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"),
        ("CONNECTION_STRING", "postgres://admin:s3cret@db.internal:5432/app"),
    ] {
        assert!(has(&hits, entity, value), "{entity} {value} not in {hits:?}");
    }
}
