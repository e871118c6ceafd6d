//! Input images (the img2img source a request names in `image_url` / `source_image_url`), which Replicate
//! fetches on the project's account: where they may come from ([`ImageInputPolicy`], checked when a
//! request is accepted, with the configuration the handler knows) and what they must be (an image of an
//! accepted type and size: [`check_input_image`], run by the worker right before a prediction is created).
//! The request parser stays pure: it checks only that the value is a URL.

mod address;
mod probe;

pub use address::{HostPattern, ImageInputPolicy, Origin, Refusal};
pub use probe::{check_input_image, ProbeError, INPUT_IMAGE_TYPES, MAX_INPUT_IMAGE_BYTES};

use crate::error::ApiError;

/// The answer for a request whose input image URL breaks the rule: 422 `invalid_image_url` naming the
/// client's `field` and the rule that failed.
pub fn refused_url(field: &'static str, why: &Refusal) -> ApiError {
    ApiError {
        status: 422,
        code: "invalid_image_url",
        message: format!("{field} {why}"),
        field: Some(field),
    }
}

/// The input image URL of a stored generation's `params` (`image_url`, or `source_image_url` in a row
/// adopted from the original system), if any.
pub fn url_in_params(params: &serde_json::Value) -> Option<&str> {
    ["image_url", "source_image_url"]
        .iter()
        .filter_map(|k| params.get(k).and_then(serde_json::Value::as_str))
        .find(|u| !u.trim().is_empty())
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_refused_url_is_a_422_naming_field_and_rule() {
        let e = refused_url("source_image_url", &Refusal::NotHttps);
        assert_eq!(
            e.to_json(),
            r#"{"success":false,"error":"source_image_url must use https","code":"invalid_image_url","field":"source_image_url"}"#
        );
        assert_eq!(e.status, 422);
    }

    #[test]
    fn the_stored_image_url_is_found_under_either_name() {
        assert_eq!(
            url_in_params(&json!({"image_url": " https://a.example.com/x.png "})),
            Some("https://a.example.com/x.png")
        );
        assert_eq!(
            url_in_params(
                &json!({"image_url": "", "source_image_url": "https://b.example.com/y.png"})
            ),
            Some("https://b.example.com/y.png")
        );
        assert_eq!(url_in_params(&json!({"width": 1024})), None);
        assert_eq!(url_in_params(&json!(null)), None);
    }
}
