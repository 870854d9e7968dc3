//! HTTP handlers, one module per resource.

pub mod anonymization;
pub mod audit;
pub mod compat;
pub mod config;
pub mod detection;
pub mod discovery;
pub mod docs;
pub mod document_exports;
pub mod documents;
pub mod glossary;
pub mod health;
pub mod jobs;
pub mod models;
pub mod profiling;
pub mod progress;
pub mod project_exports;
pub mod projects;
pub mod review;
pub mod sanitization;
pub mod service;
pub mod uploads;
