//! HTTP: the accept loop, routing, and the three surfaces — Replicate's API (`/v1`), output files
//! (`/delivery`) and the simulator's own `/admin`.

mod admin;
mod api;
mod files;
mod headers;
mod reply;
mod router;
pub mod server;

/// Returned by a handler to drop the connection with a TCP reset instead of answering (fault `reset`).
#[derive(Debug)]
pub struct ResetConnection;

impl std::fmt::Display for ResetConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by fault injection")
    }
}

impl std::error::Error for ResetConnection {}
