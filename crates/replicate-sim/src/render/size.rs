//! The pixel size and number of outputs a model produces for an input, from its sizing fields (aspect
//! ratio and megapixels, explicit width/height, fixed sizes) as each model's schema describes them.
//! Where the real size depends on an input image (`match_input_image`), the image is not fetched and
//! 1:1 is used.

use imagegen_core::replicate::ModelSchema;
use serde_json::Value;

/// Largest output rendered, in pixels (seedream-4 at 4K is 4096×4096).
const MAX_PIXELS: u64 = 4096 * 4096;

fn get<'a>(
    model: &ModelSchema,
    input: &'a Value,
    name: &str,
) -> Option<std::borrow::Cow<'a, Value>> {
    model.value_or_default(input, name)
}

fn str_of(model: &ModelSchema, input: &Value, name: &str) -> Option<String> {
    get(model, input, name).and_then(|v| v.as_str().map(str::to_owned))
}

fn int_of(model: &ModelSchema, input: &Value, name: &str) -> Option<u32> {
    get(model, input, name)
        .and_then(|v| v.as_f64())
        .map(|f| f.clamp(1.0, 16384.0) as u32)
}

/// `"W:H"` or `"WxH"` to a ratio.
fn ratio(s: &str) -> Option<f64> {
    let (w, h) = s.split_once(':').or_else(|| s.split_once('x'))?;
    let (w, h): (f64, f64) = (w.parse().ok()?, h.parse().ok()?);
    (w > 0.0 && h > 0.0).then_some(w / h)
}

fn round_to(v: f64, multiple: u32) -> u32 {
    let m = f64::from(multiple.max(1));
    ((v / m).round() * m).max(m) as u32
}

/// A size of about `megapixels` (in units of 1024² pixels) at `ratio`, sides multiples of `multiple`.
fn from_ratio(ratio: f64, megapixels: f64, multiple: u32) -> (u32, u32) {
    let area = megapixels * 1024.0 * 1024.0;
    (
        round_to((area * ratio).sqrt(), multiple),
        round_to((area / ratio).sqrt(), multiple),
    )
}

fn clamp((w, h): (u32, u32)) -> (u32, u32) {
    let (mut w, mut h) = (w.clamp(16, 8192), h.clamp(16, 8192));
    while u64::from(w) * u64::from(h) > MAX_PIXELS {
        w = w * 9 / 10;
        h = h * 9 / 10;
    }
    (w, h)
}

/// The output size for `input`.
pub fn dimensions(model: &ModelSchema, input: &Value) -> (u32, u32) {
    let aspect = |default_mp: f64, multiple: u32| {
        let r = str_of(model, input, "aspect_ratio")
            .and_then(|s| ratio(&s))
            .unwrap_or(1.0);
        from_ratio(r, default_mp, multiple)
    };
    let explicit = |default: u32| {
        (
            int_of(model, input, "width").unwrap_or(default),
            int_of(model, input, "height").unwrap_or(default),
        )
    };
    let custom = str_of(model, input, "aspect_ratio").as_deref() == Some("custom");
    let size = match model.id {
        "black-forest-labs/flux-schnell"
        | "black-forest-labs/flux-dev"
        | "black-forest-labs/flux-krea-dev" => {
            let mp = if str_of(model, input, "megapixels").as_deref() == Some("0.25") {
                0.25
            } else {
                1.0
            };
            aspect(mp, 16)
        }
        "black-forest-labs/flux-1.1-pro" if custom => {
            let (w, h) = explicit(1024);
            (round_to(f64::from(w), 32), round_to(f64::from(h), 32))
        }
        "black-forest-labs/flux-1.1-pro-ultra" => aspect(4.0, 32),
        "bytedance/sdxl-lightning-4step" | "stability-ai/sdxl" => {
            let (w, h) = explicit(1024);
            (round_to(f64::from(w), 8), round_to(f64::from(h), 8))
        }
        id if id.starts_with("ideogram-ai/") => match str_of(model, input, "resolution") {
            Some(r) if r != "None" => {
                let (w, h) = r.split_once('x').unwrap_or(("1024", "1024"));
                (w.parse().unwrap_or(1024), h.parse().unwrap_or(1024))
            }
            _ => aspect(1.0, 32),
        },
        "recraft-ai/recraft-v3" | "recraft-ai/recraft-v3-svg" => {
            match str_of(model, input, "aspect_ratio").filter(|r| r != "Not set") {
                Some(_) => aspect(1.0, 32),
                None => {
                    let s = str_of(model, input, "size").unwrap_or_else(|| "1024x1024".into());
                    let (w, h) = s.split_once('x').unwrap_or(("1024", "1024"));
                    (w.parse().unwrap_or(1024), h.parse().unwrap_or(1024))
                }
            }
        }
        "bytedance/seedream-3" if custom => explicit(2048),
        "bytedance/seedream-3" => {
            let mp = match str_of(model, input, "size").as_deref() {
                Some("small") => 0.25,
                Some("big") => 4.0,
                _ => 1.0,
            };
            aspect(mp, 16)
        }
        "bytedance/seedream-4" => match str_of(model, input, "size").as_deref() {
            Some("custom") => explicit(2048),
            Some("1K") => aspect(1.0, 16),
            Some("4K") => aspect(16.0, 16),
            _ => aspect(4.0, 16),
        },
        "qwen/qwen-image" => {
            let mp = if str_of(model, input, "image_size").as_deref() == Some("optimize_for_speed")
            {
                1.0
            } else {
                // 1328×1328 at 1:1, Qwen-Image's native resolution.
                (1328.0 * 1328.0) / (1024.0 * 1024.0)
            };
            aspect(mp, 16)
        }
        _ => aspect(1.0, 32),
    };
    clamp(size)
}

/// How many files a prediction with `input` produces.
pub fn output_count(model: &ModelSchema, input: &Value) -> u32 {
    if model.field("num_outputs").is_some() {
        return int_of(model, input, "num_outputs").unwrap_or(1).clamp(1, 4);
    }
    if model.id == "bytedance/seedream-4"
        && str_of(model, input, "sequential_image_generation").as_deref() == Some("auto")
    {
        return int_of(model, input, "max_images").unwrap_or(1).clamp(1, 15);
    }
    1
}

#[cfg(test)]
mod tests {
    use super::*;
    use imagegen_core::replicate::find_model;
    use serde_json::json;

    fn dims(model: &str, input: Value) -> (u32, u32) {
        dimensions(find_model(model).unwrap(), &input)
    }

    #[test]
    fn sizes_follow_each_models_sizing_fields() {
        assert_eq!(
            dims("black-forest-labs/flux-schnell", json!({})),
            (1024, 1024)
        );
        assert_eq!(
            dims(
                "black-forest-labs/flux-schnell",
                json!({"aspect_ratio": "16:9"})
            ),
            (1360, 768)
        );
        assert_eq!(
            dims(
                "black-forest-labs/flux-schnell",
                json!({"megapixels": "0.25"})
            ),
            (512, 512)
        );
        assert_eq!(
            dims(
                "black-forest-labs/flux-1.1-pro",
                json!({"aspect_ratio": "custom", "width": 1000, "height": 300})
            ),
            (992, 288)
        );
        assert_eq!(
            dims(
                "bytedance/sdxl-lightning-4step",
                json!({"width": 768, "height": 1280})
            ),
            (768, 1280)
        );
        assert_eq!(
            dims("recraft-ai/recraft-v3-svg", json!({"size": "1820x1024"})),
            (1820, 1024)
        );
        assert_eq!(
            dims(
                "ideogram-ai/ideogram-v3-turbo",
                json!({"resolution": "1536x640"})
            ),
            (1536, 640)
        );
        assert_eq!(
            dims("bytedance/seedream-4", json!({"size": "4K"})),
            (4096, 4096)
        );
        let (w, h) = dims("google/imagen-4", json!({"aspect_ratio": "9:16"}));
        assert!(w < h && (w * h).abs_diff(1 << 20) < 40_000, "{w}x{h}");
    }

    #[test]
    fn counts_follow_num_outputs() {
        let m = find_model("black-forest-labs/flux-schnell").unwrap();
        assert_eq!(output_count(m, &json!({"num_outputs": 3})), 3);
        assert_eq!(output_count(m, &json!({})), 1);
        let s4 = find_model("bytedance/seedream-4").unwrap();
        assert_eq!(output_count(s4, &json!({"max_images": 3})), 1);
        assert_eq!(
            output_count(
                s4,
                &json!({"max_images": 3, "sequential_image_generation": "auto"})
            ),
            3
        );
    }
}
