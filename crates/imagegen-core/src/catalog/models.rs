//! The served models: product decisions only. Capabilities (ratios, formats, bounds, which inputs exist)
//! come from `replicate::schema`, whose entries follow Replicate's docs and each model's API page
//! `https://replicate.com/{id}/api`. Checked again for this catalog (2026-11) against the input types
//! generated from Replicate's published OpenAPI schemas in ClickerMonkey/aeye (`@aeye/replicate`
//! transformers: flux-1.1-pro, -ultra, kontext-pro, ideogram-v3-turbo, sd-3.5-large, recraft-v3(-svg),
//! seedream-3/4, qwen-image, nano-banana) and Replicate's llms.txt model pages (nano-banana, seedream-4):
//! ratio lists, format enums and bounds agree.
//!
//! Speed classes and `estimated_seconds`: REPLICATE.md's typical times (FLUX Schnell, SDXL Lightning < 5 s;
//! qwen-image ~3.5 s; nano-banana ~10.5 s; seedream-4 ~14 s; "quality models 30–60 s"), rounded up, as the
//! simulator's default run times; where it gives none, our estimate from the provider's tier name.
//!
//! Costs are estimates in USD per output image (`models.cost_per_generation`), not quotes: Replicate's
//! per-image prices for official models as published on their model pages and repeated by price
//! comparisons in 2026 (workflowlab.dev: flux-schnell $0.003, flux-dev $0.025; lumenfall.ai: flux-krea-dev
//! $0.025; komelin.com's benchmark of the providers' list prices: Imagen 4 Fast/Standard/Ultra $0.02/$0.04/
//! $0.06, FLUX 1.1 Pro $0.04, Ultra $0.06, Kontext Pro $0.04, Recraft V3 $0.04, Nano Banana $0.039).
//! Ideogram 3 ($0.03/$0.06/$0.09), SD 3.5 Large ($0.065), Recraft V3 SVG ($0.08), Seedream 3/4 ($0.03) and
//! Qwen Image ($0.025) are Replicate's listed per-image prices as we know them. The two community SDXL
//! models are billed by GPU time: ~$0.004 (SDXL, theneuralbase.com) and ~$0.002 (Lightning, our estimate
//! from its ~2 s run).

use super::{ImageInput, Model, Sizing, Speed, StrengthInput, StrengthScale, Usd};

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

/// A text-to-image model with no style input; the entries below fill in the rest.
#[allow(clippy::too_many_arguments)]
const fn model(
    id: &'static str,
    display_name: &'static str,
    description: &'static str,
    speed: Speed,
    estimated_seconds: u16,
    cost: Usd,
    sizing: Sizing,
    image_input: Option<ImageInput>,
) -> Model {
    Model {
        id,
        display_name,
        description,
        speed,
        estimated_seconds,
        cost,
        sizing,
        image_input,
        style_field: None,
    }
}

/// Dollars per output image, written as thousandths of a cent (`usd(3_000)` = $0.003).
const fn usd(micros: u32) -> Usd {
    Usd::from_micros(micros)
}

use Sizing::{AspectRatio, CustomAspectRatio, CustomSize, FixedSize, Pixels};
use Speed::{Fast, Slow, Standard};
use StrengthScale::{Inverted, Same};

/// Every model the product serves, in the order clients list them (`models.sort_order`).
pub static MODELS: &[Model] = &[
    // Text-to-image only; `megapixels` follows the requested area.
    model(
        "black-forest-labs/flux-schnell",
        "FLUX Schnell",
        "The fastest and cheapest FLUX model: good images in about two seconds.",
        Fast,
        2,
        usd(3_000),
        AspectRatio,
        None,
    ),
    // img2img via `image` + `prompt_strength` (REPLICATE.md: "aspect follows the image").
    model(
        "black-forest-labs/flux-dev",
        "FLUX Dev",
        "FLUX at full quality, with image-to-image.",
        Standard,
        6,
        usd(25_000),
        AspectRatio,
        image_with_strength("image", "prompt_strength", Same),
    ),
    // FLUX Dev retrained with Krea for photographic aesthetics; same inputs as FLUX Dev.
    model(
        "black-forest-labs/flux-krea-dev",
        "FLUX Krea Dev",
        "FLUX tuned with Krea for natural, photographic images without the typical AI look.",
        Standard,
        6,
        usd(25_000),
        AspectRatio,
        image_with_strength("image", "prompt_strength", Same),
    ),
    // Free sizes: `custom` + width/height, multiple of 32 (REPLICATE.md). `image_prompt` is a Redux-style
    // reference with no strength input.
    model(
        "black-forest-labs/flux-1.1-pro",
        "FLUX 1.1 Pro",
        "Black Forest Labs' professional model: detailed images at any size up to 1440 pixels.",
        Standard,
        5,
        usd(40_000),
        CustomAspectRatio { multiple: 32 },
        image("image_prompt"),
    ),
    // ~4 MP at a named ratio. `image_prompt_strength` weighs the image (1 = image only): inverted.
    model(
        "black-forest-labs/flux-1.1-pro-ultra",
        "FLUX 1.1 Pro Ultra",
        "FLUX 1.1 Pro at about four megapixels.",
        Standard,
        12,
        usd(60_000),
        AspectRatio,
        image_with_strength("image_prompt", "image_prompt_strength", Inverted),
    ),
    // An editing model: `input_image`, shape follows it unless a ratio is asked for.
    model(
        "black-forest-labs/flux-kontext-pro",
        "FLUX Kontext Pro",
        "Edits an image from a text instruction, or creates one.",
        Standard,
        7,
        usd(40_000),
        AspectRatio,
        image("input_image"),
    ),
    // Community model, called by pinned version (schema::SDXL_LIGHTNING_VERSION). Width/height
    // 256–1280 from the schema; multiples of 8 because SDXL's latent is 1/8 of the image.
    model(
        "bytedance/sdxl-lightning-4step",
        "SDXL Lightning",
        "SDXL distilled to four steps: fast drafts.",
        Fast,
        2,
        usd(2_000),
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
        "Stable Diffusion XL with negative prompts and image-to-image.",
        Slow,
        9,
        usd(4_000),
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
            "Ideogram's fast tier: the best at lettering, logos and posters.",
            Standard,
            6,
            usd(30_000),
            AspectRatio,
            None,
        )
    },
    Model {
        style_field: Some("style_type"),
        ..model(
            "ideogram-ai/ideogram-v3-balanced",
            "Ideogram 3 Balanced",
            "Ideogram 3 balancing speed and quality.",
            Standard,
            12,
            usd(60_000),
            AspectRatio,
            None,
        )
    },
    Model {
        style_field: Some("style_type"),
        ..model(
            "ideogram-ai/ideogram-v3-quality",
            "Ideogram 3 Quality",
            "Ideogram 3 at its highest quality.",
            Slow,
            30,
            usd(90_000),
            AspectRatio,
            None,
        )
    },
    // Imagen 4: five ratios, no seed, no image input. Speeds are our estimates by tier.
    model(
        "google/imagen-4",
        "Imagen 4",
        "Google's photorealistic model.",
        Standard,
        9,
        usd(40_000),
        AspectRatio,
        None,
    ),
    model(
        "google/imagen-4-fast",
        "Imagen 4 Fast",
        "Google Imagen 4, faster and cheaper.",
        Standard,
        4,
        usd(20_000),
        AspectRatio,
        None,
    ),
    model(
        "google/imagen-4-ultra",
        "Imagen 4 Ultra",
        "Google Imagen 4 at its highest quality.",
        Slow,
        14,
        usd(60_000),
        AspectRatio,
        None,
    ),
    // img2img via `image` + `prompt_strength` (default 0.85). Speed is our estimate (40 steps).
    model(
        "stability-ai/stable-diffusion-3.5-large",
        "Stable Diffusion 3.5 Large",
        "Stability AI's largest SD 3.5 model, with negative prompts and image-to-image.",
        Standard,
        12,
        usd(65_000),
        AspectRatio,
        image_with_strength("image", "prompt_strength", Same),
    ),
    // 15 fixed sizes; `style` picks one of Recraft's styles.
    Model {
        style_field: Some("style"),
        ..model(
            "recraft-ai/recraft-v3",
            "Recraft V3",
            "Design-minded images in many illustration and photo styles.",
            Standard,
            9,
            usd(40_000),
            FixedSize,
            None,
        )
    },
    Model {
        style_field: Some("style"),
        ..model(
            "recraft-ai/recraft-v3-svg",
            "Recraft V3 SVG",
            "Vector graphics (SVG) for logos, icons and illustrations.",
            Standard,
            12,
            usd(80_000),
            FixedSize,
            None,
        )
    },
    // Free sizes 512–2048 with `aspect_ratio: custom`; no rounding published, so none is applied.
    model(
        "bytedance/seedream-3",
        "Seedream 3",
        "ByteDance's versatile model for artwork and illustration, at free sizes up to 2048 pixels.",
        Standard,
        7,
        usd(30_000),
        CustomAspectRatio { multiple: 1 },
        None,
    ),
    // Free sizes 1024–4096 with `size: custom`; up to 10 reference images in `image_input` (we send one).
    model(
        "bytedance/seedream-4",
        "Seedream 4",
        "ByteDance's model for generation and editing at up to 4K.",
        Standard,
        14,
        usd(30_000),
        CustomSize { multiple: 1 },
        image("image_input"),
    ),
    // img2img via `image` + `strength` (default 0.9).
    model(
        "qwen/qwen-image",
        "Qwen Image",
        "Alibaba's model, strong at text in images and at prompts in many languages.",
        Fast,
        4,
        usd(25_000),
        AspectRatio,
        image_with_strength("image", "strength", Same),
    ),
    // Editing and multi-image fusion via `image_input` (an array).
    model(
        "google/nano-banana",
        "Nano Banana",
        "Google Gemini's image model: edits and combines images from instructions.",
        Standard,
        11,
        usd(39_000),
        AspectRatio,
        image("image_input"),
    ),
];
