//! Where images may be downloaded from. Replicate serves outputs from `replicate.delivery` and its
//! subdomains (REPLICATE.md); anything else must be configured, so a tampered or unexpected output URL
//! cannot make the worker fetch internal addresses (SSRF).

/// The scheme, host (lower-case) and port of an absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub https: bool,
    pub host: String,
    pub port: Option<u16>,
}

impl Origin {
    pub fn parse(url: &str) -> Option<Self> {
        let (https, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else {
            (false, url.strip_prefix("http://")?)
        };
        let authority = rest.split(['/', '?', '#']).next()?;
        if authority.contains('@') || authority.is_empty() {
            return None; // credentials in URLs are a classic allow-list bypass
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || p.is_empty() => (h, Some(p.parse().ok()?)),
            _ => (authority, None),
        };
        let host = host.to_ascii_lowercase();
        if host.is_empty()
            || !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._[]:".contains(&b))
        {
            return None;
        }
        Some(Self { https, host, port })
    }
}

/// Whether `url` may be downloaded: https on `replicate.delivery` / `*.replicate.delivery`, or a host
/// listed in `extra` (`host` or `host:port`; plain http is allowed only for listed hosts, e.g. the local
/// simulator).
pub fn is_allowed(url: &str, extra: &[String]) -> bool {
    let Some(origin) = Origin::parse(url) else {
        return false;
    };
    let replicate =
        origin.host == "replicate.delivery" || origin.host.ends_with(".replicate.delivery");
    if replicate && origin.https && origin.port.is_none_or(|p| p == 443) {
        return true;
    }
    extra.iter().any(|entry| match entry.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => {
            origin.host == host && origin.port.map(|p| p.to_string()).as_deref() == Some(port)
        }
        _ => origin.host == *entry,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicate_delivery_is_allowed_over_https() {
        assert!(is_allowed(
            "https://replicate.delivery/xezq/abc/out-0.webp",
            &[]
        ));
        assert!(is_allowed(
            "https://pbxt.replicate.delivery/abc/out-0.png",
            &[]
        ));
        assert!(
            !is_allowed("http://replicate.delivery/abc.png", &[]),
            "no plain http"
        );
        assert!(!is_allowed(
            "https://replicate.delivery.evil.com/a.png",
            &[]
        ));
        assert!(!is_allowed("https://evilreplicate.delivery/a.png", &[]));
        assert!(!is_allowed(
            "https://replicate.delivery@169.254.169.254/latest",
            &[]
        ));
        assert!(!is_allowed("https://replicate.delivery:8443/a.png", &[]));
        assert!(!is_allowed("file:///etc/passwd", &[]));
        assert!(!is_allowed("https://127.0.0.1/a.png", &[]));
    }

    #[test]
    fn configured_hosts_with_or_without_port() {
        let extra = vec!["127.0.0.1:54340".to_owned(), "cdn.example.com".to_owned()];
        assert!(is_allowed(
            "http://127.0.0.1:54340/delivery/x/out-0.png",
            &extra
        ));
        assert!(
            !is_allowed("http://127.0.0.1:5432/x", &extra),
            "only the listed port"
        );
        assert!(is_allowed("https://cdn.example.com/a.png", &extra));
        assert!(
            is_allowed("https://CDN.example.com:444/a.png", &extra),
            "a bare host allows any port"
        );
        assert!(!is_allowed("https://example.com/a.png", &extra));
    }
}
