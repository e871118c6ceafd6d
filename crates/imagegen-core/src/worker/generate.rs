//! The generate-image job: the generation becomes processing, its prediction runs (the same code as the
//! process-generation function), and on success a download-image job takes the outputs to Storage. In
//! webhook mode a prediction still running after its create is parked (the job gives its slot back until
//! the webhook or the recheck brings it back).

use super::download::DownloadPayload;
use super::JobResult;
use crate::config::Config;
use crate::db::generation as db;
use crate::db::queue;
use crate::failure::{self, DATABASE_ERROR, MISCONFIGURED, SERVICE_BUSY};
use crate::generation::{run_prediction, Deadlines, PredictionWait, RunError};
use crate::image_input::{self, ProbeError};
use crate::ports::{HttpClient, Platform, Rpc, Timer};
use crate::replicate::client::Replicate;
use uuid::Uuid;

pub async fn run<S: Platform + Rpc + HttpClient + Timer>(
    host: &S,
    config: &Config,
    generation_id: Uuid,
    budget_ms: f64,
    wait: PredictionWait,
) -> JobResult {
    let Some(api) = config.replicate.as_ref() else {
        return JobResult::retry(
            MISCONFIGURED,
            "REPLICATE_API_TOKEN is not set for process-jobs",
            Some(60),
        );
    };
    let Some(webhook_base) = config.webhook_base.as_ref() else {
        return JobResult::retry(
            MISCONFIGURED,
            "SUPABASE_URL (or REPLICATE_WEBHOOK_BASE_URL) is not set for process-jobs: predictions cannot be marked",
            Some(60),
        );
    };
    let generation = match db::start_processing(host, generation_id).await {
        Ok(Some(g)) => g,
        Ok(None) => return JobResult::done(serde_json::json!({"skipped": "generation deleted"})),
        Err(e) => return JobResult::retry(DATABASE_ERROR, format!("database: {e}"), None),
    };
    let replicate = Replicate::new(api, host, host, host);
    if let ("failed", Some(prediction)) = (
        generation.status.as_str(),
        generation.replicate_prediction_id.as_deref(),
    ) {
        // Cancelled while its prediction ran parked (the cancel trigger made this job due): stop it, or
        // it runs on and is billed. Best effort: cancelling a finished prediction changes nothing.
        let stopped = replicate.cancel(prediction).await.is_ok();
        return JobResult::done(serde_json::json!({
            "skipped": "generation already failed",
            "cancelled_prediction": prediction,
            "cancel_sent": stopped,
        }));
    }
    if generation.status == "completed" || generation.status == "failed" {
        return JobResult::done(
            serde_json::json!({"skipped": format!("generation already {}", generation.status)}),
        );
    }
    // Replicate would fetch the input image and bill the prediction whatever it finds: look first.
    match image_input::check_before_create(host, &config.image_inputs, &generation).await {
        Ok(()) => {}
        Err(ProbeError::Unusable(message)) => {
            return JobResult::fail(failure::INPUT_IMAGE_UNUSABLE, message)
        }
        Err(ProbeError::Unavailable(message)) => {
            return JobResult::retry(failure::INPUT_IMAGE_UNAVAILABLE, message, None)
        }
    }
    let deadlines =
        Deadlines::for_generation(config, &generation.created_at, host.now_ms(), budget_ms);
    match run_prediction(host, &replicate, &generation, webhook_base, deadlines, wait).await {
        Ok(done) => {
            let payload = DownloadPayload {
                generation_id,
                prediction_id: done.prediction_id.clone(),
                outputs: done.outputs.clone(),
            };
            let payload = serde_json::to_value(&payload).unwrap_or_default();
            match queue::enqueue(
                host,
                "download-image",
                &payload,
                &format!("download-image:{generation_id}"),
            )
            .await
            {
                Ok(_) => JobResult::done(serde_json::json!({
                    "prediction_id": done.prediction_id,
                    "outputs": done.outputs,
                    "resumed": done.resumed,
                    "predict_time": done.prediction.metrics.predict_time,
                })),
                Err(e) => JobResult::retry(DATABASE_ERROR, format!("database: {e}"), None),
            }
        }
        Err(RunError::StillRunning {
            message,
            recheck_in_secs,
        }) => match wait {
            PredictionWait::Poll => JobResult::Defer {
                message,
                delay_secs: recheck_in_secs,
            },
            PredictionWait::Park { .. } => JobResult::Park {
                message,
                recheck_secs: recheck_in_secs,
            },
        },
        Err(RunError::Retry {
            message,
            retry_in_secs,
        }) => JobResult::retry(SERVICE_BUSY, message, retry_in_secs),
        Err(RunError::Database(detail)) => JobResult::retry(DATABASE_ERROR, detail, None),
        // The code says what the user reads; the message (perhaps the model's own text) is the detail.
        Err(RunError::Fail { code, message }) => JobResult::fail(code, message),
    }
}
