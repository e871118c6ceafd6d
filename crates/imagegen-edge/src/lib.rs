//! The wasm-bindgen shell: binds `imagegen-core` to the Deno / Supabase Edge host. Layered like
//! workers-rs: raw JS bindings in [`sys`], safe port implementations in [`host`], request/response
//! conversion in [`http`], and the exported [`EdgeApp`]. No business rules live here.

mod app;
mod db;
mod host;
mod http;
mod sys;

pub use app::EdgeApp;
pub use db::db_connect_options;
