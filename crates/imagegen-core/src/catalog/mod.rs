//! The model catalog: which Replicate models the product offers and what each can do. One source of truth
//! for start-generation's validation, the worker's Replicate input (`GenerationRequest::replicate_input`)
//! and the model list served to clients ([`listing_json`]).
//!
//! It also writes the `public.models` rows the original clients read ([`models_rows_json`],
//! [`models_migration_sql`]).
//!
//! Everything Replicate publishes about a model (its aspect ratios, `output_format` enum, `num_outputs`
//! range, width/height bounds, which inputs exist, how it is called, what it returns) is read from
//! [`crate::replicate::schema`], the table the simulator validates against. This module keeps only product
//! decisions: display name, speed class, sizing strategy, which input is the img2img source and its
//! strength, which enum carries `style`, and the safety values we pin.

mod input;
mod listing;
mod models;
mod rows;
mod safety;
mod sizing;

pub(crate) use input::replicate_input;
pub use listing::listing_json;
pub use models::MODELS;
pub use rows::{
    models_migration_sql, models_rows_json, COLUMNS as MODEL_ROW_COLUMNS, MODELS_MIGRATION_PATH,
};
pub(crate) use sizing::{plan_size, SizeAsk};
pub use sizing::{Sizing, SHAPE_HINT_SIDES};

use crate::replicate::schema::{self, Field, Kind, ModelSchema, OutputFormat};

/// Schema inputs that take the request's `num_inference_steps`, in order of preference.
const STEPS_INPUTS: &[&str] = &["num_inference_steps", "steps"];
/// Schema inputs that take the request's `guidance_scale`, in order of preference.
const GUIDANCE_INPUTS: &[&str] = &["guidance", "guidance_scale", "cfg"];

/// The model used when a request names none: the cheapest fast model, as in the seed's clients.
pub const DEFAULT_MODEL_ID: &str = "black-forest-labs/flux-schnell";

/// How long a model usually takes; for timeouts and for clients choosing a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speed {
    /// Usually under 5 s.
    Fast,
    /// Usually 5–30 s.
    Standard,
    /// Usually 30–60 s.
    Slow,
}

impl Speed {
    /// The name used in the client listing.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fast => "fast",
            Self::Standard => "standard",
            Self::Slow => "slow",
        }
    }
}

/// The image-to-image source input of a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInput {
    /// Replicate input that takes the request's `image_url`: a URI (`image`, `image_prompt`,
    /// `input_image`) or an array of URIs (`image_input`); the schema says which.
    pub field: &'static str,
    /// The input that takes the request's `strength`, if the model has one.
    pub strength: Option<StrengthInput>,
}

/// Where the request's `strength` goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrengthInput {
    /// Replicate input name (`prompt_strength`, `strength`, `image_prompt_strength`).
    pub field: &'static str,
    pub scale: StrengthScale,
}

/// Our `strength` means "how far the result departs from the source image" (0 keeps it, 1 ignores it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrengthScale {
    /// The model's input means the same (`prompt_strength`, `strength`: 1 = the image is fully noised).
    Same,
    /// The model's input weighs the image instead (FLUX Ultra's `image_prompt_strength`: "blend between
    /// the prompt and the image prompt", 1 = image only), so it receives `1 - strength`.
    Inverted,
}

/// What kind of file a model makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    /// A raster image (webp, jpg or png).
    Image,
    /// An SVG vector image.
    Svg,
}

impl OutputKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Svg => "svg",
        }
    }
}

/// A price in US dollars, held in millionths so it compares exactly and prints as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Usd(u32);

impl Usd {
    pub const fn from_micros(micros: u32) -> Self {
        Self(micros)
    }

    /// As a decimal number of dollars (`0.003`).
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 1e6
    }

    /// In usage units ([`USAGE_UNIT_MICROS`] each), rounded up: what one output image is charged
    /// against the usage limits (`models.cost_weight`). At least 1, so no model is free to abuse.
    pub const fn usage_units(self) -> u32 {
        let units = self.0.div_ceil(USAGE_UNIT_MICROS);
        if units == 0 {
            1
        } else {
            units
        }
    }
}

/// One usage unit in millionths of a dollar: $0.001 at list price. The usage limits (`usage_settings`)
/// are written in these units, so an hourly limit of 1000 is about one dollar of Replicate spend.
pub const USAGE_UNIT_MICROS: u32 = 1_000;

/// One model and the product decisions about it; its capabilities come from its Replicate schema.
#[derive(Debug, PartialEq, Eq)]
pub struct Model {
    /// Replicate `owner/name`, as clients send it in `model_id` (`models.replicate_id`).
    pub id: &'static str,
    /// Human name for messages and the model list (`models.display_name`).
    pub display_name: &'static str,
    /// One sentence for the model picker (`models.description`).
    pub description: &'static str,
    /// Typical latency class.
    pub speed: Speed,
    /// Typical seconds from request to image (`models.estimated_time_seconds`).
    pub estimated_seconds: u16,
    /// Estimated price of one output image (`models.cost_per_generation`); sources in `models.rs`.
    pub cost: Usd,
    /// How the request's width/height/aspect_ratio become the model's size inputs.
    pub sizing: Sizing,
    /// Image-to-image support.
    pub image_input: Option<ImageInput>,
    /// The schema enum that carries the request's `style` (`style` on Recraft, `style_type` on Ideogram).
    pub style_field: Option<&'static str>,
}

/// Finds a model by its `owner/name` id (exact, case-sensitive, as Replicate ids are).
pub fn find(id: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.id == id)
}

/// Ids the original Picture documents used for models Replicate serves under another owner
/// (`QUICK_REFERENCE.md` of the original functions): accepted in `model_id`, rewritten in `models` rows.
pub const ALIASES: &[(&str, &str)] = &[
    ("google-deepmind/imagen-4-fast", "google/imagen-4-fast"),
    ("fofr/recraft-v3-svg", "recraft-ai/recraft-v3-svg"),
];

/// Finds a model by its id or one of [`ALIASES`].
pub fn resolve(id: &str) -> Option<&'static Model> {
    let id = ALIASES
        .iter()
        .find(|(alias, _)| *alias == id)
        .map_or(id, |(_, to)| to);
    find(id)
}

/// Ids of the models that take an `image_url`, for messages pointing elsewhere.
pub fn img2img_model_ids() -> Vec<&'static str> {
    MODELS
        .iter()
        .filter(|m| m.image_input.is_some())
        .map(|m| m.id)
        .collect()
}

/// Ids of the models that take a `negative_prompt`.
pub fn negative_prompt_model_ids() -> Vec<&'static str> {
    MODELS
        .iter()
        .filter(|m| m.takes_negative_prompt())
        .map(|m| m.id)
        .collect()
}

impl Model {
    /// The `models.name` of this model: the Replicate name without its owner (`flux-schnell`). The original
    /// functions stored exactly this (`model?.name || model_id.split('/').pop()` in start-generation), and
    /// clients write it into `image_generations.model`.
    pub fn name(&self) -> &'static str {
        self.id.rsplit('/').next().unwrap_or(self.id)
    }

    /// The model's Replicate input schema (how it is called, what it takes and returns).
    pub fn schema(&self) -> &'static ModelSchema {
        schema::find_model(self.id)
            .unwrap_or_else(|| panic!("catalog model {} has no Replicate schema", self.id))
    }

    /// The options of an enum input, or none when the model has no such input.
    fn options(&self, field: &str) -> &'static [&'static str] {
        match self.schema().field(field).map(|f| f.kind) {
            Some(Kind::Enum(options)) => options,
            _ => &[],
        }
    }

    /// Inclusive `width`/`height` bounds the model makes without adjustment (other sizes are snapped).
    pub fn side_bounds(&self) -> (u32, u32) {
        sizing::side_bounds(self)
    }

    /// Named aspect ratios the model makes (`W:H`), in the schema's order; empty for models sized
    /// in pixels only, which take any ratio within [`Model::ratio_range`].
    pub fn aspect_ratios(&self) -> Vec<&'static str> {
        match self.sizing {
            Sizing::Pixels { .. } => Vec::new(),
            _ => self
                .options("aspect_ratio")
                .iter()
                .copied()
                .filter(|r| sizing::parse_shape(r).is_some())
                .collect(),
        }
    }

    /// Whether any `W:H` within [`Model::ratio_range`] is accepted (free width/height), not only the named
    /// ones.
    pub fn takes_any_ratio(&self) -> bool {
        matches!(
            self.sizing,
            Sizing::CustomAspectRatio { .. } | Sizing::CustomSize { .. } | Sizing::Pixels { .. }
        )
    }

    /// The narrowest and widest width/height ratio the side bounds allow.
    pub fn ratio_range(&self) -> (f64, f64) {
        let (min, max) = self.side_bounds();
        (
            f64::from(min) / f64::from(max),
            f64::from(max) / f64::from(min),
        )
    }

    /// Whether the model makes `ratio` (`W:H`, already well formed) without adjustment.
    pub fn accepts_aspect_ratio(&self, ratio: &str) -> bool {
        if self.aspect_ratios().contains(&ratio) {
            return true;
        }
        let (lo, hi) = self.ratio_range();
        self.takes_any_ratio() && sizing::parse_shape(ratio).is_some_and(|r| r >= lo && r <= hi)
    }

    /// The fixed `WxH` sizes of a fixed-size model (Recraft); empty otherwise.
    pub fn fixed_sizes(&self) -> &'static [&'static str] {
        match self.sizing {
            Sizing::FixedSize => self.options("size"),
            _ => &[],
        }
    }

    /// The multiple free width/height are rounded to, for models that take pixels.
    pub fn size_multiple(&self) -> Option<u32> {
        match self.sizing {
            Sizing::CustomAspectRatio { multiple }
            | Sizing::CustomSize { multiple }
            | Sizing::Pixels { multiple, .. } => Some(multiple),
            Sizing::AspectRatio | Sizing::FixedSize => None,
        }
    }

    /// Formats a client may ask for: the schema's `output_format` enum, or the one format the model always
    /// makes (asking for it is accepted and sends nothing).
    pub fn output_formats(&self) -> Vec<OutputFormat> {
        match self.options("output_format") {
            [] => vec![self.schema().default_format],
            options => options
                .iter()
                .filter_map(|o| OutputFormat::parse(o))
                .collect(),
        }
    }

    /// The format made when the client does not choose.
    pub fn default_output_format(&self) -> OutputFormat {
        self.schema().output_format(&serde_json::json!({}))
    }

    /// The model's own spelling of `format` in its `output_format` enum (e.g. `jpg`), if it has the input.
    pub fn output_format_value(&self, format: OutputFormat) -> Option<&'static str> {
        self.options("output_format")
            .iter()
            .copied()
            .find(|o| OutputFormat::parse(o) == Some(format))
    }

    /// Largest `num_outputs` (1 when the model has no such input).
    pub fn max_outputs(&self) -> u8 {
        match self.schema().field("num_outputs").map(|f| f.kind) {
            Some(Kind::Int { max: Some(max), .. }) => u8::try_from(max).unwrap_or(u8::MAX),
            _ => 1,
        }
    }

    /// Whether the model takes a `negative_prompt`.
    pub fn takes_negative_prompt(&self) -> bool {
        self.schema().field("negative_prompt").is_some()
    }

    /// Whether the model takes a `seed` (Imagen, Recraft, Nano Banana and Seedream 4 do not).
    pub fn takes_seed(&self) -> bool {
        self.schema().field("seed").is_some()
    }

    /// Accepted `style` values, in the model's spelling; empty when it has no styles.
    pub fn styles(&self) -> &'static [&'static str] {
        self.style_field.map_or(&[], |f| self.options(f))
    }

    /// The input that takes the request's `num_inference_steps` (`num_inference_steps`, or `steps` on
    /// SD 3.5), if the model has one.
    pub fn steps_input(&self) -> Option<&'static Field> {
        STEPS_INPUTS.iter().find_map(|n| self.schema().field(n))
    }

    /// The input that takes the request's `guidance_scale` (`guidance` on FLUX and Qwen, `guidance_scale`
    /// on SDXL and Seedream 3, `cfg` on SD 3.5), if the model has one.
    pub fn guidance_input(&self) -> Option<&'static Field> {
        GUIDANCE_INPUTS.iter().find_map(|n| self.schema().field(n))
    }

    /// The strength used when a request gives none, in the request's meaning (see [`StrengthScale`]).
    pub fn default_strength(&self) -> Option<f64> {
        let to = self.image_input?.strength?;
        let raw = match self.schema().field(to.field)?.default {
            schema::DefaultValue::Num(n) => n,
            _ => return None,
        };
        Some(match to.scale {
            StrengthScale::Same => raw,
            StrengthScale::Inverted => ((1.0 - raw) * 1e6).round() / 1e6,
        })
    }

    /// Whether img2img without an explicit ratio keeps the source image's shape (`match_input_image`).
    pub fn matches_input_image(&self) -> bool {
        self.options("aspect_ratio")
            .contains(&sizing::MATCH_INPUT_IMAGE)
    }

    /// What kind of file the model makes.
    pub fn output_kind(&self) -> OutputKind {
        if self.schema().default_format == OutputFormat::Svg {
            OutputKind::Svg
        } else {
            OutputKind::Image
        }
    }
}

#[cfg(test)]
mod tests;
