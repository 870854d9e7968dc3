//! Transformer NER for Obscura, run with candle; a loaded model plugs into the engine as a
//! recognizer.
//!
//! - `registry`: model directories and their `obscura-model.json` entries;
//! - `onnx` and `rampart`: converting the default model from its ONNX release;
//! - `bert`: the BERT encoder, tuned for inference, and differentiable for fine-tuning;
//! - `ner`: loading a model and running it over texts of any length;
//! - `decode`: from token probabilities to spans;
//! - `recognizer`: the engine's view of a model;
//! - `train`: fine-tuning on labelled spans.

pub mod bert;
pub mod decode;
mod fast_math;
pub mod ner;
pub mod onnx;
pub mod rampart;
mod random;
pub mod recognizer;
pub mod registry;
pub mod train;
pub mod weights;

pub use ner::{ModelError, NerModel};
pub use recognizer::NerRecognizer;

/// Sizes the thread pool that NER inference runs on; 0 means one thread per core. Only the
/// first call has an effect, as the pool lives for the whole process.
pub fn set_threads(threads: usize) {
    // An error means the pool already exists, which is the documented no-op.
    let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
}
