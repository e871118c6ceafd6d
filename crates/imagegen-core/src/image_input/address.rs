//! Where an input image may come from. Replicate fetches whatever URL a prediction's input names, on the
//! project's one paid account, so a URL a client sends is accepted only when it is
//! - an object URL of this project's own Storage (`<SUPABASE_URL>/storage/v1/object/public/…` or
//!   `…/object/sign/…`): the apps' remix sends the public URL of an earlier image. The origin is taken as
//!   configured, so a local project at `http://127.0.0.1:54321` qualifies too; or
//! - an https URL on the default port, without user name or password, whose host is a public DNS name
//!   (no IP literal in any notation, no single-label or internal name, nothing percent-encoded) that the
//!   operator listed in `IMAGE_INPUT_HOSTS` (`host` or `*.suffix`; empty by default).
//!
//! DNS can still point a listed name anywhere; the list is what makes that the operator's choice.

use std::fmt;

/// Why a URL is not accepted as an input image; the text completes "image_url …".
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("is not an absolute http(s) URL")]
    NotHttpUrl,
    #[error("contains a backslash")]
    Backslash,
    #[error("must use https")]
    NotHttps,
    #[error("must not contain a user name or password")]
    Credentials,
    #[error("must not name a port (:{0}); only the default https port is accepted")]
    Port(String),
    #[error("has no host")]
    NoHost,
    #[error("must name a host, not an IP address ({0})")]
    IpAddress(String),
    #[error("must not percent-encode its host")]
    EncodedHost,
    #[error("must write its host in ASCII (punycode, xn--, for international names)")]
    NonAsciiHost,
    #[error("has a host that is not a valid DNS name ({0})")]
    MalformedHost(String),
    #[error("names an internal host ({0})")]
    InternalHost(String),
    #[error(
        "is on this project but is not a Storage object URL (/storage/v1/object/public/… or /storage/v1/object/sign/…, without dot segments or encoded slashes)"
    )]
    NotStorageObject,
    #[error(
        "is neither in this project's Storage nor on a host allowed for input images ({0} is not)"
    )]
    HostNotAllowed(String),
}

/// Scheme, host and port of a URL, the host lower-case as written (brackets kept for IPv6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    https: bool,
    host: String,
    port: u16,
}

impl Origin {
    /// The origin of an absolute http(s) URL (`SUPABASE_URL`); `None` when it is not one.
    pub fn of(url: &str) -> Option<Self> {
        let parts = Parts::split(url).ok()?;
        Some(Self {
            https: parts.https,
            port: parts.effective_port()?,
            host: parts.host.to_ascii_lowercase(),
        })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.https { "https" } else { "http" };
        let default = if self.https { 443 } else { 80 };
        write!(f, "{scheme}://{}", self.host)?;
        if self.port != default {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// One entry of `IMAGE_INPUT_HOSTS`: an exact host, or `*.suffix` for every host under the suffix
/// (not the suffix itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostPattern {
    Exact(String),
    Subdomains(String),
}

impl HostPattern {
    /// Parses one entry; the host (or suffix) must itself pass the rules for input hosts, so `*.com`
    /// (a single label) or `*.local` cannot be listed.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let entry = raw.trim().to_ascii_lowercase();
        let (wildcard, host) = match entry.strip_prefix("*.") {
            Some(suffix) => (true, suffix),
            None => (false, entry.as_str()),
        };
        public_host(host).map_err(|why| format!("{entry:?} {why}"))?;
        Ok(if wildcard {
            Self::Subdomains(host.to_owned())
        } else {
            Self::Exact(host.to_owned())
        })
    }

    fn matches(&self, host: &str) -> bool {
        match self {
            Self::Exact(h) => host == h,
            Self::Subdomains(suffix) => host
                .strip_suffix(suffix.as_str())
                .is_some_and(|label| label.len() > 1 && label.ends_with('.')),
        }
    }
}

/// The rule for input image URLs with what it is checked against: the project's origin (from
/// `SUPABASE_URL`) and the hosts of `IMAGE_INPUT_HOSTS`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageInputPolicy {
    project: Option<Origin>,
    hosts: Vec<HostPattern>,
}

impl ImageInputPolicy {
    pub fn new(project: Option<Origin>, hosts: Vec<HostPattern>) -> Self {
        Self { project, hosts }
    }

    /// `IMAGE_INPUT_HOSTS`: comma-separated entries, blanks ignored; the error names the bad entry.
    pub fn parse_hosts(list: &str) -> Result<Vec<HostPattern>, String> {
        list.split(',')
            .filter(|entry| !entry.trim().is_empty())
            .map(HostPattern::parse)
            .collect()
    }

    /// Accepts `url` when it is an object of the project's Storage or an https URL on an allowed
    /// public host; else says which rule failed.
    pub fn check(&self, url: &str) -> Result<(), Refusal> {
        let parts = Parts::split(url)?;
        if parts.credentials {
            return Err(Refusal::Credentials);
        }
        let origin = parts.effective_port().map(|port| Origin {
            https: parts.https,
            port,
            host: parts.host.to_ascii_lowercase(),
        });
        if origin.is_some() && origin == self.project {
            return if is_storage_object(parts.path) {
                Ok(())
            } else {
                Err(Refusal::NotStorageObject)
            };
        }
        if !parts.https {
            return Err(Refusal::NotHttps);
        }
        if let Some(port) = parts.port.filter(|p| *p != "443") {
            return Err(Refusal::Port(port.to_owned()));
        }
        let host = public_host(parts.host)?;
        if self.hosts.iter().any(|pattern| pattern.matches(&host)) {
            Ok(())
        } else {
            Err(Refusal::HostNotAllowed(host))
        }
    }
}

/// The pieces of an absolute http(s) URL the rule looks at.
struct Parts<'a> {
    https: bool,
    credentials: bool,
    /// As written (not yet lower-cased or checked).
    host: &'a str,
    port: Option<&'a str>,
    /// From the first `/` after the authority up to `?` or `#` (empty when there is none).
    path: &'a str,
}

impl<'a> Parts<'a> {
    fn split(url: &'a str) -> Result<Self, Refusal> {
        // WHATWG URL parsers read `\` as `/` in http(s) URLs, so `https://a.com\@b.com/` is a.com to
        // fetch but b.com to a parser splitting on `/` alone: refuse it outright.
        if url.contains('\\') {
            return Err(Refusal::Backslash);
        }
        let scheme_end = url.find("://").ok_or(Refusal::NotHttpUrl)?;
        let https = match url[..scheme_end].to_ascii_lowercase().as_str() {
            "https" => true,
            "http" => false,
            _ => return Err(Refusal::NotHttpUrl),
        };
        let rest = &url[scheme_end + 3..];
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, after) = rest.split_at(authority_end);
        let path = after.split(['?', '#']).next().unwrap_or("");
        let (credentials, host_port) = match authority.rsplit_once('@') {
            Some((_, host_port)) => (true, host_port),
            None => (false, authority),
        };
        let (host, port) = if host_port.starts_with('[') {
            let close = host_port.find(']').ok_or(Refusal::NoHost)?;
            let (host, after) = host_port.split_at(close + 1);
            (host, after.strip_prefix(':'))
        } else {
            match host_port.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            }
        };
        if host.is_empty() {
            return Err(Refusal::NoHost);
        }
        Ok(Self {
            https,
            credentials,
            host,
            port,
            path,
        })
    }

    /// The port, defaulted by scheme; `None` when it is not a port number.
    fn effective_port(&self) -> Option<u16> {
        match self.port {
            None | Some("") => Some(if self.https { 443 } else { 80 }),
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok(),
            Some(_) => None,
        }
    }
}

/// Names no public resolver answers for the open internet: loopback, link-local multicast DNS, the
/// reserved test names (RFC 6761, RFC 8375 `home.arpa`), cloud-internal zones
/// (`metadata.google.internal`), Kubernetes' `cluster.local`, and suffixes routers hand out.
const INTERNAL_SUFFIXES: &[&str] = &[
    "localhost",
    "local",
    "internal",
    "localdomain",
    "arpa",
    "test",
    "invalid",
    "example",
    "lan",
    "home",
    "corp",
    "intranet",
    "private",
];

/// The host, lower-cased, when it is a public DNS name; else the rule it breaks.
fn public_host(raw: &str) -> Result<String, Refusal> {
    if raw.starts_with('[') {
        return Err(Refusal::IpAddress(raw.to_owned()));
    }
    if raw.contains('%') {
        return Err(Refusal::EncodedHost);
    }
    if !raw.is_ascii() {
        return Err(Refusal::NonAsciiHost);
    }
    let host = raw.to_ascii_lowercase();
    if host.is_empty() {
        return Err(Refusal::NoHost);
    }
    let labels: Vec<&str> = host.split('.').collect();
    // The WHATWG host parser reads a host whose last label is a number (decimal, 0x hex or 0-led
    // octal: `2852039166`, `0x7f.1`, `127.1`, `0251.0376.0251.0376`) as an IPv4 address, whatever the
    // other labels are.
    let last = labels.last().copied().unwrap_or_default();
    if is_ipv4_number(last)
        || (last.is_empty() && labels.len() > 1 && is_ipv4_number(labels[labels.len() - 2]))
    {
        return Err(Refusal::IpAddress(host));
    }
    let valid_label = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if host.len() > 253 || !labels.iter().all(valid_label) {
        return Err(Refusal::MalformedHost(host));
    }
    if labels.len() < 2 || INTERNAL_SUFFIXES.contains(&last) {
        return Err(Refusal::InternalHost(host));
    }
    Ok(host)
}

/// A label the IPv4 parser takes as a number: decimal digits, or `0x` with hex digits (or none).
fn is_ipv4_number(label: &str) -> bool {
    let hex = label
        .strip_prefix("0x")
        .or_else(|| label.strip_prefix("0X"));
    match hex {
        Some(digits) => digits.bytes().all(|b| b.is_ascii_hexdigit()),
        None => !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()),
    }
}

/// A path naming a Storage object through the public or the signed route, which no dot segment or
/// encoded separator can turn into another route of the project (`/storage/v1/object/public/../../
/// auth/v1/…` is normalised by fetchers before it is sent).
fn is_storage_object(path: &str) -> bool {
    let object = path
        .strip_prefix("/storage/v1/object/public/")
        .or_else(|| path.strip_prefix("/storage/v1/object/sign/"));
    let Some(object) = object else {
        return false;
    };
    let lower = object.to_ascii_lowercase();
    !object.is_empty()
        && !object
            .split('/')
            .any(|s| s == "." || s == ".." || s.is_empty())
        && !["%2e", "%2f", "%5c"].iter().any(|e| lower.contains(e))
}

#[cfg(test)]
#[path = "address_tests.rs"]
mod tests;
