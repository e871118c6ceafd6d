//! The model catalog: which Replicate models the product offers and what each can do. One source of truth
//! for start-generation's validation (and, in later work, the worker's input mapping and the simulator).
//!
//! Capabilities follow Replicate's published model schemas (see `shared/REPLICATE.md`); the mapping from a
//! request to each model's exact inputs is built on top of this in the process-generation work.

/// The model used when a request names none: the cheapest fast model, as in the seed's clients.
pub const DEFAULT_MODEL_ID: &str = "black-forest-labs/flux-schnell";

/// How a model takes its output size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizing {
    /// Only named aspect ratios; width/height pick the nearest one.
    AspectRatios(&'static [&'static str]),
    /// Free width/height within bounds, rounded to a multiple.
    Pixels { min: u32, max: u32, multiple: u32 },
    /// Fixed "WxH" sizes (recraft); width/height pick the nearest one.
    FixedSizes(&'static [&'static str]),
}

/// The image-to-image input a model accepts, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageInput {
    /// Replicate input name for the source image (`image`, `image_prompt`, `input_image`, `image_input`).
    pub field: &'static str,
    /// Replicate input name for the strength, when the model has one.
    pub strength_field: Option<&'static str>,
}

/// How long a model usually takes; used for timeouts and for clients choosing a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speed {
    /// Usually under 5 s.
    Fast,
    /// Usually 5–30 s.
    Standard,
    /// Usually 30–60 s.
    Slow,
}

/// One model and what it can do.
#[derive(Debug, PartialEq, Eq)]
pub struct Model {
    /// Replicate `owner/name`, as clients send it in `model_id`.
    pub id: &'static str,
    /// Human name for messages and the model list.
    pub name: &'static str,
    /// How the output size is requested.
    pub sizing: Sizing,
    /// Bounds accepted for the request's `width`/`height` (the pixel bounds for `Sizing::Pixels`).
    pub side_bounds: (u32, u32),
    /// Image-to-image support.
    pub image_input: Option<ImageInput>,
    /// Accepted `output_format` values; empty when the model has no such input.
    pub output_formats: &'static [&'static str],
    /// Largest `num_outputs` the model accepts (1 when it has no such input).
    pub max_outputs: u8,
    /// Whether the model takes a `negative_prompt`.
    pub negative_prompt: bool,
    /// Accepted `style` values; empty when the model has no style input.
    pub styles: &'static [&'static str],
    /// Typical latency class.
    pub speed: Speed,
}

const FLUX_RATIOS: &[&str] = &[
    "1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21",
];
const WEBP_JPG_PNG: &[&str] = &["webp", "jpg", "png"];
const RECRAFT_SIZES: &[&str] = &[
    "1024x1024",
    "1365x1024",
    "1024x1365",
    "1536x1024",
    "1024x1536",
    "1820x1024",
    "1024x1820",
    "1024x2048",
    "2048x1024",
    "1434x1024",
    "1024x1434",
    "1024x1280",
    "1280x1024",
    "1024x1707",
    "1707x1024",
];

/// Every model the product serves. Sources: Replicate model pages and OpenAPI schemas as summarised in
/// `shared/REPLICATE.md` (checked 2026-11).
pub static MODELS: &[Model] = &[
    Model {
        id: "black-forest-labs/flux-schnell",
        name: "FLUX Schnell",
        sizing: Sizing::AspectRatios(FLUX_RATIOS),
        side_bounds: (256, 2048),
        image_input: None,
        output_formats: WEBP_JPG_PNG,
        max_outputs: 4,
        negative_prompt: false,
        styles: &[],
        speed: Speed::Fast,
    },
    Model {
        id: "black-forest-labs/flux-dev",
        name: "FLUX Dev",
        sizing: Sizing::AspectRatios(FLUX_RATIOS),
        side_bounds: (256, 2048),
        image_input: Some(ImageInput {
            field: "image",
            strength_field: Some("prompt_strength"),
        }),
        output_formats: WEBP_JPG_PNG,
        max_outputs: 4,
        negative_prompt: false,
        styles: &[],
        speed: Speed::Standard,
    },
    Model {
        id: "black-forest-labs/flux-1.1-pro",
        name: "FLUX 1.1 Pro",
        sizing: Sizing::Pixels {
            min: 256,
            max: 1440,
            multiple: 32,
        },
        side_bounds: (256, 1440),
        image_input: Some(ImageInput {
            field: "image_prompt",
            strength_field: None,
        }),
        output_formats: WEBP_JPG_PNG,
        max_outputs: 1,
        negative_prompt: false,
        styles: &[],
        speed: Speed::Standard,
    },
    Model {
        id: "bytedance/sdxl-lightning-4step",
        name: "SDXL Lightning",
        sizing: Sizing::Pixels {
            min: 256,
            max: 1280,
            multiple: 8,
        },
        side_bounds: (256, 1280),
        image_input: None,
        output_formats: &[],
        max_outputs: 4,
        negative_prompt: true,
        styles: &[],
        speed: Speed::Fast,
    },
    Model {
        id: "stability-ai/sdxl",
        name: "SDXL",
        sizing: Sizing::Pixels {
            min: 256,
            max: 1536,
            multiple: 8,
        },
        side_bounds: (256, 1536),
        image_input: Some(ImageInput {
            field: "image",
            strength_field: Some("prompt_strength"),
        }),
        output_formats: &[],
        max_outputs: 4,
        negative_prompt: true,
        styles: &[],
        speed: Speed::Slow,
    },
    Model {
        id: "recraft-ai/recraft-v3-svg",
        name: "Recraft V3 SVG",
        sizing: Sizing::FixedSizes(RECRAFT_SIZES),
        side_bounds: (1024, 2048),
        image_input: None,
        output_formats: &[],
        max_outputs: 1,
        negative_prompt: false,
        styles: &["any", "engraving", "line_art", "line_circuit", "linocut"],
        speed: Speed::Standard,
    },
];

/// Finds a model by its `owner/name` id (exact, case-sensitive, as Replicate ids are).
pub fn find(id: &str) -> Option<&'static Model> {
    MODELS.iter().find(|m| m.id == id)
}

impl Model {
    /// Whether `format` (already normalised, e.g. `jpg`) is accepted.
    pub fn accepts_format(&self, format: &str) -> bool {
        self.output_formats.contains(&format)
    }

    /// Whether `ratio` is one of the model's aspect ratios (only for ratio-sized models).
    pub fn accepts_aspect_ratio(&self, ratio: &str) -> bool {
        match self.sizing {
            Sizing::AspectRatios(list) => list.contains(&ratio),
            // Pixel-sized and fixed-size models derive the shape from width/height; a ratio is
            // accepted when it is well formed and mapped to the nearest size downstream.
            Sizing::Pixels { .. } | Sizing::FixedSizes(_) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_default_exists() {
        for (i, a) in MODELS.iter().enumerate() {
            assert!(
                MODELS[i + 1..].iter().all(|b| b.id != a.id),
                "duplicate {}",
                a.id
            );
        }
        assert!(find(DEFAULT_MODEL_ID).is_some());
    }

    #[test]
    fn bounds_are_consistent() {
        for m in MODELS {
            assert!(m.side_bounds.0 <= m.side_bounds.1, "{}", m.id);
            assert!(m.max_outputs >= 1, "{}", m.id);
            if let Sizing::Pixels { min, max, multiple } = m.sizing {
                assert_eq!((min, max), m.side_bounds, "{}", m.id);
                assert!(multiple > 0);
            }
        }
    }

    #[test]
    fn find_is_exact() {
        assert!(find("black-forest-labs/flux-schnell").is_some());
        assert!(find("black-forest-labs/FLUX-schnell").is_none());
        assert!(find("flux-schnell").is_none());
    }
}
