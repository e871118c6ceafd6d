//! What a finished prediction means for the generation: its output files, or a failure that is either
//! worth retrying or final, with a stable code (what the user reads follows from it alone:
//! `failure::user_message`) and a message for operators.

use super::{Prediction, PredictionStatus};

/// The verdict on a terminal prediction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PredictionOutcome {
    /// The output files (`https:` or `data:` URIs), at least one.
    Succeeded { outputs: Vec<String> },
    /// The model never started and nothing was billed, and a fresh create may well start (Replicate's
    /// infrastructure timed out or ran out of capacity while starting it).
    Retry { message: String },
    /// Final: the same input would fail again, or the user must change something.
    Fail { code: &'static str, message: String },
}

/// Classifies a terminal prediction. `None` while it is still starting or processing.
pub fn classify(prediction: &Prediction) -> Option<PredictionOutcome> {
    let error = prediction.error.as_deref().unwrap_or("").trim();
    Some(match prediction.status {
        PredictionStatus::Starting | PredictionStatus::Processing => return None,
        PredictionStatus::Succeeded => {
            let outputs: Vec<String> = prediction
                .output_urls()
                .into_iter()
                .filter(|u| {
                    u.starts_with("https://") || u.starts_with("http://") || u.starts_with("data:")
                })
                .map(str::to_owned)
                .collect();
            if !outputs.is_empty() {
                PredictionOutcome::Succeeded { outputs }
            } else if prediction.data_removed {
                PredictionOutcome::Fail {
                    code: "outputs_expired",
                    message: "The image was made but Replicate deleted it before it could be saved (outputs are kept for one hour)."
                        .into(),
                }
            } else {
                // FLUX drops flagged images silently; with all of them dropped nothing is left.
                nsfw()
            }
        }
        PredictionStatus::Failed if is_nsfw(error) => nsfw(),
        // E6716: the model timed out while starting (Replicate's infrastructure); another try usually works.
        // Only a prediction that never ran is worth creating again: one that ran was billed, and its
        // "timed out" is the model's own (too slow for this input), which a second bill would not fix.
        PredictionStatus::Failed if !prediction.ran() && is_start_failure(error) => {
            PredictionOutcome::Retry {
                message: format!("The model did not start in time ({})", short(error)),
            }
        }
        PredictionStatus::Failed if error.to_ascii_lowercase().contains("timed out") => {
            PredictionOutcome::Fail {
                code: "model_timed_out",
                message: "The model ran but did not finish in time.".into(),
            }
        }
        // E1001: out of memory for this input; retrying the same input fails the same way.
        PredictionStatus::Failed if error.contains("E1001") => PredictionOutcome::Fail {
            code: "model_out_of_memory",
            message:
                "The model ran out of memory for this request; try a smaller size or fewer images."
                    .into(),
        },
        PredictionStatus::Failed => PredictionOutcome::Fail {
            code: "model_failed",
            message: if error.is_empty() {
                "The model failed without saying why.".into()
            } else {
                format!("The model failed: {}", short(error))
            },
        },
        PredictionStatus::Canceled => PredictionOutcome::Fail {
            code: "prediction_canceled",
            message: "The generation was canceled before it finished.".into(),
        },
        // Cancel-After passed before the model started: our deadline for this generation is gone.
        PredictionStatus::Aborted => PredictionOutcome::Fail {
            code: "prediction_timed_out",
            message: "The model did not start before this generation's deadline.".into(),
        },
    })
}

/// Replicate's failures to start a model: E6716 ("Timed out starting model"), a start that timed out,
/// or no capacity to run it.
fn is_start_failure(error: &str) -> bool {
    let lower = error.to_ascii_lowercase();
    error.contains("E6716") || lower.contains("timed out") || lower.contains("capacity")
}

fn nsfw() -> PredictionOutcome {
    PredictionOutcome::Fail {
        code: "nsfw",
        message: "The model's safety filter blocked the image. Try a different prompt.".into(),
    }
}

/// SDXL: "NSFW content detected…"; FLUX: "All generated images contained NSFW content…";
/// proprietary models: "E005 … flagged as sensitive".
fn is_nsfw(error: &str) -> bool {
    let lower = error.to_ascii_lowercase();
    lower.contains("nsfw") || lower.contains("flagged as sensitive") || error.contains("E005")
}

/// Errors can carry whole tracebacks; the row keeps the first line, at most 300 characters.
fn short(error: &str) -> String {
    let first = error.lines().next().unwrap_or("").trim();
    let mut s: String = first.chars().take(300).collect();
    if first.chars().count() > 300 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replicate::schema::{NSFW_FLUX, NSFW_PROVIDER, NSFW_SDXL};

    fn prediction(status: &str, output: serde_json::Value, error: Option<&str>) -> Prediction {
        serde_json::from_value(serde_json::json!({
            "id": "p1", "model": "m/n", "version": "hidden", "input": {}, "status": status,
            "output": output, "error": error, "created_at": "2026-11-28T00:00:00Z",
            "urls": {"get": "g", "cancel": "c"},
        }))
        .unwrap()
    }

    #[test]
    fn running_is_not_an_outcome() {
        assert_eq!(
            classify(&prediction("starting", serde_json::Value::Null, None)),
            None
        );
        assert_eq!(
            classify(&prediction("processing", serde_json::Value::Null, None)),
            None
        );
    }

    #[test]
    fn outputs_as_string_or_array() {
        let one = classify(&prediction(
            "succeeded",
            "https://replicate.delivery/a.webp".into(),
            None,
        ));
        assert_eq!(
            one,
            Some(PredictionOutcome::Succeeded {
                outputs: vec!["https://replicate.delivery/a.webp".into()]
            })
        );
        let many = classify(&prediction(
            "succeeded",
            serde_json::json!([
                "https://replicate.delivery/a.png",
                "data:image/png;base64,AAAA"
            ]),
            None,
        ));
        assert!(
            matches!(many, Some(PredictionOutcome::Succeeded { outputs }) if outputs.len() == 2)
        );
    }

    #[test]
    fn nsfw_in_every_wording_is_final() {
        for message in [NSFW_SDXL, NSFW_FLUX, NSFW_PROVIDER] {
            assert!(
                matches!(
                    classify(&prediction(
                        "failed",
                        serde_json::Value::Null,
                        Some(message)
                    )),
                    Some(PredictionOutcome::Fail { code: "nsfw", .. })
                ),
                "{message}"
            );
        }
        // FLUX dropped every image: success with nothing left.
        assert!(matches!(
            classify(&prediction("succeeded", serde_json::json!([]), None)),
            Some(PredictionOutcome::Fail { code: "nsfw", .. })
        ));
    }

    /// A prediction that ran for `secs` before failing (billed).
    fn ran_for(mut p: Prediction, secs: f64) -> Prediction {
        p.started_at = Some("2026-11-28T00:00:01Z".into());
        p.metrics.predict_time = Some(secs);
        p
    }

    #[test]
    fn only_an_unstarted_start_failure_is_worth_a_new_create() {
        for error in [
            "E6716: Timed out starting model",
            "Prediction timed out while starting",
            "No capacity available to start the model",
        ] {
            let never_ran = prediction("failed", serde_json::Value::Null, Some(error));
            assert!(
                matches!(classify(&never_ran), Some(PredictionOutcome::Retry { .. })),
                "{error}"
            );
            // The same text on a prediction that ran: billed, so final.
            assert!(
                matches!(
                    classify(&ran_for(never_ran.clone(), 2.5)),
                    Some(PredictionOutcome::Fail { .. })
                ),
                "{error}"
            );
        }
        // A start time alone, or a predict time alone, each show the prediction ran.
        let mut started = prediction("failed", serde_json::Value::Null, Some("E6716: x"));
        started.started_at = Some("2026-11-28T00:00:01Z".into());
        assert!(matches!(
            classify(&started),
            Some(PredictionOutcome::Fail { .. })
        ));
        let mut timed = prediction("failed", serde_json::Value::Null, Some("E6716: x"));
        timed.metrics.predict_time = Some(0.4);
        assert!(matches!(
            classify(&timed),
            Some(PredictionOutcome::Fail { .. })
        ));
    }

    #[test]
    fn a_billed_timeout_is_final_without_detail_in_the_message() {
        let p = ran_for(
            prediction(
                "failed",
                serde_json::Value::Null,
                Some("Prediction timed out after 600 s\ntraceback"),
            ),
            600.0,
        );
        assert_eq!(
            classify(&p),
            Some(PredictionOutcome::Fail {
                code: "model_timed_out",
                message: "The model ran but did not finish in time.".into()
            })
        );
    }

    #[test]
    fn failures_are_retryable_or_final() {
        assert!(matches!(
            classify(&prediction(
                "failed",
                serde_json::Value::Null,
                Some("E6716: Timed out starting model")
            )),
            Some(PredictionOutcome::Retry { .. })
        ));
        assert!(matches!(
            classify(&prediction(
                "failed",
                serde_json::Value::Null,
                Some("E1001: CUDA out of memory")
            )),
            Some(PredictionOutcome::Fail {
                code: "model_out_of_memory",
                ..
            })
        ));
        let long = format!("boom {}\ntraceback...", "x".repeat(400));
        match classify(&prediction("failed", serde_json::Value::Null, Some(&long))) {
            Some(PredictionOutcome::Fail {
                code: "model_failed",
                message,
            }) => {
                assert!(
                    message.chars().count() < 330 && !message.contains("traceback"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(&prediction("canceled", serde_json::Value::Null, None)),
            Some(PredictionOutcome::Fail {
                code: "prediction_canceled",
                ..
            })
        ));
        assert!(matches!(
            classify(&prediction("aborted", serde_json::Value::Null, None)),
            Some(PredictionOutcome::Fail {
                code: "prediction_timed_out",
                ..
            })
        ));
    }

    #[test]
    fn expired_outputs_are_final() {
        let mut p = prediction("succeeded", serde_json::Value::Null, None);
        p.data_removed = true;
        assert!(matches!(
            classify(&p),
            Some(PredictionOutcome::Fail {
                code: "outputs_expired",
                ..
            })
        ));
    }
}
