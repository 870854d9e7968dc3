//! Transformer NER for Obscura, run with candle; it plugs into the engine as a recognizer.
//!
//! The crate is part of the workspace so that its dependency direction (`models` -> `engine`)
//! is fixed from the start; it holds no model code yet.
