//! A model run over texts of any length: cut into overlapping windows, batched through the
//! encoder, and the averaged logits decoded to spans.

use candle_core::{DType, Tensor};
use candle_nn::Module;

use super::{BATCH_TOKENS, Encoder, ModelError, NerModel};
use crate::decode::{LabeledSpan, TokenPrediction, decode};

impl NerModel {
    /// Token ids (with the special tokens) and logits of a short text in one window, for
    /// comparing with a reference implementation.
    pub fn window_logits(&self, text: &str) -> Result<(Vec<u32>, Vec<Vec<f32>>), ModelError> {
        let encoding = self
            .tokenizer
            .encode_char_offsets(text, true)
            .map_err(|error| self.inference_error(error.to_string()))?;
        let ids = encoding.get_ids().to_vec();
        let logits = self.forward(std::slice::from_ref(&ids))?;
        Ok((ids, logits.into_iter().next().unwrap_or_default()))
    }

    /// The spans in each of `texts`, with code-point offsets and the model's labels.
    pub fn predict(&self, texts: &[&str]) -> Result<Vec<Vec<LabeledSpan>>, ModelError> {
        let entry = &self.installed.entry;
        self.predict_windowed(texts, entry.window_tokens, entry.window_overlap)
    }

    /// Tokens in `text`, without the special tokens.
    pub fn count_tokens(&self, text: &str) -> Result<usize, ModelError> {
        self.tokenizer
            .encode_char_offsets(text, false)
            .map(|encoding| encoding.get_ids().len())
            .map_err(|error| self.inference_error(error.to_string()))
    }

    /// [`NerModel::predict`] with windows of `window_tokens` tokens (special tokens
    /// included, at most the model's maximum) sharing `window_overlap` tokens.
    pub fn predict_windowed(
        &self,
        texts: &[&str],
        window_tokens: usize,
        window_overlap: usize,
    ) -> Result<Vec<Vec<LabeledSpan>>, ModelError> {
        let content = window_tokens
            .min(self.max_window_tokens)
            .saturating_sub(self.open_ids.len() + self.close_ids.len())
            .max(1);
        let step = content.saturating_sub(window_overlap).max(1);

        struct Window {
            text: usize,
            start: usize,
            end: usize,
        }
        let mut encodings = Vec::with_capacity(texts.len());
        let mut windows = Vec::new();
        for (text_index, text) in texts.iter().enumerate() {
            let encoding = self
                .tokenizer
                .encode_char_offsets(*text, false)
                .map_err(|error| self.inference_error(error.to_string()))?;
            let count = encoding.get_ids().len();
            let mut start = 0;
            while start < count {
                let end = (start + content).min(count);
                windows.push(Window {
                    text: text_index,
                    start,
                    end,
                });
                if end == count {
                    break;
                }
                start += step;
            }
            encodings.push(encoding);
        }

        // Summed logits and the number of windows that saw each token.
        let n_labels = self.labels.len();
        let mut sums: Vec<Vec<f32>> = encodings
            .iter()
            .map(|encoding| vec![0.0; encoding.get_ids().len() * n_labels])
            .collect();
        let mut counts: Vec<Vec<u32>> = encodings
            .iter()
            .map(|encoding| vec![0; encoding.get_ids().len()])
            .collect();
        let window_length = content + self.open_ids.len() + self.close_ids.len();
        let batch_windows = (BATCH_TOKENS / window_length).max(1);
        // Windows of like length batch together, so that a text's short last window is not
        // padded to a full one.
        windows.sort_by_key(|window| std::cmp::Reverse(window.end - window.start));
        for batch in windows.chunks(batch_windows) {
            let inputs: Vec<Vec<u32>> = batch
                .iter()
                .map(|window| {
                    let ids = &encodings[window.text].get_ids()[window.start..window.end];
                    self.open_ids
                        .iter()
                        .chain(ids)
                        .chain(&self.close_ids)
                        .copied()
                        .collect()
                })
                .collect();
            let logits = self.forward(&inputs)?;
            for (window, window_logits) in batch.iter().zip(logits) {
                for (position, token) in (window.start..window.end).enumerate() {
                    let row = &window_logits[self.open_ids.len() + position];
                    let sum = &mut sums[window.text][token * n_labels..(token + 1) * n_labels];
                    for (total, value) in sum.iter_mut().zip(row) {
                        *total += value;
                    }
                    counts[window.text][token] += 1;
                }
            }
        }

        let mut results = Vec::with_capacity(texts.len());
        for (text_index, encoding) in encodings.iter().enumerate() {
            let characters: Vec<char> = texts[text_index].chars().collect();
            let tokens: Vec<TokenPrediction> = encoding
                .get_offsets()
                .iter()
                .zip(encoding.get_word_ids())
                .enumerate()
                .map(|(token, (&(start, end), word))| {
                    let seen = counts[text_index][token].max(1) as f32;
                    let logits: Vec<f32> = sums[text_index][token * n_labels..(token + 1) * n_labels]
                        .iter()
                        .zip(&self.logit_bias)
                        .map(|(total, bias)| total / seen + bias)
                        .collect();
                    TokenPrediction {
                        // Tokens outside any word (rare) each stand alone.
                        word: word.map_or(usize::MAX - token, |word| word as usize),
                        start,
                        // Uncased tokenizers drop combining accents, so a token can end
                        // just before the marks that belong to its last letter.
                        end: end_after_marks(&characters, end),
                        probabilities: softmax(&logits),
                    }
                })
                .collect();
            results.push(decode(
                &tokens,
                &self.labels,
                self.aggregation,
                &self.installed.entry.groups,
                &characters,
            ));
        }
        Ok(results)
    }

    /// Logits `[window][position][label]` of a batch of token-id sequences.
    fn forward(&self, inputs: &[Vec<u32>]) -> Result<Vec<Vec<Vec<f32>>>, ModelError> {
        let longest = inputs.iter().map(Vec::len).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(inputs.len() * longest);
        let mut mask = Vec::with_capacity(inputs.len() * longest);
        for input in inputs {
            ids.extend(input.iter().copied());
            ids.extend(std::iter::repeat_n(self.pad_id, longest - input.len()));
            mask.extend(std::iter::repeat_n(1_u32, input.len()));
            mask.extend(std::iter::repeat_n(0_u32, longest - input.len()));
        }
        let run = || -> candle_core::Result<Vec<Vec<Vec<f32>>>> {
            let shape = (inputs.len(), longest);
            let ids = Tensor::from_vec(ids, shape, &self.device)?;
            let mask = Tensor::from_vec(mask, shape, &self.device)?;
            let padded = inputs.iter().any(|input| input.len() < longest);
            let hidden = match &self.encoder {
                Encoder::Bert(model) => model.forward(&ids, padded.then_some(&mask))?,
                Encoder::XlmRoberta(model) => model.forward(&ids, &mask, &ids.zeros_like()?, None, None, None)?,
                Encoder::DebertaV2(model) => {
                    model.forward(&ids, Some(ids.zeros_like()?), Some(mask.to_dtype(DType::I64)?))?
                }
            };
            self.classifier.forward(&hidden)?.to_vec3::<f32>()
        };
        run().map_err(|error| self.inference_error(error.to_string()))
    }

    fn inference_error(&self, message: String) -> ModelError {
        ModelError::Inference {
            id: self.installed.entry.id.clone(),
            message,
        }
    }
}

/// `end` moved past the combining marks that follow it.
fn end_after_marks(characters: &[char], end: usize) -> usize {
    let mut end = end;
    while characters.get(end).copied().is_some_and(is_combining_mark) {
        end += 1;
    }
    end
}

/// Combining diacritical marks and variation selectors, which attach to the character
/// before them.
fn is_combining_mark(character: char) -> bool {
    matches!(
        character,
        '\u{0300}'..='\u{036F}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE00}'..='\u{FE0F}'
            | '\u{FE20}'..='\u{FE2F}'
    )
}

fn softmax(logits: &[f32]) -> Vec<f32> {
    let largest = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exponentials: Vec<f32> = logits.iter().map(|value| (value - largest).exp()).collect();
    let total: f32 = exponentials.iter().sum();
    exponentials.iter().map(|value| value / total).collect()
}
