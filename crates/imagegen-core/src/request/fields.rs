//! Newtypes for the fields of a generation request. Each has a private inner value and a `parse` that
//! returns `Result`, so once a request is parsed no code re-checks it ("parse, don't validate").

use crate::error::ApiError;
use crate::replicate::schema::OutputFormat as FileFormat;

/// Longest prompt accepted, in characters (Unicode scalar values, not bytes).
pub const MAX_PROMPT_CHARS: usize = 2000;
/// Longest `image_url` accepted.
pub const MAX_URL_LEN: usize = 2048;
/// Largest seed accepted: every model takes a signed 32-bit seed (Ideogram caps at 2147483647).
pub const MAX_SEED: i64 = 2_147_483_647;

/// Text fields must be storable in Postgres `text` (no NUL) and printable: control characters other
/// than tab and newlines are refused rather than silently stripped.
fn check_text(field: &'static str, value: &str) -> Result<(), ApiError> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ApiError::invalid(
            field,
            "invalid_characters",
            format!("{field} contains control characters"),
        ));
    }
    Ok(())
}

/// A prompt: trimmed, 1–2000 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt(String);

impl Prompt {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        Self::parse_field("prompt", raw)
    }

    fn parse_field(field: &'static str, raw: &str) -> Result<Self, ApiError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(ApiError::invalid(
                field,
                "prompt_empty",
                format!("{field} must not be empty"),
            ));
        }
        let chars = trimmed.chars().count();
        if chars > MAX_PROMPT_CHARS {
            return Err(ApiError::invalid(
                field,
                "prompt_too_long",
                format!("{field} is {chars} characters; the limit is {MAX_PROMPT_CHARS}"),
            ));
        }
        check_text(field, trimmed)?;
        Ok(Self(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A negative prompt: like a prompt, but an empty one means "none" (clients often send `""`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegativePrompt(Prompt);

impl NegativePrompt {
    /// `Ok(None)` for an empty or blank value.
    pub fn parse(raw: &str) -> Result<Option<Self>, ApiError> {
        if raw.trim().is_empty() {
            return Ok(None);
        }
        Prompt::parse_field("negative_prompt", raw).map(|p| Some(Self(p)))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// An image side in pixels, within the model's bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side(u32);

impl Side {
    pub fn parse(
        field: &'static str,
        raw: i64,
        (min, max): (u32, u32),
        model: &str,
    ) -> Result<Self, ApiError> {
        if raw < i64::from(min) || raw > i64::from(max) {
            return Err(ApiError::invalid(
                field,
                "size_out_of_range",
                format!(
                    "{field} {raw} is not supported by {model}: it accepts {min} to {max} pixels"
                ),
            ));
        }
        Ok(Self(raw as u32))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// An aspect ratio `W:H` with small positive integers (e.g. `16:9`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AspectRatio(String);

impl AspectRatio {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let bad = || {
            ApiError::invalid(
                "aspect_ratio",
                "invalid_aspect_ratio",
                format!("aspect_ratio {raw:?} is not of the form W:H, e.g. 16:9"),
            )
        };
        let (w, h) = raw.split_once(':').ok_or_else(bad)?;
        let side = |s: &str| {
            s.parse::<u16>()
                .ok()
                .filter(|n| (1..=100).contains(n) && !s.starts_with('0'))
        };
        match (side(w), side(h)) {
            (Some(_), Some(_)) => Ok(Self(raw.to_owned())),
            _ => Err(bad()),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The source image for image-to-image: an absolute `https`/`http` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUrl(String);

impl ImageUrl {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let raw = raw.trim();
        let bad = |why: &str| {
            ApiError::invalid("image_url", "invalid_image_url", format!("image_url {why}"))
        };
        if raw.len() > MAX_URL_LEN {
            return Err(bad(&format!("is longer than {MAX_URL_LEN} characters")));
        }
        let rest = raw
            .strip_prefix("https://")
            .or_else(|| raw.strip_prefix("http://"))
            .ok_or_else(|| bad("must be an http(s) URL"))?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host.rsplit('@').next().unwrap_or_default();
        if host.is_empty() || host.starts_with(':') {
            return Err(bad("has no host"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("contains spaces or control characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How strongly img2img departs from the source image, 0–1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Strength(f64);

impl Strength {
    pub fn parse(raw: f64) -> Result<Self, ApiError> {
        if !(0.0..=1.0).contains(&raw) {
            return Err(ApiError::invalid(
                "strength",
                "invalid_strength",
                "strength must be between 0 and 1",
            ));
        }
        Ok(Self(raw))
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// A reproducibility seed, 0–2147483647.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seed(i64);

impl Seed {
    pub fn parse(raw: i64) -> Result<Self, ApiError> {
        if !(0..=MAX_SEED).contains(&raw) {
            return Err(ApiError::invalid(
                "seed",
                "invalid_seed",
                format!("seed must be between 0 and {MAX_SEED}"),
            ));
        }
        Ok(Self(raw))
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// An output format the model can make (`jpeg` is read as `jpg`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputFormat(FileFormat);

impl OutputFormat {
    /// `accepted` are the model's formats; `model` is its name, for the message.
    pub fn parse(raw: &str, accepted: &[FileFormat], model: &str) -> Result<Self, ApiError> {
        match FileFormat::parse(&raw.trim().to_ascii_lowercase()) {
            Some(f) if accepted.contains(&f) => Ok(Self(f)),
            _ => {
                let names: Vec<&str> = accepted.iter().map(|f| f.extension()).collect();
                let supports = match names.as_slice() {
                    [only] => format!("{model} always makes {only}"),
                    _ => format!("{model} supports output_format {}", names.join(", ")),
                };
                Err(ApiError::invalid(
                    "output_format",
                    "unsupported_output_format",
                    format!("{supports}, not {:?}", raw.trim()),
                ))
            }
        }
    }

    pub fn get(self) -> FileFormat {
        self.0
    }

    /// Our spelling (`webp`, `jpg`, `png`, `svg`), as stored in `params`.
    pub fn as_str(self) -> &'static str {
        self.0.extension()
    }
}

/// A style the model offers, in the model's spelling (matched without regard to case).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style(&'static str);

impl Style {
    /// `accepted` are the model's styles; `model` is its name, for the message.
    pub fn parse(
        raw: &str,
        accepted: &'static [&'static str],
        model: &str,
    ) -> Result<Self, ApiError> {
        let raw = raw.trim();
        if let Some(s) = accepted.iter().find(|s| s.eq_ignore_ascii_case(raw)) {
            return Ok(Self(s));
        }
        let supports = if accepted.is_empty() {
            format!("{model} has no styles")
        } else {
            format!("{model} supports style {}", accepted.join(", "))
        };
        Err(ApiError::invalid(
            "style",
            "unsupported_style",
            format!("{supports}, not {raw:?}"),
        ))
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// An `Idempotency-Key` header: 1–255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 255 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::invalid(
                "Idempotency-Key",
                "invalid_idempotency_key",
                "Idempotency-Key must be 1 to 255 visible ASCII characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompt_is_trimmed_and_bounded() {
        assert_eq!(Prompt::parse("  a cat \n").unwrap().as_str(), "a cat");
        assert_eq!(Prompt::parse("   ").unwrap_err().code, "prompt_empty");
        assert!(
            Prompt::parse(&"é".repeat(2000)).is_ok(),
            "limit counts characters, not bytes"
        );
        assert_eq!(
            Prompt::parse(&"a".repeat(2001)).unwrap_err().code,
            "prompt_too_long"
        );
        assert_eq!(
            Prompt::parse("a\0b").unwrap_err().code,
            "invalid_characters"
        );
        assert!(Prompt::parse("line one\nline two\ttab").is_ok());
    }

    #[test]
    fn negative_prompt_empty_is_none() {
        assert_eq!(NegativePrompt::parse(" ").unwrap(), None);
        assert_eq!(
            NegativePrompt::parse("blurry").unwrap().unwrap().as_str(),
            "blurry"
        );
        assert_eq!(
            NegativePrompt::parse("x\u{7}").unwrap_err().field,
            Some("negative_prompt")
        );
    }

    #[test]
    fn sides_respect_bounds() {
        assert_eq!(
            Side::parse("width", 1024, (256, 1440), "m").unwrap().get(),
            1024
        );
        assert_eq!(
            Side::parse("width", 255, (256, 1440), "m")
                .unwrap_err()
                .code,
            "size_out_of_range"
        );
        let e = Side::parse("height", 1441, (256, 1440), "FLUX 1.1 Pro").unwrap_err();
        assert_eq!(e.field, Some("height"));
        assert!(e.message.contains("256 to 1440"), "{}", e.message);
    }

    #[test]
    fn aspect_ratio_shape() {
        assert!(AspectRatio::parse("16:9").is_ok());
        for bad in [
            "16x9", "16:", ":9", "0:1", "01:2", "a:b", "16:9:1", "1000:1",
        ] {
            assert!(AspectRatio::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn image_url_shape() {
        assert!(ImageUrl::parse("https://example.com/a.png").is_ok());
        assert!(ImageUrl::parse("http://127.0.0.1:54321/x").is_ok());
        for bad in [
            "ftp://x/a",
            "https://",
            "https:///path",
            "https://a b",
            "example.com/a.png",
            "javascript:alert(1)",
        ] {
            assert!(ImageUrl::parse(bad).is_err(), "{bad}");
        }
        assert!(ImageUrl::parse(&format!("https://e.com/{}", "a".repeat(MAX_URL_LEN))).is_err());
    }

    #[test]
    fn numbers_in_range() {
        assert!(Strength::parse(0.0).is_ok() && Strength::parse(1.0).is_ok());
        assert!(
            Strength::parse(1.01).is_err()
                && Strength::parse(-0.1).is_err()
                && Strength::parse(f64::NAN).is_err()
        );
        assert!(Seed::parse(0).is_ok() && Seed::parse(MAX_SEED).is_ok());
        assert!(Seed::parse(-1).is_err() && Seed::parse(MAX_SEED + 1).is_err());
    }

    #[test]
    fn output_format_normalised() {
        let f = &[FileFormat::Webp, FileFormat::Jpg, FileFormat::Png];
        assert_eq!(OutputFormat::parse("JPEG", f, "m").unwrap().as_str(), "jpg");
        let e = OutputFormat::parse("gif", f, "M").unwrap_err();
        assert_eq!(e.code, "unsupported_output_format");
        assert_eq!(
            e.message,
            "M supports output_format webp, jpg, png, not \"gif\""
        );
        let e = OutputFormat::parse("webp", &[FileFormat::Png], "SDXL").unwrap_err();
        assert_eq!(e.message, "SDXL always makes png, not \"webp\"");
        assert!(OutputFormat::parse("png", &[FileFormat::Png], "SDXL").is_ok());
    }

    #[test]
    fn style_takes_the_models_spelling() {
        let styles = &["Auto", "Realistic"];
        assert_eq!(
            Style::parse(" realistic ", styles, "m").unwrap().as_str(),
            "Realistic"
        );
        let e = Style::parse("oil", styles, "M").unwrap_err();
        assert_eq!((e.field, e.code), (Some("style"), "unsupported_style"));
        assert_eq!(e.message, "M supports style Auto, Realistic, not \"oil\"");
        assert_eq!(
            Style::parse("any", &[], "FLUX").unwrap_err().message,
            "FLUX has no styles, not \"any\""
        );
    }

    #[test]
    fn idempotency_key_shape() {
        assert!(IdempotencyKey::parse("abc-123").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("ünï").is_err());
    }
}
