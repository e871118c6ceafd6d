//! Redirects followed by hand. The host's `fetch` never follows them (`redirect: "manual"`, see
//! `imagegen-edge/src/host.rs`): an allow-list checked only on the first URL is bypassed by any allowed
//! host that answers `302 Location: http://169.254.169.254/…`. Callers loop over hops themselves and
//! check every URL they are sent to with the same rule as the first.

/// Most redirects followed from one URL before giving up (CDNs and Storage use one at most).
pub const MAX_REDIRECTS: usize = 3;

/// Whether a status is a redirect with a `Location` to follow (304 is not: it is a cache answer).
pub fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The absolute URL a `Location` header value points to, resolved against the URL that answered it
/// (RFC 9110 §10.2.2 allows relative references). `None` when the value is empty or holds characters no
/// URL may hold. Dot segments are not removed: the rules refuse the URLs where they matter.
pub fn resolve(base: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if location.is_empty()
        || location
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    if has_scheme(location) {
        return Some(location.to_owned());
    }
    let (scheme, rest) = base.split_once("://")?;
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let origin = &base[..scheme.len() + 3 + authority_end];
    let without_fragment = base.split('#').next().unwrap_or(base);
    Some(if let Some(network_path) = location.strip_prefix("//") {
        format!("{scheme}://{network_path}")
    } else if location.starts_with('/') {
        format!("{origin}{location}")
    } else if location.starts_with('?') {
        let without_query = without_fragment
            .split('?')
            .next()
            .unwrap_or(without_fragment);
        format!("{without_query}{location}")
    } else if location.starts_with('#') {
        format!("{without_fragment}{location}")
    } else {
        let path = &without_fragment[origin.len()..];
        let path = path.split('?').next().unwrap_or(path);
        let directory = path.rfind('/').map_or("/", |i| &path[..=i]);
        format!("{origin}{directory}{location}")
    })
}

/// `scheme:` per RFC 3986 §3.1: a letter, then letters, digits, `+`, `-` or `.`, then `:`.
fn has_scheme(reference: &str) -> bool {
    let Some((scheme, _)) = reference.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "https://cdn.example.com/images/a/b.png?x=1#top";

    #[test]
    fn absolute_locations_are_taken_as_they_are() {
        assert_eq!(
            resolve(BASE, "http://169.254.169.254/latest").as_deref(),
            Some("http://169.254.169.254/latest")
        );
        assert_eq!(
            resolve(BASE, " file:///etc/passwd ").as_deref(),
            Some("file:///etc/passwd")
        );
    }

    #[test]
    fn relative_locations_resolve_against_the_answering_url() {
        let cases = [
            (
                "//other.example.com/c.png",
                "https://other.example.com/c.png",
            ),
            ("/root.png", "https://cdn.example.com/root.png"),
            ("c.png", "https://cdn.example.com/images/a/c.png"),
            ("../c.png", "https://cdn.example.com/images/a/../c.png"),
            ("?x=2", "https://cdn.example.com/images/a/b.png?x=2"),
            ("#end", "https://cdn.example.com/images/a/b.png?x=1#end"),
        ];
        for (location, want) in cases {
            assert_eq!(resolve(BASE, location).as_deref(), Some(want), "{location}");
        }
        assert_eq!(
            resolve("http://127.0.0.1:54340", "out.png").as_deref(),
            Some("http://127.0.0.1:54340/out.png")
        );
    }

    #[test]
    fn unusable_locations_are_none() {
        for bad in ["", "  ", "/a b.png", "/a\u{0}.png"] {
            assert_eq!(resolve(BASE, bad), None, "{bad:?}");
        }
    }

    #[test]
    fn only_real_redirects_are_followed() {
        for s in [301, 302, 303, 307, 308] {
            assert!(is_redirect(s), "{s}");
        }
        for s in [200, 300, 304, 305, 400] {
            assert!(!is_redirect(s), "{s}");
        }
    }
}
