//! Obscura's infrastructure: configuration, database access, blob storage, job payloads and
//! API key material. Both the API and the workers build on it; the engine knows nothing of it.

pub mod api_key;
pub mod config;
pub mod database;
pub mod jobs;
pub mod storage;
pub mod worker_name;
