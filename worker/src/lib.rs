//! Obscura's job handlers and the worker runtime that feeds them from the queue.
//!
//! Handlers are plain async functions over a [`JobContext`], so tests can run a job directly.
//! The [`runner`] wires them to the queue of the configured backend (PostgreSQL or SQLite).

pub mod context;
pub mod hand_back;
pub mod jobs;
pub mod runner;

pub use context::JobContext;
pub use hand_back::hand_back;
pub use runner::{WorkerSettings, run_workers};
