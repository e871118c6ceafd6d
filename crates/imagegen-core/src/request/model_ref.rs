//! `model_id` and `model_version`: which catalog model runs, and which of its Replicate versions.
//!
//! `model_id` is a catalog id (`owner/name`), the same with a pinned version (`owner/name:<64 hex>`), an
//! alias from the original documents (`catalog::ALIASES`), or a `models.id` uuid that the caller resolved
//! in the database ([`ResolvedModel`]). `model_version` pins a version (bare, or as `owner/name:<hex>` of
//! the same model); the mobile app sends its `models.version` there. Without a pin the catalog's way of
//! calling the model applies (official models: the current version; community models: the catalog's pin).

use super::adjust::Adjustment;
use super::body::non_blank;
use super::capabilities::{conflicting_version, retired_model, unknown_model, unknown_model_row};
use super::fields::ModelVersion;
use crate::catalog::{self, Model};
use crate::error::ApiError;
use serde_json::{Map, Value};
use uuid::Uuid;

/// The `models` row a `model_id` uuid named, as the caller read it from the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResolvedModel<'a> {
    /// `models.replicate_id`.
    pub replicate_id: &'a str,
    /// `models.version`: used as the pin when the request pins none.
    pub version: Option<&'a str>,
}

/// The model a request runs and its pinned version, if any.
pub(super) struct ModelChoice {
    pub model: &'static Model,
    pub version: Option<ModelVersion>,
}

/// `model_id` as a `models.id` uuid, if it is one.
pub(super) fn model_uuid(map: &Map<String, Value>) -> Option<Uuid> {
    match map.get("model_id") {
        Some(Value::String(s)) => Uuid::parse_str(s.trim()).ok(),
        _ => None,
    }
}

/// Chooses the model and version; unpinnable or malformed row versions are reported, not refused (the
/// client did not send them).
pub(super) fn choose(
    map: &Map<String, Value>,
    resolved: Option<ResolvedModel<'_>>,
    adjustments: &mut Vec<Adjustment>,
) -> Result<ModelChoice, ApiError> {
    let raw_id = non_blank(map, "model_id")?.map(str::trim);
    let mut row_version = None;
    let (model, mut version) = match raw_id {
        None => (default_model(), None),
        Some(id) => match Uuid::parse_str(id) {
            Ok(_) => {
                let row = resolved.ok_or_else(|| unknown_model_row(id))?;
                row_version = row.version.map(str::trim).filter(|v| !v.is_empty());
                catalog_ref(row.replicate_id.trim())
                    .ok_or_else(|| retired_model(id, row.replicate_id))??
            }
            Err(_) => catalog_ref(id).ok_or_else(|| unknown_model(id))??,
        },
    };

    if let Some(raw) = non_blank(map, "model_version")? {
        let raw = raw.trim();
        // `owner/name:<hex>` is accepted too, when it names the same model.
        let hex = match raw.rsplit_once(':') {
            Some((named, hex)) => {
                if catalog::resolve(named.trim()).map(|m| m.id) != Some(model.id) {
                    return Err(conflicting_version(format!(
                        "model_version {raw:?} is a version of another model than {}",
                        model.id
                    )));
                }
                hex
            }
            None => raw,
        };
        let pinned = ModelVersion::parse("model_version", hex)?;
        if let Some(suffix) = &version {
            if *suffix != pinned {
                return Err(conflicting_version(format!(
                    "model_id pins version {} but model_version is {}",
                    suffix.as_str(),
                    pinned.as_str()
                )));
            }
        }
        version = Some(pinned);
    }

    if version.is_none() {
        if let Some(raw) = row_version {
            match ModelVersion::parse("model_version", raw) {
                Ok(v) => version = Some(v),
                Err(_) => adjustments.push(Adjustment::dropped(
                    "model_version",
                    raw,
                    format!(
                        "the stored version of {} is not a Replicate version id; its current version runs",
                        model.display_name
                    ),
                )),
            }
        }
    }
    Ok(ModelChoice { model, version })
}

fn default_model() -> &'static Model {
    catalog::find(catalog::DEFAULT_MODEL_ID).expect("the default model is in the catalog")
}

/// `owner/name` or `owner/name:<version>` (an alias allowed): `None` when the catalog does not serve the
/// model, an error when the version suffix is malformed.
#[allow(clippy::type_complexity)]
fn catalog_ref(id: &str) -> Option<Result<(&'static Model, Option<ModelVersion>), ApiError>> {
    let (name, suffix) = match id.split_once(':') {
        Some((name, v)) => (name, Some(v)),
        None => (id, None),
    };
    let model = catalog::resolve(name)?;
    Some(
        suffix
            .map(|v| ModelVersion::parse("model_id", v))
            .transpose()
            .map(|version| (model, version)),
    )
}
