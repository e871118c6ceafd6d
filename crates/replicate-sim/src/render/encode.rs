//! Raster encoders: PNG (`png`), JPEG (`jpeg-encoder`, baseline) and WebP (`image-webp`, lossless VP8L —
//! Replicate's WebP is lossy VP8, which decoders read the same way).

use imagegen_core::replicate::OutputFormat;

use super::RenderSpec;

/// PNG private ancillary chunk used to pad a file to `target_bytes` ("prVt": ancillary, private, safe to
/// copy; decoders skip it).
const PAD_CHUNK: [u8; 4] = *b"prVt";

/// Encodes RGB pixels in the spec's format.
pub fn encode(spec: &RenderSpec, rgb: &[u8], noisy: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let result: Result<(), String> = match spec.format {
        OutputFormat::Png => png_bytes(spec, rgb, noisy, &mut out),
        OutputFormat::Jpg => jpeg_encoder::Encoder::new(&mut out, spec.quality.clamp(1, 100))
            .encode(
                rgb,
                spec.width as u16,
                spec.height as u16,
                jpeg_encoder::ColorType::Rgb,
            )
            .map_err(|e| e.to_string()),
        OutputFormat::Webp => image_webp::WebPEncoder::new(&mut out)
            .encode(rgb, spec.width, spec.height, image_webp::ColorType::Rgb8)
            .map_err(|e| e.to_string()),
        OutputFormat::Svg => unreachable!("SVG is not raster"),
    };
    // The inputs are always well-formed (sizes are clamped to what each encoder takes), so a failure here
    // is a bug; an empty file would hide it less well than this message in the body.
    result.map_or_else(|e| format!("encoder error: {e}").into_bytes(), |()| out)
}

fn png_bytes(spec: &RenderSpec, rgb: &[u8], noisy: bool, out: &mut Vec<u8>) -> Result<(), String> {
    let mut enc = png::Encoder::new(&mut *out, spec.width, spec.height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    // Noise does not compress; skipping deflate keeps large benchmark files cheap to make.
    enc.set_compression(if noisy {
        png::Compression::NoCompression
    } else {
        png::Compression::Fast
    });
    let mut writer = enc.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(rgb).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    pad_png(out, spec.target_bytes, spec.seed);
    Ok(())
}

/// Grows a finished PNG to about `target` bytes with private chunks of random bytes before `IEND`.
fn pad_png(out: &mut Vec<u8>, target: u64, seed: u64) {
    const CHUNK_OVERHEAD: u64 = 12; // length, type, CRC
    if target <= out.len() as u64 + CHUNK_OVERHEAD {
        return;
    }
    let iend = out.split_off(out.len() - 12);
    let mut state = seed;
    let mut left = target - out.len() as u64 - iend.len() as u64;
    while left > CHUNK_OVERHEAD {
        let n = (left - CHUNK_OVERHEAD).min(1 << 20) as usize;
        let start = out.len();
        out.extend_from_slice(&(n as u32).to_be_bytes());
        out.extend_from_slice(&PAD_CHUNK);
        for _ in 0..n.div_ceil(8) {
            state = crate::ids::splitmix(state);
            out.extend_from_slice(&state.to_le_bytes());
        }
        out.truncate(start + 8 + n);
        let crc = crc32(&out[start + 4..]);
        out.extend_from_slice(&crc.to_be_bytes());
        left -= n as u64 + CHUNK_OVERHEAD;
    }
    out.extend_from_slice(&iend);
}

/// CRC-32 (ISO-HDLC), as PNG chunks use.
fn crc32(data: &[u8]) -> u32 {
    static TABLE: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    let table = TABLE.get_or_init(|| {
        std::array::from_fn(|n| {
            (0..8).fold(n as u32, |c, _| {
                if c & 1 == 1 {
                    0xEDB8_8320 ^ (c >> 1)
                } else {
                    c >> 1
                }
            })
        })
    });
    !data.iter().fold(!0u32, |c, &b| {
        table[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_iend_chunk() {
        // IEND's CRC is fixed: AE 42 60 82.
        assert_eq!(crc32(b"IEND"), 0xAE42_6082);
    }
}
