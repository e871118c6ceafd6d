//! Output files: rendered on request, deterministically from prompt, seed and output index, at the size
//! and in the format the model's input asks for. Nothing is stored: a delivery URL names a prediction and
//! an index, and the same bytes come back each time.

mod encode;
mod pattern;
mod size;

pub use size::{dimensions, output_count};

use imagegen_core::replicate::OutputFormat;

/// Everything that determines one output file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RenderSpec {
    pub prompt: String,
    pub seed: u64,
    /// Which output of the prediction (0-based); each looks different.
    pub index: u32,
    pub width: u32,
    pub height: u32,
    pub format: OutputFormat,
    /// JPEG/WebP quality input (`output_quality`), 1–100.
    pub quality: u8,
    /// When > 0, a PNG is rendered noisy and padded to about this many bytes (benchmarks of large files).
    pub target_bytes: u64,
}

/// The file's bytes.
pub fn render(spec: &RenderSpec) -> Vec<u8> {
    if spec.format == OutputFormat::Svg {
        return pattern::svg(spec).into_bytes();
    }
    let noise_rows = match spec.format {
        OutputFormat::Png if spec.target_bytes > 0 => {
            // Noise does not compress: each noisy row costs about its raw size (3 bytes a pixel + filter).
            let row = u64::from(spec.width) * 3 + 1;
            (spec.target_bytes / row).min(u64::from(spec.height)) as u32
        }
        _ => 0,
    };
    let rgb = pattern::rgb(spec, noise_rows);
    encode::encode(spec, &rgb, noise_rows > 0)
}
