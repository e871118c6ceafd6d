//! What a model cannot do is a 400 naming the field, with a message saying what the model supports.

use super::{assert_refusals, URL};
use serde_json::json;

const IMG2IMG_MODELS: &str = "black-forest-labs/flux-dev, black-forest-labs/flux-1.1-pro, \
    black-forest-labs/flux-1.1-pro-ultra, black-forest-labs/flux-kontext-pro, stability-ai/sdxl, \
    stability-ai/stable-diffusion-3.5-large, bytedance/seedream-4, qwen/qwen-image, google/nano-banana";
const NEGATIVE_PROMPT_MODELS: &str = "bytedance/sdxl-lightning-4step, stability-ai/sdxl, \
    stability-ai/stable-diffusion-3.5-large, qwen/qwen-image";

fn no_img2img(name: &str) -> String {
    format!("{name} supports text-to-image only, not image_url; image-to-image models: {IMG2IMG_MODELS}")
}

fn no_negative_prompt(name: &str) -> String {
    format!("{name} does not take a negative_prompt; models that do: {NEGATIVE_PROMPT_MODELS}")
}

fn sides(field: &str, value: u32, name: &str, (min, max): (u32, u32)) -> String {
    format!("{field} {value} is not supported by {name}: it accepts {min} to {max} pixels")
}

#[test]
fn flux_schnell() {
    let m = "FLUX Schnell";
    assert_refusals(
        "black-forest-labs/flux-schnell",
        &[
            (
                json!({"image_url": URL}),
                "image_url",
                "unsupported_img2img",
                no_img2img(m),
            ),
            (
                json!({"width": 2049}),
                "width",
                "size_out_of_range",
                sides("width", 2049, m, (256, 2048)),
            ),
            (
                json!({"height": 255}),
                "height",
                "size_out_of_range",
                sides("height", 255, m, (256, 2048)),
            ),
            (
                json!({"num_outputs": 5}),
                "num_outputs",
                "unsupported_num_outputs",
                "FLUX Schnell makes 1 to 4 images per request, not 5".into(),
            ),
            (
                json!({"output_format": "gif"}),
                "output_format",
                "unsupported_output_format",
                "FLUX Schnell supports output_format webp, jpg, png, not \"gif\"".into(),
            ),
            (
                json!({"negative_prompt": "blurry"}),
                "negative_prompt",
                "unsupported_negative_prompt",
                no_negative_prompt(m),
            ),
            (
                json!({"style": "anime"}),
                "style",
                "unsupported_style",
                "FLUX Schnell has no styles, not \"anime\"".into(),
            ),
            (
                json!({"aspect_ratio": "2:1"}),
                "aspect_ratio",
                "unsupported_aspect_ratio",
                "FLUX Schnell does not support aspect_ratio 2:1; it supports \
                 1:1, 16:9, 21:9, 3:2, 2:3, 4:5, 5:4, 3:4, 4:3, 9:16, 9:21"
                    .into(),
            ),
            (
                json!({"strength": 0.5}),
                "strength",
                "strength_without_image",
                "strength applies only with image_url".into(),
            ),
        ],
    );
}

#[test]
fn flux_dev_ultra_and_kontext() {
    assert_refusals(
        "black-forest-labs/flux-dev",
        &[
            (
                json!({"num_outputs": 0}),
                "num_outputs",
                "unsupported_num_outputs",
                "FLUX Dev makes 1 to 4 images per request, not 0".into(),
            ),
            (
                json!({"image_url": URL, "strength": 1.5}),
                "strength",
                "invalid_strength",
                "strength must be between 0 and 1".into(),
            ),
        ],
    );
    assert_refusals(
        "black-forest-labs/flux-1.1-pro-ultra",
        &[(
            json!({"output_format": "webp"}),
            "output_format",
            "unsupported_output_format",
            "FLUX 1.1 Pro Ultra supports output_format jpg, png, not \"webp\"".into(),
        )],
    );
    assert_refusals(
        "black-forest-labs/flux-kontext-pro",
        &[
            (
                json!({"image_url": URL, "strength": 0.5}),
                "strength",
                "unsupported_strength",
                "FLUX Kontext Pro uses image_url as a reference and takes no strength".into(),
            ),
            (
                json!({"num_outputs": 2}),
                "num_outputs",
                "unsupported_num_outputs",
                "FLUX Kontext Pro makes 1 image per request, not 2".into(),
            ),
        ],
    );
}

#[test]
fn flux_1_1_pro() {
    let m = "FLUX 1.1 Pro";
    assert_refusals(
        "black-forest-labs/flux-1.1-pro",
        &[
            (json!({"width": 1441}), "width", "size_out_of_range", sides("width", 1441, m, (256, 1440))),
            (
                json!({"num_outputs": 2}),
                "num_outputs",
                "unsupported_num_outputs",
                "FLUX 1.1 Pro makes 1 image per request, not 2".into(),
            ),
            (
                json!({"image_url": URL, "strength": 0.5}),
                "strength",
                "unsupported_strength",
                "FLUX 1.1 Pro uses image_url as a reference and takes no strength".into(),
            ),
            // 6:1 is wider than 1440:256 (5.6:1), the widest its bounds allow.
            (
                json!({"aspect_ratio": "6:1"}),
                "aspect_ratio",
                "unsupported_aspect_ratio",
                "FLUX 1.1 Pro does not support aspect_ratio 6:1; it supports \
                 1:1, 16:9, 3:2, 2:3, 4:5, 5:4, 9:16, 3:4, 4:3, or any ratio from 256:1440 to 1440:256"
                    .into(),
            ),
        ],
    );
}

#[test]
fn sdxl_family() {
    assert_refusals(
        "bytedance/sdxl-lightning-4step",
        &[
            (
                json!({"image_url": URL}),
                "image_url",
                "unsupported_img2img",
                no_img2img("SDXL Lightning"),
            ),
            (
                json!({"width": 1281}),
                "width",
                "size_out_of_range",
                sides("width", 1281, "SDXL Lightning", (256, 1280)),
            ),
            (
                json!({"num_outputs": 5}),
                "num_outputs",
                "unsupported_num_outputs",
                "SDXL Lightning makes 1 to 4 images per request, not 5".into(),
            ),
        ],
    );
    assert_refusals(
        "stability-ai/sdxl",
        &[
            (
                json!({"height": 1537}),
                "height",
                "size_out_of_range",
                sides("height", 1537, "SDXL", (256, 1536)),
            ),
            (
                json!({"output_format": "jpg"}),
                "output_format",
                "unsupported_output_format",
                "SDXL always makes png, not \"jpg\"".into(),
            ),
            (
                json!({"aspect_ratio": "7:1"}),
                "aspect_ratio",
                "unsupported_aspect_ratio",
                "SDXL does not support aspect_ratio 7:1; it supports any ratio from 256:1536 to 1536:256".into(),
            ),
        ],
    );
    assert_refusals(
        "stability-ai/stable-diffusion-3.5-large",
        &[
            (
                json!({"aspect_ratio": "4:3"}),
                "aspect_ratio",
                "unsupported_aspect_ratio",
                "Stable Diffusion 3.5 Large does not support aspect_ratio 4:3; it supports \
                 16:9, 1:1, 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21"
                    .into(),
            ),
            (
                json!({"style": "photo"}),
                "style",
                "unsupported_style",
                "Stable Diffusion 3.5 Large has no styles, not \"photo\"".into(),
            ),
        ],
    );
}

#[test]
fn ideogram() {
    let m = "Ideogram 3 Turbo";
    assert_refusals(
        "ideogram-ai/ideogram-v3-turbo",
        &[
            // Its `image` input is inpainting (needs a mask), not img2img.
            (json!({"image_url": URL}), "image_url", "unsupported_img2img", no_img2img(m)),
            (
                json!({"style": "anime"}),
                "style",
                "unsupported_style",
                "Ideogram 3 Turbo supports style None, Auto, General, Realistic, Design, not \"anime\"".into(),
            ),
            (
                json!({"output_format": "jpg"}),
                "output_format",
                "unsupported_output_format",
                "Ideogram 3 Turbo always makes png, not \"jpg\"".into(),
            ),
            (
                json!({"num_outputs": 2}),
                "num_outputs",
                "unsupported_num_outputs",
                "Ideogram 3 Turbo makes 1 image per request, not 2".into(),
            ),
            (json!({"negative_prompt": "text"}), "negative_prompt", "unsupported_negative_prompt", no_negative_prompt(m)),
        ],
    );
}

#[test]
fn imagen() {
    assert_refusals(
        "google/imagen-4",
        &[
            (
                json!({"seed": 1}),
                "seed",
                "unsupported_seed",
                "Imagen 4 does not take a seed; its results cannot be reproduced".into(),
            ),
            (
                json!({"aspect_ratio": "3:2"}),
                "aspect_ratio",
                "unsupported_aspect_ratio",
                "Imagen 4 does not support aspect_ratio 3:2; it supports 1:1, 9:16, 16:9, 3:4, 4:3"
                    .into(),
            ),
            (
                json!({"output_format": "webp"}),
                "output_format",
                "unsupported_output_format",
                "Imagen 4 supports output_format jpg, png, not \"webp\"".into(),
            ),
        ],
    );
}

#[test]
fn recraft() {
    assert_refusals(
        "recraft-ai/recraft-v3",
        &[
            (
                json!({"width": 512, "height": 512}),
                "width",
                "size_out_of_range",
                sides("width", 512, "Recraft V3", (1024, 2048)),
            ),
            (
                json!({"style": "line_art"}),
                "style",
                "unsupported_style",
                "Recraft V3 supports style any, realistic_image, digital_illustration, \
                 digital_illustration/pixel_art, digital_illustration/hand_drawn, digital_illustration/grain, \
                 digital_illustration/infantile_sketch, digital_illustration/2d_art_poster, \
                 digital_illustration/handmade_3d, digital_illustration/hand_drawn_outline, \
                 digital_illustration/engraving_color, digital_illustration/2d_art_poster_2, \
                 realistic_image/b_and_w, realistic_image/hard_flash, realistic_image/hdr, \
                 realistic_image/natural_light, realistic_image/studio_portrait, realistic_image/enterprise, \
                 realistic_image/motion_blur, not \"line_art\""
                    .into(),
            ),
            (
                json!({"seed": 1}),
                "seed",
                "unsupported_seed",
                "Recraft V3 does not take a seed; its results cannot be reproduced".into(),
            ),
            (
                json!({"output_format": "png"}),
                "output_format",
                "unsupported_output_format",
                "Recraft V3 always makes webp, not \"png\"".into(),
            ),
        ],
    );
    assert_refusals(
        "recraft-ai/recraft-v3-svg",
        &[
            (
                json!({"output_format": "png"}),
                "output_format",
                "unsupported_output_format",
                "Recraft V3 SVG always makes svg, not \"png\"".into(),
            ),
            (
                json!({"aspect_ratio": "21:9"}),
                "aspect_ratio",
                "unsupported_aspect_ratio",
                "Recraft V3 SVG does not support aspect_ratio 21:9; it supports \
                 1:1, 4:3, 3:4, 3:2, 2:3, 16:9, 9:16, 1:2, 2:1, 7:5, 5:7, 4:5, 5:4, 3:5, 5:3"
                    .into(),
            ),
            (
                json!({"style": "realistic_image"}),
                "style",
                "unsupported_style",
                "Recraft V3 SVG supports style any, engraving, line_art, line_circuit, linocut, \
                 not \"realistic_image\""
                    .into(),
            ),
        ],
    );
}

#[test]
fn seedream() {
    assert_refusals(
        "bytedance/seedream-3",
        &[
            (
                json!({"width": 511}),
                "width",
                "size_out_of_range",
                sides("width", 511, "Seedream 3", (512, 2048)),
            ),
            (
                json!({"image_url": URL}),
                "image_url",
                "unsupported_img2img",
                no_img2img("Seedream 3"),
            ),
            (
                json!({"aspect_ratio": "5:1"}),
                "aspect_ratio",
                "unsupported_aspect_ratio",
                "Seedream 3 does not support aspect_ratio 5:1; it supports \
                 1:1, 3:4, 4:3, 16:9, 9:16, 2:3, 3:2, 21:9, or any ratio from 512:2048 to 2048:512"
                    .into(),
            ),
        ],
    );
    assert_refusals(
        "bytedance/seedream-4",
        &[
            (
                json!({"height": 4097}),
                "height",
                "size_out_of_range",
                sides("height", 4097, "Seedream 4", (1024, 4096)),
            ),
            (
                json!({"image_url": URL, "strength": 0.3}),
                "strength",
                "unsupported_strength",
                "Seedream 4 uses image_url as a reference and takes no strength".into(),
            ),
            (
                json!({"seed": 3}),
                "seed",
                "unsupported_seed",
                "Seedream 4 does not take a seed; its results cannot be reproduced".into(),
            ),
            (
                json!({"num_outputs": 2}),
                "num_outputs",
                "unsupported_num_outputs",
                "Seedream 4 makes 1 image per request, not 2".into(),
            ),
        ],
    );
}

#[test]
fn qwen_and_nano_banana() {
    assert_refusals(
        "qwen/qwen-image",
        &[
            (
                json!({"num_outputs": 2}),
                "num_outputs",
                "unsupported_num_outputs",
                "Qwen Image makes 1 image per request, not 2".into(),
            ),
            (
                json!({"aspect_ratio": "21:9"}),
                "aspect_ratio",
                "unsupported_aspect_ratio",
                "Qwen Image does not support aspect_ratio 21:9; it supports 1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3"
                    .into(),
            ),
        ],
    );
    assert_refusals(
        "google/nano-banana",
        &[
            (
                json!({"seed": 1}),
                "seed",
                "unsupported_seed",
                "Nano Banana does not take a seed; its results cannot be reproduced".into(),
            ),
            (
                json!({"image_url": URL, "strength": 0.5}),
                "strength",
                "unsupported_strength",
                "Nano Banana uses image_url as a reference and takes no strength".into(),
            ),
            (
                json!({"negative_prompt": "x"}),
                "negative_prompt",
                "unsupported_negative_prompt",
                no_negative_prompt("Nano Banana"),
            ),
        ],
    );
}
