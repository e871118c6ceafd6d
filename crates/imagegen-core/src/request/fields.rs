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

/// Smallest and largest side accepted from a client, in pixels. Every model then snaps the size to what it
/// makes (see `catalog::sizing`); outside these bounds a size cannot be meant (no model makes a side under
/// 256 or over 4096, and the clients' presets are 640–1536), so it is refused rather than snapped.
pub const SIDE_BOUNDS: (u32, u32) = (64, 8192);

/// An image side in pixels: within [`SIDE_BOUNDS`] as asked, within the model's bounds once planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Side(u32);

impl Side {
    /// A requested side (`field` is `width` or `height`, for the message).
    pub fn parse(field: &'static str, raw: i64) -> Result<Self, ApiError> {
        let (min, max) = SIDE_BOUNDS;
        if raw < i64::from(min) || raw > i64::from(max) {
            return Err(ApiError::invalid(
                field,
                "size_out_of_range",
                format!("{field} {raw} is not a usable size: it must be {min} to {max} pixels"),
            ));
        }
        Ok(Self(raw as u32))
    }

    /// A side the size planning chose (always within a model's bounds, which lie within [`SIDE_BOUNDS`]).
    pub(crate) fn planned(side: u32) -> Self {
        debug_assert!((SIDE_BOUNDS.0..=SIDE_BOUNDS.1).contains(&side));
        Self(side)
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

/// The source image for image-to-image: an absolute `https`/`http` URL. Where it may point is a rule
/// of the configuration, checked by the handlers (`image_input::ImageInputPolicy`); both answer 422
/// `invalid_image_url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageUrl(String);

impl ImageUrl {
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        Self::parse_field("image_url", raw)
    }

    /// As [`ImageUrl::parse`], naming `field` (`image_url` or `source_image_url`) in errors.
    pub fn parse_field(field: &'static str, raw: &str) -> Result<Self, ApiError> {
        let raw = raw.trim();
        let bad = |why: &str| ApiError {
            status: 422,
            ..ApiError::invalid(field, "invalid_image_url", format!("{field} {why}"))
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
    /// `accepted` are the model's formats, `default` the one it makes unasked; `model` is its name. The
    /// error is why the value cannot be used (it is then dropped: the model's default applies).
    pub fn parse(
        raw: &str,
        accepted: &[FileFormat],
        default: FileFormat,
        model: &str,
    ) -> Result<Self, String> {
        match FileFormat::parse(&raw.trim().to_ascii_lowercase()) {
            Some(f) if accepted.contains(&f) => Ok(Self(f)),
            _ => {
                let names: Vec<&str> = accepted.iter().map(|f| f.extension()).collect();
                Err(match names.as_slice() {
                    [only] => format!("{model} always makes {only}"),
                    _ => format!(
                        "{model} makes {}; its default, {}, is used",
                        names.join(", "),
                        default.extension()
                    ),
                })
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
    /// `accepted` are the model's styles; `model` is its name. The error is why the value cannot be used
    /// (it is then dropped).
    pub fn parse(
        raw: &str,
        accepted: &'static [&'static str],
        model: &str,
    ) -> Result<Self, String> {
        let raw = raw.trim();
        if let Some(s) = accepted.iter().find(|s| s.eq_ignore_ascii_case(raw)) {
            return Ok(Self(s));
        }
        Err(if accepted.is_empty() {
            format!("{model} has no styles")
        } else {
            format!("{model} offers the styles {}", accepted.join(", "))
        })
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

/// Denoising steps as sent to the model's steps input (within its bounds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Steps(i64);

impl Steps {
    pub(crate) fn planned(steps: i64) -> Self {
        Self(steps)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

/// Guidance (classifier-free guidance scale) as sent to the model's guidance input (within its bounds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Guidance(f64);

impl Guidance {
    pub(crate) fn planned(guidance: f64) -> Self {
        Self(guidance)
    }

    pub fn get(self) -> f64 {
        self.0
    }
}

/// A Replicate version id: 64 hex digits, kept in lower case (the form Replicate prints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelVersion(String);

impl ModelVersion {
    /// `field` is where the value came from (`model_version` or `model_id`), for the message.
    pub fn parse(field: &'static str, raw: &str) -> Result<Self, ApiError> {
        let raw = raw.trim();
        if raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(Self(raw.to_ascii_lowercase()));
        }
        Err(ApiError::invalid(
            field,
            "invalid_model_version",
            format!("{field} {raw:?} is not a Replicate version id (64 hexadecimal digits)"),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
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
    fn sides_within_the_absolute_bounds() {
        assert_eq!(Side::parse("width", 1024).unwrap().get(), 1024);
        assert!(Side::parse("width", 64).is_ok() && Side::parse("width", 8192).is_ok());
        let e = Side::parse("height", 63).unwrap_err();
        assert_eq!((e.field, e.code), (Some("height"), "size_out_of_range"));
        assert_eq!(
            e.message,
            "height 63 is not a usable size: it must be 64 to 8192 pixels"
        );
        assert!(Side::parse("width", 8193).is_err() && Side::parse("width", -1).is_err());
    }

    #[test]
    fn model_versions_are_64_hex_digits() {
        let v = "39ED52F2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b";
        assert_eq!(
            ModelVersion::parse("model_version", v).unwrap().as_str(),
            v.to_ascii_lowercase()
        );
        for bad in ["latest", "39ed52f2", &format!("{v}0"), &v.replace('3', "g")] {
            let e = ModelVersion::parse("model_version", bad).unwrap_err();
            assert_eq!(e.code, "invalid_model_version", "{bad}");
        }
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
        let parse = |raw, accepted: &[FileFormat], model| {
            OutputFormat::parse(raw, accepted, accepted[0], model)
        };
        assert_eq!(parse("JPEG", f, "m").unwrap().as_str(), "jpg");
        assert_eq!(
            parse("gif", f, "M").unwrap_err(),
            "M makes webp, jpg, png; its default, webp, is used"
        );
        assert_eq!(
            parse("webp", &[FileFormat::Png], "SDXL").unwrap_err(),
            "SDXL always makes png"
        );
        assert!(parse("png", &[FileFormat::Png], "SDXL").is_ok());
    }

    #[test]
    fn style_takes_the_models_spelling() {
        let styles = &["Auto", "Realistic"];
        assert_eq!(
            Style::parse(" realistic ", styles, "m").unwrap().as_str(),
            "Realistic"
        );
        assert_eq!(
            Style::parse("oil", styles, "M").unwrap_err(),
            "M offers the styles Auto, Realistic"
        );
        assert_eq!(
            Style::parse("any", &[], "FLUX").unwrap_err(),
            "FLUX has no styles"
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
