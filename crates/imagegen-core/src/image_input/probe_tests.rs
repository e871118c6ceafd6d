use super::*;
use crate::image_input::Origin;
use crate::ports::HttpResponse;
use crate::testing::block_on;
use std::cell::RefCell;
use std::collections::HashMap;

const STORAGE: &str = "http://127.0.0.1:54321/storage/v1/object/public/generated-images/u";

/// Answers by URL, like a set of web servers; records what was asked. Like the real host, it never
/// follows a redirect itself.
#[derive(Default)]
struct Web {
    answers: HashMap<String, Result<HttpResponse, HttpError>>,
    asked: RefCell<Vec<(String, String)>>,
}

impl Web {
    fn serve(mut self, url: &str, status: u16, headers: &[(&str, &str)]) -> Self {
        let headers = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.answers.insert(
            url.to_owned(),
            Ok(HttpResponse {
                status,
                headers,
                body: vec![],
            }),
        );
        self
    }
    fn image(self, url: &str, content_type: &str, bytes: u64) -> Self {
        let length = bytes.to_string();
        self.serve(
            url,
            200,
            &[("content-type", content_type), ("content-length", &length)],
        )
    }
    fn redirect(self, from: &str, to: &str) -> Self {
        self.serve(from, 302, &[("location", to)])
    }
    fn fail(mut self, url: &str, e: HttpError) -> Self {
        self.answers.insert(url.to_owned(), Err(e));
        self
    }
    fn asked(&self) -> Vec<String> {
        self.asked.borrow().iter().map(|(_, u)| u.clone()).collect()
    }
}

impl HttpClient for Web {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        self.asked
            .borrow_mut()
            .push((request.method.to_owned(), request.url.clone()));
        self.answers
            .get(&request.url)
            .cloned()
            .unwrap_or_else(|| Err(HttpError::Network(format!("no server at {}", request.url))))
    }
}

fn policy() -> ImageInputPolicy {
    ImageInputPolicy::new(
        Origin::of("http://127.0.0.1:54321"),
        ImageInputPolicy::parse_hosts("images.example.com, *.cdn.example.org").unwrap(),
    )
}

fn check(web: &Web, url: &str) -> Result<(), ProbeError> {
    block_on(check_input_image(web, &policy(), url))
}

fn unusable(result: Result<(), ProbeError>) -> String {
    match result {
        Err(ProbeError::Unusable(m)) => m,
        other => panic!("expected Unusable, got {other:?}"),
    }
}

#[test]
fn an_image_of_an_accepted_type_and_size_passes_with_one_head_request() {
    for (ct, bytes) in [
        ("image/png", 1),
        ("image/jpeg", MAX_INPUT_IMAGE_BYTES),
        ("image/webp; charset=binary", 5000),
        ("IMAGE/GIF", 5000),
    ] {
        let url = format!("{STORAGE}/a.img");
        let web = Web::default().image(&url, ct, bytes);
        assert_eq!(check(&web, &url), Ok(()), "{ct} {bytes}");
        assert_eq!(
            web.asked.borrow().clone(),
            vec![("HEAD".to_owned(), url.clone())]
        );
    }
}

#[test]
fn the_wrong_type_is_refused_with_a_stable_message() {
    let url = format!("{STORAGE}/a.svg");
    let web = Web::default().image(&url, "image/svg+xml", 900);
    assert_eq!(
        unusable(check(&web, &url)),
        "The input image is not a PNG, JPEG, WebP or GIF image (it is image/svg+xml)."
    );
    let web = Web::default().serve(&url, 200, &[("content-length", "10")]);
    assert_eq!(
        unusable(check(&web, &url)),
        "The input image is not a PNG, JPEG, WebP or GIF image (its type is not given)."
    );
    let web = Web::default().image(&url, "text/html", 10);
    assert!(unusable(check(&web, &url)).contains("(it is text/html)"));
}

#[test]
fn a_size_over_the_limit_or_unknown_is_refused() {
    let url = format!("{STORAGE}/big.png");
    let web = Web::default().image(&url, "image/png", MAX_INPUT_IMAGE_BYTES + 1);
    assert_eq!(
        unusable(check(&web, &url)),
        "The input image is larger than the 10 MB limit."
    );
    let web = Web::default().serve(&url, 200, &[("content-type", "image/png")]);
    assert_eq!(
        unusable(check(&web, &url)),
        "The input image's size could not be checked (its host gave no Content-Length)."
    );
    let web = Web::default().image(&url, "image/png", 0);
    assert_eq!(unusable(check(&web, &url)), "The input image is empty.");
}

#[test]
fn a_refused_address_is_never_requested() {
    let web = Web::default();
    let m = unusable(check(&web, "https://169.254.169.254/latest/meta-data"));
    assert_eq!(
        m,
        "The input image's address must name a host, not an IP address (169.254.169.254)."
    );
    assert!(web.asked().is_empty());
}

#[test]
fn redirects_are_followed_when_every_hop_is_allowed() {
    let web = Web::default()
        .redirect(
            "https://images.example.com/a.png",
            "https://eu.cdn.example.org/a.png",
        )
        .redirect("https://eu.cdn.example.org/a.png", "/v2/a.png")
        .image("https://eu.cdn.example.org/v2/a.png", "image/png", 2048);
    assert_eq!(check(&web, "https://images.example.com/a.png"), Ok(()));
    assert_eq!(
        web.asked(),
        [
            "https://images.example.com/a.png",
            "https://eu.cdn.example.org/a.png",
            "https://eu.cdn.example.org/v2/a.png"
        ]
    );
}

#[test]
fn a_redirect_to_an_address_not_allowed_stops_before_it_is_requested() {
    for (to, rule) in [
        ("http://169.254.169.254/latest/meta-data/", "must use https"),
        (
            "https://169.254.169.254/latest/meta-data/",
            "not an IP address",
        ),
        ("https://localhost/x.png", "internal host"),
        (
            "https://evil.example.net/x.png",
            "(evil.example.net is not)",
        ),
        (
            "https://u:p@images.example.com/x.png",
            "user name or password",
        ),
        (
            "/storage/v1/object/public/../../../auth/v1/user",
            "not a Storage object URL",
        ),
    ] {
        let first = format!("{STORAGE}/a.png");
        let web = Web::default().redirect(&first, to);
        let m = unusable(check(&web, &first));
        assert!(
            m.starts_with(
                "The input image's address redirects to an address that is not allowed: it "
            ) && m.contains(rule),
            "{to}: {m}"
        );
        assert_eq!(web.asked(), [first], "{to}: the next hop was not requested");
    }
}

#[test]
fn redirect_loops_and_chains_stop_after_the_hop_limit() {
    let url = "https://images.example.com/loop.png";
    let web = Web::default().redirect(url, url);
    assert_eq!(
        unusable(check(&web, url)),
        format!("The input image's address redirects more than {MAX_REDIRECTS} times.")
    );
    assert_eq!(web.asked().len(), MAX_REDIRECTS + 1);
    let web = Web::default().serve(url, 301, &[]);
    assert_eq!(
        unusable(check(&web, url)),
        "The input image's address redirects without saying where (HTTP 301)."
    );
}

#[test]
fn missing_images_are_final_and_busy_hosts_are_retried() {
    let url = format!("{STORAGE}/gone.png");
    for status in [400, 403, 404, 410] {
        let web = Web::default().serve(&url, status, &[]);
        assert_eq!(
            unusable(check(&web, &url)),
            format!("The input image could not be read (HTTP {status}).")
        );
    }
    for status in [408, 429, 500, 503] {
        let web = Web::default().serve(&url, status, &[]);
        assert!(
            matches!(check(&web, &url), Err(ProbeError::Unavailable(_))),
            "{status}"
        );
    }
    let web = Web::default().fail(&url, HttpError::Timeout);
    assert_eq!(
        check(&web, &url),
        Err(ProbeError::Unavailable(
            "checking the input image timed out".into()
        ))
    );
    let web = Web::default().fail(&url, HttpError::Network("reset".into()));
    assert!(matches!(check(&web, &url), Err(ProbeError::Unavailable(_))));
}
