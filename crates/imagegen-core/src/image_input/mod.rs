//! Input images (the img2img source a request names in `image_url` / `source_image_url`), which Replicate
//! fetches on the project's account: where they may come from ([`ImageInputPolicy`], checked when a
//! request is accepted, with the configuration the handler knows) and what they must be (an image of an
//! accepted type and size: [`check_input_image`], run by the worker right before a prediction is created).
//! The request parser stays pure: it checks only that the value is a URL.

mod address;
mod probe;

pub use address::{HostPattern, ImageInputPolicy, Origin, Refusal};
pub use probe::{check_input_image, ProbeError, INPUT_IMAGE_TYPES, MAX_INPUT_IMAGE_BYTES};

use crate::db::generation::StoredGeneration;
use crate::error::ApiError;
use crate::ports::HttpClient;

/// The answer for a request whose input image URL breaks the rule: 422 `invalid_image_url` naming the
/// client's `field` and the rule that failed.
pub fn refused_url(field: &'static str, why: &Refusal) -> ApiError {
    ApiError {
        status: 422,
        code: "invalid_image_url",
        message: format!("{field} {why}"),
        field: Some(field),
        retry_after_secs: None,
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

/// The check a generation's input image gets before a prediction is created for it: none when a
/// prediction is recorded already (it is resumed, never created again) or the request has no image.
pub async fn check_before_create<H: HttpClient>(
    http: &H,
    policy: &ImageInputPolicy,
    generation: &StoredGeneration,
) -> Result<(), ProbeError> {
    if generation.replicate_prediction_id.is_some() {
        return Ok(());
    }
    match url_in_params(&generation.params) {
        Some(url) => check_input_image(http, policy, url).await,
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A host that refuses every address it is asked for, counting the requests.
    #[derive(Default)]
    struct Unreachable(std::cell::Cell<usize>);

    impl HttpClient for Unreachable {
        async fn send(
            &self,
            _: crate::ports::HttpRequest,
        ) -> Result<crate::ports::HttpResponse, crate::ports::HttpError> {
            self.0.set(self.0.get() + 1);
            Err(crate::ports::HttpError::Network("refused".into()))
        }
    }

    fn generation(prediction: Option<&str>, params: serde_json::Value) -> StoredGeneration {
        serde_json::from_value(json!({
            "id": "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01", "user_id": "6f1c2a52-1d8a-4c52-9f59-0d8e0c3a4b11",
            "prompt": "p", "params": params, "status": "processing",
            "replicate_prediction_id": prediction, "created_at": "2026-11-28T23:00:00+00:00",
        }))
        .unwrap()
    }

    #[test]
    fn only_a_generation_about_to_create_with_an_image_is_checked() {
        let policy = ImageInputPolicy::default();
        let image = json!({"image_url": "https://169.254.169.254/x.png"});
        let check = |g: &StoredGeneration, http: &Unreachable| {
            crate::testing::block_on(check_before_create(http, &policy, g))
        };
        let http = Unreachable::default();
        assert_eq!(check(&generation(Some("p1"), image.clone()), &http), Ok(()));
        assert_eq!(
            check(&generation(None, json!({"width": 1024})), &http),
            Ok(())
        );
        assert_eq!(http.0.get(), 0, "nothing to check, nothing asked");
        assert!(matches!(
            check(&generation(None, image), &http),
            Err(ProbeError::Unusable(m)) if m.contains("not an IP address")
        ));
        let allowed = ImageInputPolicy::new(Origin::of("http://127.0.0.1:54321"), vec![]);
        let stored =
            json!({"source_image_url": "http://127.0.0.1:54321/storage/v1/object/public/b/x.png"});
        assert!(matches!(
            crate::testing::block_on(check_before_create(
                &http,
                &allowed,
                &generation(None, stored)
            )),
            Err(ProbeError::Unavailable(_))
        ));
        assert_eq!(http.0.get(), 1, "an allowed address is asked");
    }

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
