//! Obscura's infrastructure: configuration, database access, blob storage, job payloads, API
//! key material, the master secret with the keys derived from it, and sanitization sessions.
//! Both the API and the workers build on it; the engine knows nothing of it.

pub mod annotations;
pub mod api_key;
pub mod audit;
pub mod config;
pub mod database;
pub mod documents;
pub mod events;
pub mod glossary;
pub mod jobs;
pub mod key_store;
pub mod processing;
pub mod projects;
pub mod review;
pub mod secrets;
pub mod services;
pub mod sessions;
pub mod stats;
pub mod storage;
pub mod uploads;
pub mod worker_name;
