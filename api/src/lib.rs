//! Obscura's HTTP API and the `obscura` command: routes, authentication, problem details,
//! metrics, the OpenAPI document and process lifecycle.

pub mod auth;
pub mod cli;
pub mod client;
pub mod commands;
pub mod database_gate;
pub mod detect_settings;
pub mod error_codes;
pub mod metrics;
pub mod ner;
pub mod openapi;
pub mod problem;
pub mod request_id;
pub mod routes;
pub mod server;
pub mod socket;
pub mod state;
pub mod telemetry;
