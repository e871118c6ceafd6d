//! The check of an input image right before a prediction is created for it: Replicate would fetch the
//! URL and bill the prediction whatever it finds there, so the worker asks first. A `HEAD` request
//! (Supabase Storage, S3-style stores and CDNs answer it with the object's type and length), redirects
//! followed by hand with every hop checked by the same [`ImageInputPolicy`] as the URL itself; the answer
//! must name an image type the models take and a length within [`MAX_INPUT_IMAGE_BYTES`].

use super::ImageInputPolicy;
use crate::ports::{HttpClient, HttpError, HttpRequest};
use crate::redirect::{self, MAX_REDIRECTS};

/// Largest input image accepted (10 MB): well above a phone photo or a 2K generation, and within what
/// the models' own loaders take.
pub const MAX_INPUT_IMAGE_BYTES: u64 = 10 * 1024 * 1024;

/// Content types of input images the models take (PNG, JPEG, WebP, GIF); SVG and anything else is
/// refused.
pub const INPUT_IMAGE_TYPES: &[&str] = &["image/png", "image/jpeg", "image/webp", "image/gif"];

/// Time allowed for each request of the check.
const PROBE_TIMEOUT_MS: u32 = 15_000;

/// Why an input image is not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// Final: the image cannot be used; the message is for the user (it goes on the generation).
    #[error("{0}")]
    Unusable(String),
    /// Its host could not answer now (timeout, network, 429, 5xx): try again later.
    #[error("{0}")]
    Unavailable(String),
}

/// Checks the input image at `url` through `http` (which must not follow redirects itself).
pub async fn check_input_image<H: HttpClient>(
    http: &H,
    policy: &ImageInputPolicy,
    url: &str,
) -> Result<(), ProbeError> {
    let unusable = |message: String| Err(ProbeError::Unusable(message));
    let mut current = url.to_owned();
    for hop in 0..=MAX_REDIRECTS {
        if let Err(why) = policy.check(&current) {
            return unusable(if hop == 0 {
                format!("The input image's address {why}.")
            } else {
                format!("The input image's address redirects to an address that is not allowed: it {why}.")
            });
        }
        let request = HttpRequest {
            method: "HEAD",
            url: current.clone(),
            headers: vec![("accept", INPUT_IMAGE_TYPES.join(", "))],
            body: None,
            timeout_ms: PROBE_TIMEOUT_MS,
        };
        let response = match http.send(request).await {
            Ok(r) => r,
            Err(HttpError::Timeout) => {
                return Err(ProbeError::Unavailable(
                    "checking the input image timed out".into(),
                ))
            }
            Err(e) => {
                return Err(ProbeError::Unavailable(format!(
                    "checking the input image failed: {e}"
                )))
            }
        };
        match response.status {
            200..=299 => {
                return judge(
                    response.header("content-type"),
                    response.header("content-length"),
                )
            }
            s if redirect::is_redirect(s) => {
                let next = response
                    .header("location")
                    .and_then(|l| redirect::resolve(&current, l));
                match next {
                    Some(next) => current = next,
                    None => {
                        return unusable(format!(
                            "The input image's address redirects without saying where (HTTP {s})."
                        ))
                    }
                }
            }
            s if s == 408 || s == 429 || s >= 500 => {
                return Err(ProbeError::Unavailable(format!(
                    "the input image's host answered {s}"
                )))
            }
            s => return unusable(format!("The input image could not be read (HTTP {s}).")),
        }
    }
    unusable(format!(
        "The input image's address redirects more than {MAX_REDIRECTS} times."
    ))
}

/// The verdict on a successful answer's type and length.
fn judge(content_type: Option<&str>, content_length: Option<&str>) -> Result<(), ProbeError> {
    let media_type = content_type
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if !INPUT_IMAGE_TYPES.contains(&media_type.as_str()) {
        let found = if media_type.is_empty() {
            "its type is not given".to_owned()
        } else {
            format!("it is {media_type}")
        };
        return Err(ProbeError::Unusable(format!(
            "The input image is not a PNG, JPEG, WebP or GIF image ({found})."
        )));
    }
    match content_length.and_then(|l| l.trim().parse::<u64>().ok()) {
        None => Err(ProbeError::Unusable(
            "The input image's size could not be checked (its host gave no Content-Length).".into(),
        )),
        Some(0) => Err(ProbeError::Unusable("The input image is empty.".into())),
        Some(n) if n > MAX_INPUT_IMAGE_BYTES => Err(ProbeError::Unusable(format!(
            "The input image is larger than the {} MB limit.",
            MAX_INPUT_IMAGE_BYTES / (1024 * 1024)
        ))),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
#[path = "probe_tests.rs"]
mod tests;
