//! Webhook delivery. Each prediction with a webhook gets one queue, delivered in order, so a receiver
//! sees `start`, `logs`, `output`, `completed` as they happened. Only `completed` is retried, on a
//! connection failure or a non-2xx answer, with doubling delays (Replicate: "exponential backoff, last
//! retry ~1 min after completion"); the `webhook-id` stays the same across retries, the timestamp and
//! signature are renewed per attempt. Redirects are not followed. Webhook faults (`crate::faults`) may
//! drop a delivery, hold it, or send it a second time under the same `webhook-id`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use imagegen_core::replicate::WebhookEvent;
use tokio::sync::mpsc;

use crate::counters::Counters;
use crate::faults::{FaultKind, WebhookFault};
use crate::state::{lock, App};

/// One event to send.
#[derive(Debug)]
pub struct WebhookJob {
    pub event: WebhookEvent,
    /// The prediction object as JSON.
    pub body: Bytes,
}

/// The HTTP client used for webhooks (plain HTTP only; no TLS in the simulator).
pub type Client = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    Full<Bytes>,
>;

/// A new client.
pub fn client() -> Client {
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build_http()
}

/// Starts the delivery task of one prediction's webhook (`model` is the prediction's, for fault rules);
/// events are queued on the returned sender.
pub fn spawn_queue(
    app: Arc<App>,
    url: String,
    model: &'static str,
) -> mpsc::UnboundedSender<WebhookJob> {
    let (tx, mut rx) = mpsc::unbounded_channel::<WebhookJob>();
    tokio::spawn(async move {
        while let Some(job) = rx.recv().await {
            let fault = lock(&app.faults).webhook(job.event, model, &mut || app.roll());
            count_fired(&app, fault);
            if let WebhookFault::Send { hold_ms, duplicate } = fault {
                if let Some(ms) = hold_ms {
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                }
                let id = app.ids.message_id();
                deliver_with_retries(&app, &url, &id, &job).await;
                if duplicate {
                    // One more attempt under the same id, as Replicate re-sending after a 2xx it never
                    // saw would make; it is not retried itself.
                    deliver(&app, &url, &id, &job.body).await;
                }
            }
            if job.event == WebhookEvent::Completed {
                break;
            }
        }
    });
    tx
}

/// Counts the webhook faults that fired, when they fire (before any hold), so a reader of the counters
/// who has seen a first copy knows whether a second one is coming.
fn count_fired(app: &App, fault: WebhookFault) {
    let (dropped, held, duplicated) = match fault {
        WebhookFault::Drop => (true, false, false),
        WebhookFault::Send { hold_ms, duplicate } => (false, hold_ms.is_some(), duplicate),
    };
    let mut c = app.counters();
    c.webhook_dropped += u64::from(dropped);
    c.webhook_duplicated += u64::from(duplicated);
    for (fired, kind) in [
        (dropped, FaultKind::Drop),
        (held, FaultKind::Slow),
        (duplicated, FaultKind::Duplicate),
    ] {
        if fired {
            Counters::bump(&mut c.faults_fired, kind.as_str());
        }
    }
}

/// Sends `job` under `id`; a `completed` event is retried with doubling delays until accepted or the
/// retries run out.
async fn deliver_with_retries(app: &App, url: &str, id: &str, job: &WebhookJob) {
    let (retries, base_ms) = {
        let s = app.settings();
        (s.webhook_retries, s.webhook_retry_base_ms)
    };
    let retries = if job.event == WebhookEvent::Completed {
        retries
    } else {
        0
    };
    for attempt in 0..=retries {
        if attempt > 0 {
            let delay = base_ms.saturating_mul(1u64 << (attempt - 1).min(20));
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if deliver(app, url, id, &job.body).await {
            return;
        }
    }
    if job.event == WebhookEvent::Completed {
        app.counters().webhook_gave_up += 1;
    }
}

/// One attempt; true on a 2xx answer.
async fn deliver(app: &App, url: &str, id: &str, body: &Bytes) -> bool {
    let timestamp = crate::clock::real_now_us() / 1_000_000;
    let signature = app.secret.sign(id, timestamp, body);
    let request = Request::post(url)
        .header("content-type", "application/json")
        .header("user-agent", "replicate-sim-webhook/1")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(Full::new(body.clone()));
    let Ok(request) = request else {
        app.counters().webhook_failed_attempts += 1;
        return false;
    };
    app.counters().webhook_attempts += 1;
    let timeout = Duration::from_millis(app.settings().webhook_timeout_ms);
    let ok = match tokio::time::timeout(timeout, app.http.request(request)).await {
        Ok(Ok(resp)) => resp.status().is_success(),
        _ => false,
    };
    let mut c = app.counters();
    if ok {
        c.webhook_delivered += 1;
    } else {
        c.webhook_failed_attempts += 1;
    }
    ok
}
