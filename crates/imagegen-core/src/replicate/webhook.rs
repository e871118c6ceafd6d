//! Replicate webhooks: the events a prediction can report, and the Standard Webhooks signature that
//! authenticates each delivery (REPLICATE.md "Webhooks"; <https://www.standardwebhooks.com/>).
//!
//! Headers: `webhook-id` (same across retries), `webhook-timestamp` (epoch seconds), `webhook-signature`
//! (space-separated `v1,<base64>` entries). Signed content `"{id}.{timestamp}.{raw body}"`, HMAC-SHA256
//! keyed by the base64-decoded part of the `whsec_` secret (`GET /v1/webhooks/default/secret`).

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Events a webhook can be sent for (`webhook_events_filter`). Without a filter Replicate sends
/// `output` and `completed` ("By default, Replicate sends requests to your webhook URL whenever there are
/// new outputs or the prediction has finished", replicate.com/docs/topics/webhooks/receive-webhook).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookEvent {
    /// Immediately on prediction start.
    Start,
    /// Each time the prediction produces output.
    Output,
    /// Each time log output is produced.
    Logs,
    /// When the prediction reaches a terminal state. The only event Replicate retries.
    Completed,
}

impl WebhookEvent {
    /// Every event, in the order a prediction emits them.
    pub const ALL: [WebhookEvent; 4] = [Self::Start, Self::Output, Self::Logs, Self::Completed];
    /// The events sent when the request names no filter.
    pub const DEFAULT_FILTER: [WebhookEvent; 2] = [Self::Output, Self::Completed];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Output => "output",
            Self::Logs => "logs",
            Self::Completed => "completed",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }
}

/// How far `webhook-timestamp` may be from `now`. Replicate states none; the Standard Webhooks reference
/// libraries use five minutes, which also bounds replays.
pub const TIMESTAMP_TOLERANCE_SECS: i64 = 5 * 60;

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook secret must be whsec_ followed by base64")]
    BadSecret,
    #[error("missing or empty {0} header")]
    MissingHeader(&'static str),
    #[error("webhook-timestamp is not an integer")]
    BadTimestamp,
    #[error("webhook-timestamp is more than five minutes from now")]
    StaleTimestamp,
    #[error("no webhook-signature entry matches")]
    NoMatchingSignature,
}

/// A signing secret (`whsec_<base64 key>`), held as its raw key.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)") // never log key material
    }
}

impl WebhookSecret {
    /// Parses `whsec_<base64>`. A secret pasted without its prefix is accepted too, as the reference
    /// libraries do.
    pub fn parse(secret: &str) -> Result<Self, WebhookError> {
        let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
        let key = STANDARD.decode(b64).map_err(|_| WebhookError::BadSecret)?;
        if key.is_empty() {
            return Err(WebhookError::BadSecret);
        }
        Ok(Self { key })
    }

    /// A secret from raw key bytes.
    pub fn from_key(key: &[u8]) -> Self {
        Self { key: key.to_vec() }
    }

    /// The `whsec_...` form served by `GET /v1/webhooks/default/secret`.
    pub fn to_whsec(&self) -> String {
        format!("whsec_{}", STANDARD.encode(&self.key))
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> Hmac<Sha256> {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes a key of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `webhook-signature` value for a delivery: `v1,<base64 HMAC-SHA256>`.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self
            .mac(id, &timestamp.to_string(), body)
            .finalize()
            .into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// Checks a delivery's three headers against its raw body at time `now` (epoch seconds).
    /// Any one matching `v1` entry is enough (several appear while a secret is rotated); entries of
    /// other versions are skipped; comparison is constant time.
    pub fn verify(
        &self,
        id: Option<&str>,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now: i64,
    ) -> Result<(), WebhookError> {
        let (id, timestamp, signature) = check_headers(id, timestamp, signature, now)?;
        let mac = self.mac(id, timestamp, body);
        let matches = signature
            .split(' ')
            .filter_map(|entry| entry.strip_prefix("v1,"))
            .filter_map(|b64| STANDARD.decode(b64).ok())
            // `verify_slice` compares in constant time and refuses a tag of the wrong length.
            .any(|tag| mac.clone().verify_slice(&tag).is_ok());
        if matches {
            Ok(())
        } else {
            Err(WebhookError::NoMatchingSignature)
        }
    }
}

/// What can be checked without the secret: the three headers are present and the timestamp is within
/// [`TIMESTAMP_TOLERANCE_SECS`] of `now`. Answers the id, the trimmed timestamp and the signature list.
/// A receiver checks this first, so an unsigned or stale request costs nothing (no secret lookup).
pub fn check_headers<'a>(
    id: Option<&'a str>,
    timestamp: Option<&'a str>,
    signature: Option<&'a str>,
    now: i64,
) -> Result<(&'a str, &'a str, &'a str), WebhookError> {
    fn nonempty<'a>(v: Option<&'a str>, name: &'static str) -> Result<&'a str, WebhookError> {
        v.filter(|s| !s.is_empty())
            .ok_or(WebhookError::MissingHeader(name))
    }
    let id = nonempty(id, "webhook-id")?;
    let timestamp = nonempty(timestamp, "webhook-timestamp")?.trim();
    let signature = nonempty(signature, "webhook-signature")?;
    let ts: i64 = timestamp.parse().map_err(|_| WebhookError::BadTimestamp)?;
    if (now - ts).abs() > TIMESTAMP_TOLERANCE_SECS {
        return Err(WebhookError::StaleTimestamp);
    }
    Ok((id, timestamp, signature))
}

#[cfg(test)]
mod tests {
    use super::*;

    // The Standard Webhooks specification's published test vector (also used by svix's libraries).
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    fn secret() -> WebhookSecret {
        WebhookSecret::parse(SECRET).unwrap()
    }

    fn verify(sig: &str, body: &[u8], now: i64) -> Result<(), WebhookError> {
        secret().verify(Some(ID), Some(&TS.to_string()), Some(sig), body, now)
    }

    #[test]
    fn signs_the_standard_webhooks_vector() {
        assert_eq!(secret().sign(ID, TS, BODY), SIG);
        assert_eq!(secret().to_whsec(), SECRET);
    }

    #[test]
    fn verifies_the_vector_and_refuses_tampering() {
        assert_eq!(verify(SIG, BODY, TS), Ok(()));
        assert_eq!(
            verify(SIG, br#"{"test": 2432232315}"#, TS),
            Err(WebhookError::NoMatchingSignature)
        );
        let other = WebhookSecret::from_key(b"another key");
        assert_eq!(
            other.verify(Some(ID), Some("1614265330"), Some(SIG), BODY, TS),
            Err(WebhookError::NoMatchingSignature)
        );
        assert_eq!(
            secret().verify(Some("msg_other"), Some("1614265330"), Some(SIG), BODY, TS),
            Err(WebhookError::NoMatchingSignature)
        );
    }

    #[test]
    fn any_of_several_signatures_is_enough_and_unknown_versions_are_skipped() {
        let many = format!("v2,abc v1,AAAA {SIG}");
        assert_eq!(verify(&many, BODY, TS), Ok(()));
        assert_eq!(
            verify("v1,AAAA v1,!!notbase64", BODY, TS),
            Err(WebhookError::NoMatchingSignature)
        );
        assert_eq!(
            verify(&SIG.replace("v1,", "v2,"), BODY, TS),
            Err(WebhookError::NoMatchingSignature)
        );
    }

    #[test]
    fn timestamps_outside_five_minutes_are_refused() {
        assert_eq!(verify(SIG, BODY, TS + 300), Ok(()));
        assert_eq!(verify(SIG, BODY, TS - 300), Ok(()));
        assert_eq!(
            verify(SIG, BODY, TS + 301),
            Err(WebhookError::StaleTimestamp)
        );
        assert_eq!(
            verify(SIG, BODY, TS - 301),
            Err(WebhookError::StaleTimestamp)
        );
    }

    #[test]
    fn missing_headers_and_bad_secrets_are_named() {
        let s = secret();
        assert_eq!(
            s.verify(None, Some("1"), Some(SIG), BODY, 1),
            Err(WebhookError::MissingHeader("webhook-id"))
        );
        assert_eq!(
            s.verify(Some(ID), Some(""), Some(SIG), BODY, 1),
            Err(WebhookError::MissingHeader("webhook-timestamp"))
        );
        assert_eq!(
            s.verify(Some(ID), Some("1"), None, BODY, 1),
            Err(WebhookError::MissingHeader("webhook-signature"))
        );
        assert_eq!(
            s.verify(Some(ID), Some("x"), Some(SIG), BODY, 1),
            Err(WebhookError::BadTimestamp)
        );
        assert_eq!(
            WebhookSecret::parse("whsec_!!"),
            Err(WebhookError::BadSecret)
        );
        assert_eq!(WebhookSecret::parse("whsec_"), Err(WebhookError::BadSecret));
    }

    #[test]
    fn events_round_trip() {
        for e in WebhookEvent::ALL {
            assert_eq!(WebhookEvent::parse(e.as_str()), Some(e));
        }
        assert_eq!(WebhookEvent::parse("done"), None);
    }
}
