//! One module per job type.

pub mod diagnostic;
