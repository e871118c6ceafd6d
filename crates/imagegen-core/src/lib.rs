//! Domain rules of the image-generation backend, free of any wasm or JS dependency so that every rule
//! is tested natively with `cargo test`. The wasm shell (`imagegen-edge`) only binds these to the host.

pub mod api_keys;
pub mod auth;
pub mod catalog;
pub mod config;
pub mod db;
pub mod error;
pub mod failure;
pub mod generation;
pub mod handlers;
pub mod http;
pub mod image_input;
pub mod log;
pub mod ports;
pub mod redirect;
pub mod replicate;
pub mod request;
pub mod time;
pub mod worker;

#[cfg(test)]
pub(crate) mod testing;
