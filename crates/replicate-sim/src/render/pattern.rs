//! The picture: a two-colour gradient at an angle with a few discs, all chosen by a hash of prompt, seed
//! and output index — cheap to draw, obviously different per input, identical for identical input.

use super::RenderSpec;
use crate::ids::splitmix;

fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// A stream of hash-derived numbers for one spec.
struct Dice(u64);

impl Dice {
    fn new(spec: &RenderSpec) -> Self {
        Self(fnv1a(&spec.prompt) ^ splitmix(spec.seed) ^ splitmix(u64::from(spec.index) + 0x5151))
    }
    fn next(&mut self) -> u64 {
        self.0 = splitmix(self.0);
        self.0
    }
    fn below(&mut self, n: u32) -> u32 {
        (self.next() % u64::from(n.max(1))) as u32
    }
    fn colour(&mut self) -> [u8; 3] {
        let v = self.next();
        [v as u8, (v >> 8) as u8, (v >> 16) as u8]
    }
}

/// RGB pixels, row-major; the last `noise_rows` rows are random bytes.
pub fn rgb(spec: &RenderSpec, noise_rows: u32) -> Vec<u8> {
    let (w, h) = (spec.width as usize, spec.height as usize);
    let mut dice = Dice::new(spec);
    let (c1, c2) = (dice.colour(), dice.colour());
    let lut: Vec<[u8; 3]> = (0..256u32)
        .map(|t| {
            std::array::from_fn(|i| {
                ((u32::from(c1[i]) * (255 - t) + u32::from(c2[i]) * t) / 255) as u8
            })
        })
        .collect();
    // Gradient direction: integer weights so each pixel is one add and a table lookup.
    let (dx, dy) = (dice.below(9) as i64 - 4, dice.below(9) as i64 - 4);
    let (dx, dy) = if dx == 0 && dy == 0 { (1, 1) } else { (dx, dy) };
    let lo = (0.min(dx * w as i64)) + (0.min(dy * h as i64));
    let hi = (0.max(dx * w as i64)) + (0.max(dy * h as i64));
    let span = (hi - lo).max(1);
    let mut px = vec![0u8; w * h * 3];
    for y in 0..h {
        let row = &mut px[y * w * 3..(y + 1) * w * 3];
        let base = dy * y as i64 - lo;
        for (x, p) in row.chunks_exact_mut(3).enumerate() {
            let t = ((base + dx * x as i64) * 255 / span) as usize;
            p.copy_from_slice(&lut[t.min(255)]);
        }
    }
    for _ in 0..3 + dice.below(4) {
        let colour = dice.colour();
        let r = (w.min(h) as u32 / 10 + dice.below(w.min(h) as u32 / 4 + 1)) as i64;
        let (cx, cy) = (dice.below(w as u32) as i64, dice.below(h as u32) as i64);
        for y in (cy - r).max(0)..(cy + r + 1).min(h as i64) {
            let half = ((r * r - (y - cy) * (y - cy)) as f64).sqrt() as i64;
            let (x0, x1) = (
                (cx - half).max(0) as usize,
                ((cx + half + 1).min(w as i64)) as usize,
            );
            for p in px[(y as usize * w + x0) * 3..(y as usize * w + x1) * 3].chunks_exact_mut(3) {
                p.copy_from_slice(&colour);
            }
        }
    }
    let noise_from = h - (noise_rows as usize).min(h);
    let mut state = dice.next();
    for chunk in px[noise_from * w * 3..].chunks_mut(8) {
        state = splitmix(state);
        chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
    }
    px
}

/// The same picture as SVG (recraft-v3-svg), with the prompt as its title.
pub fn svg(spec: &RenderSpec) -> String {
    let mut dice = Dice::new(spec);
    let hex = |c: [u8; 3]| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]);
    let (c1, c2) = (dice.colour(), dice.colour());
    let (w, h) = (spec.width, spec.height);
    let title: String = spec
        .prompt
        .chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            c if c.is_control() => " ".to_owned(),
            c => c.to_string(),
        })
        .collect();
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\
         <title>{title}</title><defs><linearGradient id=\"g\" x1=\"0\" y1=\"0\" x2=\"1\" y2=\"1\">\
         <stop offset=\"0\" stop-color=\"{}\"/><stop offset=\"1\" stop-color=\"{}\"/></linearGradient></defs>\
         <rect width=\"{w}\" height=\"{h}\" fill=\"url(#g)\"/>",
        hex(c1),
        hex(c2)
    );
    for _ in 0..3 + dice.below(4) {
        let colour = dice.colour();
        let r = w.min(h) / 10 + dice.below(w.min(h) / 4 + 1);
        let (cx, cy) = (dice.below(w), dice.below(h));
        out.push_str(&format!(
            "<circle cx=\"{cx}\" cy=\"{cy}\" r=\"{r}\" fill=\"{}\"/>",
            hex(colour)
        ));
    }
    out.push_str("</svg>\n");
    out
}
