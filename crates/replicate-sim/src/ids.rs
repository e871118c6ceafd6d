//! Identifiers and cheap randomness. Prediction ids look like Replicate's (26 lowercase base32
//! characters, e.g. `gm3qorzdhgbfurvjtvhg6dckhu`); webhook message ids like Standard Webhooks' `msg_...`.

use std::sync::atomic::{AtomicU64, Ordering};

/// A lock-free source of pseudo-random numbers (SplitMix64 over a counter).
#[derive(Debug)]
pub struct IdGen {
    state: AtomicU64,
}

impl IdGen {
    /// Seeded from the clock, so ids differ between runs.
    pub fn new() -> Self {
        Self::seeded(crate::clock::real_now_us() as u64 ^ u64::from(std::process::id()) << 32)
    }

    /// Seeded for reproducible sequences.
    pub fn seeded(seed: u64) -> Self {
        Self {
            state: AtomicU64::new(seed),
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&self) -> u64 {
        splitmix(
            self.state
                .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed),
        )
    }

    /// A uniform float in [0, 1).
    pub fn next_f64(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A prediction id.
    pub fn prediction_id(&self) -> String {
        base32(&[self.next_u64(), self.next_u64()], 26)
    }

    /// A webhook message id.
    pub fn message_id(&self) -> String {
        format!("msg_{}", base32(&[self.next_u64(), self.next_u64()], 24))
    }
}

/// SplitMix64's output function: a good 64-bit mix of a counter.
pub fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn base32(words: &[u64], len: usize) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::with_capacity(len);
    let mut bits = words
        .iter()
        .flat_map(|w| (0..12).map(move |i| (w >> (i * 5)) & 31));
    while out.len() < len {
        out.push(ALPHABET[bits.next().unwrap_or(0) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_replicates_shape_and_differ() {
        let g = IdGen::seeded(1);
        let a = g.prediction_id();
        assert_eq!(a.len(), 26);
        assert!(a
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)));
        assert_ne!(a, g.prediction_id());
        assert!(g.message_id().starts_with("msg_"));
        let f = g.next_f64();
        assert!((0.0..1.0).contains(&f));
    }
}
