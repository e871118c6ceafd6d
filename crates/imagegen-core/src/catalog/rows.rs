//! The `public.models` rows the Picture clients read (contract §5), written from the catalog: the model
//! picker (`select('*').eq('is_active', true).order('sort_order')`), the default model (`is_default`), and
//! the values the mobile app sends back (`replicate_id`, `version`, `default_*`) or stores (`name` into
//! `image_generations.model`). The catalog stays the source of truth: [`models_migration_sql`] renders the
//! migration that upserts these rows by `replicate_id` (a test fails when the committed file drifts), and
//! [`models_rows_json`] gives the same rows for a database test to compare against.
//!
//! Column choices (beyond the obvious ones):
//! - `name`: the Replicate name without its owner (see [`Model::name`]); `display_name`: ours.
//! - `version`: the pinned version of community models (the mobile app sends it back as `model_version`);
//!   `null` for official models, which run their current version.
//! - `default_width/height`: 1024, which every model takes as is or snaps (and the clients' default).
//! - `default_steps`, `max_steps`, `default_guidance_scale`: the schema default and bound of the model's steps
//!   and guidance inputs (`null` without one); the mobile app sends these back as `num_inference_steps`
//!   and `guidance_scale`.
//! - `min/max_width/height`: the sizes the model makes without adjustment ([`Model::side_bounds`]).
//! - `supports_image_to_image` and `supports_img2img` (both names were in use): image input accepted.
//!   `strength_min/max` 0–1 and `default_strength` (request meaning) when the model takes a strength.
//! - `supported_aspect_ratios`: the ratios it names; for models with free sizes also the clients' preset
//!   ratios its bounds allow.
//! - `sort_order`: catalog order from 1; `is_default`: [`DEFAULT_MODEL_ID`] only.
//! - `cost_per_generation` (USD per image) and `estimated_time_seconds`: see `models.rs` for sources.
//! - `cost_weight`: usage units charged per output image (the cost in $0.001, rounded up; see
//!   `Usd::usage_units`); operators may change it in the table, and the next catalog push writes it back.

use super::{Model, DEFAULT_MODEL_ID, MODELS};
use crate::replicate::schema::{Access, DefaultValue, Kind};
use crate::request::DEFAULT_SIDE;
use serde_json::{Map, Value};

/// Where the generated migration lives, from the repository root.
pub const MODELS_MIGRATION_PATH: &str = "supabase/migrations/20261129000900_models_catalog.sql";

/// Ratios of the clients' size presets (1024×1024, 1344×768, 1152×896, 1216×832, 1536×640 and their
/// portrait forms, labelled so in the apps), listed for free-size models whose bounds allow them.
const PRESET_RATIOS: &[&str] = &[
    "1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9", "9:21",
];

/// One cell of a row, rendered both as SQL and as JSON from the same value.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Text(Option<String>),
    Int(Option<i64>),
    Num(Option<f64>),
    Bool(bool),
    Json(Value),
}

impl Cell {
    fn text(s: &str) -> Self {
        Self::Text(Some(s.to_owned()))
    }

    fn sql(&self) -> String {
        fn quote(s: &str) -> String {
            format!("'{}'", s.replace('\'', "''"))
        }
        match self {
            Self::Text(Some(s)) => quote(s),
            Self::Int(Some(i)) => i.to_string(),
            // Rust prints the shortest decimal that reads back as the same f64: 0.003, 7.5, 3.
            Self::Num(Some(n)) => n.to_string(),
            Self::Text(None) | Self::Int(None) | Self::Num(None) => "null".to_owned(),
            Self::Bool(b) => b.to_string(),
            Self::Json(v) => format!("{}::jsonb", quote(&v.to_string())),
        }
    }

    fn json(&self) -> Value {
        match self {
            Self::Text(s) => s.clone().map_or(Value::Null, Value::from),
            Self::Int(i) => i.map_or(Value::Null, Value::from),
            Self::Num(n) => n.map_or(Value::Null, Value::from),
            Self::Bool(b) => Value::Bool(*b),
            Self::Json(v) => v.clone(),
        }
    }
}

/// The columns the catalog owns, in order (`id`, `created_at`, `updated_at` are the table's).
pub const COLUMNS: &[&str] = &[
    "name",
    "display_name",
    "description",
    "replicate_id",
    "version",
    "default_width",
    "default_height",
    "default_steps",
    "default_guidance_scale",
    "default_strength",
    "min_width",
    "max_width",
    "min_height",
    "max_height",
    "max_steps",
    "supports_negative_prompt",
    "supports_seed",
    "supports_image_to_image",
    "supports_img2img",
    "strength_min",
    "strength_max",
    "supported_aspect_ratios",
    "is_active",
    "is_default",
    "sort_order",
    "cost_per_generation",
    "estimated_time_seconds",
    "cost_weight",
];

/// The cells of `m`'s row, in [`COLUMNS`] order; `index` is its place in the catalog.
fn cells(m: &Model, index: usize) -> Vec<Cell> {
    let (min, max) = m.side_bounds();
    let steps = m.steps_input();
    let default_steps = steps.and_then(|f| match f.default {
        DefaultValue::Int(i) => Some(i),
        _ => None,
    });
    let max_steps = steps.and_then(|f| match f.kind {
        Kind::Int { max, .. } => max,
        _ => None,
    });
    let default_guidance = m.guidance_input().and_then(|f| match f.default {
        DefaultValue::Num(n) => Some(n),
        _ => None,
    });
    let version = match m.schema().access {
        Access::Community { version, .. } => Some(version.to_owned()),
        Access::Official => None,
    };
    let takes_strength = m.image_input.is_some_and(|i| i.strength.is_some());
    let side = |v: u32| Cell::Int(Some(i64::from(v)));
    vec![
        Cell::text(m.name()),
        Cell::text(m.display_name),
        Cell::text(m.description),
        Cell::text(m.id),
        Cell::Text(version),
        side(DEFAULT_SIDE),
        side(DEFAULT_SIDE),
        Cell::Int(default_steps),
        Cell::Num(default_guidance),
        Cell::Num(m.default_strength()),
        side(min),
        side(max),
        side(min),
        side(max),
        Cell::Int(max_steps),
        Cell::Bool(m.takes_negative_prompt()),
        Cell::Bool(m.takes_seed()),
        Cell::Bool(m.image_input.is_some()),
        Cell::Bool(m.image_input.is_some()),
        Cell::Num(takes_strength.then_some(0.0)),
        Cell::Num(takes_strength.then_some(1.0)),
        Cell::Json(Value::from(supported_aspect_ratios(m))),
        Cell::Bool(true),
        Cell::Bool(m.id == DEFAULT_MODEL_ID),
        Cell::Int(Some(index as i64 + 1)),
        Cell::Num(Some(m.cost.as_f64())),
        Cell::Int(Some(i64::from(m.estimated_seconds))),
        Cell::Int(Some(i64::from(m.cost.usage_units()))),
    ]
}

/// Named ratios, then the preset ratios a free-size model can also make.
fn supported_aspect_ratios(m: &Model) -> Vec<&'static str> {
    let mut ratios = m.aspect_ratios();
    if m.takes_any_ratio() {
        for r in PRESET_RATIOS {
            if !ratios.contains(r) && m.accepts_aspect_ratio(r) {
                ratios.push(r);
            }
        }
    }
    ratios
}

/// Every catalog model as a `models` row: `[{column: value}]` with the [`COLUMNS`] keys, in catalog order.
pub fn models_rows_json() -> Value {
    let rows = MODELS.iter().enumerate().map(|(i, m)| {
        let row: Map<String, Value> = COLUMNS
            .iter()
            .zip(cells(m, i))
            .map(|(c, cell)| ((*c).to_owned(), cell.json()))
            .collect();
        Value::Object(row)
    });
    Value::Array(rows.collect())
}

/// The migration that puts the catalog into `public.models` (see the header it writes for the rules).
pub fn models_migration_sql() -> String {
    let q = |s: &str| Cell::text(s).sql();
    let mut sql = String::new();
    sql.push_str(
        "-- GENERATED from the Rust model catalog (crates/imagegen-core/src/catalog); do not edit.\n\
         -- Regenerate: UPDATE_GENERATED=1 cargo test -p imagegen-core models_migration\n\
         --\n\
         -- Keeps public.models in step with the catalog, matched by replicate_id: existing rows keep their id\n\
         -- (clients and image_generations.model_id hold it) and get the catalog's values; models not in the\n\
         -- table are inserted with a new id; rows whose replicate_id the catalog does not serve are\n\
         -- deactivated, never deleted (generations reference them). Unchanged rows are not written, so\n\
         -- running this again changes nothing.\n\n",
    );

    sql.push_str(
        "-- Rows stored under an id the original Picture documents used take the catalog's id, keeping their uuid.\n",
    );
    for (alias, id) in super::ALIASES {
        sql.push_str(&format!(
            "update public.models set replicate_id = {id}\n where replicate_id = {alias}\n   \
             and not exists (select 1 from public.models where replicate_id = {id});\n",
            id = q(id),
            alias = q(alias),
        ));
    }

    sql.push_str(&format!(
        "\ninsert into public.models as m (\n  {}\n) values\n",
        wrap(COLUMNS, ", ", 100, "  ")
    ));
    let rows: Vec<String> = MODELS
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let values: Vec<String> = cells(m, i).iter().map(Cell::sql).collect();
            format!("  -- {}\n  ({})", m.id, wrap(&values, ", ", 100, "   "))
        })
        .collect();
    sql.push_str(&rows.join(",\n"));
    let set: Vec<String> = COLUMNS
        .iter()
        .filter(|c| **c != "replicate_id")
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    let mine: Vec<String> = COLUMNS.iter().map(|c| format!("m.{c}")).collect();
    let theirs: Vec<String> = COLUMNS.iter().map(|c| format!("excluded.{c}")).collect();
    sql.push_str(&format!(
        "\non conflict (replicate_id) do update set\n  {}\nwhere ({})\n  is distinct from ({});\n",
        set.join(",\n  "),
        wrap(&mine, ", ", 100, "       "),
        wrap(&theirs, ", ", 100, "                    "),
    ));

    let served: Vec<String> = MODELS.iter().map(|m| q(m.id)).collect();
    sql.push_str(&format!(
        "\n-- What the catalog no longer serves stays for the generations that reference it, but is not offered.\n\
         update public.models set is_active = false, is_default = false\n \
         where replicate_id not in (\n  {}\n)\n   \
         and (is_active is distinct from false or is_default is distinct from false);\n",
        wrap(&served, ", ", 100, "  ")
    ));
    sql
}

/// Joins `items` with `sep`, breaking lines before `width` columns; continuation lines start with `indent`.
fn wrap<S: AsRef<str>>(items: &[S], sep: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = indent.len();
    for (i, item) in items.iter().enumerate() {
        let item = item.as_ref();
        if i > 0 {
            if line + sep.len() + item.len() > width {
                out.push_str(sep.trim_end());
                out.push('\n');
                out.push_str(indent);
                line = indent.len();
            } else {
                out.push_str(sep);
                line += sep.len();
            }
        }
        out.push_str(item);
        line += item.len();
    }
    out
}
