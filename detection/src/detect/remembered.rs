//! A recognizer whose answers are remembered by text, so that a run that detects the same
//! texts many times with different options (an ablation) runs each model once per text.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::recognizer::{Candidate, RecognitionRequest, Recognizer, RecognizerError, RecognizerInfo};
use crate::text::AnalyzedText;

/// Wraps a recognizer; answers depend only on the text, its language and the context
/// window, so those are the key.
#[derive(Debug)]
pub(crate) struct Remembered {
    inner: Arc<dyn Recognizer>,
    answers: Mutex<HashMap<(String, usize, String), Vec<Candidate>>>,
}

impl Remembered {
    pub(crate) fn new(inner: Arc<dyn Recognizer>) -> Remembered {
        Remembered {
            inner,
            answers: Mutex::new(HashMap::new()),
        }
    }
}

impl Recognizer for Remembered {
    fn info(&self) -> &RecognizerInfo {
        self.inner.info()
    }

    fn recognize(
        &self,
        text: &AnalyzedText<'_>,
        request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Candidate>, RecognizerError> {
        Ok(self.recognize_many(&[text], request)?.pop().unwrap_or_default())
    }

    fn recognize_many(
        &self,
        texts: &[&AnalyzedText<'_>],
        request: &RecognitionRequest<'_>,
    ) -> Result<Vec<Vec<Candidate>>, RecognizerError> {
        let key = |text: &AnalyzedText<'_>| {
            (
                request.language.to_owned(),
                request.context_window,
                text.original().to_owned(),
            )
        };
        let missing: Vec<&AnalyzedText<'_>> = {
            let answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
            let mut seen = std::collections::HashSet::new();
            texts
                .iter()
                .copied()
                .filter(|text| !answers.contains_key(&key(text)) && seen.insert(text.original()))
                .collect()
        };
        // The lock is not held while the model runs.
        let found = if missing.is_empty() {
            Vec::new()
        } else {
            self.inner.recognize_many(&missing, request)?
        };
        let mut answers = self.answers.lock().unwrap_or_else(PoisonError::into_inner);
        for (text, candidates) in missing.iter().zip(found) {
            answers.insert(key(text), candidates);
        }
        Ok(texts
            .iter()
            .map(|text| answers.get(&key(text)).cloned().unwrap_or_default())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::entity_type::EntityType;
    use crate::recognizer::RecognizerKind;

    #[derive(Debug)]
    struct Counting {
        info: RecognizerInfo,
        calls: AtomicUsize,
    }

    impl Recognizer for Counting {
        fn info(&self) -> &RecognizerInfo {
            &self.info
        }

        fn recognize(
            &self,
            text: &AnalyzedText<'_>,
            _: &RecognitionRequest<'_>,
        ) -> Result<Vec<Candidate>, RecognizerError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Ok(vec![Candidate {
                entity_type: EntityType::PERSON,
                start: 0,
                end: text.char_len(),
                score: 0.9,
                recognizer: "ner/counting".into(),
                pattern: None,
                validator: None,
                context_words: Vec::new(),
                base_score: 0.9,
                only_a_place: false,
            }])
        }
    }

    #[test]
    fn each_text_is_recognized_once_per_language() {
        let counting = Arc::new(Counting {
            info: RecognizerInfo {
                name: "ner/counting".into(),
                kind: RecognizerKind::Ner,
                entities: vec![EntityType::PERSON],
                languages: vec!["any".into()],
                description: String::new(),
                settings: Default::default(),
            },
            calls: AtomicUsize::new(0),
        });
        let remembered = Remembered::new(counting.clone());
        let (ana, luis) = (AnalyzedText::new("Ana"), AnalyzedText::new("Luis Gil"));
        let english = RecognitionRequest {
            language: "en",
            context_window: 5,
        };
        let first = remembered.recognize_many(&[&ana, &luis, &ana], &english).unwrap();
        let again = remembered.recognize_many(&[&luis, &ana], &english).unwrap();
        assert_eq!(counting.calls.load(Ordering::SeqCst), 2);
        assert_eq!(first[1], again[0]);
        assert_eq!(first[2].len(), 1);
        let spanish = RecognitionRequest {
            language: "es",
            context_window: 5,
        };
        remembered.recognize_many(&[&ana], &spanish).unwrap();
        assert_eq!(counting.calls.load(Ordering::SeqCst), 3);
    }
}
