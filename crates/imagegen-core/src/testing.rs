//! In-memory fakes and helpers for native tests of the handlers.

use crate::ports::Platform;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::cell::{Cell, RefCell};

/// The JWT secret `supabase start` uses by default.
pub const TEST_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

/// Signs `claims` as an HS256 JWT.
pub fn sign_hs256(claims: &serde_json::Value, secret: &str) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}

/// A clock fixed at a time, sequential ids, and captured log lines.
pub struct FakePlatform {
    now: Cell<f64>,
    next_id: Cell<u128>,
    lines: RefCell<Vec<String>>,
}

impl FakePlatform {
    pub fn at(now_ms: f64) -> Self {
        Self {
            now: Cell::new(now_ms),
            next_id: Cell::new(1),
            lines: RefCell::default(),
        }
    }

    /// Moves the clock.
    pub fn now_set(&self, now_ms: f64) {
        self.now.set(now_ms);
    }

    pub fn lines(&self) -> Vec<String> {
        self.lines.borrow().clone()
    }
}

impl Platform for FakePlatform {
    fn now_ms(&self) -> f64 {
        self.now.get()
    }

    fn monotonic_ms(&self) -> f64 {
        self.now.get()
    }

    fn random_id(&self) -> String {
        let n = self.next_id.get();
        self.next_id.set(n + 1);
        uuid::Uuid::from_u128(0x4000_0000_0000_4000_8000_0000_0000_0000 | n).to_string()
    }

    fn random_unit(&self) -> f64 {
        0.5
    }

    fn log(&self, line: &str) {
        self.lines.borrow_mut().push(line.to_owned());
    }
}

/// Runs a future that never waits on real I/O (all ports are in-memory) to completion.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut f = std::pin::pin!(f);
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
