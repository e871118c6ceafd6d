//! What a model cannot take is fitted to it, as the original backend did, and reported: each case lists
//! the exact adjustments (these requests were refused before issue 12).

use super::{assert_adjusted, URL};
use crate::replicate::schema::RECRAFT_SIZES;
use serde_json::{json, Value};

const NEGATIVE_PROMPT_MODELS: &str = "bytedance/sdxl-lightning-4step, stability-ai/sdxl, \
    stability-ai/stable-diffusion-3.5-large, qwen/qwen-image";
const FLUX_RATIOS: &str = "1:1, 16:9, 21:9, 3:2, 2:3, 4:5, 5:4, 3:4, 4:3, 9:16, 9:21";
const RECRAFT_RATIOS: &str =
    "1:1, 4:3, 3:4, 3:2, 2:3, 16:9, 9:16, 1:2, 2:1, 7:5, 5:7, 4:5, 5:4, 3:5, 5:3";

fn changed(field: &str, requested: Value, applied: Value, reason: &str) -> Value {
    json!({"field": field, "requested": requested, "applied": applied, "reason": reason})
}

fn dropped(field: &str, requested: Value, reason: &str) -> Value {
    changed(field, requested, Value::Null, reason)
}

fn no_negative_prompt(name: &str) -> Value {
    dropped(
        "negative_prompt",
        json!("blurry"),
        &format!(
            "{name} does not take a negative prompt; models that do: {NEGATIVE_PROMPT_MODELS}"
        ),
    )
}

fn no_seed(name: &str) -> Value {
    dropped(
        "seed",
        json!(1),
        &format!("{name} does not take a seed; its results cannot be reproduced"),
    )
}

fn one_image(name: &str) -> Value {
    changed(
        "num_outputs",
        json!(2),
        json!(1),
        &format!("{name} makes 1 image per request"),
    )
}

fn no_strength(name: &str) -> Value {
    dropped(
        "strength",
        json!(0.5),
        &format!("{name} uses the input image as a reference and takes no strength"),
    )
}

fn scaled(name: &str, (min, max): (u32, u32), multiple: u32) -> String {
    let px = if multiple > 1 {
        format!(", in multiples of {multiple}")
    } else {
        String::new()
    };
    format!(
        "{name} makes {min} to {max} pixels per side{px}; the size was scaled to fit, keeping its shape"
    )
}

#[test]
fn flux_schnell() {
    let ratio = |requested: &str, applied: &str, what: &str| {
        changed(
            "aspect_ratio",
            json!(requested),
            json!(applied),
            &format!("FLUX Schnell makes only the aspect ratios {FLUX_RATIOS}; {what} is nearest to {applied}"),
        )
    };
    assert_adjusted(
        "black-forest-labs/flux-schnell",
        &[
            // Sizes only choose the shape here: they are kept, the shape is snapped.
            (
                json!({"width": 2049}),
                json!([ratio("2049:1024", "16:9", "2049×1024")]),
            ),
            (
                json!({"height": 255}),
                json!([ratio("1024:255", "21:9", "1024×255")]),
            ),
            (
                json!({"aspect_ratio": "2:1"}),
                json!([ratio("2:1", "16:9", "2:1")]),
            ),
            (
                json!({"num_outputs": 5}),
                json!([changed(
                    "num_outputs",
                    json!(5),
                    json!(4),
                    "FLUX Schnell makes 1 to 4 images per request"
                )]),
            ),
            (
                json!({"output_format": "gif"}),
                json!([dropped(
                    "output_format",
                    json!("gif"),
                    "FLUX Schnell makes webp, jpg, png; its default, webp, is used"
                )]),
            ),
            (
                json!({"negative_prompt": "blurry"}),
                json!([no_negative_prompt("FLUX Schnell")]),
            ),
            (
                json!({"style": "anime"}),
                json!([dropped(
                    "style",
                    json!("anime"),
                    "FLUX Schnell has no styles"
                )]),
            ),
            (
                json!({"strength": 0.5}),
                json!([dropped(
                    "strength",
                    json!(0.5),
                    "strength applies only with an input image (image_url or source_image_url)"
                )]),
            ),
            // What the mobile app sends from its models row.
            (
                json!({"num_inference_steps": 30, "guidance_scale": 7.5}),
                json!([
                    changed(
                        "num_inference_steps",
                        json!(30),
                        json!(4),
                        "FLUX Schnell takes 1 to 4 steps"
                    ),
                    dropped(
                        "guidance_scale",
                        json!(7.5),
                        "FLUX Schnell has no guidance setting"
                    ),
                ]),
            ),
            (
                json!({"seed": -1}),
                json!([dropped(
                    "seed",
                    json!(-1),
                    "a negative seed means a random one"
                )]),
            ),
            (
                json!({"seed": 4_294_967_295_u64}),
                json!([changed(
                    "seed",
                    json!(4_294_967_295_u64),
                    json!(2_147_483_647),
                    "seeds are 0 to 2147483647; 4294967295 was reduced modulo 2^31"
                )]),
            ),
        ],
    );
}

#[test]
fn flux_dev_ultra_and_kontext() {
    assert_adjusted(
        "black-forest-labs/flux-dev",
        &[
            (
                json!({"num_outputs": 0}),
                json!([changed(
                    "num_outputs",
                    json!(0),
                    json!(1),
                    "FLUX Dev makes 1 to 4 images per request"
                )]),
            ),
            (
                json!({"guidance_scale": 12, "num_inference_steps": 0}),
                json!([
                    changed(
                        "num_inference_steps",
                        json!(0),
                        json!(1),
                        "FLUX Dev takes 1 to 50 steps"
                    ),
                    changed(
                        "guidance_scale",
                        json!(12.0),
                        json!(10.0),
                        "FLUX Dev takes a guidance of 0 to 10 (its guidance input)"
                    ),
                ]),
            ),
        ],
    );
    assert_adjusted(
        "black-forest-labs/flux-1.1-pro-ultra",
        &[(
            json!({"output_format": "webp"}),
            json!([dropped(
                "output_format",
                json!("webp"),
                "FLUX 1.1 Pro Ultra makes jpg, png; its default, jpg, is used"
            )]),
        )],
    );
    assert_adjusted(
        "black-forest-labs/flux-kontext-pro",
        &[
            (
                json!({"image_url": URL, "strength": 0.5}),
                json!([no_strength("FLUX Kontext Pro")]),
            ),
            (
                json!({"num_outputs": 2}),
                json!([one_image("FLUX Kontext Pro")]),
            ),
        ],
    );
}

#[test]
fn flux_1_1_pro() {
    let m = "FLUX 1.1 Pro";
    assert_adjusted(
        "black-forest-labs/flux-1.1-pro",
        &[
            (
                json!({"width": 1441}),
                json!([changed("width", json!(1441), json!(1440), &scaled(m, (256, 1440), 32))]),
            ),
            // In bounds but not a multiple of 32: 1000 → 992.
            (
                json!({"width": 1000, "height": 1024}),
                json!([changed("width", json!(1000), json!(992), "FLUX 1.1 Pro takes sides in multiples of 32")]),
            ),
            (json!({"num_outputs": 2}), json!([one_image(m)])),
            (
                json!({"image_url": URL, "strength": 0.5}),
                json!([no_strength(m)]),
            ),
            // 6:1 is wider than 1440:256 (5.625:1), the widest its bounds allow.
            (
                json!({"aspect_ratio": "6:1"}),
                json!([changed(
                    "aspect_ratio",
                    json!("6:1"),
                    json!("45:8"),
                    "FLUX 1.1 Pro makes shapes from 256:1440 to 1440:256; 6:1 was narrowed to 45:8"
                )]),
            ),
            // A ratio it does not name, with a size: the area at that shape, in its bounds.
            (
                json!({"aspect_ratio": "21:9", "width": 1024, "height": 1024}),
                json!([
                    changed("width", json!(1024), json!(1440), "aspect_ratio 21:9 at about the requested area, within FLUX 1.1 Pro's 256 to 1440 pixels, in multiples of 32"),
                    changed("height", json!(1024), json!(608), "aspect_ratio 21:9 at about the requested area, within FLUX 1.1 Pro's 256 to 1440 pixels, in multiples of 32"),
                ]),
            ),
        ],
    );
}

#[test]
fn sdxl_family() {
    assert_adjusted(
        "bytedance/sdxl-lightning-4step",
        &[
            (
                json!({"width": 1281}),
                json!([changed(
                    "width",
                    json!(1281),
                    json!(1280),
                    &scaled("SDXL Lightning", (256, 1280), 8)
                )]),
            ),
            (
                json!({"num_outputs": 5}),
                json!([changed(
                    "num_outputs",
                    json!(5),
                    json!(4),
                    "SDXL Lightning makes 1 to 4 images per request"
                )]),
            ),
        ],
    );
    assert_adjusted(
        "stability-ai/sdxl",
        &[
            (
                json!({"height": 1537}),
                json!([changed(
                    "height",
                    json!(1537),
                    json!(1536),
                    &scaled("SDXL", (256, 1536), 8)
                )]),
            ),
            (
                json!({"output_format": "jpg"}),
                json!([dropped(
                    "output_format",
                    json!("jpg"),
                    "SDXL always makes png"
                )]),
            ),
            (
                json!({"aspect_ratio": "7:1"}),
                json!([changed(
                    "aspect_ratio",
                    json!("7:1"),
                    json!("6:1"),
                    "SDXL makes shapes from 256:1536 to 1536:256; 7:1 was narrowed to 6:1"
                )]),
            ),
        ],
    );
    let m = "Stable Diffusion 3.5 Large";
    assert_adjusted(
        "stability-ai/stable-diffusion-3.5-large",
        &[
            (
                json!({"aspect_ratio": "4:3"}),
                json!([changed(
                    "aspect_ratio",
                    json!("4:3"),
                    json!("5:4"),
                    &format!("{m} makes only the aspect ratios 16:9, 1:1, 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21; 4:3 is nearest to 5:4")
                )]),
            ),
            (
                json!({"style": "photo"}),
                json!([dropped("style", json!("photo"), &format!("{m} has no styles"))]),
            ),
            // Its steps and guidance inputs are `steps` and `cfg`.
            (
                json!({"num_inference_steps": 80, "guidance_scale": 0.5}),
                json!([
                    changed("num_inference_steps", json!(80), json!(50), &format!("{m} takes 1 to 50 steps")),
                    changed("guidance_scale", json!(0.5), json!(1.0), &format!("{m} takes a guidance of 1 to 10 (its cfg input)")),
                ]),
            ),
        ],
    );
}

#[test]
fn ideogram() {
    let m = "Ideogram 3 Turbo";
    assert_adjusted(
        "ideogram-ai/ideogram-v3-turbo",
        &[
            (
                json!({"style": "anime"}),
                json!([dropped(
                    "style",
                    json!("anime"),
                    "Ideogram 3 Turbo offers the styles None, Auto, General, Realistic, Design"
                )]),
            ),
            (
                json!({"output_format": "jpg"}),
                json!([dropped(
                    "output_format",
                    json!("jpg"),
                    "Ideogram 3 Turbo always makes png"
                )]),
            ),
            (json!({"num_outputs": 2}), json!([one_image(m)])),
            (
                json!({"negative_prompt": "blurry"}),
                json!([no_negative_prompt(m)]),
            ),
        ],
    );
}

#[test]
fn imagen() {
    assert_adjusted(
        "google/imagen-4",
        &[
            (json!({"seed": 1}), json!([no_seed("Imagen 4")])),
            (
                json!({"aspect_ratio": "3:2"}),
                json!([changed(
                    "aspect_ratio",
                    json!("3:2"),
                    json!("4:3"),
                    "Imagen 4 makes only the aspect ratios 1:1, 9:16, 16:9, 3:4, 4:3; 3:2 is nearest to 4:3"
                )]),
            ),
            (
                json!({"output_format": "webp"}),
                json!([dropped("output_format", json!("webp"), "Imagen 4 makes jpg, png; its default, jpg, is used")]),
            ),
        ],
    );
}

#[test]
fn recraft() {
    let sizes = RECRAFT_SIZES.join(", ");
    let fixed =
        format!("Recraft V3 makes only the sizes {sizes}; 1024x1024 is the nearest in shape");
    assert_adjusted(
        "recraft-ai/recraft-v3",
        &[
            (
                json!({"width": 512, "height": 512}),
                json!([
                    changed("width", json!(512), json!(1024), &fixed),
                    changed("height", json!(512), json!(1024), &fixed),
                ]),
            ),
            (
                json!({"style": "line_art"}),
                json!([dropped(
                    "style",
                    json!("line_art"),
                    "Recraft V3 offers the styles any, realistic_image, digital_illustration, \
                     digital_illustration/pixel_art, digital_illustration/hand_drawn, digital_illustration/grain, \
                     digital_illustration/infantile_sketch, digital_illustration/2d_art_poster, \
                     digital_illustration/handmade_3d, digital_illustration/hand_drawn_outline, \
                     digital_illustration/engraving_color, digital_illustration/2d_art_poster_2, \
                     realistic_image/b_and_w, realistic_image/hard_flash, realistic_image/hdr, \
                     realistic_image/natural_light, realistic_image/studio_portrait, realistic_image/enterprise, \
                     realistic_image/motion_blur"
                )]),
            ),
            (json!({"seed": 1}), json!([no_seed("Recraft V3")])),
            (
                json!({"output_format": "png"}),
                json!([dropped("output_format", json!("png"), "Recraft V3 always makes webp")]),
            ),
        ],
    );
    assert_adjusted(
        "recraft-ai/recraft-v3-svg",
        &[
            (
                json!({"output_format": "png"}),
                json!([dropped("output_format", json!("png"), "Recraft V3 SVG always makes svg")]),
            ),
            (
                json!({"aspect_ratio": "21:9"}),
                json!([changed(
                    "aspect_ratio",
                    json!("21:9"),
                    json!("2:1"),
                    &format!("Recraft V3 SVG makes only the aspect ratios {RECRAFT_RATIOS}; 21:9 is nearest to 2:1")
                )]),
            ),
            (
                json!({"style": "realistic_image"}),
                json!([dropped(
                    "style",
                    json!("realistic_image"),
                    "Recraft V3 SVG offers the styles any, engraving, line_art, line_circuit, linocut"
                )]),
            ),
        ],
    );
}

#[test]
fn seedream() {
    assert_adjusted(
        "bytedance/seedream-3",
        &[
            (
                json!({"width": 511}),
                json!([changed(
                    "width",
                    json!(511),
                    json!(512),
                    &scaled("Seedream 3", (512, 2048), 1)
                )]),
            ),
            (
                json!({"aspect_ratio": "5:1"}),
                json!([changed(
                    "aspect_ratio",
                    json!("5:1"),
                    json!("4:1"),
                    "Seedream 3 makes shapes from 512:2048 to 2048:512; 5:1 was narrowed to 4:1"
                )]),
            ),
        ],
    );
    assert_adjusted(
        "bytedance/seedream-4",
        &[
            (
                json!({"height": 4097}),
                json!([changed(
                    "height",
                    json!(4097),
                    json!(4096),
                    &scaled("Seedream 4", (1024, 4096), 1)
                )]),
            ),
            (
                json!({"image_url": URL, "strength": 0.5}),
                json!([no_strength("Seedream 4")]),
            ),
            (json!({"seed": 1}), json!([no_seed("Seedream 4")])),
            (json!({"num_outputs": 2}), json!([one_image("Seedream 4")])),
        ],
    );
}

#[test]
fn qwen_and_nano_banana() {
    assert_adjusted(
        "qwen/qwen-image",
        &[
            (json!({"num_outputs": 2}), json!([one_image("Qwen Image")])),
            (
                json!({"aspect_ratio": "21:9"}),
                json!([changed(
                    "aspect_ratio",
                    json!("21:9"),
                    json!("16:9"),
                    "Qwen Image makes only the aspect ratios 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3; 21:9 is nearest to 16:9"
                )]),
            ),
        ],
    );
    let m = "Nano Banana";
    assert_adjusted(
        "google/nano-banana",
        &[
            (json!({"seed": 1}), json!([no_seed(m)])),
            (
                json!({"image_url": URL, "strength": 0.5}),
                json!([no_strength(m)]),
            ),
            (
                json!({"negative_prompt": "blurry"}),
                json!([no_negative_prompt(m)]),
            ),
        ],
    );
}

#[test]
fn several_changes_are_reported_in_field_order() {
    let req = super::request(
        "google/imagen-4-fast",
        &json!({"width": 1344, "height": 768, "negative_prompt": "blurry", "seed": 1,
                "num_inference_steps": 30, "guidance_scale": 7.5, "style": "vivid"}),
    )
    .unwrap();
    let fields: Vec<&str> = req.adjusted.iter().map(|a| a.field).collect();
    assert_eq!(
        fields,
        [
            "aspect_ratio",
            "negative_prompt",
            "seed",
            "num_inference_steps",
            "guidance_scale",
            "style"
        ]
    );
    assert_eq!(req.adjusted[0].applied, "16:9");
}
