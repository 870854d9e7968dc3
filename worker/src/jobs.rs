//! One module per job type.

pub mod delete;
pub mod diagnostic;
pub mod document;
