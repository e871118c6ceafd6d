//! The download-image job: copy each output of a finished prediction from Replicate into Supabase
//! Storage (`POST /storage/v1/object/{bucket}/{user}/{generation}.{ext}`, `x-upsert: true`, so a retry
//! overwrites rather than fails), streaming, then complete the generation with the stored URLs.
//! Replicate deletes outputs after an hour, so the stored copy is the one clients get.

use super::hosts::is_allowed;
use super::JobResult;
use crate::api_keys::service_headers;
use crate::config::Config;
use crate::db::generation::{self as db, StoredOutput};
use crate::failure::{
    DATABASE_ERROR, IMAGE_REJECTED, IMAGE_TOO_LARGE, MISCONFIGURED, STORAGE_ERROR,
};
use crate::ports::{
    CopyError, HttpClient, HttpError, HttpRequest, Platform, ResponseHead, Rpc, StreamCopy,
};
use crate::redirect::{self, MAX_REDIRECTS};
use base64::Engine;
use serde::Deserialize;
use uuid::Uuid;

/// What the generate-image job hands over.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
pub struct DownloadPayload {
    pub generation_id: Uuid,
    pub prediction_id: String,
    pub outputs: Vec<String>,
}

/// Image types we store, and the extension each is stored under (also the `images.format` value; the
/// original stored `<generation>.<webp|png|jpeg|svg>`).
const IMAGE_TYPES: &[(&str, &str)] = &[
    ("image/png", "png"),
    ("image/jpeg", "jpeg"),
    ("image/webp", "webp"),
    ("image/svg+xml", "svg"),
];

const DOWNLOAD_TIMEOUT_MS: u32 = 60_000;

pub async fn run<S: Platform + Rpc + HttpClient + StreamCopy>(
    host: &S,
    config: &Config,
    payload: &DownloadPayload,
) -> JobResult {
    let (Some(base), Some(key)) = (
        config.supabase_url.as_deref(),
        config.service_key.as_deref(),
    ) else {
        return JobResult::retry(
            MISCONFIGURED,
            "SUPABASE_URL or the service key is not set for process-jobs",
            Some(60),
        );
    };
    // The generation becomes downloading; a cancelled (failed) one stays as it is and nothing is stored.
    let generation = match db::start_download(host, payload.generation_id).await {
        Ok(Some(g)) => g,
        Ok(None) => return JobResult::done(serde_json::json!({"skipped": "generation deleted"})),
        Err(e) => return JobResult::retry(DATABASE_ERROR, format!("database: {e}"), None),
    };
    if generation.status == "completed" || generation.status == "failed" {
        return JobResult::done(
            serde_json::json!({"skipped": format!("generation already {}", generation.status)}),
        );
    }
    if payload.outputs.is_empty() {
        return JobResult::fail("model_failed", "The model returned no image.");
    }
    let mut stored = Vec::new();
    for (i, url) in payload.outputs.iter().enumerate() {
        let name = if i == 0 {
            generation.id.to_string()
        } else {
            format!("{}-{i}", generation.id)
        };
        let stem = format!("{}/{name}", generation.user_id);
        let stored_one = if url.starts_with("data:") {
            store_data_uri(host, config, base, key, url, &stem).await
        } else {
            store_download(host, config, base, key, url, &stem).await
        };
        match stored_one {
            Ok(one) => match public_or_signed_url(host, config, base, key, &one.path).await {
                Ok(url) => stored.push(StoredOutput {
                    storage_path: one.path,
                    url,
                    format: one.format,
                    file_size: Some(one.bytes),
                }),
                Err(e) => return e,
            },
            Err(e) => return e,
        }
    }
    match db::complete(host, generation.id, &stored).await {
        Ok(outcome) if outcome == "failed" => {
            // Cancelled while its images were being stored: no image is kept for it.
            remove_objects(host, config, base, key, &stored).await;
            JobResult::done(serde_json::json!({"skipped": "generation cancelled while storing"}))
        }
        Ok(outcome) => {
            JobResult::done(serde_json::json!({"generation": outcome, "stored": stored}))
        }
        Err(e) => JobResult::retry(DATABASE_ERROR, format!("database: {e}"), None),
    }
}

/// Deletes stored objects, best effort (Storage's `DELETE /object/{bucket}/{path}`): an object left
/// behind is an orphan file, not a wrong answer.
async fn remove_objects<S: HttpClient>(
    host: &S,
    config: &Config,
    base: &str,
    key: &str,
    stored: &[StoredOutput],
) {
    for output in stored {
        let request = HttpRequest {
            method: "DELETE",
            url: format!(
                "{base}/storage/v1/object/{}/{}",
                config.worker.bucket, output.storage_path
            ),
            headers: service_headers(key).into(),
            body: None,
            timeout_ms: DOWNLOAD_TIMEOUT_MS,
        };
        let _ = host.send(request).await;
    }
}

/// One object written to Storage.
struct StoredObject {
    /// The object path, without the bucket.
    path: String,
    format: &'static str,
    bytes: u64,
}

/// Streams one output URL into Storage.
async fn store_download<S: HttpClient + StreamCopy>(
    host: &S,
    config: &Config,
    base: &str,
    key: &str,
    url: &str,
    stem: &str,
) -> Result<StoredObject, JobResult> {
    let worker = &config.worker;
    let (head, source) = open_following_redirects(host, &worker.extra_download_hosts, url).await?;
    let refuse = |host: &S, source, result| {
        host.discard(source);
        Err(result)
    };
    match head.status {
        200 => {}
        404 | 410 => {
            return refuse(
                host,
                source,
                JobResult::fail(
                    "outputs_expired",
                    "The image expired on Replicate before it could be saved.",
                ),
            )
        }
        s if s >= 500 || s == 429 => {
            return refuse(
                host,
                source,
                JobResult::retry(STORAGE_ERROR, format!("the image host answered {s}"), None),
            )
        }
        s => {
            return refuse(
                host,
                source,
                JobResult::fail(
                    STORAGE_ERROR,
                    format!("The image could not be downloaded (HTTP {s})."),
                ),
            )
        }
    }
    let content_type = head
        .header("content-type")
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some(ext) = extension(&content_type) else {
        return refuse(
            host,
            source,
            JobResult::fail(
                IMAGE_REJECTED,
                format!("The model returned a file that is not an image ({content_type:?})."),
            ),
        );
    };
    if let Some(len) = head
        .header("content-length")
        .and_then(|l| l.trim().parse::<u64>().ok())
    {
        if len > worker.max_image_bytes {
            return refuse(host, source, too_large(worker.max_image_bytes));
        }
    }
    let path = format!("{stem}.{ext}");
    let upload = upload_request(config, base, key, &path, &content_type, None);
    match host.pipe(source, upload, worker.max_image_bytes).await {
        Ok((response, bytes)) if response.status < 300 => Ok(StoredObject {
            path,
            format: ext,
            bytes,
        }),
        Ok((response, _)) => Err(storage_error(response.status, &response.body)),
        Err(CopyError::TooLarge(limit)) => Err(too_large(limit)),
        Err(CopyError::Failed(why)) => Err(JobResult::retry(
            STORAGE_ERROR,
            format!("copying the image to Storage failed: {why}"),
            None,
        )),
    }
}

/// Opens a download, following redirects by hand (the host's fetch does not) up to
/// [`MAX_REDIRECTS`] hops, each checked against the download allow-list before it is requested: an
/// allowed host's redirect cannot lead the worker anywhere else. Answers the first non-redirect.
async fn open_following_redirects<S: StreamCopy>(
    host: &S,
    extra_hosts: &[String],
    url: &str,
) -> Result<(ResponseHead, S::Source), JobResult> {
    let mut current = url.to_owned();
    for hop in 0..=MAX_REDIRECTS {
        if !is_allowed(&current, extra_hosts) {
            return Err(JobResult::fail(
                IMAGE_REJECTED,
                if hop == 0 {
                    format!(
                        "Refused to download the image from an unexpected address ({})",
                        origin_of(&current)
                    )
                } else {
                    format!(
                        "Refused to follow the image's redirect to an unexpected address ({})",
                        origin_of(&current)
                    )
                },
            ));
        }
        let request = HttpRequest {
            method: "GET",
            url: current.clone(),
            headers: vec![],
            body: None,
            timeout_ms: DOWNLOAD_TIMEOUT_MS,
        };
        let (head, source) = match host.open(request).await {
            Ok(opened) => opened,
            Err(HttpError::Timeout) => {
                return Err(JobResult::retry(
                    STORAGE_ERROR,
                    "the image download timed out",
                    None,
                ))
            }
            Err(e) => {
                return Err(JobResult::retry(
                    STORAGE_ERROR,
                    format!("the image download failed: {e}"),
                    None,
                ))
            }
        };
        if !redirect::is_redirect(head.status) {
            return Ok((head, source));
        }
        host.discard(source);
        match head
            .header("location")
            .and_then(|l| redirect::resolve(&current, l))
        {
            Some(next) => current = next,
            None => {
                return Err(JobResult::fail(
                    STORAGE_ERROR,
                    format!(
                        "The image could not be downloaded (HTTP {} without a Location).",
                        head.status
                    ),
                ))
            }
        }
    }
    Err(JobResult::fail(
        STORAGE_ERROR,
        format!("The image's address redirected more than {MAX_REDIRECTS} times."),
    ))
}

/// A `data:` output (small, already in memory) uploaded as bytes.
async fn store_data_uri<S: HttpClient>(
    host: &S,
    config: &Config,
    base: &str,
    key: &str,
    uri: &str,
    stem: &str,
) -> Result<StoredObject, JobResult> {
    let Some((meta, data)) = uri.strip_prefix("data:").and_then(|r| r.split_once(',')) else {
        return Err(JobResult::fail(
            IMAGE_REJECTED,
            "The model returned a malformed data URI.",
        ));
    };
    let content_type = meta
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let Some(ext) = extension(&content_type) else {
        return Err(JobResult::fail(
            IMAGE_REJECTED,
            format!("The model returned a file that is not an image ({content_type:?})."),
        ));
    };
    if data.len() as u64 > config.worker.max_image_bytes.saturating_mul(4) / 3 + 4 {
        return Err(too_large(config.worker.max_image_bytes));
    }
    let bytes = if meta.ends_with(";base64") {
        base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map_err(|_| {
                JobResult::fail(
                    IMAGE_REJECTED,
                    "The model returned a data URI that is not valid base64.",
                )
            })?
    } else {
        data.as_bytes().to_vec()
    };
    let path = format!("{stem}.{ext}");
    let size = bytes.len() as u64;
    let request = upload_request(config, base, key, &path, &content_type, Some(bytes));
    match host.send(request).await {
        Ok(r) if r.status < 300 => Ok(StoredObject {
            path,
            format: ext,
            bytes: size,
        }),
        Ok(r) => Err(storage_error(r.status, &r.body)),
        Err(e) => Err(JobResult::retry(
            STORAGE_ERROR,
            format!("Storage upload failed: {e}"),
            None,
        )),
    }
}

fn upload_request(
    config: &Config,
    base: &str,
    key: &str,
    path: &str,
    content_type: &str,
    body: Option<Vec<u8>>,
) -> HttpRequest {
    HttpRequest {
        method: "POST",
        url: format!("{base}/storage/v1/object/{}/{path}", config.worker.bucket),
        headers: service_headers(key)
            .into_iter()
            .chain([
                ("content-type", content_type.to_owned()),
                // The object never changes under this name (a retry writes the same image).
                ("cache-control", "max-age=31536000".into()),
                ("x-upsert", "true".into()),
            ])
            .collect(),
        body,
        timeout_ms: DOWNLOAD_TIMEOUT_MS * 2,
    }
}

/// The URL clients get: public, or signed for a private bucket.
async fn public_or_signed_url<S: HttpClient>(
    host: &S,
    config: &Config,
    base: &str,
    key: &str,
    path: &str,
) -> Result<String, JobResult> {
    let bucket = &config.worker.bucket;
    if config.worker.public_bucket {
        return Ok(format!("{base}/storage/v1/object/public/{bucket}/{path}"));
    }
    let request = HttpRequest {
        method: "POST",
        url: format!("{base}/storage/v1/object/sign/{bucket}/{path}"),
        headers: service_headers(key)
            .into_iter()
            .chain([("content-type", "application/json".into())])
            .collect(),
        body: Some(
            serde_json::json!({ "expiresIn": config.worker.signed_url_secs })
                .to_string()
                .into_bytes(),
        ),
        timeout_ms: 15_000,
    };
    let response = host.send(request).await.map_err(|e| {
        JobResult::retry(STORAGE_ERROR, format!("signing the URL failed: {e}"), None)
    })?;
    if response.status >= 300 {
        return Err(storage_error(response.status, &response.body));
    }
    let signed = serde_json::from_slice::<serde_json::Value>(&response.body)
        .ok()
        .and_then(|v| {
            v.get("signedURL")
                .and_then(|s| s.as_str())
                .map(str::to_owned)
        })
        .ok_or_else(|| {
            JobResult::retry(
                STORAGE_ERROR,
                "Storage answered the sign request without signedURL",
                None,
            )
        })?;
    // Storage answers a path relative to /storage/v1 (SUPABASE.md).
    Ok(format!(
        "{base}/storage/v1{}",
        if signed.starts_with('/') {
            signed
        } else {
            format!("/{signed}")
        }
    ))
}

fn extension(content_type: &str) -> Option<&'static str> {
    IMAGE_TYPES
        .iter()
        .find(|(t, _)| *t == content_type)
        .map(|(_, e)| *e)
}

fn too_large(limit: u64) -> JobResult {
    let limit = if limit >= 1024 * 1024 {
        format!("{} MB", limit / (1024 * 1024))
    } else {
        format!("{} KB", limit / 1024)
    };
    JobResult::fail(
        IMAGE_TOO_LARGE,
        format!("The image is larger than the {limit} limit."),
    )
}

/// Whether a Storage error is worth retrying. Supabase Storage answers HTTP 400 for nearly every error
/// and puts the real status in the body's `statusCode` (a string: "503" for connection limits and lock
/// timeouts, "423" for a locked object, "413"/"415" for size and type), so that decides, not the HTTP
/// status (supabase/storage `src/internal/errors`).
fn storage_error(status: u16, body: &[u8]) -> JobResult {
    let parsed = serde_json::from_slice::<serde_json::Value>(body).ok();
    let code = parsed
        .as_ref()
        .and_then(|v| v.get("statusCode"))
        .and_then(|c| {
            c.as_str()
                .map(str::to_owned)
                .or_else(|| c.as_u64().map(|n| n.to_string()))
        })
        .and_then(|c| c.parse::<u16>().ok())
        .unwrap_or(status);
    let message = parsed
        .as_ref()
        .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned());
    if code >= 500 || matches!(code, 408 | 423 | 429) {
        JobResult::retry(
            STORAGE_ERROR,
            format!("Storage answered {code}: {message}"),
            None,
        )
    } else {
        JobResult::fail(
            STORAGE_ERROR,
            format!("Storage refused the image ({code}): {message}"),
        )
    }
}

fn origin_of(url: &str) -> String {
    super::hosts::Origin::parse(url)
        .map(|o| o.host)
        .unwrap_or_else(|| "not an http(s) URL".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_errors_are_judged_by_their_body() {
        let busy = br#"{"statusCode":"503","code":"DatabaseTimeout","error":"x","message":"too many connections"}"#;
        assert!(matches!(storage_error(400, busy), JobResult::Retry { .. }));
        let locked =
            br#"{"statusCode":"423","code":"ResourceLocked","error":"x","message":"locked"}"#;
        assert!(matches!(
            storage_error(400, locked),
            JobResult::Retry { .. }
        ));
        let big = br#"{"statusCode":"413","code":"EntityTooLarge","error":"x","message":"The object exceeded the maximum allowed size"}"#;
        match storage_error(400, big) {
            JobResult::Fail(f) => assert!(
                f.code == STORAGE_ERROR
                    && f.detail.contains("413")
                    && f.detail.contains("maximum allowed size"),
                "{f:?}"
            ),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            storage_error(502, b"<html>bad gateway</html>"),
            JobResult::Retry { .. }
        ));
        assert!(matches!(storage_error(403, b"nope"), JobResult::Fail(_)));
    }

    /// Download servers by URL; like the real host, `open` never follows a redirect. Records what was
    /// opened and which sources were discarded.
    #[derive(Default)]
    struct Servers {
        answers: std::collections::HashMap<String, (u16, Vec<(String, String)>)>,
        opened: std::cell::RefCell<Vec<String>>,
        discarded: std::cell::RefCell<Vec<String>>,
    }

    impl Servers {
        fn answer(mut self, url: &str, status: u16, headers: &[(&str, &str)]) -> Self {
            let headers = headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            self.answers.insert(url.to_owned(), (status, headers));
            self
        }
        fn redirect(self, from: &str, to: &str) -> Self {
            self.answer(from, 302, &[("location", to)])
        }
    }

    impl StreamCopy for Servers {
        type Source = String;
        async fn open(&self, request: HttpRequest) -> Result<(ResponseHead, String), HttpError> {
            self.opened.borrow_mut().push(request.url.clone());
            let (status, headers) = self
                .answers
                .get(&request.url)
                .cloned()
                .ok_or_else(|| HttpError::Network(format!("no server at {}", request.url)))?;
            Ok((ResponseHead { status, headers }, request.url))
        }
        async fn pipe(
            &self,
            _: String,
            _: HttpRequest,
            _: u64,
        ) -> Result<(crate::ports::HttpResponse, u64), CopyError> {
            unreachable!("these tests only open")
        }
        fn discard(&self, source: String) {
            self.discarded.borrow_mut().push(source);
        }
    }

    const OUT: &str = "https://replicate.delivery/xezq/abc/out-0.webp";

    fn open(servers: &Servers, extra: &[&str]) -> Result<(ResponseHead, String), JobResult> {
        let extra: Vec<String> = extra.iter().map(|h| (*h).to_owned()).collect();
        crate::testing::block_on(open_following_redirects(servers, &extra, OUT))
    }

    fn failure(result: Result<(ResponseHead, String), JobResult>) -> String {
        match result {
            Err(JobResult::Fail(m)) => m.detail,
            Err(other) => panic!("expected a final failure, got {other:?}"),
            Ok((head, _)) => panic!("expected a failure, got HTTP {}", head.status),
        }
    }

    #[test]
    fn redirects_within_the_allow_list_are_followed() {
        let servers = Servers::default()
            .redirect(OUT, "https://pbxt.replicate.delivery/abc/out-0.webp")
            .redirect(
                "https://pbxt.replicate.delivery/abc/out-0.webp",
                "/v2/out-0.webp",
            )
            .answer(
                "https://pbxt.replicate.delivery/v2/out-0.webp",
                200,
                &[("content-type", "image/webp")],
            );
        let (head, source) = open(&servers, &[]).unwrap();
        assert_eq!(
            (head.status, source.as_str()),
            (200, "https://pbxt.replicate.delivery/v2/out-0.webp")
        );
        assert_eq!(servers.opened.borrow().len(), 3);
        assert_eq!(
            servers.discarded.borrow().clone(),
            [OUT, "https://pbxt.replicate.delivery/abc/out-0.webp"],
            "each redirect answer is released"
        );
    }

    #[test]
    fn a_redirect_off_the_allow_list_fails_before_it_is_requested() {
        for to in [
            "http://169.254.169.254/latest/meta-data/",
            "https://evil.example.com/out-0.webp",
            "http://replicate.delivery/abc/out-0.webp",
            "https://replicate.delivery@127.0.0.1/x",
            "file:///etc/passwd",
        ] {
            let servers = Servers::default().redirect(OUT, to);
            let m = failure(open(&servers, &["127.0.0.1:54340"]));
            assert!(
                m.starts_with("Refused to follow the image's redirect to an unexpected address"),
                "{to}: {m}"
            );
            assert_eq!(
                servers.opened.borrow().clone(),
                [OUT],
                "{to}: not requested"
            );
        }
    }

    #[test]
    fn a_first_url_off_the_allow_list_is_never_opened() {
        let servers = Servers::default();
        let extra: Vec<String> = vec![];
        let m = failure(crate::testing::block_on(open_following_redirects(
            &servers,
            &extra,
            "https://evil.example.com/out-0.webp",
        )));
        assert_eq!(
            m,
            "Refused to download the image from an unexpected address (evil.example.com)"
        );
        assert!(servers.opened.borrow().is_empty());
    }

    #[test]
    fn redirect_loops_stop_at_the_hop_limit() {
        let servers = Servers::default().redirect(OUT, OUT);
        assert_eq!(
            failure(open(&servers, &[])),
            format!("The image's address redirected more than {MAX_REDIRECTS} times.")
        );
        assert_eq!(servers.opened.borrow().len(), MAX_REDIRECTS + 1);
        let servers = Servers::default().answer(OUT, 307, &[]);
        assert_eq!(
            failure(open(&servers, &[])),
            "The image could not be downloaded (HTTP 307 without a Location)."
        );
    }

    /// Storage answers every call with `answer` and records what was sent.
    struct RecordingStorage {
        answer: &'static [u8],
        sent: std::cell::RefCell<Vec<HttpRequest>>,
    }

    impl HttpClient for RecordingStorage {
        async fn send(
            &self,
            request: HttpRequest,
        ) -> Result<crate::ports::HttpResponse, HttpError> {
            self.sent.borrow_mut().push(request);
            Ok(crate::ports::HttpResponse {
                status: 200,
                headers: vec![],
                body: self.answer.to_vec(),
            })
        }
    }

    fn private_bucket_config() -> Config {
        crate::config::AppContext::from_env(|k| match k {
            "JWT_SECRET" => Some("s3cret-s3cret-s3cret-s3cret-s3cret".into()),
            "STORAGE_PUBLIC" => Some("false".into()),
            _ => None,
        })
        .unwrap()
        .config
    }

    /// A secret API key is not a JWT: the gateway takes it from `apikey` only, so every Storage call
    /// (upload, signing, delete) carries it there as well as in `Authorization`.
    #[test]
    fn every_storage_call_carries_the_key_in_apikey() {
        let config = private_bucket_config();
        let (base, key) = ("https://abc.supabase.co", "sb_secret_k");
        let storage = RecordingStorage {
            answer: br#"{"signedURL":"/object/sign/generated-images/u/g.webp?token=t"}"#,
            sent: Default::default(),
        };
        let upload = upload_request(&config, base, key, "u/g.webp", "image/webp", None);
        let signed = crate::testing::block_on(public_or_signed_url(
            &storage, &config, base, key, "u/g.webp",
        ));
        assert!(signed.is_ok());
        let stored = [StoredOutput {
            storage_path: "u/g.webp".into(),
            url: String::new(),
            format: "webp",
            file_size: None,
        }];
        crate::testing::block_on(remove_objects(&storage, &config, base, key, &stored));
        let sent = storage.sent.borrow();
        let calls: Vec<&HttpRequest> = std::iter::once(&upload).chain(sent.iter()).collect();
        assert_eq!(
            calls.iter().map(|r| r.method).collect::<Vec<_>>(),
            ["POST", "POST", "DELETE"]
        );
        for call in calls {
            let header = |name: &str| {
                call.headers
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.as_str())
            };
            assert_eq!(header("apikey"), Some(key), "{} {}", call.method, call.url);
            assert_eq!(
                header("authorization"),
                Some("Bearer sb_secret_k"),
                "{} {}",
                call.method,
                call.url
            );
        }
    }

    #[test]
    fn only_images_are_stored() {
        assert_eq!(extension("image/png"), Some("png"));
        assert_eq!(extension("image/svg+xml"), Some("svg"));
        assert_eq!(extension("text/html"), None);
        assert_eq!(extension("application/octet-stream"), None);
    }
}
