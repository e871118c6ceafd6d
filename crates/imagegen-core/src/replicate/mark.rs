//! The owner mark every prediction this backend creates carries: its `webhook` URL names the generation
//! and the create number, `<base>/functions/v1/replicate-webhook?generation_id=<uuid>&attempt=<n>`.
//! Replicate keeps the webhook on the prediction object, so a prediction whose create answer was lost can
//! be told apart from every other prediction of the account exactly, whatever its input.

use uuid::Uuid;

/// The path the mark's URL points at (the receiver is a later issue; until then deliveries are refused).
pub const WEBHOOK_PATH: &str = "/functions/v1/replicate-webhook";

/// Where the project is reachable from Replicate: an `http(s)://host[:port][/path]` without query or
/// fragment, trailing `/` removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookBase(String);

impl WebhookBase {
    /// Parses a base URL; the error says what is wrong with it.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let url = raw.trim().trim_end_matches('/');
        let rest = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| format!("{raw:?} is not an http:// or https:// URL"))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(format!("{raw:?} has no host"));
        }
        if rest.contains(['?', '#']) || rest.chars().any(char::is_whitespace) {
            return Err(format!(
                "{raw:?} must be a plain URL (no query, fragment or spaces)"
            ));
        }
        Ok(Self(url.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Which generation, and which of its creates, a prediction was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OwnerMark {
    pub generation_id: Uuid,
    /// 1 for the generation's first create, 2 for a counted re-create, … (`prediction_creates`).
    pub create_number: u32,
}

impl OwnerMark {
    /// The `webhook` URL of a create carrying this mark.
    pub fn webhook_url(&self, base: &WebhookBase) -> String {
        format!(
            "{}{WEBHOOK_PATH}?generation_id={}&attempt={}",
            base.as_str(),
            self.generation_id,
            self.create_number
        )
    }

    /// Reads the mark from a prediction's `webhook`; `None` for any URL this backend did not write (another
    /// path, a missing or malformed parameter, a parameter given twice).
    pub fn parse(webhook: &str) -> Option<Self> {
        let (path, query) = webhook.split_once('?')?;
        if !path.ends_with(WEBHOOK_PATH) || query.contains('#') {
            return None;
        }
        Self::from_query(query)
    }

    /// Reads the mark from the query of a delivery to [`WEBHOOK_PATH`] (`generation_id=…&attempt=…`);
    /// `None` when a parameter is missing, malformed or given twice.
    pub fn from_query(query: &str) -> Option<Self> {
        let (mut generation_id, mut create_number) = (None, None);
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=')?;
            let slot_was_empty = match key {
                "generation_id" => generation_id
                    .replace(Uuid::parse_str(value).ok()?)
                    .is_none(),
                "attempt" => create_number
                    .replace(value.parse::<u32>().ok().filter(|n| *n > 0)?)
                    .is_none(),
                _ => true,
            };
            if !slot_was_empty {
                return None;
            }
        }
        Some(Self {
            generation_id: generation_id?,
            create_number: create_number?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0b0e8a4e-8d5e-4a55-a3b4-2c1f1f7d9c01";

    #[test]
    fn a_mark_survives_its_own_url() {
        let base = WebhookBase::parse("https://abc.supabase.co/").unwrap();
        let mark = OwnerMark {
            generation_id: ID.parse().unwrap(),
            create_number: 2,
        };
        let url = mark.webhook_url(&base);
        assert_eq!(
            url,
            format!("https://abc.supabase.co/functions/v1/replicate-webhook?generation_id={ID}&attempt=2")
        );
        assert_eq!(OwnerMark::parse(&url), Some(mark));
    }

    #[test]
    fn urls_this_backend_did_not_write_carry_no_mark() {
        for url in [
            "https://example.com/hook",
            &format!("https://x/functions/v1/other?generation_id={ID}&attempt=1"),
            &format!("https://x/functions/v1/replicate-webhook?generation_id={ID}"),
            "https://x/functions/v1/replicate-webhook?generation_id=nope&attempt=1",
            &format!("https://x/functions/v1/replicate-webhook?generation_id={ID}&attempt=0"),
            &format!(
                "https://x/functions/v1/replicate-webhook?generation_id={ID}&attempt=1&attempt=2"
            ),
        ] {
            assert_eq!(OwnerMark::parse(url), None, "{url}");
        }
    }

    #[test]
    fn bases_are_plain_http_urls() {
        assert_eq!(
            WebhookBase::parse(" http://127.0.0.1:54321/ ")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:54321"
        );
        for bad in [
            "",
            "ftp://x",
            "https://",
            "https:///p",
            "https://x?a=1",
            "https://x y",
        ] {
            assert!(WebhookBase::parse(bad).is_err(), "{bad}");
        }
    }
}
