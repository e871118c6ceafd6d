//! The catalog agrees with the Replicate schemas: literal capabilities per model (written from the
//! published schemas), and structural checks that every product decision points at inputs the schema has.

use crate::catalog::{self, find, Model, Sizing, Speed, MODELS};
use crate::replicate::schema::{self, Kind};

/// What a model can do, written out from its published schema.
struct Expected {
    id: &'static str,
    speed: Speed,
    sides: (u32, u32),
    ratios: &'static str,
    formats: &'static str,
    max_outputs: u8,
    negative_prompt: bool,
    seed: bool,
    img2img: Option<(&'static str, Option<&'static str>)>,
    styles: usize,
    svg: bool,
}

const FLUX: &str = "1:1 16:9 21:9 3:2 2:3 4:5 5:4 3:4 4:3 9:16 9:21";
const IDEOGRAM: &str = "1:3 3:1 1:2 2:1 9:16 16:9 10:16 16:10 2:3 3:2 3:4 4:3 4:5 5:4 1:1";
const IMAGEN: &str = "1:1 9:16 16:9 3:4 4:3";
const RECRAFT: &str = "1:1 4:3 3:4 3:2 2:3 16:9 9:16 1:2 2:1 7:5 5:7 4:5 5:4 3:5 5:3";
const HINT: (u32, u32) = (256, 2048);

const fn text_only(
    id: &'static str,
    speed: Speed,
    ratios: &'static str,
    formats: &'static str,
) -> Expected {
    Expected {
        id,
        speed,
        sides: HINT,
        ratios,
        formats,
        max_outputs: 1,
        negative_prompt: false,
        seed: true,
        img2img: None,
        styles: 0,
        svg: false,
    }
}

const EXPECTED: &[Expected] = &[
    Expected {
        max_outputs: 4,
        ..text_only(
            "black-forest-labs/flux-schnell",
            Speed::Fast,
            FLUX,
            "webp jpg png",
        )
    },
    Expected {
        max_outputs: 4,
        img2img: Some(("image", Some("prompt_strength"))),
        ..text_only(
            "black-forest-labs/flux-dev",
            Speed::Standard,
            FLUX,
            "webp jpg png",
        )
    },
    Expected {
        max_outputs: 4,
        img2img: Some(("image", Some("prompt_strength"))),
        ..text_only(
            "black-forest-labs/flux-krea-dev",
            Speed::Standard,
            FLUX,
            "webp jpg png",
        )
    },
    Expected {
        sides: (256, 1440),
        img2img: Some(("image_prompt", None)),
        ..text_only(
            "black-forest-labs/flux-1.1-pro",
            Speed::Standard,
            "1:1 16:9 3:2 2:3 4:5 5:4 9:16 3:4 4:3",
            "webp jpg png",
        )
    },
    Expected {
        img2img: Some(("image_prompt", Some("image_prompt_strength"))),
        ..text_only(
            "black-forest-labs/flux-1.1-pro-ultra",
            Speed::Standard,
            "21:9 16:9 3:2 4:3 5:4 1:1 4:5 3:4 2:3 9:16 9:21",
            "jpg png",
        )
    },
    Expected {
        img2img: Some(("input_image", None)),
        ..text_only(
            "black-forest-labs/flux-kontext-pro",
            Speed::Standard,
            "1:1 16:9 9:16 4:3 3:4 3:2 2:3 4:5 5:4 21:9 9:21 2:1 1:2",
            "jpg png",
        )
    },
    Expected {
        sides: (256, 1280),
        max_outputs: 4,
        negative_prompt: true,
        ..text_only("bytedance/sdxl-lightning-4step", Speed::Fast, "", "png")
    },
    Expected {
        sides: (256, 1536),
        max_outputs: 4,
        negative_prompt: true,
        img2img: Some(("image", Some("prompt_strength"))),
        ..text_only("stability-ai/sdxl", Speed::Slow, "", "png")
    },
    Expected {
        styles: 5,
        ..text_only(
            "ideogram-ai/ideogram-v3-turbo",
            Speed::Standard,
            IDEOGRAM,
            "png",
        )
    },
    Expected {
        styles: 5,
        ..text_only(
            "ideogram-ai/ideogram-v3-balanced",
            Speed::Standard,
            IDEOGRAM,
            "png",
        )
    },
    Expected {
        styles: 5,
        ..text_only(
            "ideogram-ai/ideogram-v3-quality",
            Speed::Slow,
            IDEOGRAM,
            "png",
        )
    },
    Expected {
        seed: false,
        ..text_only("google/imagen-4", Speed::Standard, IMAGEN, "jpg png")
    },
    Expected {
        seed: false,
        ..text_only("google/imagen-4-fast", Speed::Standard, IMAGEN, "jpg png")
    },
    Expected {
        seed: false,
        ..text_only("google/imagen-4-ultra", Speed::Slow, IMAGEN, "jpg png")
    },
    Expected {
        negative_prompt: true,
        img2img: Some(("image", Some("prompt_strength"))),
        ..text_only(
            "stability-ai/stable-diffusion-3.5-large",
            Speed::Standard,
            "16:9 1:1 21:9 2:3 3:2 4:5 5:4 9:16 9:21",
            "webp jpg png",
        )
    },
    Expected {
        sides: (1024, 2048),
        seed: false,
        styles: 19,
        ..text_only("recraft-ai/recraft-v3", Speed::Standard, RECRAFT, "webp")
    },
    Expected {
        sides: (1024, 2048),
        seed: false,
        styles: 5,
        svg: true,
        ..text_only("recraft-ai/recraft-v3-svg", Speed::Standard, RECRAFT, "svg")
    },
    Expected {
        sides: (512, 2048),
        ..text_only(
            "bytedance/seedream-3",
            Speed::Standard,
            "1:1 3:4 4:3 16:9 9:16 2:3 3:2 21:9",
            "jpg",
        )
    },
    Expected {
        sides: (1024, 4096),
        seed: false,
        img2img: Some(("image_input", None)),
        ..text_only(
            "bytedance/seedream-4",
            Speed::Standard,
            "1:1 4:3 3:4 16:9 9:16 3:2 2:3 21:9",
            "jpg",
        )
    },
    Expected {
        negative_prompt: true,
        img2img: Some(("image", Some("strength"))),
        ..text_only(
            "qwen/qwen-image",
            Speed::Fast,
            "1:1 16:9 9:16 4:3 3:4 3:2 2:3",
            "webp jpg png",
        )
    },
    Expected {
        seed: false,
        img2img: Some(("image_input", None)),
        ..text_only(
            "google/nano-banana",
            Speed::Standard,
            "1:1 2:3 3:2 3:4 4:3 4:5 5:4 9:16 16:9 21:9",
            "jpg png",
        )
    },
];

#[test]
fn every_model_has_the_published_capabilities() {
    assert_eq!(MODELS.len(), EXPECTED.len());
    for (m, e) in MODELS.iter().zip(EXPECTED) {
        assert_eq!(m.id, e.id, "catalog order");
        let formats: Vec<&str> = m.output_formats().iter().map(|f| f.extension()).collect();
        let img2img = m
            .image_input
            .map(|i| (i.field, i.strength.map(|s| s.field)));
        assert_eq!(m.speed, e.speed, "{}", m.id);
        assert_eq!(m.side_bounds(), e.sides, "{}", m.id);
        assert_eq!(m.aspect_ratios().join(" "), e.ratios, "{}", m.id);
        assert_eq!(formats.join(" "), e.formats, "{}", m.id);
        assert_eq!(m.max_outputs(), e.max_outputs, "{}", m.id);
        assert_eq!(m.takes_negative_prompt(), e.negative_prompt, "{}", m.id);
        assert_eq!(m.takes_seed(), e.seed, "{}", m.id);
        assert_eq!(img2img, e.img2img, "{}", m.id);
        assert_eq!(m.styles().len(), e.styles, "{}", m.id);
        assert_eq!(
            m.output_kind() == catalog::OutputKind::Svg,
            e.svg,
            "{}",
            m.id
        );
    }
}

#[test]
fn catalog_and_schema_list_the_same_models_once() {
    assert_eq!(MODELS.len(), 21);
    assert_eq!(MODELS.len(), schema::MODELS.len());
    for (i, m) in MODELS.iter().enumerate() {
        assert!(MODELS[..i].iter().all(|o| o.id != m.id), "{} twice", m.id);
        assert_eq!(m.schema().id, m.id);
    }
    for s in schema::MODELS {
        assert!(
            find(s.id).is_some(),
            "{} has a schema but is not served",
            s.id
        );
    }
    assert!(find(catalog::DEFAULT_MODEL_ID).is_some());
    assert!(find("black-forest-labs/FLUX-schnell").is_none() && find("flux-schnell").is_none());
}

#[test]
fn steps_and_guidance_go_to_each_models_own_inputs() {
    let fields = |m: &Model| {
        (
            m.steps_input().map(|f| f.name),
            m.guidance_input().map(|f| f.name),
        )
    };
    let expected: &[(&str, Option<&str>, Option<&str>)] = &[
        (
            "black-forest-labs/flux-schnell",
            Some("num_inference_steps"),
            None,
        ),
        (
            "black-forest-labs/flux-dev",
            Some("num_inference_steps"),
            Some("guidance"),
        ),
        (
            "black-forest-labs/flux-krea-dev",
            Some("num_inference_steps"),
            Some("guidance"),
        ),
        ("black-forest-labs/flux-1.1-pro", None, None),
        ("black-forest-labs/flux-1.1-pro-ultra", None, None),
        ("black-forest-labs/flux-kontext-pro", None, None),
        (
            "bytedance/sdxl-lightning-4step",
            Some("num_inference_steps"),
            Some("guidance_scale"),
        ),
        (
            "stability-ai/sdxl",
            Some("num_inference_steps"),
            Some("guidance_scale"),
        ),
        ("ideogram-ai/ideogram-v3-turbo", None, None),
        ("ideogram-ai/ideogram-v3-balanced", None, None),
        ("ideogram-ai/ideogram-v3-quality", None, None),
        ("google/imagen-4", None, None),
        ("google/imagen-4-fast", None, None),
        ("google/imagen-4-ultra", None, None),
        (
            "stability-ai/stable-diffusion-3.5-large",
            Some("steps"),
            Some("cfg"),
        ),
        ("recraft-ai/recraft-v3", None, None),
        ("recraft-ai/recraft-v3-svg", None, None),
        ("bytedance/seedream-3", None, Some("guidance_scale")),
        ("bytedance/seedream-4", None, None),
        (
            "qwen/qwen-image",
            Some("num_inference_steps"),
            Some("guidance"),
        ),
        ("google/nano-banana", None, None),
    ];
    assert_eq!(MODELS.len(), expected.len());
    for (m, (id, steps, guidance)) in MODELS.iter().zip(expected) {
        assert_eq!(m.id, *id);
        assert_eq!(fields(m), (*steps, *guidance), "{id}");
        // No other input of the schema looks like steps or guidance.
        for f in m.schema().fields {
            let looks = f.name.contains("step") || f.name.contains("guidance") || f.name == "cfg";
            let used = Some(f.name) == *steps || Some(f.name) == *guidance;
            assert!(
                !looks || used || f.name == "refine_steps",
                "{id}.{}",
                f.name
            );
        }
    }
}

fn kind(m: &Model, field: &str) -> Option<Kind> {
    m.schema().field(field).map(|f| f.kind)
}

fn int_bounds(m: &Model, field: &str) -> Option<(i64, i64)> {
    match kind(m, field)? {
        Kind::Int {
            min: Some(a),
            max: Some(b),
        } => Some((a, b)),
        _ => None,
    }
}

fn enum_options(m: &Model, field: &str) -> &'static [&'static str] {
    match kind(m, field) {
        Some(Kind::Enum(o)) => o,
        _ => &[],
    }
}

#[test]
fn each_sizing_strategy_uses_inputs_the_schema_has() {
    for m in MODELS {
        let has = |f: &str| m.schema().field(f).is_some();
        assert_eq!(int_bounds(m, "width"), int_bounds(m, "height"), "{}", m.id);
        match m.sizing {
            Sizing::AspectRatio => {
                assert!(!m.aspect_ratios().is_empty(), "{}", m.id);
                assert!(!has("width") && !has("size"), "{} has free sizes", m.id);
            }
            Sizing::CustomAspectRatio { multiple } => {
                assert!(
                    enum_options(m, "aspect_ratio").contains(&"custom"),
                    "{}",
                    m.id
                );
                assert!(
                    int_bounds(m, "width").is_some() && multiple >= 1,
                    "{}",
                    m.id
                );
            }
            Sizing::CustomSize { multiple } => {
                let sizes = enum_options(m, "size");
                assert!(sizes.contains(&"custom"), "{}", m.id);
                assert!(sizes.iter().any(|s| s.ends_with('K')), "{}", m.id);
                assert!(
                    int_bounds(m, "width").is_some() && multiple >= 1,
                    "{}",
                    m.id
                );
            }
            Sizing::Pixels {
                multiple,
                unpublished_bounds,
            } => {
                assert!(
                    !has("aspect_ratio") && has("width") && has("height"),
                    "{}",
                    m.id
                );
                // Our bounds only where the schema has none: one source of truth.
                assert_eq!(
                    int_bounds(m, "width").is_some(),
                    unpublished_bounds.is_none(),
                    "{}",
                    m.id
                );
                assert!(multiple >= 1);
            }
            Sizing::FixedSize => {
                let sizes = enum_options(m, "size");
                assert!(!sizes.is_empty() && sizes.iter().all(|s| s.contains('x')));
                assert_eq!(m.fixed_sizes(), sizes);
            }
        }
    }
}

#[test]
fn every_named_recraft_ratio_has_a_fixed_size_of_that_shape() {
    for id in ["recraft-ai/recraft-v3", "recraft-ai/recraft-v3-svg"] {
        let m = find(id).unwrap();
        for ratio in m.aspect_ratios() {
            let req = super::request(id, &serde_json::json!({"aspect_ratio": ratio})).unwrap();
            let size = req.replicate_input()["size"].as_str().unwrap().to_owned();
            let shape = |s: &str, sep| {
                let (w, h) = s.split_once(sep).unwrap();
                w.parse::<f64>().unwrap() / h.parse::<f64>().unwrap()
            };
            let off = (shape(&size, 'x') / shape(ratio, ':') - 1.0).abs();
            assert!(off < 0.005, "{id}: {ratio} → {size}");
        }
    }
}

/// Image inputs the catalog leaves unused, and why.
const UNUSED_IMAGE_INPUTS: &[(&str, &str)] = &[
    // SDXL inpainting mask: the product has no masks.
    ("stability-ai/sdxl", "mask"),
    // Ideogram's `image` is inpainting and requires a `mask`; style references are not offered.
    ("ideogram-ai/", "image"),
    ("ideogram-ai/", "mask"),
    ("ideogram-ai/", "style_reference_images"),
];

#[test]
fn img2img_inputs_are_the_schemas_image_and_strength_fields() {
    for m in MODELS {
        let image_field = m.image_input.map(|i| i.field);
        for f in m.schema().fields {
            if matches!(f.kind, Kind::Uri | Kind::UriArray { .. }) && Some(f.name) != image_field {
                assert!(
                    UNUSED_IMAGE_INPUTS
                        .iter()
                        .any(|(id, name)| m.id.starts_with(id) && *name == f.name),
                    "{}.{} is an image input the catalog ignores",
                    m.id,
                    f.name
                );
            }
        }
        let Some(input) = m.image_input else { continue };
        assert!(
            matches!(
                kind(m, input.field),
                Some(Kind::Uri | Kind::UriArray { .. })
            ),
            "{}",
            m.id
        );
        match input.strength {
            Some(s) => assert_eq!(
                kind(m, s.field),
                Some(Kind::Num {
                    min: Some(0.0),
                    max: Some(1.0)
                }),
                "{}",
                m.id
            ),
            None => {
                for name in ["strength", "prompt_strength", "image_prompt_strength"] {
                    assert!(m.schema().field(name).is_none(), "{}.{name} unused", m.id);
                }
            }
        }
    }
}

#[test]
fn styles_come_from_a_schema_enum() {
    for m in MODELS {
        if let Some(field) = m.style_field {
            assert!(matches!(kind(m, field), Some(Kind::Enum(_))), "{}", m.id);
            assert_eq!(m.styles(), enum_options(m, field));
        }
    }
    assert_eq!(
        find("ideogram-ai/ideogram-v3-quality").unwrap().styles(),
        ["None", "Auto", "General", "Realistic", "Design"]
    );
    assert_eq!(
        find("recraft-ai/recraft-v3-svg").unwrap().styles(),
        ["any", "engraving", "line_art", "line_circuit", "linocut"]
    );
}

#[test]
fn formats_default_and_spelling_follow_the_schema() {
    for m in MODELS {
        assert!(
            m.output_formats().contains(&m.default_output_format()),
            "{}",
            m.id
        );
        for f in m.output_formats() {
            let spelled = m.output_format_value(f);
            assert_eq!(
                spelled.is_some(),
                m.schema().field("output_format").is_some(),
                "{}",
                m.id
            );
        }
    }
}

#[test]
fn safety_is_never_disabled_and_stays_at_replicates_defaults() {
    for m in MODELS {
        let input = super::request(m.id, &serde_json::json!({}))
            .unwrap()
            .replicate_input();
        if m.schema().field("disable_safety_checker").is_some() {
            assert_eq!(input["disable_safety_checker"], false, "{}", m.id);
        }
        if m.schema().field("safety_tolerance").is_some() {
            assert_eq!(input["safety_tolerance"], 2, "{}", m.id);
        }
        if m.schema().field("safety_filter_level").is_some() {
            assert_eq!(input["safety_filter_level"], "block_only_high", "{}", m.id);
        }
    }
}
