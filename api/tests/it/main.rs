//! Integration tests of the API, run in both modes: embedded (SQLite and local blobs) and
//! distributed (PostgreSQL and S3). `scripts/test` starts the services and exports their
//! addresses; without them the distributed tests fail with a message saying so.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

mod anonymization;
mod auth;
mod binary;
mod client;
mod detection;
mod documents;
mod fleet;
mod full_flow;
mod glossary;
mod image;
mod jobs;
mod ner;
mod outages;
mod people;
mod processing;
mod progress;
mod projects;
mod recognizer_failure;
mod reviewed;
mod seed_examples;
mod seeds;
mod service;
mod shutdown;
mod storage;
mod support;
mod topology;
mod uploads;
