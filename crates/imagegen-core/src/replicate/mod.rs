//! Replicate's HTTP protocol, as plain data and pure functions: the prediction object, error bodies,
//! webhook events and their Standard Webhooks signatures, and every served model's input schema with
//! Replicate's validation. Shared by the Replicate simulator (`crates/replicate-sim`) and the worker, so both
//! speak one wire format. No I/O and no clock: callers pass `now`.
//!
//! Source of the wire facts: Replicate's OpenAPI spec, docs and official clients.

pub mod client;
pub mod mark;
pub mod outcome;
mod prediction;
mod problem;
pub mod schema;
mod validate;
pub mod webhook;

pub use mark::{OwnerMark, WebhookBase};
pub use prediction::{
    CreatePrediction, Metrics, Prediction, PredictionList, PredictionStatus, PredictionUrls,
    Source, VersionRef,
};
pub use problem::{InvalidField, Problem, ThrottleBody};
pub use schema::{find_model, find_version, Kind, ModelSchema, OutputFormat, OutputShape, MODELS};
pub use validate::{validate_create_body, validate_input, CreateEndpoint};
pub use webhook::{check_headers, WebhookError, WebhookEvent, WebhookSecret};
