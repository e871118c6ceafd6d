//! Why a generation failed, said twice: a fixed sentence for the user (it lands in
//! `image_generations.error_message`, which the apps show and row security lets users read) and the
//! detail for operators (`job_queue.error_details` and the log lines). The user's sentence says what
//! failed and whether trying again helps; it never carries SQL, Storage or network text, URLs, internal
//! ids or tracebacks, because it is derived from the stable `code` alone.

use serde_json::Value;

/// Replicate or the network to it failed in a way that another try usually fixes (429, 5xx, resets,
/// timeouts, a model that did not boot).
pub const SERVICE_BUSY: &str = "service_busy";
/// A database call failed (unreachable, or an unexpected answer).
pub const DATABASE_ERROR: &str = "database_error";
/// Downloading the output or writing it to Storage failed.
pub const STORAGE_ERROR: &str = "storage_error";
/// The output is not an image we can store (wrong type, malformed data URI, unexpected host).
pub const IMAGE_REJECTED: &str = "image_rejected";
/// The output is larger than `MAX_IMAGE_BYTES`.
pub const IMAGE_TOO_LARGE: &str = "image_too_large";
/// The input image (`image_url`) failed its check before any prediction: type, size, or address.
pub const INPUT_IMAGE_UNUSABLE: &str = "input_image_unusable";
/// The input image's host did not answer its check (timeout, 429, 5xx): another try may work.
pub const INPUT_IMAGE_UNAVAILABLE: &str = "input_image_unavailable";
/// A setting the function needs is missing or wrong (or Replicate refused our token).
pub const MISCONFIGURED: &str = "misconfigured";
/// The worker holding the job stopped renewing its lease on the last attempt (SQL: claim_next_job).
pub const WORKER_STOPPED: &str = "worker_stopped";
/// A generation the upgrade could not carry over (SQL: ..._recover_original_work.sql).
pub const NOT_RESUMABLE: &str = "not_resumable";
/// A job that failed for a reason with no class of its own (SQL: the operators' complete_job form).
pub const JOB_FAILED: &str = "job_failed";

/// The sentence a user reads for a failure `code`. One place, so every path that fails a generation
/// (worker, SQL, process-generation, generate-image) says the same thing for the same cause.
pub fn user_message(code: &str) -> &'static str {
    match code {
        // The model's own verdicts keep their meaning, in our words (never Replicate's raw text).
        "nsfw" => "The model's safety filter blocked the image. Try a different prompt.",
        "model_out_of_memory" => {
            "The model ran out of memory for this request; try a smaller size or fewer images."
        }
        "model_failed" | "prediction_failed" => {
            "The model could not make this image; please try again or change the prompt."
        }
        "prediction_canceled" => "The generation was canceled before it finished.",
        "prediction_timed_out" | "model_timed_out" => {
            "The model did not finish in time; please try again."
        }
        "deadline_passed" => "The generation waited too long to start; please try again.",
        "model_did_not_start" => {
            "The model could not be started right now; please try again in a few minutes."
        }
        "outputs_expired" => {
            "The image was made but expired before it could be saved; please try again."
        }
        "replicate_invalid_input" => {
            "The model refused these settings; please change them and try again."
        }
        "replicate_not_found" | "replicate_rejected" | "unsupported_settings" => {
            "This model is not available."
        }
        "cancelled" => "The generation was cancelled.",
        "generation_not_found" => "The generation was deleted while it was running.",
        "no_request" | NOT_RESUMABLE => {
            "This generation could not be resumed; please start it again."
        }
        SERVICE_BUSY => "The image service is busy; please try again in a few minutes.",
        STORAGE_ERROR => "Saving the image failed; please try again.",
        IMAGE_REJECTED => {
            "The model returned a file that could not be saved as an image; please try again."
        }
        IMAGE_TOO_LARGE => "The image is too large to save; try a smaller size.",
        INPUT_IMAGE_UNUSABLE => {
            "The input image cannot be used: it must be a PNG, JPEG, WebP or GIF of at most 10 MB, \
             stored in this app or on an allowed site."
        }
        INPUT_IMAGE_UNAVAILABLE => "The input image could not be fetched; please try again.",
        DATABASE_ERROR => "A server error interrupted this generation; please try again.",
        MISCONFIGURED | "replicate_unauthorized" => {
            "The image service is not available right now; please try again later."
        }
        WORKER_STOPPED => "The generation was interrupted; please try again.",
        _ => "The image could not be generated; please try again.",
    }
}

/// A failure: its stable code (what the user is told follows from it) and the detail for operators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub code: &'static str,
    pub detail: String,
}

impl Failure {
    pub fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }

    /// What the user reads (`image_generations.error_message`, error answers).
    pub fn user_message(&self) -> &'static str {
        user_message(self.code)
    }

    /// What `job_queue.error_details` holds: `{"code", "detail"}`.
    pub fn details(&self) -> Value {
        serde_json::json!({ "code": self.code, "detail": self.detail })
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What internal text looks like: none of it may reach a user's sentence.
    const LEAKS: &[&str] = &[
        "http",
        "://",
        "SQL",
        "sqlstate",
        "Traceback",
        "replicate.delivery",
        "Storage answered",
        "database:",
        "REPLICATE_API_TOKEN",
        "worker ",
        "lease expired",
    ];

    const CODES: &[&str] = &[
        "nsfw",
        "model_out_of_memory",
        "model_failed",
        "prediction_failed",
        "prediction_canceled",
        "prediction_timed_out",
        "outputs_expired",
        "replicate_invalid_input",
        "replicate_not_found",
        "replicate_rejected",
        "replicate_unauthorized",
        "unsupported_settings",
        "cancelled",
        "generation_not_found",
        "no_request",
        SERVICE_BUSY,
        DATABASE_ERROR,
        STORAGE_ERROR,
        IMAGE_REJECTED,
        IMAGE_TOO_LARGE,
        MISCONFIGURED,
        WORKER_STOPPED,
        NOT_RESUMABLE,
        JOB_FAILED,
        "anything else",
    ];

    #[test]
    fn user_messages_are_fixed_sentences_without_internals() {
        for code in CODES {
            let message = user_message(code);
            assert!(message.ends_with('.'), "{code}: {message}");
            for leak in LEAKS {
                assert!(!message.contains(leak), "{code}: {message} contains {leak}");
            }
        }
    }

    #[test]
    fn the_user_sees_the_class_and_operators_the_detail() {
        let detail =
            "Storage answered 503: too many connections at http://127.0.0.1:54321/storage/v1";
        let failure = Failure::new(STORAGE_ERROR, detail);
        assert_eq!(
            failure.user_message(),
            "Saving the image failed; please try again."
        );
        assert_eq!(
            failure.details(),
            serde_json::json!({"code": "storage_error", "detail": detail})
        );
        assert_eq!(
            user_message(SERVICE_BUSY),
            "The image service is busy; please try again in a few minutes."
        );
        assert_eq!(
            user_message("replicate_not_found"),
            "This model is not available."
        );
    }

    /// The SQL that fails generations by itself writes the same sentences (a test, since SQL cannot
    /// call Rust): a lease that expired on the last attempt, the operators' complete_job form, and a
    /// generation the upgrade could not carry over.
    #[test]
    fn sql_writes_the_same_sentences() {
        let queue = include_str!("../../../supabase/migrations/20261129000500_queue_functions.sql");
        let operators =
            include_str!("../../../supabase/migrations/20261129000800_operator_compat.sql");
        let recovery =
            include_str!("../../../supabase/migrations/20261129001000_recover_original_work.sql");
        for (sql, code) in [
            (queue, WORKER_STOPPED),
            (queue, JOB_FAILED),
            (operators, JOB_FAILED),
            (recovery, NOT_RESUMABLE),
        ] {
            let quoted = format!("'{}'", user_message(code).replace('\'', "''"));
            assert!(sql.contains(&quoted), "{code}: {quoted} not in the SQL");
        }
        // Where SQL writes error_details, it uses the same codes.
        for (sql, code) in [(queue, WORKER_STOPPED), (operators, JOB_FAILED)] {
            let details = format!("'code', '{code}'");
            assert!(
                sql.contains(&details),
                "{code}: not in the SQL's error_details"
            );
        }
    }
}
