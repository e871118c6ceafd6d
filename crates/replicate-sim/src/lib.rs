//! A local stand-in for Replicate's HTTP API (`api.replicate.com/v1`), for local runs, tests and benchmarks.
//!
//! It speaks Replicate's wire format (shapes in `imagegen_core::replicate`), runs each prediction through
//! `starting → processing → succeeded | failed | canceled` (or `aborted`) on a simulated clock, renders
//! real image files, sends signed webhooks, enforces Replicate's rate limits and injects faults on demand.
//! `/admin/*` (not part of Replicate) changes settings and faults at run time and reports counters.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = replicate_sim::Simulator::start(replicate_sim::Config::default().with_port(0)).await?;
//! println!("Replicate at {}/v1", sim.base_url());
//! # Ok(()) }
//! ```

pub mod clock;
pub mod config;
pub mod counters;
pub mod faults;
mod http;
mod ids;
mod lifecycle;
pub mod rate_limit;
pub mod render;
mod state;
mod store;
mod webhooks;

use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{Config, Latency, Settings};
pub use faults::{FaultKind, FaultRule, Target};

/// A running simulator. Dropping it stops the server (connections in flight are cut).
pub struct Simulator {
    addr: SocketAddr,
    base_url: String,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Simulator {
    /// Binds `config.host:config.port` (port 0 picks a free one) and serves in the current tokio runtime.
    pub async fn start(config: Config) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind((config.host, config.port)).await?;
        let addr = listener.local_addr()?;
        let base_url = config
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{addr}"))
            .trim_end_matches('/')
            .to_owned();
        let app = Arc::new(state::App::new(config, base_url.clone()));
        let (shutdown, rx) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(http::server::serve(listener, app, rx));
        Ok(Self {
            addr,
            base_url,
            shutdown,
            task,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://host:port` (or the configured public URL); the API lives under `/v1`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Serves until `signal` resolves, then stops accepting.
    pub async fn run_until(self, signal: impl std::future::Future<Output = ()>) {
        signal.await;
        let _ = self.shutdown.send(true);
        let _ = (&mut { self }.task).await;
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.task.abort();
    }
}
