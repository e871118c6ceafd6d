//! `GET /functions/v1/models`: the model catalog for clients — ids, names, speed, sizes, formats, img2img
//! support — so apps can build their pickers from what the backend really accepts.

use crate::catalog;
use crate::error::ApiError;
use crate::http::{RequestHead, Response};

/// Function name, as deployed.
pub const NAME: &str = "models";

/// Answers the listing; it changes only with a deploy, so clients and CDNs may cache it for 5 minutes.
pub fn handle(head: &RequestHead) -> Response {
    match head.method.as_str() {
        "GET" | "HEAD" => Response::json(200, catalog::listing_json().to_string())
            .with_header("cache-control", "public, max-age=300"),
        "OPTIONS" => Response::preflight(),
        _ => Response::error(&ApiError::new(405, "method_not_allowed", "use GET"))
            .with_header("allow", "GET, OPTIONS"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_every_model() {
        let r = handle(&RequestHead::new("GET", []));
        assert_eq!(r.status, 200);
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            body["models"].as_array().unwrap().len(),
            catalog::MODELS.len()
        );
        assert_eq!(handle(&RequestHead::new("DELETE", [])).status, 405);
    }
}
