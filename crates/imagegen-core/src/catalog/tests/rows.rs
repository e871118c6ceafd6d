//! The `public.models` rows: every original model is served, the rows say what the catalog says, and the
//! committed migration is exactly what the catalog renders ("drift" fails the test).

use crate::catalog::{
    self, find, models_migration_sql, models_rows_json, resolve, MODELS, MODELS_MIGRATION_PATH,
    MODEL_ROW_COLUMNS,
};
use crate::replicate::schema::SDXL_VERSION;
use serde_json::{json, Value};

/// The models of the original Picture app (contract §2): all must stay served.
const ORIGINAL_MODELS: &[&str] = &[
    "black-forest-labs/flux-schnell",
    "black-forest-labs/flux-dev",
    "black-forest-labs/flux-1.1-pro",
    "black-forest-labs/flux-krea-dev",
    "bytedance/sdxl-lightning-4step",
    "stability-ai/sdxl",
    "stability-ai/stable-diffusion-3.5-large",
    "ideogram-ai/ideogram-v3-turbo",
    "google/imagen-4-fast",
    "recraft-ai/recraft-v3-svg",
    "recraft-ai/recraft-v3",
    "bytedance/seedream-3",
    "bytedance/seedream-4",
    "qwen/qwen-image",
];

#[test]
fn every_original_model_is_served_and_its_aliases_resolve() {
    for id in ORIGINAL_MODELS {
        assert!(find(id).is_some(), "{id} is missing from the catalog");
    }
    assert_eq!(
        resolve("google-deepmind/imagen-4-fast").map(|m| m.id),
        Some("google/imagen-4-fast")
    );
    assert_eq!(
        resolve("fofr/recraft-v3-svg").map(|m| m.id),
        Some("recraft-ai/recraft-v3-svg")
    );
    for (alias, _) in catalog::ALIASES {
        assert!(find(alias).is_none(), "an alias is not a catalog id");
    }
}

fn rows() -> Vec<Value> {
    models_rows_json().as_array().unwrap().clone()
}

fn row(id: &str) -> Value {
    rows()
        .into_iter()
        .find(|r| r["replicate_id"] == id)
        .unwrap()
}

#[test]
fn one_row_per_model_with_every_column() {
    let rows = rows();
    assert_eq!(rows.len(), MODELS.len());
    let mut names = Vec::new();
    for (i, (r, m)) in rows.iter().zip(MODELS).enumerate() {
        let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = MODEL_ROW_COLUMNS.to_vec();
        expected.sort_unstable();
        assert_eq!(keys, expected, "{}", m.id);
        assert_eq!(r["replicate_id"], m.id);
        assert_eq!(r["sort_order"], i + 1);
        assert_eq!(r["is_active"], true);
        assert_eq!(r["is_default"], m.id == catalog::DEFAULT_MODEL_ID);
        assert!(r["cost_per_generation"].as_f64().unwrap() > 0.0, "{}", m.id);
        assert!(
            r["estimated_time_seconds"].as_i64().unwrap() > 0,
            "{}",
            m.id
        );
        assert!(!r["description"].as_str().unwrap().is_empty(), "{}", m.id);
        assert_eq!(r["supports_img2img"], r["supports_image_to_image"]);
        // The defaults a client sends back are accepted without adjustment.
        let mut body = json!({"prompt": "x", "model_id": m.id, "width": r["default_width"],
            "height": r["default_height"], "num_inference_steps": r["default_steps"],
            "guidance_scale": r["default_guidance_scale"], "model_version": r["version"]});
        if m.image_input.is_some() {
            body["image_url"] = "https://example.com/a.png".into();
            body["strength"] = r["default_strength"].clone();
        }
        let req = crate::request::GenerationRequest::parse(body.to_string().as_bytes()).unwrap();
        assert_eq!(req.adjusted, [], "{}: {body}", m.id);
        names.push(r["name"].as_str().unwrap().to_owned());
    }
    let defaults = rows.iter().filter(|r| r["is_default"] == true).count();
    assert_eq!(defaults, 1);
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "names are unique");
}

#[test]
fn rows_hold_the_catalog_values() {
    assert_eq!(
        row("black-forest-labs/flux-schnell"),
        json!({
            "name": "flux-schnell",
            "display_name": "FLUX Schnell",
            "description": "The fastest and cheapest FLUX model: good images in about two seconds.",
            "replicate_id": "black-forest-labs/flux-schnell",
            "version": null,
            "default_width": 1024, "default_height": 1024,
            "default_steps": 4, "default_guidance_scale": null, "default_strength": null,
            "min_width": 256, "max_width": 2048, "min_height": 256, "max_height": 2048, "max_steps": 4,
            "supports_negative_prompt": false, "supports_seed": true,
            "supports_image_to_image": false, "supports_img2img": false,
            "strength_min": null, "strength_max": null,
            "supported_aspect_ratios": ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"],
            "is_active": true, "is_default": true, "sort_order": 1,
            "cost_per_generation": 0.003, "estimated_time_seconds": 2, "cost_weight": 3,
        })
    );
    let sdxl = row("stability-ai/sdxl");
    assert_eq!(sdxl["name"], "sdxl");
    assert_eq!(sdxl["version"], SDXL_VERSION);
    assert_eq!(
        (
            &sdxl["default_steps"],
            &sdxl["max_steps"],
            &sdxl["default_guidance_scale"]
        ),
        (&json!(50), &json!(500), &json!(7.5))
    );
    assert_eq!(
        (
            &sdxl["strength_min"],
            &sdxl["strength_max"],
            &sdxl["default_strength"]
        ),
        (&json!(0.0), &json!(1.0), &json!(0.8))
    );
    assert_eq!(
        sdxl["supported_aspect_ratios"],
        json!(["1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9", "9:21"])
    );
    // Ultra's `image_prompt_strength` weighs the image: its default 0.1 is a strength of 0.9.
    assert_eq!(
        row("black-forest-labs/flux-1.1-pro-ultra")["default_strength"],
        0.9
    );
    // SD 3.5 takes `steps` and `cfg`.
    let sd35 = row("stability-ai/stable-diffusion-3.5-large");
    assert_eq!(
        (&sd35["default_steps"], &sd35["default_guidance_scale"]),
        (&json!(40), &json!(5.0))
    );
    let krea = row("black-forest-labs/flux-krea-dev");
    assert_eq!(
        (&krea["name"], &krea["display_name"], &krea["version"]),
        (
            &json!("flux-krea-dev"),
            &json!("FLUX Krea Dev"),
            &Value::Null
        )
    );
    assert_eq!(row("recraft-ai/recraft-v3-svg")["min_width"], 1024);
}

fn migration_file() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(MODELS_MIGRATION_PATH)
}

/// `UPDATE_GENERATED=1 cargo test -p imagegen-core models_migration` rewrites the file.
#[test]
fn models_migration_is_generated_from_the_catalog() {
    let sql = models_migration_sql();
    let path = migration_file();
    if std::env::var_os("UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &sql).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == sql,
        "{} differs from the catalog; run UPDATE_GENERATED=1 cargo test -p imagegen-core models_migration",
        MODELS_MIGRATION_PATH
    );
}

#[test]
fn models_migration_upserts_by_replicate_id_and_deactivates_the_rest() {
    let sql = models_migration_sql();
    for m in MODELS {
        assert!(sql.contains(&format!("'{}'", m.id)), "{}", m.id);
    }
    assert!(sql.contains("on conflict (replicate_id) do update set"));
    assert!(
        sql.contains("is distinct from"),
        "unchanged rows are not rewritten"
    );
    assert!(sql.contains("update public.models set is_active = false, is_default = false"));
    assert!(sql.contains(
        "update public.models set replicate_id = 'google/imagen-4-fast'\n where replicate_id = 'google-deepmind/imagen-4-fast'"
    ));
    assert!(
        !sql.to_lowercase().contains("delete from"),
        "rows are never deleted"
    );
    for c in MODEL_ROW_COLUMNS {
        assert!(sql.contains(&format!("{c} = excluded.{c}")) || *c == "replicate_id");
    }
}

#[test]
fn cost_weights_round_up_and_never_reach_zero() {
    use crate::catalog::Usd;
    assert_eq!(Usd::from_micros(3_000).usage_units(), 3);
    assert_eq!(
        Usd::from_micros(2_500).usage_units(),
        3,
        "a part unit is charged whole"
    );
    assert_eq!(Usd::from_micros(39_000).usage_units(), 39);
    assert_eq!(
        Usd::from_micros(0).usage_units(),
        1,
        "no model is free to abuse"
    );
    for m in crate::catalog::MODELS {
        assert!(
            f64::from(m.cost.usage_units()) * 0.001 >= m.cost.as_f64(),
            "{}",
            m.id
        );
    }
}
