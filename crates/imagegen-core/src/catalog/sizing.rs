//! How a request's `width`, `height` and `aspect_ratio` become a model's size inputs, in two steps:
//! [`plan_size`] turns what the client asked into what the model can make (recording each change as an
//! [`Adjustment`]), and [`write_size_inputs`] maps a planned request to the model's inputs. A plan is a
//! fixed point: planning its own values again changes nothing, so the worker re-parsing a stored request
//! gets the same input.
//!
//! Rules (one per [`Sizing`] strategy; the geometry is below):
//! - shapes are compared by ratio on a log scale, so 2:1 and 1:2 are equally far from 1:1;
//! - ties go to the less elongated candidate, then to the landscape one (a tie between `r` and `1/r`
//!   only happens for a square request where 1:1 is missing);
//! - named-ratio models: the nearest named ratio to the explicit `aspect_ratio`, else to width:height;
//!   width and height are kept (they only choose the shape, and FLUX's megapixels);
//! - free sides are kept at their shape, scaled into the model's bounds when outside them, and rounded to
//!   its multiple, halves up;
//! - an explicit `aspect_ratio` wins: a named ratio is sent as is, any other (on models with free sides)
//!   keeps the requested area at that shape (narrowed to the widest the bounds allow);
//! - fixed sizes: the one nearest in shape.

use super::Model;
use crate::request::Adjustment;
use serde_json::{Map, Value};

/// Width/height listed for models sized by named ratios only (model list, `models` rows): there any size
/// is taken, as it only chooses the shape, and this is the range the clients' pickers offer.
pub const SHAPE_HINT_SIDES: (u32, u32) = (256, 2048);

/// The `aspect_ratio` value that keeps the shape of the input image (FLUX Kontext, Seedream 4, Nano Banana).
pub(super) const MATCH_INPUT_IMAGE: &str = "match_input_image";

/// How a model takes its output size. Ratio lists, size lists and bounds come from its schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sizing {
    /// Named `aspect_ratio` values only; width/height pick the nearest. Models with a `megapixels` input
    /// (FLUX Schnell/Dev) also get the nearest area.
    AspectRatio,
    /// `aspect_ratio: "custom"` plus `width`/`height` rounded to `multiple` (FLUX 1.1 Pro, Seedream 3),
    /// or a named ratio when the client asks for one.
    CustomAspectRatio { multiple: u32 },
    /// `size: "custom"` plus `width`/`height` (Seedream 4), or a size tier (`1K`, `2K`, `4K`: the nearest
    /// to the longer requested side) with a named ratio or `match_input_image`.
    CustomSize { multiple: u32 },
    /// `width`/`height` only (SDXL family), rounded to `multiple`. `unpublished_bounds` are ours, for a
    /// schema that publishes none (stability-ai/sdxl); else the schema's bounds apply.
    Pixels {
        multiple: u32,
        unpublished_bounds: Option<(u32, u32)>,
    },
    /// The nearest of a fixed list of `size: "WxH"` values (Recraft). Its `aspect_ratio` input is not used:
    /// `size` names exact pixels.
    FixedSize,
}

/// What the size mapping needs from a planned request.
#[derive(Debug, Clone, Copy)]
pub(super) struct SizeRequest<'a> {
    pub width: u32,
    pub height: u32,
    pub aspect_ratio: Option<&'a str>,
    pub with_image: bool,
}

/// What a request asks about its size, already checked for sanity (sides within the absolute bounds, a
/// well-formed `W:H`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct SizeAsk<'a> {
    pub width: u32,
    pub height: u32,
    /// Whether the client sent width / height: a default that had to change is not reported.
    pub width_sent: bool,
    pub height_sent: bool,
    pub aspect_ratio: Option<&'a str>,
    pub with_image: bool,
}

/// The size part of a request as the model makes it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SizePlan {
    pub width: u32,
    pub height: u32,
    /// A ratio the model names, sent as `aspect_ratio`: asked for, or the nearest to the requested shape.
    /// `None` when the sides say it all (free and fixed sizes) or the input image gives the shape.
    pub aspect_ratio: Option<&'static str>,
    pub adjustments: Vec<Adjustment>,
}

/// `W:H` or `WxH` as width / height, if both are positive numbers.
pub(super) fn parse_shape(s: &str) -> Option<f64> {
    let (w, h) = s.split_once(':').or_else(|| s.split_once('x'))?;
    let (w, h): (f64, f64) = (w.parse().ok()?, h.parse().ok()?);
    (w > 0.0 && h > 0.0).then_some(w / h)
}

/// The candidate whose shape is nearest to `shape` (see the module rules for ties).
pub(super) fn nearest<'a>(candidates: impl IntoIterator<Item = &'a str>, shape: f64) -> &'a str {
    let target = shape.ln();
    let key = |c: &str| {
        let r = parse_shape(c).expect("candidates are shapes").ln();
        // Distance first, then elongation, then landscape before portrait.
        ((r - target).abs(), r.abs(), -r)
    };
    candidates
        .into_iter()
        .map(|c| (key(c), c))
        .min_by(|(a, _), (b, _)| {
            let close = |x: f64, y: f64| (x - y).abs() < 1e-9;
            [(a.0, b.0), (a.1, b.1), (a.2, b.2)]
                .into_iter()
                .find(|(x, y)| !close(*x, *y))
                .map_or(std::cmp::Ordering::Equal, |(x, y)| x.total_cmp(&y))
        })
        .map(|(_, c)| c)
        .expect("a model lists at least one shape")
}

/// `v` rounded to the nearest multiple (halves up), within `[min, max]` rounded inwards.
pub(super) fn round_side(v: f64, multiple: u32, (min, max): (u32, u32)) -> u32 {
    let m = f64::from(multiple.max(1));
    let lo = (f64::from(min) / m).ceil() * m;
    let hi = (f64::from(max) / m).floor() * m;
    ((v / m + 0.5).floor() * m).clamp(lo, hi) as u32
}

/// Sides with ratio `shape` and about the area `width × height`, scaled to fit `bounds`, then rounded.
/// Shapes are validated to lie within the bounds' ratio range, so scaling never has to distort them.
pub(super) fn sides_for_shape(
    (width, height): (u32, u32),
    shape: f64,
    multiple: u32,
    bounds @ (min, max): (u32, u32),
) -> (u32, u32) {
    let area = f64::from(width) * f64::from(height);
    let (mut w, mut h) = ((area * shape).sqrt(), (area / shape).sqrt());
    let longer = w.max(h);
    if longer > f64::from(max) {
        let s = f64::from(max) / longer;
        (w, h) = (w * s, h * s);
    }
    let shorter = w.min(h);
    if shorter < f64::from(min) {
        let s = f64::from(min) / shorter;
        (w, h) = (w * s, h * s);
    }
    (
        round_side(w, multiple, bounds),
        round_side(h, multiple, bounds),
    )
}

/// Inclusive width/height bounds for `model`'s requests.
pub(super) fn side_bounds(model: &Model) -> (u32, u32) {
    match model.sizing {
        Sizing::AspectRatio => SHAPE_HINT_SIDES,
        Sizing::FixedSize => {
            let sides = model.fixed_sizes().iter().flat_map(|s| {
                let (w, h) = s.split_once('x').expect("sizes are WxH");
                [w, h].map(|n| n.parse::<u32>().expect("sizes are numbers"))
            });
            let (min, max) = sides.fold((u32::MAX, 0), |(lo, hi), s| (lo.min(s), hi.max(s)));
            (min, max)
        }
        Sizing::Pixels {
            unpublished_bounds: Some(bounds),
            ..
        } => bounds,
        Sizing::CustomAspectRatio { .. } | Sizing::CustomSize { .. } | Sizing::Pixels { .. } => {
            schema_bounds(model).expect("the schema bounds width")
        }
    }
}

/// The schema's `width` bounds (height is the same on every served model; a test checks it).
pub(super) fn schema_bounds(model: &Model) -> Option<(u32, u32)> {
    match model.schema().field("width")?.kind {
        crate::replicate::Kind::Int {
            min: Some(min),
            max: Some(max),
        } => Some((u32::try_from(min).ok()?, u32::try_from(max).ok()?)),
        _ => None,
    }
}

/// Plans the size of a request for `model` (see the module rules).
pub(crate) fn plan_size(model: &Model, ask: SizeAsk<'_>) -> SizePlan {
    let mut plan = SizePlan {
        width: ask.width,
        height: ask.height,
        aspect_ratio: None,
        adjustments: Vec::new(),
    };
    let named = model.aspect_ratios();
    let explicit = ask.aspect_ratio;
    let explicit_named = explicit.and_then(|r| named.iter().copied().find(|n| *n == r));
    let keep_image_shape = explicit.is_none() && ask.with_image && model.matches_input_image();
    let requested = f64::from(ask.width) / f64::from(ask.height);
    // The named ratio nearest to an explicit one the model does not name.
    let snap_explicit = |plan: &mut SizePlan, r: &str| -> &'static str {
        let n = nearest(named.iter().copied(), shape(r));
        plan.adjustments.push(Adjustment::changed(
            "aspect_ratio",
            r,
            n,
            format!(
                "{} makes only the aspect ratios {}; {r} is nearest to {n}",
                model.display_name,
                named.join(", ")
            ),
        ));
        n
    };

    match model.sizing {
        Sizing::AspectRatio => match explicit {
            Some(r) => {
                plan.aspect_ratio =
                    Some(explicit_named.unwrap_or_else(|| snap_explicit(&mut plan, r)))
            }
            None if keep_image_shape => {}
            None => {
                let n = nearest(named.iter().copied(), requested);
                if !same_shape(shape(n), requested) {
                    plan.aspect_ratio = Some(n);
                    plan.adjustments.push(Adjustment::changed(
                        "aspect_ratio",
                        format!("{}:{}", ask.width, ask.height),
                        n,
                        format!(
                            "{} makes only the aspect ratios {}; {}×{} is nearest to {n}",
                            model.display_name,
                            named.join(", "),
                            ask.width,
                            ask.height
                        ),
                    ));
                }
            }
        },
        Sizing::FixedSize => {
            let target = match (explicit, explicit_named) {
                (_, Some(n)) => shape(n),
                (Some(r), None) => shape(snap_explicit(&mut plan, r)),
                (None, _) => requested,
            };
            let size = nearest(model.fixed_sizes().iter().copied(), target);
            let (w, h) = size.split_once('x').expect("sizes are WxH");
            let sides = (w.parse().expect("a number"), h.parse().expect("a number"));
            let why = format!(
                "{} makes only the sizes {}; {size} is the nearest in shape",
                model.display_name,
                model.fixed_sizes().join(", ")
            );
            set_sides(&mut plan, ask, sides, &why);
        }
        Sizing::CustomAspectRatio { multiple }
        | Sizing::CustomSize { multiple }
        | Sizing::Pixels { multiple, .. } => {
            let bounds @ (min, max) = model.side_bounds();
            let px = |m: u32| {
                if m > 1 {
                    format!(", in multiples of {m}")
                } else {
                    String::new()
                }
            };
            match (explicit, explicit_named) {
                (_, Some(n)) => plan.aspect_ratio = Some(n),
                (Some(r), None) => {
                    let (lo, hi) = model.ratio_range();
                    let mut target = shape(r);
                    if target < lo || target > hi {
                        let (w, h) = if target < lo { (min, max) } else { (max, min) };
                        let d = gcd(w, h);
                        let widest = format!("{}:{}", w / d, h / d);
                        plan.adjustments.push(Adjustment::changed(
                            "aspect_ratio",
                            r,
                            widest.as_str(),
                            format!(
                                "{} makes shapes from {min}:{max} to {max}:{min}; {r} was narrowed to {widest}",
                                model.display_name
                            ),
                        ));
                        target = f64::from(w) / f64::from(h);
                    }
                    let sides = sides_for_shape((ask.width, ask.height), target, multiple, bounds);
                    let why = format!(
                        "aspect_ratio {r} at about the requested area, within {}'s {min} to {max} pixels{}",
                        model.display_name,
                        px(multiple)
                    );
                    set_sides(&mut plan, ask, sides, &why);
                }
                // Seedream 4 follows the input image's shape; the sides only pick its size tier.
                (None, _) if keep_image_shape => {}
                (None, _) => {
                    let out_of_bounds =
                        [ask.width, ask.height].iter().any(|s| *s < min || *s > max);
                    let (sides, why) = if out_of_bounds {
                        let sides =
                            sides_for_shape((ask.width, ask.height), requested, multiple, bounds);
                        let why = format!(
                            "{} makes {min} to {max} pixels per side{}; the size was scaled to fit, keeping its shape",
                            model.display_name,
                            px(multiple)
                        );
                        (sides, why)
                    } else {
                        let sides = (
                            round_side(f64::from(ask.width), multiple, bounds),
                            round_side(f64::from(ask.height), multiple, bounds),
                        );
                        let why = format!(
                            "{} takes sides in multiples of {multiple}",
                            model.display_name
                        );
                        (sides, why)
                    };
                    set_sides(&mut plan, ask, sides, &why);
                }
            }
        }
    }
    plan
}

/// Sets the planned sides, reporting each one the client sent that changed.
fn set_sides(plan: &mut SizePlan, ask: SizeAsk<'_>, (width, height): (u32, u32), why: &str) {
    for (field, sent, from, to) in [
        ("width", ask.width_sent, ask.width, width),
        ("height", ask.height_sent, ask.height, height),
    ] {
        if sent && from != to {
            plan.adjustments
                .push(Adjustment::changed(field, from, to, why));
        }
    }
    (plan.width, plan.height) = (width, height);
}

/// A well-formed shape's ratio (callers pass named ratios, sizes or checked `W:H`).
fn shape(s: &str) -> f64 {
    parse_shape(s).expect("a well-formed shape")
}

fn same_shape(a: f64, b: f64) -> bool {
    (a.ln() - b.ln()).abs() < 1e-9
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Writes the size inputs of a planned request into `input`.
pub(super) fn write_size_inputs(
    model: &Model,
    req: SizeRequest<'_>,
    input: &mut Map<String, Value>,
) {
    let mut put = |k: &str, v: Value| {
        input.insert(k.into(), v);
    };
    let requested = f64::from(req.width) / f64::from(req.height);
    // The model's own (static) spelling of the ratio; planning only keeps ratios the model names.
    let named = req
        .aspect_ratio
        .and_then(|r| model.aspect_ratios().into_iter().find(|n| *n == r));
    let keep_image_shape =
        req.aspect_ratio.is_none() && req.with_image && model.matches_input_image();
    let bounds = model.side_bounds();
    let free_sides = |multiple| {
        (
            round_side(f64::from(req.width), multiple, bounds),
            round_side(f64::from(req.height), multiple, bounds),
        )
    };

    match model.sizing {
        Sizing::AspectRatio => {
            let ratio = match (named, keep_image_shape) {
                (Some(r), _) => r,
                (None, true) => MATCH_INPUT_IMAGE,
                (None, false) => nearest(model.aspect_ratios(), requested),
            };
            put("aspect_ratio", ratio.into());
            let megapixels = model.options("megapixels");
            if !megapixels.is_empty() {
                put("megapixels", nearest_megapixels(megapixels, req).into());
            }
        }
        Sizing::CustomAspectRatio { multiple } => match named {
            Some(r) => put("aspect_ratio", r.into()),
            None => {
                let (w, h) = free_sides(multiple);
                put("aspect_ratio", "custom".into());
                put("width", w.into());
                put("height", h.into());
            }
        },
        Sizing::CustomSize { multiple } => match (named, keep_image_shape) {
            (Some(r), _) => {
                put("size", size_tier(model, req).into());
                put("aspect_ratio", r.into());
            }
            (None, true) => {
                put("size", size_tier(model, req).into());
                put("aspect_ratio", MATCH_INPUT_IMAGE.into());
            }
            (None, false) => {
                let (w, h) = free_sides(multiple);
                put("size", "custom".into());
                put("width", w.into());
                put("height", h.into());
            }
        },
        Sizing::Pixels { multiple, .. } => {
            let (w, h) = free_sides(multiple);
            put("width", w.into());
            put("height", h.into());
        }
        Sizing::FixedSize => {
            put(
                "size",
                nearest(model.fixed_sizes().iter().copied(), requested).into(),
            );
        }
    }
}

/// The `megapixels` option nearest to the requested area on a log scale (ties to the larger), where
/// "1" means 1024² pixels as FLUX uses it.
fn nearest_megapixels(options: &'static [&'static str], req: SizeRequest<'_>) -> &'static str {
    let area = (f64::from(req.width) * f64::from(req.height)).ln();
    let unit = 1024.0 * 1024.0;
    let distance = |o: &str| {
        let mp: f64 = o.parse().expect("megapixels are numbers");
        ((mp * unit).ln() - area).abs()
    };
    options
        .iter()
        .copied()
        .min_by(|a, b| {
            distance(a).total_cmp(&distance(b)).then_with(|| {
                b.parse::<f64>()
                    .unwrap_or(0.0)
                    .total_cmp(&a.parse().unwrap_or(0.0))
            })
        })
        .expect("megapixels has options")
}

/// The `size` tier (`1K` = 1024 px, `2K`, `4K`) nearest to the longer requested side on a log scale
/// (ties to the smaller, the cheaper).
fn size_tier(model: &Model, req: SizeRequest<'_>) -> &'static str {
    let longer = f64::from(req.width.max(req.height)).ln();
    let pixels = |t: &str| {
        t.strip_suffix('K')
            .and_then(|n| n.parse::<f64>().ok())
            .map(|k| k * 1024.0)
    };
    model
        .options("size")
        .iter()
        .copied()
        .filter_map(|t| pixels(t).map(|p| ((p.ln() - longer).abs(), p, t)))
        .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map(|(_, _, t)| t)
        .expect("a tiered model lists size tiers")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_compares_shapes_on_a_log_scale() {
        let flux = [
            "1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21",
        ];
        assert_eq!(nearest(flux, 1024.0 / 1024.0), "1:1");
        assert_eq!(nearest(flux, 1920.0 / 1080.0), "16:9");
        assert_eq!(nearest(flux, 1080.0 / 1920.0), "9:16");
        assert_eq!(nearest(flux, 2048.0 / 256.0), "21:9");
        // 1.1 is nearer 1:1 (ln 0.095) than 5:4 (ln 0.128 away).
        assert_eq!(nearest(flux, 1.1), "1:1");
    }

    #[test]
    fn ties_go_to_the_less_elongated_then_to_landscape() {
        // 2:1 sits exactly between 1:1 and 4:1 on a log scale.
        assert_eq!(nearest(["4:1", "1:1"], 2.0), "1:1");
        assert_eq!(nearest(["1:1", "4:1"], 2.0), "1:1");
        // A square request between 2:1 and 1:2.
        assert_eq!(nearest(["1:2", "2:1"], 1.0), "2:1");
        assert_eq!(nearest(["2:1", "1:2"], 1.0), "2:1");
    }

    #[test]
    fn sides_round_to_the_multiple_halves_up_within_bounds() {
        let b = (256, 1440);
        assert_eq!(round_side(1000.0, 32, b), 992);
        assert_eq!(round_side(1008.0, 32, b), 1024);
        assert_eq!(round_side(1440.0, 32, b), 1440);
        assert_eq!(round_side(1439.0, 32, b), 1440);
        assert_eq!(round_side(250.0, 32, b), 256);
        assert_eq!(round_side(1430.0, 64, b), 1408, "max rounded inwards");
        assert_eq!(round_side(517.0, 1, (512, 2048)), 517);
    }

    #[test]
    fn a_shape_keeps_the_area_and_fits_the_bounds() {
        assert_eq!(
            sides_for_shape((1024, 1024), 16.0 / 9.0, 32, (256, 1440)),
            (1376, 768)
        );
        // 21:9 at 1440² would be 2200 wide: scaled down to the bound.
        assert_eq!(
            sides_for_shape((1440, 1440), 21.0 / 9.0, 32, (256, 1440)),
            (1440, 608)
        );
        // 4:5 at 1024² would be 916 wide: scaled up to Seedream 4's minimum.
        assert_eq!(
            sides_for_shape((1024, 1024), 4.0 / 5.0, 1, (1024, 4096)),
            (1024, 1280)
        );
    }
}
