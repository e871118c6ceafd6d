//! Each served model's Replicate input schema, how it is called (official model or pinned community
//! version) and what it returns. One table for the simulator's validation and, later, the catalog and the
//! worker's input mapping.
//!
//! Sources: Replicate's published OpenAPI schemas ("Model inputs"), completed from each
//! model's API page `https://replicate.com/{owner}/{name}/api` where REPLICATE.md is thin (noted per model).
//! Fields Replicate marks `x-order` only are listed in its order; nothing here is invented beyond a field's
//! published name, type, bounds and default.

use serde_json::Value;

/// A field's JSON Schema type and constraints.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Any string.
    Str,
    /// A string in `format: uri` (an `https:`/`http:` URL or a `data:` URI).
    Uri,
    /// One of the listed strings.
    Enum(&'static [&'static str]),
    /// An integer within optional inclusive bounds.
    Int { min: Option<i64>, max: Option<i64> },
    /// A number within optional inclusive bounds.
    Num { min: Option<f64>, max: Option<f64> },
    /// `true` or `false`.
    Bool,
    /// An array of URIs with an optional item limit.
    UriArray { max_items: Option<usize> },
}

/// A field's schema default.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    /// No default (the model picks, e.g. a random seed, or the field is unused when absent).
    None,
    Str(&'static str),
    Int(i64),
    Num(f64),
    Bool(bool),
    EmptyArray,
}

impl DefaultValue {
    /// As JSON, if there is one.
    pub fn to_json(self) -> Option<Value> {
        match self {
            Self::None => None,
            Self::Str(s) => Some(Value::from(s)),
            Self::Int(i) => Some(Value::from(i)),
            Self::Num(n) => Some(Value::from(n)),
            Self::Bool(b) => Some(Value::from(b)),
            Self::EmptyArray => Some(Value::Array(Vec::new())),
        }
    }
}

/// One input field.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub default: DefaultValue,
    pub required: bool,
}

/// How a model is addressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// An official model: `POST /v1/models/{owner}/{name}/predictions`; predictions show `version: "hidden"`.
    Official,
    /// A community model: `POST /v1/predictions` with a version. `version` is the pinned current one;
    /// `older` are earlier published versions still accepted.
    Community {
        version: &'static str,
        older: &'static [&'static str],
    },
}

/// Whether `output` is one URI string or an array of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputShape {
    Single,
    List,
}

/// The file format of an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputFormat {
    Webp,
    Jpg,
    Png,
    Svg,
}

impl OutputFormat {
    /// The file extension Replicate's delivery URLs use.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Webp => "webp",
            Self::Jpg => "jpg",
            Self::Png => "png",
            Self::Svg => "svg",
        }
    }

    /// The `Content-Type` of such a file.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Webp => "image/webp",
            Self::Jpg => "image/jpeg",
            Self::Png => "image/png",
            Self::Svg => "image/svg+xml",
        }
    }

    /// Parses an `output_format` value (`jpeg` is read as `jpg`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "webp" => Some(Self::Webp),
            "jpg" | "jpeg" => Some(Self::Jpg),
            "png" => Some(Self::Png),
            "svg" => Some(Self::Svg),
            _ => None,
        }
    }
}

/// How the model words an NSFW rejection (REPLICATE.md "Errors and limits").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SafetyChecker {
    /// SDXL-family checker: the prediction fails with [`NSFW_SDXL`].
    Sdxl,
    /// FLUX open-weight checker: flagged images are dropped; when all are, it fails with [`NSFW_FLUX`].
    Flux,
    /// A proprietary provider's filter: fails with [`NSFW_PROVIDER`].
    Provider,
}

/// SDXL's NSFW failure text.
pub const NSFW_SDXL: &str =
    "NSFW content detected. Try running it again, or try a different prompt.";
/// FLUX's NSFW failure text when every image was flagged.
pub const NSFW_FLUX: &str =
    "All generated images contained NSFW content. Try running it again with a different prompt.";
/// The E005 failure of proprietary models. REPLICATE.md records only "E005 ... flagged as sensitive"; this
/// full wording is the commonly reported one and is not confirmed.
pub const NSFW_PROVIDER: &str =
    "The input or output was flagged as sensitive. Please try again with different inputs. (E005)";

/// One model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelSchema {
    /// `owner/name`.
    pub id: &'static str,
    pub access: Access,
    /// Input fields, in Replicate's order.
    pub fields: &'static [Field],
    pub output_shape: OutputShape,
    /// The format when the input does not choose one (or the model has no `output_format`).
    pub default_format: OutputFormat,
    pub safety: SafetyChecker,
}

impl ModelSchema {
    /// The field called `name`.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// Whether the model is official (no version needed).
    pub fn is_official(&self) -> bool {
        self.access == Access::Official
    }

    /// The `version` shown on its predictions: `"hidden"` for official models (REPLICATE.md), else the id.
    pub fn version_label(&self) -> &'static str {
        match self.access {
            Access::Official => "hidden",
            Access::Community { version, .. } => version,
        }
    }

    /// Whether `version` is one of its published versions.
    pub fn has_version(&self, version: &str) -> bool {
        match self.access {
            Access::Official => false,
            Access::Community { version: v, older } => v == version || older.contains(&version),
        }
    }

    /// The value of `name` in `input`, or its schema default.
    pub fn value_or_default<'a>(
        &self,
        input: &'a Value,
        name: &str,
    ) -> Option<std::borrow::Cow<'a, Value>> {
        if let Some(v) = input.get(name) {
            return Some(std::borrow::Cow::Borrowed(v));
        }
        self.field(name)?
            .default
            .to_json()
            .map(std::borrow::Cow::Owned)
    }

    /// The format of the files a prediction with `input` produces.
    pub fn output_format(&self, input: &Value) -> OutputFormat {
        if self.default_format == OutputFormat::Svg {
            return OutputFormat::Svg;
        }
        self.value_or_default(input, "output_format")
            .and_then(|v| v.as_str().and_then(OutputFormat::parse))
            .unwrap_or(self.default_format)
    }
}

const fn f(name: &'static str, kind: Kind, default: DefaultValue) -> Field {
    Field {
        name,
        kind,
        default,
        required: false,
    }
}
const fn prompt() -> Field {
    Field {
        name: "prompt",
        kind: Kind::Str,
        default: DefaultValue::None,
        required: true,
    }
}
const fn text(name: &'static str) -> Field {
    f(name, Kind::Str, DefaultValue::None)
}
const fn uri(name: &'static str) -> Field {
    f(name, Kind::Uri, DefaultValue::None)
}
const fn uris(name: &'static str, max_items: Option<usize>) -> Field {
    f(name, Kind::UriArray { max_items }, DefaultValue::EmptyArray)
}
const fn choice(
    name: &'static str,
    options: &'static [&'static str],
    default: &'static str,
) -> Field {
    f(name, Kind::Enum(options), DefaultValue::Str(default))
}
const fn int(name: &'static str, min: i64, max: i64, default: DefaultValue) -> Field {
    f(
        name,
        Kind::Int {
            min: Some(min),
            max: Some(max),
        },
        default,
    )
}
const fn num(name: &'static str, min: f64, max: f64, default: f64) -> Field {
    f(
        name,
        Kind::Num {
            min: Some(min),
            max: Some(max),
        },
        DefaultValue::Num(default),
    )
}
const fn flag(name: &'static str, default: bool) -> Field {
    f(name, Kind::Bool, DefaultValue::Bool(default))
}
/// `seed`: an integer with no published bounds; absent means random.
const fn seed() -> Field {
    f(
        "seed",
        Kind::Int {
            min: None,
            max: None,
        },
        DefaultValue::None,
    )
}
const fn quality(default: i64) -> Field {
    int("output_quality", 0, 100, DefaultValue::Int(default))
}

const FLUX_RATIOS: &[&str] = &[
    "1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21",
];
const WEBP_JPG_PNG: &[&str] = &["webp", "jpg", "png"];
const JPG_PNG: &[&str] = &["jpg", "png"];
const SDXL_SCHEDULERS: &[&str] = &[
    "DDIM",
    "DPMSolverMultistep",
    "HeunDiscrete",
    "KarrasDPM",
    "K_EULER_ANCESTRAL",
    "K_EULER",
    "PNDM",
];
const LIGHTNING_SCHEDULERS: &[&str] = &[
    "DDIM",
    "DPMSolverMultistep",
    "HeunDiscrete",
    "KarrasDPM",
    "K_EULER_ANCESTRAL",
    "K_EULER",
    "PNDM",
    "DPM++2MSDE",
];
const IDEOGRAM_RATIOS: &[&str] = &[
    "1:3", "3:1", "1:2", "2:1", "9:16", "16:9", "10:16", "16:10", "2:3", "3:2", "3:4", "4:3",
    "4:5", "5:4", "1:1",
];
const IMAGEN_RATIOS: &[&str] = &["1:1", "9:16", "16:9", "3:4", "4:3"];
const IMAGEN_SAFETY: &[&str] = &[
    "block_low_and_above",
    "block_medium_and_above",
    "block_only_high",
];
/// Recraft's 15 fixed sizes (replicate.com/recraft-ai/recraft-v3/api).
pub const RECRAFT_SIZES: &[&str] = &[
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
const RECRAFT_RATIOS: &[&str] = &[
    "Not set", "1:1", "4:3", "3:4", "3:2", "2:3", "16:9", "9:16", "1:2", "2:1", "7:5", "5:7",
    "4:5", "5:4", "3:5", "5:3",
];

const FLUX_SCHNELL: &[Field] = &[
    prompt(),
    choice("aspect_ratio", FLUX_RATIOS, "1:1"),
    int("num_outputs", 1, 4, DefaultValue::Int(1)),
    int("num_inference_steps", 1, 4, DefaultValue::Int(4)),
    seed(),
    choice("output_format", WEBP_JPG_PNG, "webp"),
    quality(80),
    flag("disable_safety_checker", false),
    flag("go_fast", true),
    choice("megapixels", &["1", "0.25"], "1"),
];

const FLUX_DEV: &[Field] = &[
    prompt(),
    choice("aspect_ratio", FLUX_RATIOS, "1:1"),
    uri("image"),
    num("prompt_strength", 0.0, 1.0, 0.8),
    int("num_outputs", 1, 4, DefaultValue::Int(1)),
    int("num_inference_steps", 1, 50, DefaultValue::Int(28)),
    num("guidance", 0.0, 10.0, 3.0),
    seed(),
    choice("output_format", WEBP_JPG_PNG, "webp"),
    quality(80),
    flag("disable_safety_checker", false),
    flag("go_fast", true),
    choice("megapixels", &["1", "0.25"], "1"),
];

// FLUX.1 Krea [dev] (official on Replicate since 2025-08): the inputs of flux-dev, as listed on the
// model's API page mirrors (api.core.today llms.txt, docs.1min.ai, Scenario's "flux-krea-dev" reference):
// aspect_ratio, image + prompt_strength, num_outputs, num_inference_steps, guidance, seed, output_format,
// output_quality, disable_safety_checker, go_fast, megapixels. Bounds are flux-dev's (the mirrors agree on
// steps 1–50 and 28 by default); the guidance default differs between mirrors (3, 3.5, 4.5): 3 (Scenario,
// which exposes Replicate's own input names) is used. Only its bounds matter to validation.
const FLUX_KREA_DEV: &[Field] = &[
    prompt(),
    choice("aspect_ratio", FLUX_RATIOS, "1:1"),
    uri("image"),
    num("prompt_strength", 0.0, 1.0, 0.8),
    int("num_outputs", 1, 4, DefaultValue::Int(1)),
    int("num_inference_steps", 1, 50, DefaultValue::Int(28)),
    num("guidance", 0.0, 10.0, 3.0),
    seed(),
    choice("output_format", WEBP_JPG_PNG, "webp"),
    quality(80),
    flag("disable_safety_checker", false),
    flag("go_fast", true),
    choice("megapixels", &["1", "0.25"], "1"),
];

const FLUX_PRO: &[Field] = &[
    prompt(),
    choice(
        "aspect_ratio",
        &[
            "custom", "1:1", "16:9", "3:2", "2:3", "4:5", "5:4", "9:16", "3:4", "4:3",
        ],
        "1:1",
    ),
    // Only used with aspect_ratio=custom; Replicate rounds to a multiple of 32 rather than refusing.
    f(
        "width",
        Kind::Int {
            min: Some(256),
            max: Some(1440),
        },
        DefaultValue::None,
    ),
    f(
        "height",
        Kind::Int {
            min: Some(256),
            max: Some(1440),
        },
        DefaultValue::None,
    ),
    uri("image_prompt"),
    int("safety_tolerance", 1, 6, DefaultValue::Int(2)),
    seed(),
    choice("output_format", WEBP_JPG_PNG, "webp"),
    quality(80),
    flag("prompt_upsampling", false),
];

// REPLICATE.md lists the fields; ratio list, strength bounds and defaults from
// replicate.com/black-forest-labs/flux-1.1-pro-ultra/api.
const FLUX_ULTRA: &[Field] = &[
    prompt(),
    choice(
        "aspect_ratio",
        &[
            "21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16", "9:21",
        ],
        "1:1",
    ),
    flag("raw", false),
    uri("image_prompt"),
    num("image_prompt_strength", 0.0, 1.0, 0.1),
    int("safety_tolerance", 1, 6, DefaultValue::Int(2)),
    seed(),
    choice("output_format", JPG_PNG, "jpg"),
];

const FLUX_KONTEXT_PRO: &[Field] = &[
    prompt(),
    uri("input_image"),
    choice(
        "aspect_ratio",
        &[
            "match_input_image",
            "1:1",
            "16:9",
            "9:16",
            "4:3",
            "3:4",
            "3:2",
            "2:3",
            "4:5",
            "5:4",
            "21:9",
            "9:21",
            "2:1",
            "1:2",
        ],
        "match_input_image",
    ),
    seed(),
    flag("prompt_upsampling", false),
    // "max 2 with input images" is enforced by the provider at run time, not by the schema.
    int("safety_tolerance", 0, 6, DefaultValue::Int(2)),
    choice("output_format", JPG_PNG, "png"),
];

// Version page replicate.com/bytedance/sdxl-lightning-4step/versions/5599ed30.../api: `prompt` and
// `negative_prompt` have defaults there, so the schema does not require a prompt.
const SDXL_LIGHTNING: &[Field] = &[
    f(
        "prompt",
        Kind::Str,
        DefaultValue::Str("self-portrait of a woman, lightning in the background"),
    ),
    f(
        "negative_prompt",
        Kind::Str,
        DefaultValue::Str("worst quality, low quality"),
    ),
    int("width", 256, 1280, DefaultValue::Int(1024)),
    int("height", 256, 1280, DefaultValue::Int(1024)),
    int("num_outputs", 1, 4, DefaultValue::Int(1)),
    choice("scheduler", LIGHTNING_SCHEDULERS, "K_EULER"),
    int("num_inference_steps", 1, 10, DefaultValue::Int(4)),
    num("guidance_scale", 0.0, 50.0, 0.0),
    seed(),
    flag("disable_safety_checker", false),
];

// replicate.com/stability-ai/sdxl/api (version 39ed52f2...): prompt has a default; width/height unbounded.
const SDXL: &[Field] = &[
    f(
        "prompt",
        Kind::Str,
        DefaultValue::Str("An astronaut riding a rainbow unicorn"),
    ),
    f("negative_prompt", Kind::Str, DefaultValue::Str("")),
    uri("image"),
    uri("mask"),
    f(
        "width",
        Kind::Int {
            min: None,
            max: None,
        },
        DefaultValue::Int(1024),
    ),
    f(
        "height",
        Kind::Int {
            min: None,
            max: None,
        },
        DefaultValue::Int(1024),
    ),
    int("num_outputs", 1, 4, DefaultValue::Int(1)),
    choice("scheduler", SDXL_SCHEDULERS, "K_EULER"),
    int("num_inference_steps", 1, 500, DefaultValue::Int(50)),
    num("guidance_scale", 1.0, 50.0, 7.5),
    num("prompt_strength", 0.0, 1.0, 0.8),
    seed(),
    choice(
        "refine",
        &[
            "no_refiner",
            "expert_ensemble_refiner",
            "base_image_refiner",
        ],
        "no_refiner",
    ),
    num("high_noise_frac", 0.0, 1.0, 0.8),
    f(
        "refine_steps",
        Kind::Int {
            min: None,
            max: None,
        },
        DefaultValue::None,
    ),
    flag("apply_watermark", true),
    num("lora_scale", 0.0, 1.0, 0.6),
    text("replicate_weights"),
    flag("disable_safety_checker", false),
];

// `resolution` ("None" or one of a fixed list of "WxH") and `style_preset` (a long list of names) are
// checked as strings: the exact lists are not in REPLICATE.md. `style_reference_images` from the API page.
const IDEOGRAM_V3: &[Field] = &[
    prompt(),
    choice("aspect_ratio", IDEOGRAM_RATIOS, "1:1"),
    f("resolution", Kind::Str, DefaultValue::Str("None")),
    choice("magic_prompt_option", &["Auto", "On", "Off"], "Auto"),
    uri("image"),
    uri("mask"),
    choice(
        "style_type",
        &["None", "Auto", "General", "Realistic", "Design"],
        "None",
    ),
    f("style_preset", Kind::Str, DefaultValue::Str("None")),
    uris("style_reference_images", None),
    f(
        "seed",
        Kind::Int {
            min: None,
            max: Some(2_147_483_647),
        },
        DefaultValue::None,
    ),
];

const IMAGEN_4: &[Field] = &[
    prompt(),
    choice("aspect_ratio", IMAGEN_RATIOS, "1:1"),
    choice("safety_filter_level", IMAGEN_SAFETY, "block_only_high"),
    choice("output_format", JPG_PNG, "jpg"),
];

// `steps` (1–50, 40) and `output_quality` from replicate.com/stability-ai/stable-diffusion-3.5-large/api.
const SD35_LARGE: &[Field] = &[
    prompt(),
    choice(
        "aspect_ratio",
        &[
            "16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21",
        ],
        "1:1",
    ),
    num("cfg", 1.0, 10.0, 5.0),
    int("steps", 1, 50, DefaultValue::Int(40)),
    seed(),
    uri("image"),
    num("prompt_strength", 0.0, 1.0, 0.85),
    f("negative_prompt", Kind::Str, DefaultValue::Str("")),
    choice("output_format", WEBP_JPG_PNG, "webp"),
    quality(90),
];

const RECRAFT_V3: &[Field] = &[
    prompt(),
    choice("size", RECRAFT_SIZES, "1024x1024"),
    choice("aspect_ratio", RECRAFT_RATIOS, "Not set"),
    choice(
        "style",
        &[
            "any",
            "realistic_image",
            "digital_illustration",
            "digital_illustration/pixel_art",
            "digital_illustration/hand_drawn",
            "digital_illustration/grain",
            "digital_illustration/infantile_sketch",
            "digital_illustration/2d_art_poster",
            "digital_illustration/handmade_3d",
            "digital_illustration/hand_drawn_outline",
            "digital_illustration/engraving_color",
            "digital_illustration/2d_art_poster_2",
            "realistic_image/b_and_w",
            "realistic_image/hard_flash",
            "realistic_image/hdr",
            "realistic_image/natural_light",
            "realistic_image/studio_portrait",
            "realistic_image/enterprise",
            "realistic_image/motion_blur",
        ],
        "any",
    ),
];

const RECRAFT_V3_SVG: &[Field] = &[
    prompt(),
    choice("size", RECRAFT_SIZES, "1024x1024"),
    choice("aspect_ratio", RECRAFT_RATIOS, "Not set"),
    choice(
        "style",
        &["any", "engraving", "line_art", "line_circuit", "linocut"],
        "any",
    ),
];

const SEEDREAM_3: &[Field] = &[
    prompt(),
    choice(
        "aspect_ratio",
        &[
            "1:1", "3:4", "4:3", "16:9", "9:16", "2:3", "3:2", "21:9", "custom",
        ],
        "16:9",
    ),
    choice("size", &["small", "regular", "big"], "regular"),
    int("width", 512, 2048, DefaultValue::Int(2048)),
    int("height", 512, 2048, DefaultValue::Int(2048)),
    num("guidance_scale", 1.0, 10.0, 2.5),
    seed(),
];

// The 8 ratios and `sequential_image_generation` values from replicate.com/bytedance/seedream-4/api.
const SEEDREAM_4: &[Field] = &[
    prompt(),
    uris("image_input", Some(10)),
    choice("size", &["1K", "2K", "4K", "custom"], "2K"),
    choice(
        "aspect_ratio",
        &[
            "match_input_image",
            "1:1",
            "4:3",
            "3:4",
            "16:9",
            "9:16",
            "3:2",
            "2:3",
            "21:9",
        ],
        "match_input_image",
    ),
    int("width", 1024, 4096, DefaultValue::Int(2048)),
    int("height", 1024, 4096, DefaultValue::Int(2048)),
    choice(
        "sequential_image_generation",
        &["disabled", "auto"],
        "disabled",
    ),
    int("max_images", 1, 15, DefaultValue::Int(1)),
    flag("enhance_prompt", true),
];

// Defaults of guidance (3) and steps (30), and negative_prompt, from replicate.com/qwen/qwen-image/api.
const QWEN_IMAGE: &[Field] = &[
    prompt(),
    uri("image"),
    num("strength", 0.0, 1.0, 0.9),
    choice(
        "aspect_ratio",
        &["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3"],
        "16:9",
    ),
    choice(
        "image_size",
        &["optimize_for_quality", "optimize_for_speed"],
        "optimize_for_quality",
    ),
    flag("go_fast", true),
    num("guidance", 0.0, 10.0, 3.0),
    int("num_inference_steps", 1, 50, DefaultValue::Int(30)),
    seed(),
    f("negative_prompt", Kind::Str, DefaultValue::Str(" ")),
    choice("output_format", WEBP_JPG_PNG, "webp"),
    quality(80),
    flag("disable_safety_checker", false),
];

const NANO_BANANA: &[Field] = &[
    prompt(),
    uris("image_input", None),
    choice(
        "aspect_ratio",
        &[
            "match_input_image",
            "1:1",
            "2:3",
            "3:2",
            "3:4",
            "4:3",
            "4:5",
            "5:4",
            "9:16",
            "16:9",
            "21:9",
        ],
        "match_input_image",
    ),
    choice("output_format", JPG_PNG, "jpg"),
];

/// The current `bytedance/sdxl-lightning-4step` version (the one most published code pins, seen in
/// public repositories in 2025; the API page of the previous one is
/// replicate.com/bytedance/sdxl-lightning-4step/versions/5599ed30.../api).
pub const SDXL_LIGHTNING_VERSION: &str =
    "6f7a773af6fc3e8de9d5a3c00be77c17308914bf67772726aff83496ba1e3bbe";
/// The current `stability-ai/sdxl` version (unchanged since 2023; `7762fd07...` is the older one).
pub const SDXL_VERSION: &str = "39ed52f2a78e934b3ba6e2a89f5b1c712de7dfea535525255b1aa35c5565e08b";

const fn official(
    id: &'static str,
    fields: &'static [Field],
    output_shape: OutputShape,
    default_format: OutputFormat,
    safety: SafetyChecker,
) -> ModelSchema {
    ModelSchema {
        id,
        access: Access::Official,
        fields,
        output_shape,
        default_format,
        safety,
    }
}

use OutputFormat::{Jpg, Png, Svg, Webp};
use OutputShape::{List, Single};
use SafetyChecker::{Flux, Provider, Sdxl};

/// Every model the product serves.
pub static MODELS: &[ModelSchema] = &[
    official(
        "black-forest-labs/flux-schnell",
        FLUX_SCHNELL,
        List,
        Webp,
        Flux,
    ),
    official("black-forest-labs/flux-dev", FLUX_DEV, List, Webp, Flux),
    official(
        "black-forest-labs/flux-krea-dev",
        FLUX_KREA_DEV,
        List,
        Webp,
        Flux,
    ),
    official(
        "black-forest-labs/flux-1.1-pro",
        FLUX_PRO,
        Single,
        Webp,
        Provider,
    ),
    official(
        "black-forest-labs/flux-1.1-pro-ultra",
        FLUX_ULTRA,
        Single,
        Jpg,
        Provider,
    ),
    official(
        "black-forest-labs/flux-kontext-pro",
        FLUX_KONTEXT_PRO,
        Single,
        Png,
        Provider,
    ),
    ModelSchema {
        id: "bytedance/sdxl-lightning-4step",
        access: Access::Community {
            version: SDXL_LIGHTNING_VERSION,
            older: &[
                "5599ed30703defd1d160a25a63321b4dec97101d98b4674bcc56e41f62f35637",
                "5f24084160c9089501c1b3545d9be3c27883ae2239b6f412990e82d4a6210f8f",
            ],
        },
        fields: SDXL_LIGHTNING,
        output_shape: List,
        default_format: Png,
        safety: Sdxl,
    },
    ModelSchema {
        id: "stability-ai/sdxl",
        access: Access::Community {
            version: SDXL_VERSION,
            older: &["7762fd07cf82c948538e41f63f77d685e02b063e37e496e96eefd46c929f9bdc"],
        },
        fields: SDXL,
        output_shape: List,
        default_format: Png,
        safety: Sdxl,
    },
    official(
        "ideogram-ai/ideogram-v3-turbo",
        IDEOGRAM_V3,
        Single,
        Png,
        Provider,
    ),
    official(
        "ideogram-ai/ideogram-v3-balanced",
        IDEOGRAM_V3,
        Single,
        Png,
        Provider,
    ),
    official(
        "ideogram-ai/ideogram-v3-quality",
        IDEOGRAM_V3,
        Single,
        Png,
        Provider,
    ),
    official("google/imagen-4", IMAGEN_4, Single, Jpg, Provider),
    official("google/imagen-4-fast", IMAGEN_4, Single, Jpg, Provider),
    official("google/imagen-4-ultra", IMAGEN_4, Single, Jpg, Provider),
    official(
        "stability-ai/stable-diffusion-3.5-large",
        SD35_LARGE,
        Single,
        Webp,
        Provider,
    ),
    official("recraft-ai/recraft-v3", RECRAFT_V3, Single, Webp, Provider),
    official(
        "recraft-ai/recraft-v3-svg",
        RECRAFT_V3_SVG,
        Single,
        Svg,
        Provider,
    ),
    official("bytedance/seedream-3", SEEDREAM_3, Single, Jpg, Provider),
    official("bytedance/seedream-4", SEEDREAM_4, List, Jpg, Provider),
    official("qwen/qwen-image", QWEN_IMAGE, List, Webp, Flux),
    official("google/nano-banana", NANO_BANANA, Single, Jpg, Provider),
];

/// The model `owner/name` (exact, as Replicate ids are case-sensitive).
pub fn find_model(id: &str) -> Option<&'static ModelSchema> {
    MODELS.iter().find(|m| m.id == id)
}

/// The community model that published `version`.
pub fn find_version(version: &str) -> Option<&'static ModelSchema> {
    MODELS.iter().find(|m| m.has_version(version))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_is_listed_once_with_a_prompt_and_sane_defaults() {
        assert_eq!(MODELS.len(), 21);
        for (i, m) in MODELS.iter().enumerate() {
            assert!(MODELS[..i].iter().all(|o| o.id != m.id), "{} twice", m.id);
            assert!(m.field("prompt").is_some(), "{}", m.id);
            for field in m.fields {
                if let (Kind::Enum(opts), DefaultValue::Str(d)) = (field.kind, field.default) {
                    assert!(opts.contains(&d), "{}.{} default {d}", m.id, field.name);
                }
                if let (Kind::Int { min, max }, DefaultValue::Int(d)) = (field.kind, field.default)
                {
                    assert!(min.is_none_or(|min| d >= min) && max.is_none_or(|max| d <= max));
                }
                if let (Kind::Num { min, max }, DefaultValue::Num(d)) = (field.kind, field.default)
                {
                    assert!(min.is_none_or(|min| d >= min) && max.is_none_or(|max| d <= max));
                }
            }
            if let Kind::Enum(formats) = m.field("output_format").map_or(Kind::Str, |f| f.kind) {
                assert!(formats.contains(&m.default_format.extension()), "{}", m.id);
            }
        }
    }

    #[test]
    fn community_models_pin_a_64_hex_version_and_official_ones_are_hidden() {
        for m in MODELS {
            match m.access {
                Access::Official => assert_eq!(m.version_label(), "hidden"),
                Access::Community { version, older } => {
                    for v in std::iter::once(version).chain(older.iter().copied()) {
                        assert!(
                            v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()),
                            "{v}"
                        );
                        assert_eq!(find_version(v).map(|m| m.id), Some(m.id));
                    }
                }
            }
        }
        assert_eq!(
            find_version(SDXL_VERSION).map(|m| m.id),
            Some("stability-ai/sdxl")
        );
        assert!(find_model("bytedance/sdxl-lightning-4step").is_some_and(|m| !m.is_official()));
    }

    #[test]
    fn output_format_follows_the_input_or_the_model_default() {
        let schnell = find_model("black-forest-labs/flux-schnell").unwrap();
        assert_eq!(
            schnell.output_format(&serde_json::json!({})),
            OutputFormat::Webp
        );
        assert_eq!(
            schnell.output_format(&serde_json::json!({"output_format": "png"})),
            OutputFormat::Png
        );
        let svg = find_model("recraft-ai/recraft-v3-svg").unwrap();
        assert_eq!(svg.output_format(&serde_json::json!({})), OutputFormat::Svg);
        let sdxl = find_model("stability-ai/sdxl").unwrap();
        assert_eq!(
            sdxl.output_format(&serde_json::json!({})),
            OutputFormat::Png
        );
        assert_eq!(sdxl.output_shape, OutputShape::List);
    }
}
