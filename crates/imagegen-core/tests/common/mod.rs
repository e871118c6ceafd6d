//! Token-signing helpers for the auth tests. Keys are the openssl-generated fixtures in
//! `tests/fixtures` (test-only material, see the README there) or derived from them.
#![allow(dead_code)]

use std::path::PathBuf;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature as EcSignature, SigningKey as EcSigningKey};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _};
use rsa::traits::PublicKeyParts as _;
use rsa::{Pkcs1v15Sign, RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};
use sha2::{Digest as _, Sha256};

/// The JWT secret of a local `supabase start`.
pub const LOCAL_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";
/// The literal anon key of a local `supabase start`.
pub const DEMO_ANON_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6ImFub24iLCJleHAiOjE5ODM4MTI5OTZ9.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0";
/// The literal service-role key of a local `supabase start`.
pub const DEMO_SERVICE_KEY: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJzdXBhYmFzZS1kZW1vIiwicm9sZSI6InNlcnZpY2Vfcm9sZSIsImV4cCI6MTk4MzgxMjk5Nn0.EGIM96RAZx35lJzdJsyH-qQwv8Hdp7fsn3W0YpN81IU";
/// A fixed "current time" for the tests (2023-11-14).
pub const NOW: i64 = 1_700_000_000;
/// The user id put in test access tokens.
pub const USER_ID: &str = "0b6f8a3e-5c1d-4b7a-9e2f-3d4c5b6a7980";
/// kid of `ec_a` in `fixtures/jwks.json`.
pub const EC_A_KID: &str = "4f1c3f0e-3b7a-4d3e-9b0a-6f5d2c1e8a01";
/// kid of `rsa_a` in `fixtures/jwks.json`.
pub const RSA_A_KID: &str = "rsa-a";

pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
        .join(name)
}

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(fixture_path(name)).expect("fixture readable")
}

pub fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn b64_decode(s: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(s).expect("test base64")
}

/// `base64url(header) . base64url(payload)` from JSON values.
pub fn signing_input(header: &Value, payload: &Value) -> String {
    format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(payload.to_string().as_bytes())
    )
}

/// Appends a signature to a signing input.
pub fn with_signature(input: &str, signature: &[u8]) -> String {
    format!("{input}.{}", b64(signature))
}

pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("hmac key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

pub fn sign_hs256(header: &Value, payload: &Value, key: &[u8]) -> String {
    let input = signing_input(header, payload);
    let sig = hmac_sha256(key, input.as_bytes());
    with_signature(&input, &sig)
}

pub fn es256_raw_signature(key: &EcSigningKey, input: &str) -> EcSignature {
    key.sign(input.as_bytes())
}

pub fn sign_es256(header: &Value, payload: &Value, key: &EcSigningKey) -> String {
    let input = signing_input(header, payload);
    let sig = es256_raw_signature(key, &input);
    with_signature(&input, &sig.to_bytes())
}

pub fn rs256_signature(key: &RsaPrivateKey, input: &str) -> Vec<u8> {
    let hashed = Sha256::digest(input.as_bytes());
    key.sign(Pkcs1v15Sign::new::<Sha256>(), &hashed)
        .expect("rsa sign")
}

pub fn sign_rs256(header: &Value, payload: &Value, key: &RsaPrivateKey) -> String {
    let input = signing_input(header, payload);
    let sig = rs256_signature(key, &input);
    with_signature(&input, &sig)
}

pub fn ec_key(name: &str) -> EcSigningKey {
    EcSigningKey::from_pkcs8_pem(&fixture(&format!("{name}.key.pem"))).expect("ec fixture key")
}

pub fn rsa_key(name: &str) -> RsaPrivateKey {
    RsaPrivateKey::from_pkcs8_pem(&fixture(&format!("{name}.key.pem"))).expect("rsa fixture key")
}

pub fn rsa_public(name: &str) -> RsaPublicKey {
    RsaPublicKey::from_public_key_pem(&fixture(&format!("{name}.pub.pem")))
        .expect("rsa fixture public key")
}

/// A JWK for an EC P-256 key, Supabase style; `kid: None` leaves it out.
pub fn ec_jwk(key: &EcSigningKey, kid: Option<&str>) -> Value {
    let point = key.verifying_key().to_encoded_point(false);
    let mut jwk = json!({
        "kty": "EC",
        "crv": "P-256",
        "x": b64(point.x().expect("x")),
        "y": b64(point.y().expect("y")),
    });
    if let Some(kid) = kid {
        jwk["kid"] = json!(kid);
    }
    jwk
}

/// A JWK for an RSA public key; `kid: None` leaves it out.
pub fn rsa_jwk(key: &RsaPublicKey, kid: Option<&str>) -> Value {
    let mut jwk = json!({
        "kty": "RSA",
        "n": b64(&key.n().to_bytes_be()),
        "e": b64(&key.e().to_bytes_be()),
    });
    if let Some(kid) = kid {
        jwk["kid"] = json!(kid);
    }
    jwk
}

pub fn jwks(keys: &[Value]) -> String {
    json!({ "keys": keys }).to_string()
}

pub fn header(alg: &str, kid: Option<&str>) -> Value {
    let mut h = json!({ "alg": alg, "typ": "JWT" });
    if let Some(kid) = kid {
        h["kid"] = json!(kid);
    }
    h
}

/// The payload of a Supabase Auth access token for `USER_ID`, valid from `now - 60` for an hour.
pub fn user_payload(now: i64) -> Value {
    json!({
        "iss": "http://127.0.0.1:54321/auth/v1",
        "sub": USER_ID,
        "aud": "authenticated",
        "exp": now + 3600,
        "iat": now - 60,
        "email": "user@example.com",
        "phone": "",
        "app_metadata": { "provider": "email", "providers": ["email"] },
        "user_metadata": { "email_verified": true },
        "role": "authenticated",
        "aal": "aal1",
        "amr": [{ "method": "password", "timestamp": now - 60 }],
        "session_id": "3c1a2b4d-0000-4000-8000-000000000001",
        "is_anonymous": false
    })
}

/// Flips the lowest bit of the first signature byte, keeping the encoding canonical.
pub fn flip_signature_bit(token: &str) -> String {
    let (input, sig) = token.rsplit_once('.').expect("three parts");
    let mut sig = b64_decode(sig);
    sig[0] ^= 1;
    with_signature(input, &sig)
}
