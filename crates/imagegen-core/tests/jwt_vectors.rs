//! Test vectors for Supabase JWT verification: valid tokens of each algorithm, time claims, and the
//! attacks of RFC 8725 (alg none, key confusion, unknown keys, malformed input).

mod common;

use common::*;
use imagegen_core::auth::{
    bearer_token, AuthError, Claims, JwtVerifier, KeyConfigError, LEEWAY, MAX_TOKEN_LEN,
};
use serde_json::{json, Value};

fn hs_verifier() -> JwtVerifier {
    JwtVerifier::new(Some(LOCAL_SECRET), None).expect("hs256 verifier")
}

/// Secret plus the committed fixture JWKS (ec_a, rsa_a).
fn full_verifier() -> JwtVerifier {
    JwtVerifier::new(Some(LOCAL_SECRET), Some(&fixture("jwks.json"))).expect("full verifier")
}

/// The committed fixture JWKS only, no HS256 secret.
fn jwks_verifier() -> JwtVerifier {
    JwtVerifier::new(None, Some(&fixture("jwks.json"))).expect("jwks verifier")
}

fn hs_user_token() -> String {
    sign_hs256(
        &header("HS256", None),
        &user_payload(NOW),
        LOCAL_SECRET.as_bytes(),
    )
}

fn verify_hs(payload: &Value) -> Result<Claims, AuthError> {
    hs_verifier().verify(
        &sign_hs256(&header("HS256", None), payload, LOCAL_SECRET.as_bytes()),
        NOW,
    )
}

fn user_id() -> uuid::Uuid {
    uuid::Uuid::parse_str(USER_ID).unwrap()
}

// ---------------------------------------------------------------------------------------------------
// Valid tokens

#[test]
fn hs256_user_token_verifies() {
    let claims = hs_verifier().verify(&hs_user_token(), NOW).expect("valid");
    assert_eq!(claims.require_user(), Ok(user_id()));
    assert_eq!(claims.role.as_deref(), Some("authenticated"));
    assert_eq!(claims.aud, vec!["authenticated".to_owned()]);
    assert_eq!(
        claims.iss.as_deref(),
        Some("http://127.0.0.1:54321/auth/v1")
    );
    assert_eq!(claims.exp, NOW + 3600);
    assert_eq!(claims.iat, Some(NOW - 60));
    assert_eq!(claims.nbf, None);
    assert_eq!(claims.email.as_deref(), Some("user@example.com"));
    assert_eq!(claims.phone.as_deref(), Some(""));
    assert_eq!(claims.aal.as_deref(), Some("aal1"));
    assert_eq!(
        claims.session_id.as_deref(),
        Some("3c1a2b4d-0000-4000-8000-000000000001")
    );
    assert!(!claims.is_anonymous);
    assert_eq!(claims.app_metadata().unwrap()["provider"], "email");
    assert_eq!(claims.user_metadata().unwrap()["email_verified"], true);
    assert_eq!(claims.raw["amr"][0]["method"], "password");
    assert_eq!(
        claims.require_service_role(),
        Err(AuthError::NotServiceRole)
    );
}

#[test]
fn supabase_demo_anon_key_verifies_but_is_not_a_user() {
    let claims = hs_verifier()
        .verify(DEMO_ANON_KEY, NOW)
        .expect("demo anon key");
    assert_eq!(claims.iss.as_deref(), Some("supabase-demo"));
    assert_eq!(claims.role.as_deref(), Some("anon"));
    assert_eq!(claims.exp, 1_983_812_996);
    assert!(claims.aud.is_empty());
    assert_eq!(claims.sub, None);
    assert_eq!(claims.require_user(), Err(AuthError::NotAUserToken));
    assert_eq!(
        claims.require_service_role(),
        Err(AuthError::NotServiceRole)
    );
}

#[test]
fn supabase_demo_service_key_verifies_as_service_role() {
    let claims = hs_verifier()
        .verify(DEMO_SERVICE_KEY, NOW)
        .expect("demo service key");
    assert_eq!(claims.role.as_deref(), Some("service_role"));
    assert_eq!(claims.require_service_role(), Ok(()));
    assert_eq!(claims.require_user(), Err(AuthError::NotAUserToken));
}

#[test]
fn demo_keys_fail_with_another_secret() {
    let other =
        JwtVerifier::new(Some("another-secret-of-at-least-thirty-two-bytes!"), None).unwrap();
    assert_eq!(
        other.verify(DEMO_ANON_KEY, NOW).unwrap_err(),
        AuthError::BadSignature
    );
    assert_eq!(
        other.verify(DEMO_SERVICE_KEY, NOW).unwrap_err(),
        AuthError::BadSignature
    );
}

#[test]
fn es256_token_verifies_with_fixture_jwks() {
    let token = sign_es256(
        &header("ES256", Some(EC_A_KID)),
        &user_payload(NOW),
        &ec_key("ec_a"),
    );
    for verifier in [jwks_verifier(), full_verifier()] {
        let claims = verifier.verify(&token, NOW).expect("valid ES256");
        assert_eq!(claims.require_user(), Ok(user_id()));
    }
}

#[test]
fn rs256_token_verifies_with_fixture_jwks() {
    let token = sign_rs256(
        &header("RS256", Some(RSA_A_KID)),
        &user_payload(NOW),
        &rsa_key("rsa_a"),
    );
    for verifier in [jwks_verifier(), full_verifier()] {
        let claims = verifier.verify(&token, NOW).expect("valid RS256");
        assert_eq!(claims.require_user(), Ok(user_id()));
    }
}

#[test]
fn tokens_without_kid_try_every_key_of_their_type() {
    let (ec_a, ec_b) = (ec_key("ec_a"), ec_key("ec_b"));
    let (rsa_a, rsa_b) = (rsa_key("rsa_a"), rsa_key("rsa_b"));
    let set = jwks(&[
        ec_jwk(&ec_a, Some("ec-a")),
        rsa_jwk(&rsa_public("rsa_a"), Some("rsa-a")),
        ec_jwk(&ec_b, None),
        rsa_jwk(&rsa_public("rsa_b"), Some("rsa-b")),
    ]);
    let verifier = JwtVerifier::new(None, Some(&set)).unwrap();
    let payload = user_payload(NOW);
    for token in [
        sign_es256(&header("ES256", None), &payload, &ec_a),
        sign_es256(&header("ES256", None), &payload, &ec_b),
        sign_rs256(&header("RS256", None), &payload, &rsa_a),
        sign_rs256(&header("RS256", None), &payload, &rsa_b),
    ] {
        verifier
            .verify(&token, NOW)
            .expect("kid-less token verifies");
    }
    // With a kid only that key is tried: rsa_b's signature under kid rsa-a fails.
    let misnamed = sign_rs256(&header("RS256", Some("rsa-a")), &payload, &rsa_b);
    assert_eq!(
        verifier.verify(&misnamed, NOW).unwrap_err(),
        AuthError::BadSignature
    );
    // A key set without the signer: every candidate fails.
    let only_a = JwtVerifier::new(None, Some(&jwks(&[ec_jwk(&ec_a, None)]))).unwrap();
    let by_b = sign_es256(&header("ES256", None), &payload, &ec_b);
    assert_eq!(
        only_a.verify(&by_b, NOW).unwrap_err(),
        AuthError::BadSignature
    );
}

#[test]
fn jwks_as_bare_array_is_accepted() {
    let ec_a = ec_key("ec_a");
    let bare = json!([ec_jwk(&ec_a, Some("k1"))]).to_string();
    let verifier = JwtVerifier::new(None, Some(&bare)).unwrap();
    let token = sign_es256(&header("ES256", Some("k1")), &user_payload(NOW), &ec_a);
    verifier.verify(&token, NOW).expect("bare-array JWKS");
}

#[test]
fn typ_is_optional_and_case_insensitive() {
    let payload = user_payload(NOW);
    let key = LOCAL_SECRET.as_bytes();
    for h in [
        json!({"alg": "HS256"}),
        json!({"alg": "HS256", "typ": "jwt"}),
    ] {
        hs_verifier()
            .verify(&sign_hs256(&h, &payload, key), NOW)
            .expect("typ accepted");
    }
    for typ in [json!("at+jwt"), json!("JWS"), json!(1)] {
        let token = sign_hs256(&json!({"alg": "HS256", "typ": typ}), &payload, key);
        assert!(
            matches!(
                hs_verifier().verify(&token, NOW),
                Err(AuthError::Malformed(_))
            ),
            "{typ}"
        );
    }
}

#[test]
fn unknown_header_and_payload_fields_are_tolerated() {
    let mut payload = user_payload(NOW);
    payload["custom_claim"] = json!({"nested": [1, 2, 3]});
    let h =
        json!({"alg": "HS256", "typ": "JWT", "x-extra": true, "jku": "https://evil.example/jwks"});
    let claims = hs_verifier()
        .verify(&sign_hs256(&h, &payload, LOCAL_SECRET.as_bytes()), NOW)
        .expect("unknown fields tolerated");
    assert_eq!(claims.raw["custom_claim"]["nested"][2], 3);
}

#[test]
fn secret_is_trimmed() {
    let verifier = JwtVerifier::new(Some(&format!("  {LOCAL_SECRET}\n")), None).unwrap();
    verifier
        .verify(&hs_user_token(), NOW)
        .expect("trimmed secret");
}

// ---------------------------------------------------------------------------------------------------
// Time claims

#[test]
fn expired_token_is_refused_after_leeway() {
    let exp = NOW;
    let mut payload = user_payload(NOW);
    payload["exp"] = json!(exp);
    let token = sign_hs256(&header("HS256", None), &payload, LOCAL_SECRET.as_bytes());
    let v = hs_verifier();
    assert!(v.verify(&token, exp - 1).is_ok());
    assert!(v.verify(&token, exp + LEEWAY - 1).is_ok(), "within leeway");
    assert_eq!(
        v.verify(&token, exp + LEEWAY).unwrap_err(),
        AuthError::Expired
    );
    assert_eq!(
        v.verify(&token, exp + 86_400).unwrap_err(),
        AuthError::Expired
    );
    // The demo keys expire in 2032.
    assert_eq!(
        v.verify(DEMO_ANON_KEY, 1_983_812_996 + LEEWAY).unwrap_err(),
        AuthError::Expired
    );
}

#[test]
fn not_yet_valid_token_is_refused_beyond_leeway() {
    let mut payload = user_payload(NOW);
    payload["nbf"] = json!(NOW + LEEWAY);
    assert!(verify_hs(&payload).is_ok(), "nbf within leeway");
    payload["nbf"] = json!(NOW + LEEWAY + 1);
    assert_eq!(verify_hs(&payload).unwrap_err(), AuthError::NotYetValid);
    payload["nbf"] = json!(NOW - 10);
    assert_eq!(verify_hs(&payload).unwrap().nbf, Some(NOW - 10));
}

#[test]
fn missing_or_non_numeric_exp_is_refused() {
    let mut payload = user_payload(NOW);
    payload.as_object_mut().unwrap().remove("exp");
    assert_eq!(verify_hs(&payload).unwrap_err(), AuthError::MissingExpiry);
    for bad in [
        json!(null),
        json!("9999999999"),
        json!(true),
        json!([1]),
        json!(1e300),
    ] {
        payload["exp"] = bad.clone();
        assert!(
            matches!(verify_hs(&payload), Err(AuthError::Malformed(_))),
            "exp {bad}"
        );
    }
    // A fractional NumericDate is allowed (RFC 7519 §2) and floored.
    payload["exp"] = json!((NOW + 100) as f64 + 0.75);
    assert_eq!(verify_hs(&payload).unwrap().exp, NOW + 100);
}

#[test]
fn non_numeric_nbf_or_iat_is_refused() {
    for claim in ["nbf", "iat"] {
        let mut payload = user_payload(NOW);
        payload[claim] = json!("soon");
        assert!(
            matches!(verify_hs(&payload), Err(AuthError::Malformed(_))),
            "{claim}"
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// Signatures

#[test]
fn one_flipped_signature_bit_is_refused() {
    let payload = user_payload(NOW);
    let tokens = [
        (
            hs_verifier(),
            sign_hs256(&header("HS256", None), &payload, LOCAL_SECRET.as_bytes()),
        ),
        (
            jwks_verifier(),
            sign_es256(&header("ES256", Some(EC_A_KID)), &payload, &ec_key("ec_a")),
        ),
        (
            jwks_verifier(),
            sign_rs256(
                &header("RS256", Some(RSA_A_KID)),
                &payload,
                &rsa_key("rsa_a"),
            ),
        ),
    ];
    for (verifier, token) in tokens {
        assert!(verifier.verify(&token, NOW).is_ok());
        let flipped = flip_signature_bit(&token);
        assert_eq!(
            verifier.verify(&flipped, NOW).unwrap_err(),
            AuthError::BadSignature
        );
    }
}

#[test]
fn altered_payload_is_refused() {
    // Swap the payload for one claiming service_role, keeping the original signature.
    let token = hs_user_token();
    let parts: Vec<&str> = token.split('.').collect();
    let mut payload = user_payload(NOW);
    payload["role"] = json!("service_role");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(payload.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(
        hs_verifier().verify(&forged, NOW).unwrap_err(),
        AuthError::BadSignature
    );

    let es = sign_es256(
        &header("ES256", Some(EC_A_KID)),
        &user_payload(NOW),
        &ec_key("ec_a"),
    );
    let parts: Vec<&str> = es.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64(payload.to_string().as_bytes()),
        parts[2]
    );
    assert_eq!(
        jwks_verifier().verify(&forged, NOW).unwrap_err(),
        AuthError::BadSignature
    );
}

#[test]
fn wrong_secret_is_refused() {
    let token = sign_hs256(
        &header("HS256", None),
        &user_payload(NOW),
        b"some-other-secret-that-is-long-enough-to-be-valid",
    );
    assert_eq!(
        hs_verifier().verify(&token, NOW).unwrap_err(),
        AuthError::BadSignature
    );
}

#[test]
fn es256_signed_by_another_key_is_refused() {
    let token = sign_es256(
        &header("ES256", Some(EC_A_KID)),
        &user_payload(NOW),
        &ec_key("ec_b"),
    );
    assert_eq!(
        jwks_verifier().verify(&token, NOW).unwrap_err(),
        AuthError::BadSignature
    );
}

#[test]
fn der_encoded_es256_signature_is_refused() {
    let key = ec_key("ec_a");
    let input = signing_input(&header("ES256", Some(EC_A_KID)), &user_payload(NOW));
    let sig = es256_raw_signature(&key, &input);
    let der = sig.to_der();
    assert_ne!(der.as_bytes().len(), 64);
    let token = with_signature(&input, der.as_bytes());
    assert!(matches!(
        jwks_verifier().verify(&token, NOW),
        Err(AuthError::Malformed(_))
    ));
    // The same signature as r||s verifies, so it is the encoding that is refused.
    assert!(jwks_verifier()
        .verify(&with_signature(&input, &sig.to_bytes()), NOW)
        .is_ok());
    // Other lengths are malformed too.
    let raw = sig.to_bytes();
    for bad in [&raw[..63], &[&raw[..], &[0]].concat()[..], &[]] {
        assert!(matches!(
            jwks_verifier().verify(&with_signature(&input, bad), NOW),
            Err(AuthError::Malformed(_))
        ));
    }
    // r = s = 0 has the right length but is no valid signature (and must not panic).
    assert_eq!(
        jwks_verifier()
            .verify(&with_signature(&input, &[0u8; 64]), NOW)
            .unwrap_err(),
        AuthError::BadSignature
    );
}

#[test]
fn rs256_signature_of_wrong_length_is_refused() {
    let input = signing_input(&header("RS256", Some(RSA_A_KID)), &user_payload(NOW));
    let sig = rs256_signature(&rsa_key("rsa_a"), &input);
    for bad in [&sig[1..], &[&[0u8][..], &sig[..]].concat()[..], &[]] {
        assert_eq!(
            jwks_verifier()
                .verify(&with_signature(&input, bad), NOW)
                .unwrap_err(),
            AuthError::BadSignature
        );
    }
}

// ---------------------------------------------------------------------------------------------------
// Algorithms

#[test]
fn alg_none_is_refused_in_any_case() {
    let payload = b64(user_payload(NOW).to_string().as_bytes());
    for alg in ["none", "NONE", "None", "nOnE"] {
        let h = b64(json!({"alg": alg, "typ": "JWT"}).to_string().as_bytes());
        for token in [
            format!("{h}.{payload}."),
            format!("{h}.{payload}.{}", b64(b"x")),
        ] {
            for verifier in [hs_verifier(), full_verifier()] {
                assert_eq!(
                    verifier.verify(&token, NOW).unwrap_err(),
                    AuthError::UnsupportedAlgorithm("none".to_owned()),
                    "alg {alg}"
                );
            }
        }
    }
}

#[test]
fn algorithms_other_than_hs256_es256_rs256_are_refused() {
    let payload = user_payload(NOW);
    for alg in [
        "HS384", "HS512", "RS512", "PS256", "ES384", "ES512", "EdDSA", "hs256", "Rs256", "rs256",
        "es256", "ES256K", "",
    ] {
        let token = sign_hs256(&header(alg, None), &payload, LOCAL_SECRET.as_bytes());
        let err = full_verifier().verify(&token, NOW).unwrap_err();
        assert!(
            matches!(err, AuthError::UnsupportedAlgorithm(_)),
            "alg {alg:?}: {err:?}"
        );
    }
    // A hostile alg name is not echoed back.
    let evil = "<script>alert(1)</script>";
    let token = sign_hs256(&header(evil, None), &payload, LOCAL_SECRET.as_bytes());
    let err = full_verifier().verify(&token, NOW).unwrap_err();
    assert_eq!(
        err,
        AuthError::UnsupportedAlgorithm("unrecognized".to_owned())
    );
    assert!(!err.to_string().contains("script"));
}

#[test]
fn missing_or_non_string_alg_is_malformed() {
    let payload = user_payload(NOW);
    for h in [
        json!({"typ": "JWT"}),
        json!({"alg": 256}),
        json!({"alg": null}),
    ] {
        let token = sign_hs256(&h, &payload, LOCAL_SECRET.as_bytes());
        assert!(
            matches!(
                hs_verifier().verify(&token, NOW),
                Err(AuthError::Malformed(_))
            ),
            "{h}"
        );
    }
}

#[test]
fn crit_header_is_refused() {
    let h = json!({"alg": "HS256", "typ": "JWT", "crit": ["b64"], "b64": false});
    let token = sign_hs256(&h, &user_payload(NOW), LOCAL_SECRET.as_bytes());
    assert!(matches!(
        hs_verifier().verify(&token, NOW),
        Err(AuthError::Malformed(_))
    ));
}

// ---------------------------------------------------------------------------------------------------
// Algorithm/key binding (RFC 8725 §2.1, §3.1)

#[test]
fn hs256_keyed_with_rsa_public_key_material_is_refused() {
    use rsa::pkcs8::EncodePublicKey as _;
    use rsa::traits::PublicKeyParts as _;
    let public = rsa_public("rsa_a");
    let pem = fixture("rsa_a.pub.pem");
    let jwk_json = rsa_jwk(&public, Some(RSA_A_KID)).to_string();
    let der = public.to_public_key_der().unwrap();
    let secrets: Vec<Vec<u8>> = vec![
        pem.clone().into_bytes(),
        pem.trim_end().as_bytes().to_vec(),
        der.as_bytes().to_vec(),
        public.n().to_bytes_be(),
        jwk_json.into_bytes(),
    ];
    let payload = user_payload(NOW);
    for secret in &secrets {
        // No kid: checked against the configured secret only.
        let token = sign_hs256(&header("HS256", None), &payload, secret);
        assert_eq!(
            full_verifier().verify(&token, NOW).unwrap_err(),
            AuthError::BadSignature
        );
        // No secret configured: HS256 has no key at all.
        assert_eq!(
            jwks_verifier().verify(&token, NOW).unwrap_err(),
            AuthError::UnknownKey
        );
        // Naming the RSA key's kid is the confusion attempt itself.
        let token = sign_hs256(&header("HS256", Some(RSA_A_KID)), &payload, secret);
        assert_eq!(
            full_verifier().verify(&token, NOW).unwrap_err(),
            AuthError::KeyMismatch
        );
        assert_eq!(
            jwks_verifier().verify(&token, NOW).unwrap_err(),
            AuthError::KeyMismatch
        );
    }
    // Same for the EC key: its JWK or SEC1 point is no HMAC secret either.
    let ec_point = ec_key("ec_a").verifying_key().to_encoded_point(false);
    let token = sign_hs256(&header("HS256", None), &payload, ec_point.as_bytes());
    assert_eq!(
        full_verifier().verify(&token, NOW).unwrap_err(),
        AuthError::BadSignature
    );
    assert_eq!(
        jwks_verifier().verify(&token, NOW).unwrap_err(),
        AuthError::UnknownKey
    );
}

#[test]
fn rs256_header_with_ec_kid_is_refused() {
    // Whatever the signature, the kid names an EC key, which may only verify ES256.
    let payload = user_payload(NOW);
    let token = sign_rs256(
        &header("RS256", Some(EC_A_KID)),
        &payload,
        &rsa_key("rsa_a"),
    );
    assert_eq!(
        jwks_verifier().verify(&token, NOW).unwrap_err(),
        AuthError::KeyMismatch
    );
    let ec_input = signing_input(&header("RS256", Some(EC_A_KID)), &payload);
    let ec_sig = es256_raw_signature(&ec_key("ec_a"), &ec_input).to_bytes();
    let token = with_signature(&ec_input, &ec_sig);
    assert_eq!(
        jwks_verifier().verify(&token, NOW).unwrap_err(),
        AuthError::KeyMismatch
    );
}

#[test]
fn es256_header_with_rsa_kid_is_refused() {
    let token = sign_es256(
        &header("ES256", Some(RSA_A_KID)),
        &user_payload(NOW),
        &ec_key("ec_a"),
    );
    assert_eq!(
        jwks_verifier().verify(&token, NOW).unwrap_err(),
        AuthError::KeyMismatch
    );
}

#[test]
fn unknown_kid_is_refused() {
    let payload = user_payload(NOW);
    let es = sign_es256(
        &header("ES256", Some("no-such-key")),
        &payload,
        &ec_key("ec_a"),
    );
    let rs = sign_rs256(
        &header("RS256", Some("no-such-key")),
        &payload,
        &rsa_key("rsa_a"),
    );
    for token in [es, rs] {
        assert_eq!(
            full_verifier().verify(&token, NOW).unwrap_err(),
            AuthError::UnknownKey
        );
    }
    let h = json!({"alg": "ES256", "kid": 7});
    let token = sign_es256(&h, &payload, &ec_key("ec_a"));
    assert!(matches!(
        full_verifier().verify(&token, NOW),
        Err(AuthError::Malformed(_))
    ));
}

#[test]
fn asymmetric_tokens_are_refused_without_a_key_of_their_type() {
    let payload = user_payload(NOW);
    let es = sign_es256(&header("ES256", None), &payload, &ec_key("ec_a"));
    let rs = sign_rs256(&header("RS256", None), &payload, &rsa_key("rsa_a"));
    // Secret only.
    for token in [&es, &rs] {
        assert_eq!(
            hs_verifier().verify(token, NOW).unwrap_err(),
            AuthError::UnknownKey
        );
    }
    // Only an EC key: RS256 has no candidate, and the reverse.
    let ec_only = JwtVerifier::new(None, Some(&jwks(&[ec_jwk(&ec_key("ec_a"), None)]))).unwrap();
    assert_eq!(ec_only.verify(&rs, NOW).unwrap_err(), AuthError::UnknownKey);
    let rsa_only =
        JwtVerifier::new(None, Some(&jwks(&[rsa_jwk(&rsa_public("rsa_a"), None)]))).unwrap();
    assert_eq!(
        rsa_only.verify(&es, NOW).unwrap_err(),
        AuthError::UnknownKey
    );
}

#[test]
fn jwk_alg_use_and_key_ops_restrict_a_key() {
    let rsa_a = rsa_key("rsa_a");
    let token = sign_rs256(&header("RS256", Some("k")), &user_payload(NOW), &rsa_a);
    let base = rsa_jwk(&rsa_public("rsa_a"), Some("k"));
    let with = |field: &str, value: Value| {
        let mut jwk = base.clone();
        jwk[field] = value;
        JwtVerifier::new(Some(LOCAL_SECRET), Some(&jwks(&[jwk]))).unwrap()
    };
    // Allowed forms.
    for (field, value) in [
        ("alg", json!("RS256")),
        ("use", json!("sig")),
        ("key_ops", json!(["verify"])),
        ("ext", json!(true)),
    ] {
        with(field, value.clone())
            .verify(&token, NOW)
            .unwrap_or_else(|e| panic!("{field} {value}: {e}"));
    }
    // Keys that must not verify RS256 are skipped, so the kid is unknown.
    for (field, value) in [
        ("alg", json!("RS512")),
        ("alg", json!("PS256")),
        ("alg", json!("ES256")),
        ("alg", json!("HS256")),
        ("use", json!("enc")),
        ("key_ops", json!(["encrypt"])),
        ("key_ops", json!([])),
        ("key_ops", json!("verify")),
    ] {
        let err = with(field, value.clone()).verify(&token, NOW).unwrap_err();
        assert_eq!(err, AuthError::UnknownKey, "{field} {value}");
    }
    // Same for an EC key declared for another algorithm.
    let ec_a = ec_key("ec_a");
    let mut jwk = ec_jwk(&ec_a, Some("e"));
    jwk["alg"] = json!("RS256");
    let verifier = JwtVerifier::new(Some(LOCAL_SECRET), Some(&jwks(&[jwk]))).unwrap();
    let token = sign_es256(&header("ES256", Some("e")), &user_payload(NOW), &ec_a);
    assert_eq!(
        verifier.verify(&token, NOW).unwrap_err(),
        AuthError::UnknownKey
    );
}

// ---------------------------------------------------------------------------------------------------
// Key configuration

#[test]
fn unparseable_jwks_is_a_config_error() {
    for bad in ["{", "not json", "{\"keys\": [}"] {
        assert!(matches!(
            JwtVerifier::new(Some(LOCAL_SECRET), Some(bad)),
            Err(KeyConfigError::InvalidJwksJson(_))
        ));
    }
    for bad in ["{}", "{\"keys\": {}}", "\"keys\"", "42", "{\"keys\": null}"] {
        assert_eq!(
            JwtVerifier::new(Some(LOCAL_SECRET), Some(bad)).unwrap_err(),
            KeyConfigError::InvalidJwksShape,
            "{bad}"
        );
    }
    for bad in [
        "[1]",
        "[{\"kid\": \"x\"}]",
        "[{\"kty\": 1}]",
        "[{\"kty\": \"EC\", \"kid\": 5}]",
    ] {
        assert!(
            matches!(
                JwtVerifier::new(Some(LOCAL_SECRET), Some(bad)),
                Err(KeyConfigError::InvalidKey { index: 0, .. })
            ),
            "{bad}"
        );
    }
}

#[test]
fn unsupported_key_types_are_skipped() {
    let skipped = json!([
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo", "kid": "ed"},
        {"kty": "EC", "crv": "P-384", "x": "AAAA", "y": "AAAA", "kid": "p384"},
        {"kty": "oct", "k": b64(b"jwks-hmac-key-that-must-never-be-used-here"), "kid": "oct"},
        {"kty": "EC", "crv": "P-256", "use": "enc", "x": "AAAA", "y": "AAAA"}
    ]);
    // Skipped, not errors; with nothing usable and no secret there is no key at all.
    assert_eq!(
        JwtVerifier::new(None, Some(&skipped.to_string())).unwrap_err(),
        KeyConfigError::NoKeys
    );
    let verifier = JwtVerifier::new(Some(LOCAL_SECRET), Some(&skipped.to_string())).unwrap();
    verifier
        .verify(&hs_user_token(), NOW)
        .expect("secret still works");
    // The oct key is never used as an HMAC secret.
    let token = sign_hs256(
        &header("HS256", None),
        &user_payload(NOW),
        b"jwks-hmac-key-that-must-never-be-used-here",
    );
    assert_eq!(
        verifier.verify(&token, NOW).unwrap_err(),
        AuthError::BadSignature
    );
    // Unsupported keys next to supported ones.
    let mut mixed = skipped.as_array().unwrap().clone();
    mixed.push(ec_jwk(&ec_key("ec_a"), Some("ok")));
    let verifier = JwtVerifier::new(None, Some(&Value::Array(mixed).to_string())).unwrap();
    let token = sign_es256(
        &header("ES256", Some("ok")),
        &user_payload(NOW),
        &ec_key("ec_a"),
    );
    verifier
        .verify(&token, NOW)
        .expect("EC key among skipped ones");
}

#[test]
fn weak_rsa_key_is_a_config_error() {
    let weak = rsa_public("rsa_weak1024");
    let err = JwtVerifier::new(
        Some(LOCAL_SECRET),
        Some(&jwks(&[rsa_jwk(&weak, Some("weak"))])),
    )
    .unwrap_err();
    assert!(
        matches!(err, KeyConfigError::WeakRsaKey { bits: 1024, .. }),
        "{err:?}"
    );
}

#[test]
fn broken_supported_keys_are_config_errors() {
    let good = ec_jwk(&ec_key("ec_a"), Some("k"));
    let mut off_curve = good.clone();
    off_curve["y"] = good["x"].clone();
    let mut short_x = good.clone();
    short_x["x"] = json!(b64(&[1u8; 31]));
    let mut padded_x = good.clone();
    padded_x["x"] = json!(format!("{}=", good["x"].as_str().unwrap()));
    let mut no_y = good.clone();
    no_y.as_object_mut().unwrap().remove("y");
    let mut rsa_no_e = rsa_jwk(&rsa_public("rsa_a"), None);
    rsa_no_e.as_object_mut().unwrap().remove("e");
    for bad in [off_curve, short_x, padded_x, no_y, rsa_no_e] {
        let err = JwtVerifier::new(Some(LOCAL_SECRET), Some(&jwks(std::slice::from_ref(&bad))))
            .unwrap_err();
        assert!(
            matches!(err, KeyConfigError::InvalidKey { .. }),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn secret_configuration_rules() {
    assert_eq!(
        JwtVerifier::new(Some("too-short-secret"), None).unwrap_err(),
        KeyConfigError::WeakHs256Secret { len: 16 }
    );
    for none in [None, Some(""), Some("   \n")] {
        assert_eq!(
            JwtVerifier::new(none, None).unwrap_err(),
            KeyConfigError::NoKeys
        );
        assert_eq!(
            JwtVerifier::new(none, Some("")).unwrap_err(),
            KeyConfigError::NoKeys
        );
        assert_eq!(
            JwtVerifier::new(none, Some("{\"keys\": []}")).unwrap_err(),
            KeyConfigError::NoKeys
        );
    }
}

#[test]
fn verifier_debug_does_not_leak_the_secret() {
    let dbg = format!("{:?}", full_verifier());
    assert!(!dbg.contains(LOCAL_SECRET), "{dbg}");
    assert!(!dbg.contains("super-secret"), "{dbg}");
    assert!(dbg.contains(RSA_A_KID), "{dbg}");
}

// ---------------------------------------------------------------------------------------------------
// Malformed tokens

#[test]
fn malformed_tokens_are_refused() {
    let token = hs_user_token();
    let parts: Vec<&str> = token.split('.').collect();
    let (h, p, s) = (parts[0], parts[1], parts[2]);
    let not_json = b64(b"{not json");
    let array = b64(b"[\"alg\",\"HS256\"]");
    let cases = [
        String::new(),
        ".".to_owned(),
        "..".to_owned(),
        "...".to_owned(),
        format!("{h}.{p}"),
        format!("{h}.{p}.{s}.{s}"),
        format!("{h}.{p}.{s}."),
        format!(".{p}.{s}"),
        format!("{h}..{s}"),
        format!("{h}*.{p}.{s}"),
        format!("{h}.{p}.{s}="),
        format!("{h}=.{p}.{s}"),
        format!("{h}.{p}=.{s}"),
        format!("{}.{p}.{s}", h.replace('-', "+").replace('_', "/") + "+/"),
        format!("{h}.{p}.{}", s.replace('-', "+").replace('_', "/") + "+/"),
        format!("{not_json}.{p}.{s}"),
        format!("{array}.{p}.{s}"),
        format!(" {token}"),
        format!("{token}\n"),
        "not a token".to_owned(),
    ];
    for case in &cases {
        let err = hs_verifier().verify(case, NOW).unwrap_err();
        assert!(matches!(err, AuthError::Malformed(_)), "{case:?}: {err:?}");
    }
}

#[test]
fn non_canonical_base64_is_refused() {
    // "AA" is one zero byte; "AB" has a non-zero trailing bit and is not a canonical encoding.
    let input = signing_input(&header("HS256", None), &user_payload(NOW));
    assert_eq!(
        hs_verifier()
            .verify(&format!("{input}.AA"), NOW)
            .unwrap_err(),
        AuthError::BadSignature
    );
    assert!(matches!(
        hs_verifier().verify(&format!("{input}.AB"), NOW),
        Err(AuthError::Malformed(_))
    ));
}

#[test]
fn signed_payload_that_is_not_a_json_object_is_malformed() {
    let h = b64(header("HS256", None).to_string().as_bytes());
    for payload in [
        &b"[1,2,3]"[..],
        b"\"user\"",
        b"42",
        b"null",
        b"{\"exp\":",
        b"\xff\xfe",
    ] {
        let input = format!("{h}.{}", b64(payload));
        let token = with_signature(
            &input,
            &hmac_sha256(LOCAL_SECRET.as_bytes(), input.as_bytes()),
        );
        let err = hs_verifier().verify(&token, NOW).unwrap_err();
        assert!(
            matches!(err, AuthError::Malformed(_)),
            "{payload:?}: {err:?}"
        );
    }
}

#[test]
fn claims_of_the_wrong_type_are_malformed() {
    for (claim, value) in [
        ("aud", json!(1)),
        ("aud", json!(["authenticated", 1])),
        ("aud", json!({"a": 1})),
        ("sub", json!(12345)),
        ("role", json!(["authenticated"])),
        ("iss", json!(false)),
        ("email", json!(1)),
        ("session_id", json!({})),
        ("is_anonymous", json!("false")),
    ] {
        let mut payload = user_payload(NOW);
        payload[claim] = value.clone();
        assert!(
            matches!(verify_hs(&payload), Err(AuthError::Malformed(_))),
            "{claim}: {value}"
        );
    }
}

#[test]
fn oversized_token_is_refused_before_decoding() {
    let mut payload = user_payload(NOW);
    payload["user_metadata"] = json!({ "bio": "x".repeat(MAX_TOKEN_LEN / 2) });
    let fits = sign_hs256(&header("HS256", None), &payload, LOCAL_SECRET.as_bytes());
    assert!(fits.len() < MAX_TOKEN_LEN);
    hs_verifier()
        .verify(&fits, NOW)
        .expect("large but within the cap");

    payload["user_metadata"] = json!({ "bio": "x".repeat(MAX_TOKEN_LEN) });
    let huge = sign_hs256(&header("HS256", None), &payload, LOCAL_SECRET.as_bytes());
    assert!(huge.len() > MAX_TOKEN_LEN);
    assert_eq!(
        hs_verifier().verify(&huge, NOW).unwrap_err(),
        AuthError::Malformed("token is too long")
    );
    let garbage = "a".repeat(1 << 20);
    assert_eq!(
        hs_verifier().verify(&garbage, NOW).unwrap_err(),
        AuthError::Malformed("token is too long")
    );
}

#[test]
fn deeply_nested_json_does_not_overflow() {
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let input = format!("{}.{}", b64(deep.as_bytes()), b64(b"{}"));
    let err = hs_verifier()
        .verify(&with_signature(&input, &[0; 32]), NOW)
        .unwrap_err();
    assert!(matches!(err, AuthError::Malformed(_)));
}

#[test]
fn mutated_tokens_never_panic_or_verify() {
    let payload = user_payload(NOW);
    let verifier = full_verifier();
    let tokens = [
        (
            1,
            sign_hs256(&header("HS256", None), &payload, LOCAL_SECRET.as_bytes()),
        ),
        (
            7,
            sign_es256(&header("ES256", Some(EC_A_KID)), &payload, &ec_key("ec_a")),
        ),
        (
            61,
            sign_rs256(
                &header("RS256", Some(RSA_A_KID)),
                &payload,
                &rsa_key("rsa_a"),
            ),
        ),
    ];
    for (step, token) in &tokens {
        assert!(verifier.verify(token, NOW).is_ok());
        let bytes = token.as_bytes();
        for i in (0..bytes.len()).step_by(*step) {
            for replacement in [b'A', b'.', b'_', b'='] {
                if bytes[i] == replacement {
                    continue;
                }
                let mut mutated = bytes.to_vec();
                mutated[i] = replacement;
                let mutated = String::from_utf8(mutated).unwrap();
                assert!(
                    verifier.verify(&mutated, NOW).is_err(),
                    "mutation at {i} verified"
                );
            }
            assert!(
                verifier.verify(&token[..i], NOW).is_err(),
                "truncation at {i} verified"
            );
        }
    }
    // Pseudo-random byte strings (a fixed LCG, so the test is reproducible).
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..2000 {
        let mut s = String::new();
        for _ in 0..(state % 200) {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let c = char::from_u32((state >> 33) as u32 % 0x250).unwrap_or('.');
            s.push(if state % 7 == 0 { '.' } else { c });
        }
        assert!(verifier.verify(&s, NOW).is_err());
    }
}

// ---------------------------------------------------------------------------------------------------
// Role checks

#[test]
fn require_user_needs_authenticated_role_audience_and_uuid_sub() {
    let ok = user_payload(NOW);
    assert_eq!(verify_hs(&ok).unwrap().require_user(), Ok(user_id()));

    let mut aud_list = ok.clone();
    aud_list["aud"] = json!(["other", "authenticated"]);
    assert_eq!(verify_hs(&aud_list).unwrap().require_user(), Ok(user_id()));

    let mut anonymous_user = ok.clone();
    anonymous_user["is_anonymous"] = json!(true);
    let claims = verify_hs(&anonymous_user).unwrap();
    assert!(claims.is_anonymous);
    assert_eq!(claims.require_user(), Ok(user_id()));

    let braced = format!("{{{USER_ID}}}");
    let simple = USER_ID.replace('-', "");
    let urn = format!("urn:uuid:{USER_ID}");
    let refused: Vec<(&str, Option<Value>)> = vec![
        ("aud", Some(json!("other"))),
        ("aud", Some(json!(["other"]))),
        ("aud", Some(json!([]))),
        ("aud", None),
        ("role", Some(json!("anon"))),
        ("role", Some(json!("service_role"))),
        ("role", Some(json!("Authenticated"))),
        ("role", None),
        ("sub", Some(json!("not-a-uuid"))),
        ("sub", Some(json!(braced))),
        ("sub", Some(json!(simple))),
        ("sub", Some(json!(urn))),
        ("sub", Some(json!("00000000-0000-0000-0000-000000000000"))),
        ("sub", Some(json!(""))),
        ("sub", None),
    ];
    for (claim, value) in refused {
        let mut payload = ok.clone();
        match &value {
            Some(v) => payload[claim] = v.clone(),
            None => {
                payload.as_object_mut().unwrap().remove(claim);
            }
        }
        let claims = verify_hs(&payload).expect("signature is fine");
        assert_eq!(
            claims.require_user(),
            Err(AuthError::NotAUserToken),
            "{claim}: {value:?}"
        );
    }
}

#[test]
fn require_service_role_needs_service_role() {
    let mut payload = user_payload(NOW);
    for (role, ok) in [
        ("service_role", true),
        ("authenticated", false),
        ("anon", false),
        ("SERVICE_ROLE", false),
    ] {
        payload["role"] = json!(role);
        let result = verify_hs(&payload).unwrap().require_service_role();
        assert_eq!(result.is_ok(), ok, "{role}");
    }
}

// ---------------------------------------------------------------------------------------------------
// Authorization header

#[test]
fn bearer_token_parsing() {
    let accepted = [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc.def.ghi", "abc.def.ghi"),
        ("BEARER abc.def.ghi", "abc.def.ghi"),
        ("  Bearer    abc.def.ghi  ", "abc.def.ghi"),
        ("Bearer\tabc.def.ghi", "abc.def.ghi"),
    ];
    for (header, token) in accepted {
        assert_eq!(bearer_token(Some(header)), Ok(token), "{header:?}");
    }
    let missing = [
        None,
        Some(""),
        Some("   "),
        Some("Bearer"),
        Some("Bearer "),
        Some("Bearer    "),
        Some("Basic dXNlcjpwYXNz"),
        Some("Token abc.def.ghi"),
        Some("Bearerabc.def.ghi"),
        Some("abc.def.ghi"),
    ];
    for header in missing {
        assert_eq!(
            bearer_token(header),
            Err(AuthError::MissingToken),
            "{header:?}"
        );
    }
    assert!(matches!(
        bearer_token(Some("Bearer a b")),
        Err(AuthError::Malformed(_))
    ));
}

#[test]
fn bearer_token_feeds_verify() {
    let header_value = format!("Bearer {DEMO_SERVICE_KEY}");
    let token = bearer_token(Some(&header_value)).unwrap();
    hs_verifier()
        .verify(token, NOW)
        .unwrap()
        .require_service_role()
        .unwrap();
}

// ---------------------------------------------------------------------------------------------------
// Error reporting

#[test]
fn error_codes_and_statuses_are_stable() {
    let cases = [
        (AuthError::MissingToken, "missing_token", 401),
        (AuthError::Malformed("x"), "invalid_token", 401),
        (
            AuthError::UnsupportedAlgorithm("none".into()),
            "invalid_token",
            401,
        ),
        (AuthError::UnknownKey, "invalid_token", 401),
        (AuthError::KeyMismatch, "invalid_token", 401),
        (AuthError::BadSignature, "invalid_token", 401),
        (AuthError::MissingExpiry, "invalid_token", 401),
        (AuthError::Expired, "token_expired", 401),
        (AuthError::NotYetValid, "token_not_yet_valid", 401),
        (AuthError::NotAUserToken, "forbidden_role", 403),
        (AuthError::NotServiceRole, "forbidden_role", 403),
    ];
    for (err, code, status) in cases {
        assert_eq!(err.code(), code, "{err:?}");
        assert_eq!(err.http_status(), status, "{err:?}");
        assert!(!err.to_string().is_empty());
    }
}

#[test]
fn error_messages_never_echo_the_token() {
    let payload = user_payload(NOW);
    let token = hs_user_token();
    let tokens = vec![
        format!("{token}x"),
        flip_signature_bit(&token),
        sign_hs256(
            &header("HS256", None),
            &payload,
            b"wrong-secret-wrong-secret-wrong-secret",
        ),
        sign_hs256(&header("HS999", None), &payload, LOCAL_SECRET.as_bytes()),
        sign_es256(
            &header("ES256", Some("unknown-kid-value")),
            &payload,
            &ec_key("ec_a"),
        ),
        token[..token.len() / 2].to_owned(),
        DEMO_ANON_KEY.to_owned(),
    ];
    for t in &tokens {
        let message = match full_verifier().verify(t, NOW) {
            Err(e) => e.to_string(),
            Ok(c) => c.require_user().unwrap_err().to_string(),
        };
        for segment in t.split('.').filter(|s| s.len() >= 8) {
            assert!(!message.contains(segment), "{message:?} echoes the token");
        }
        assert!(!message.contains("unknown-kid-value"), "{message:?}");
        assert!(!message.contains(USER_ID), "{message:?}");
    }
}
