//! Output files: real PNG/JPEG/WebP/SVG at the requested size, deterministic, string or array per model,
//! large on request, and gone after the retention period.

use hyper::Method;
use serde_json::{json, Value};

use crate::common::spawn;

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a valid PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    reader.next_frame(&mut buf).expect("PNG pixels decode");
    (reader.info().width, reader.info().height)
}

/// Width and height from a baseline JPEG's SOF0 segment.
fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..2], &[0xFF, 0xD8], "JPEG SOI");
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a SOF0 segment");
    let be = |i: usize| u32::from(bytes[i]) << 8 | u32::from(bytes[i + 1]);
    (be(sof + 7), be(sof + 5))
}

/// Width and height from a lossless WebP's VP8L header.
fn webp_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(
        (&bytes[..4], &bytes[8..16]),
        (&b"RIFF"[..], &b"WEBPVP8L"[..])
    );
    let riff_len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
    assert_eq!(riff_len + 8, bytes.len(), "RIFF length");
    assert_eq!(bytes[20], 0x2F, "VP8L signature");
    let bits = u32::from_le_bytes(bytes[21..25].try_into().unwrap());
    ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
}

fn first_url(p: &Value) -> String {
    match &p["output"] {
        Value::String(s) => s.clone(),
        Value::Array(a) => a[0].as_str().unwrap().to_owned(),
        other => panic!("no output: {other}"),
    }
}

#[tokio::test]
async fn files_are_real_images_at_the_requested_size_and_format() {
    let s = spawn(json!({})).await;
    let p = s
        .run(
            "black-forest-labs/flux-schnell",
            json!({"prompt": "a cat", "aspect_ratio": "16:9", "output_format": "png"}),
        )
        .await;
    let url = first_url(&p);
    assert!(url.ends_with("/out-0.png"), "{url}");
    let r = s.download(&url).await;
    assert_eq!((r.status, r.header("content-type")), (200, "image/png"));
    assert_eq!(png_size(&r.body), (1360, 768));

    let p = s
        .run(
            "black-forest-labs/flux-dev",
            json!({"prompt": "a cat", "aspect_ratio": "2:3", "output_format": "jpg"}),
        )
        .await;
    let r = s.download(&first_url(&p)).await;
    assert_eq!(r.header("content-type"), "image/jpeg");
    let (w, h) = jpeg_size(&r.body);
    assert!(w < h && (w * 3).abs_diff(h * 2) < 64, "{w}x{h}");

    let p = s
        .run(
            "black-forest-labs/flux-schnell",
            json!({"prompt": "a cat", "megapixels": "0.25"}),
        )
        .await;
    let r = s.download(&first_url(&p)).await;
    assert_eq!(r.header("content-type"), "image/webp");
    assert_eq!(webp_size(&r.body), (512, 512));

    let p = s
        .run(
            "recraft-ai/recraft-v3-svg",
            json!({"prompt": "a <logo>", "size": "1365x1024"}),
        )
        .await;
    let r = s.download(&first_url(&p)).await;
    assert_eq!(r.header("content-type"), "image/svg+xml");
    let svg = String::from_utf8(r.body.to_vec()).unwrap();
    assert!(
        svg.starts_with("<svg")
            && svg.contains("width=\"1365\" height=\"1024\"")
            && svg.contains("a &lt;logo&gt;")
    );
}

#[tokio::test]
async fn output_is_a_string_or_an_array_as_each_model_returns_it() {
    let s = spawn(json!({})).await;
    let cases = [
        ("black-forest-labs/flux-schnell", true),
        ("black-forest-labs/flux-1.1-pro", false),
        ("google/imagen-4", false),
        ("recraft-ai/recraft-v3", false),
        ("bytedance/seedream-4", true),
        ("qwen/qwen-image", true),
        ("google/nano-banana", false),
    ];
    for (model, array) in cases {
        let p = s.run(model, json!({"prompt": "x"})).await;
        assert_eq!(p["output"].is_array(), array, "{model}: {}", p["output"]);
        assert_eq!(p["output"].is_string(), !array, "{model}");
    }
    let p = s
        .run(
            "black-forest-labs/flux-schnell",
            json!({"prompt": "x", "num_outputs": 3}),
        )
        .await;
    assert_eq!(p["output"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn files_are_deterministic_in_prompt_and_seed() {
    let s = spawn(json!({})).await;
    let input = json!({"prompt": "a red fox", "seed": 7, "num_outputs": 2, "output_format": "png"});
    let a = s.run("black-forest-labs/flux-schnell", input.clone()).await;
    let b = s.run("black-forest-labs/flux-schnell", input).await;
    assert_ne!(a["id"], b["id"]);
    let (a0, a1) = (
        s.download(a["output"][0].as_str().unwrap()).await.body,
        s.download(a["output"][1].as_str().unwrap()).await.body,
    );
    let b0 = s.download(b["output"][0].as_str().unwrap()).await.body;
    assert_eq!(a0, b0, "same prompt and seed, same file");
    assert_ne!(a0, a1, "each output of a prediction differs");
    let c = s
        .run(
            "black-forest-labs/flux-schnell",
            json!({"prompt": "a red fox", "seed": 8, "output_format": "png"}),
        )
        .await;
    assert_ne!(
        s.download(c["output"][0].as_str().unwrap()).await.body,
        a0,
        "another seed, another file"
    );
}

#[tokio::test]
async fn large_noisy_pngs_reach_the_requested_size() {
    let s = spawn(json!({"output_bytes": 5_000_000})).await;
    let p = s
        .run(
            "stability-ai/stable-diffusion-3.5-large",
            json!({"prompt": "x", "output_format": "png"}),
        )
        .await;
    let r = s.download(&first_url(&p)).await;
    let len = r.body.len() as i64;
    assert!((len - 5_000_000).abs() < 50_000, "{len} bytes");
    assert_eq!(png_size(&r.body), (1024, 1024), "still a valid PNG");
}

#[tokio::test]
async fn data_is_removed_after_the_retention_period() {
    let s = spawn(json!({})).await;
    let p = s.run("google/imagen-4", json!({"prompt": "x"})).await;
    let id = p["id"].as_str().unwrap();
    let url = first_url(&p);
    assert_eq!(s.download(&url).await.status, 200);
    s.admin(Method::POST, "clock", Some(&json!({"advance_secs": 3500})))
        .await;
    assert_eq!(s.get(id).await["data_removed"], false, "kept for an hour");
    assert_eq!(s.download(&url).await.status, 200);
    s.admin(Method::POST, "clock", Some(&json!({"advance_secs": 101})))
        .await;
    let gone = s.get(id).await;
    assert_eq!(gone["data_removed"], true);
    assert!(gone["output"].is_null());
    assert_eq!(gone["input"], json!({}));
    assert_eq!(gone["status"], "succeeded");
    assert_eq!(s.download(&url).await.status, 404);
    assert_eq!(s.download(&url.replace("out-0", "out-9")).await.status, 404);
}

#[tokio::test]
async fn retention_is_configurable() {
    let s = spawn(json!({"expiry_secs": 10})).await;
    let p = s.run("google/imagen-4", json!({"prompt": "x"})).await;
    s.admin(Method::POST, "clock", Some(&json!({"advance_secs": 11})))
        .await;
    assert_eq!(s.get(p["id"].as_str().unwrap()).await["data_removed"], true);
}
