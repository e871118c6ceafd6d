//! The served models: product decisions only. Capabilities (ratios, formats, bounds, which inputs exist)
//! come from `replicate::schema`, whose entries follow `shared/REPLICATE.md` and each model's API page
//! `https://replicate.com/{id}/api`. Checked again for this catalog (2026-11) against the input types
//! generated from Replicate's published OpenAPI schemas in ClickerMonkey/aeye (`@aeye/replicate`
//! transformers: flux-1.1-pro, -ultra, kontext-pro, ideogram-v3-turbo, sd-3.5-large, recraft-v3(-svg),
//! seedream-3/4, qwen-image, nano-banana) and Replicate's llms.txt model pages (nano-banana, seedream-4):
//! ratio lists, format enums and bounds agree.
//!
//! Speed classes: REPLICATE.md's typical times (FLUX Schnell, SDXL Lightning < 5 s; qwen-image ~3.5 s;
//! nano-banana ~10.5 s; seedream-4 ~14 s; "quality models 30–60 s"); where it gives none, the class is our
//! estimate from the provider's tier name (noted).

use super::{ImageInput, Model, Sizing, Speed, StrengthInput, StrengthScale};

const fn image(field: &'static str) -> Option<ImageInput> {
    Some(ImageInput {
        field,
        strength: None,
    })
}

const fn image_with_strength(
    field: &'static str,
    strength: &'static str,
    scale: StrengthScale,
) -> Option<ImageInput> {
    Some(ImageInput {
        field,
        strength: Some(StrengthInput {
            field: strength,
            scale,
        }),
    })
}

const fn model(
    id: &'static str,
    name: &'static str,
    speed: Speed,
    sizing: Sizing,
    image_input: Option<ImageInput>,
) -> Model {
    Model {
        id,
        name,
        speed,
        sizing,
        image_input,
        style_field: None,
    }
}

use Sizing::{AspectRatio, CustomAspectRatio, CustomSize, FixedSize, Pixels};
use Speed::{Fast, Slow, Standard};
use StrengthScale::{Inverted, Same};

/// Every model the product serves, in the order clients list them.
pub static MODELS: &[Model] = &[
    // Text-to-image only; `megapixels` follows the requested area.
    model(
        "black-forest-labs/flux-schnell",
        "FLUX Schnell",
        Fast,
        AspectRatio,
        None,
    ),
    // img2img via `image` + `prompt_strength` (REPLICATE.md: "aspect follows the image").
    model(
        "black-forest-labs/flux-dev",
        "FLUX Dev",
        Standard,
        AspectRatio,
        image_with_strength("image", "prompt_strength", Same),
    ),
    // Free sizes: `custom` + width/height, multiple of 32 (REPLICATE.md). `image_prompt` is a Redux-style
    // reference with no strength input.
    model(
        "black-forest-labs/flux-1.1-pro",
        "FLUX 1.1 Pro",
        Standard,
        CustomAspectRatio { multiple: 32 },
        image("image_prompt"),
    ),
    // ~4 MP at a named ratio. `image_prompt_strength` weighs the image (1 = image only): inverted.
    model(
        "black-forest-labs/flux-1.1-pro-ultra",
        "FLUX 1.1 Pro Ultra",
        Standard,
        AspectRatio,
        image_with_strength("image_prompt", "image_prompt_strength", Inverted),
    ),
    // An editing model: `input_image`, shape follows it unless a ratio is asked for.
    model(
        "black-forest-labs/flux-kontext-pro",
        "FLUX Kontext Pro",
        Standard,
        AspectRatio,
        image("input_image"),
    ),
    // Community model, called by pinned version (schema::SDXL_LIGHTNING_VERSION). Width/height
    // 256–1280 from the schema; multiples of 8 because SDXL's latent is 1/8 of the image.
    model(
        "bytedance/sdxl-lightning-4step",
        "SDXL Lightning",
        Fast,
        Pixels {
            multiple: 8,
            unpublished_bounds: None,
        },
        None,
    ),
    // Community model (schema::SDXL_VERSION). Its schema bounds nothing; 256–1536 is ours: SDXL is
    // trained at ~1 MP and larger sides mostly cost time and memory.
    model(
        "stability-ai/sdxl",
        "SDXL",
        Slow,
        Pixels {
            multiple: 8,
            unpublished_bounds: Some((256, 1536)),
        },
        image_with_strength("image", "prompt_strength", Same),
    ),
    // Ideogram's `image` is inpainting and needs a `mask`: not offered as img2img. `resolution` (a
    // fixed list) is not used: the named ratios cover the shapes. Speeds are our estimates by tier.
    Model {
        style_field: Some("style_type"),
        ..model(
            "ideogram-ai/ideogram-v3-turbo",
            "Ideogram 3 Turbo",
            Standard,
            AspectRatio,
            None,
        )
    },
    Model {
        style_field: Some("style_type"),
        ..model(
            "ideogram-ai/ideogram-v3-balanced",
            "Ideogram 3 Balanced",
            Standard,
            AspectRatio,
            None,
        )
    },
    Model {
        style_field: Some("style_type"),
        ..model(
            "ideogram-ai/ideogram-v3-quality",
            "Ideogram 3 Quality",
            Slow,
            AspectRatio,
            None,
        )
    },
    // Imagen 4: five ratios, no seed, no image input. Speeds are our estimates by tier.
    model("google/imagen-4", "Imagen 4", Standard, AspectRatio, None),
    model(
        "google/imagen-4-fast",
        "Imagen 4 Fast",
        Standard,
        AspectRatio,
        None,
    ),
    model(
        "google/imagen-4-ultra",
        "Imagen 4 Ultra",
        Slow,
        AspectRatio,
        None,
    ),
    // img2img via `image` + `prompt_strength` (default 0.85). Speed is our estimate (40 steps).
    model(
        "stability-ai/stable-diffusion-3.5-large",
        "Stable Diffusion 3.5 Large",
        Standard,
        AspectRatio,
        image_with_strength("image", "prompt_strength", Same),
    ),
    // 15 fixed sizes; `style` picks one of Recraft's styles.
    Model {
        style_field: Some("style"),
        ..model(
            "recraft-ai/recraft-v3",
            "Recraft V3",
            Standard,
            FixedSize,
            None,
        )
    },
    Model {
        style_field: Some("style"),
        ..model(
            "recraft-ai/recraft-v3-svg",
            "Recraft V3 SVG",
            Standard,
            FixedSize,
            None,
        )
    },
    // Free sizes 512–2048 with `aspect_ratio: custom`; no rounding published, so none is applied.
    model(
        "bytedance/seedream-3",
        "Seedream 3",
        Standard,
        CustomAspectRatio { multiple: 1 },
        None,
    ),
    // Free sizes 1024–4096 with `size: custom`; up to 10 reference images in `image_input` (we send one).
    model(
        "bytedance/seedream-4",
        "Seedream 4",
        Standard,
        CustomSize { multiple: 1 },
        image("image_input"),
    ),
    // img2img via `image` + `strength` (default 0.9).
    model(
        "qwen/qwen-image",
        "Qwen Image",
        Fast,
        AspectRatio,
        image_with_strength("image", "strength", Same),
    ),
    // Editing and multi-image fusion via `image_input` (an array).
    model(
        "google/nano-banana",
        "Nano Banana",
        Standard,
        AspectRatio,
        image("image_input"),
    ),
];
