//! Parsing of `SUPABASE_JWKS` (RFC 7517) into verification keys.
//!
//! Each usable JWK becomes exactly one (algorithm, public key) pair, fixed at load time, so that the
//! verifier can bind a token's `alg` to a key of that algorithm only (RFC 8725 §3.1).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature as EcSignature, VerifyingKey as EcVerifyingKey};
use p256::EncodedPoint;
use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::error::KeyConfigError;
use super::jwt::Alg;

/// RFC 7518 §3.3: RSA keys for RS256 must be at least 2048 bits. (The rsa crate caps them at 4096.)
const MIN_RSA_BITS: usize = 2048;

/// Public key material of one usable JWK.
enum Material {
    /// EC P-256 public key, for ES256 only.
    Es256(EcVerifyingKey),
    /// RSA public key, for RS256 only.
    Rs256(RsaPublicKey),
}

/// One usable verification key from the JWKS.
pub(crate) struct Jwk {
    kid: Option<String>,
    material: Material,
}

impl Jwk {
    /// The key's `kid`, if it has one.
    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The single algorithm this key may verify.
    pub(crate) fn alg(&self) -> Alg {
        match self.material {
            Material::Es256(_) => Alg::Es256,
            Material::Rs256(_) => Alg::Rs256,
        }
    }

    /// Checks `signature` over `signing_input`. The caller has matched the token's alg to [`Jwk::alg`].
    pub(crate) fn verify(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        match &self.material {
            Material::Es256(key) => {
                // RFC 7518 §3.4: the JWS signature is r||s, 32 bytes each, not DER. `from_slice` takes
                // exactly 64 bytes and refuses r or s of zero or not below the group order.
                match EcSignature::from_slice(signature) {
                    Ok(sig) => key.verify(signing_input, &sig).is_ok(),
                    Err(_) => false,
                }
            }
            Material::Rs256(key) => {
                // RFC 7518 §3.3: RSASSA-PKCS1-v1_5 with SHA-256. `new::<Sha256>` puts the DigestInfo
                // prefix in the check; the rsa crate also requires the signature to be exactly the
                // modulus length. Verification uses no randomness.
                let hashed = Sha256::digest(signing_input);
                key.verify(Pkcs1v15Sign::new::<Sha256>(), &hashed, signature)
                    .is_ok()
            }
        }
    }

    /// Short description for `Debug`, no key material.
    pub(crate) fn describe(&self) -> String {
        format!("{:?}:{}", self.alg(), self.kid().unwrap_or("<no kid>"))
    }
}

/// Parses a JWKS given as `{"keys": [...]}` or as a bare array of JWKs.
///
/// Keys that can never verify one of our algorithms (other `kty`/`crv`, `use` other than `sig`,
/// `key_ops` without `verify`, a JWK `alg` other than ES256/RS256 for its type) are skipped. Keys of a
/// supported type with broken parameters, and RSA keys under 2048 bits, are configuration errors.
pub(crate) fn parse_jwks(json: &str) -> Result<Vec<Jwk>, KeyConfigError> {
    let doc: Value =
        serde_json::from_str(json).map_err(|e| KeyConfigError::InvalidJwksJson(e.to_string()))?;
    let entries = match &doc {
        Value::Array(items) => items,
        Value::Object(obj) => match obj.get("keys") {
            Some(Value::Array(items)) => items,
            _ => return Err(KeyConfigError::InvalidJwksShape),
        },
        _ => return Err(KeyConfigError::InvalidJwksShape),
    };
    let mut keys = Vec::new();
    for (index, entry) in entries.iter().enumerate() {
        if let Some(key) = parse_jwk(index, entry)? {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// One JWK: `Ok(None)` when it is not a key we can use, `Err` when it is one but is broken.
fn parse_jwk(index: usize, entry: &Value) -> Result<Option<Jwk>, KeyConfigError> {
    let invalid = |kid: Option<String>, reason: &'static str| KeyConfigError::InvalidKey {
        index,
        kid,
        reason,
    };
    let Some(obj) = entry.as_object() else {
        return Err(invalid(None, "not a JSON object"));
    };
    let kid = match obj.get("kid") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(invalid(None, "kid is not a string")),
    };
    let Some(kty) = obj.get("kty").and_then(Value::as_str) else {
        // RFC 7517 §4.1: kty is required.
        return Err(invalid(kid, "kty is missing or not a string"));
    };
    // RFC 7517 §4.2/§4.3: a key published for encryption, or whose operations exclude verification,
    // must not be used to verify signatures.
    if let Some(usage) = obj.get("use") {
        if usage.as_str() != Some("sig") {
            return Ok(None);
        }
    }
    if let Some(ops) = obj.get("key_ops") {
        let verifies = ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")));
        if !verifies {
            return Ok(None);
        }
    }
    let jwk_alg = obj.get("alg").and_then(Value::as_str);
    let material = match kty {
        "EC" => {
            if obj.get("crv").and_then(Value::as_str) != Some("P-256") {
                return Ok(None);
            }
            if jwk_alg.is_some_and(|a| a != "ES256") {
                return Ok(None);
            }
            let (x, y) = match (coordinate(obj, "x"), coordinate(obj, "y")) {
                (Some(x), Some(y)) => (x, y),
                _ => return Err(invalid(kid, "x and y must be 32-byte base64url values")),
            };
            let point = EncodedPoint::from_affine_coordinates(&x.into(), &y.into(), false);
            // Refuses points not on the curve and the identity (invalid-curve attacks).
            match EcVerifyingKey::from_encoded_point(&point) {
                Ok(key) => Material::Es256(key),
                Err(_) => return Err(invalid(kid, "x, y is not a point on P-256")),
            }
        }
        "RSA" => {
            if jwk_alg.is_some_and(|a| a != "RS256") {
                return Ok(None);
            }
            let (Some(n), Some(e)) = (b64_param(obj, "n"), b64_param(obj, "e")) else {
                return Err(invalid(kid, "n and e must be base64url values"));
            };
            let n = BigUint::from_bytes_be(&n);
            let e = BigUint::from_bytes_be(&e);
            let bits = n.bits();
            if bits < MIN_RSA_BITS {
                return Err(KeyConfigError::WeakRsaKey { index, kid, bits });
            }
            match RsaPublicKey::new(n, e) {
                Ok(key) => Material::Rs256(key),
                Err(_) => {
                    return Err(invalid(
                        kid,
                        "RSA modulus over 4096 bits or invalid exponent",
                    ));
                }
            }
        }
        // "oct" is skipped on purpose: HMAC secrets never come from a key set (RFC 8725 §3.1), and
        // OKP/other curves are algorithms we do not verify.
        _ => return Ok(None),
    };
    Ok(Some(Jwk { kid, material }))
}

/// A base64url (unpadded, RFC 7515 §2) JWK parameter.
fn b64_param(obj: &Map<String, Value>, name: &str) -> Option<Vec<u8>> {
    let s = obj.get(name)?.as_str()?;
    URL_SAFE_NO_PAD.decode(s).ok()
}

/// An EC coordinate: RFC 7518 §6.2.1.2 requires the full 32 bytes for P-256.
fn coordinate(obj: &Map<String, Value>, name: &str) -> Option<[u8; 32]> {
    b64_param(obj, name)?.try_into().ok()
}
