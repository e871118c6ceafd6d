//! The answers when a usage limit refuses a generation (docs/ARCHITECTURE.md, "Cost safety"): 429 with a
//! stable code, a message that says which limit and what helps, and `Retry-After` when waiting helps.

use crate::db::start_generation::UsageRefusal;
use crate::error::ApiError;

/// `Retry-After` for the pending limit: about the time a fast model needs to finish one generation.
pub(crate) const PENDING_RETRY_SECS: u64 = 10;

/// The user's (or anonymous user's) window is full, or the project's hourly capacity is reached.
pub(crate) fn limit_error(refusal: &UsageRefusal) -> ApiError {
    let wait = refusal.retry_after_seconds;
    let message = match (window(&refusal.scope), refusal.used) {
        (Some((who, period)), Some(used)) => format!(
            "{who} usage limit for this {period} is reached: {used} of {limit} units used, and this \
             request needs {units}{again}",
            limit = refusal.limit,
            units = refusal.units,
            again = again(wait),
        ),
        _ => format!(
            "the service has reached its generation capacity for this hour{}",
            again(wait)
        ),
    };
    let code = if refusal.scope == "project_hour" {
        "project_capacity_reached"
    } else {
        "usage_limit_exceeded"
    };
    let error = ApiError::new(429, code, message);
    match wait {
        Some(secs) => error.retry_after(secs),
        None => error,
    }
}

/// The request alone costs more than the limit allows: waiting does not help, fewer images or a
/// cheaper model do (or signing in, for an anonymous user).
pub(crate) fn too_large_error(refusal: &UsageRefusal) -> ApiError {
    let (who, period) = window(&refusal.scope).unwrap_or(("the", "hour"));
    ApiError::new(
        429,
        "usage_request_too_large",
        format!(
            "this request needs {units} usage units, more than {who} limit of {limit} per {period}; \
             ask for fewer images or pick a cheaper model",
            units = refusal.units,
            limit = refusal.limit,
        ),
    )
}

/// Whose limit and its period, for the per-user scopes.
fn window(scope: &str) -> Option<(&'static str, &'static str)> {
    match scope {
        "user_hour" => Some(("your", "hour")),
        "user_day" => Some(("your", "day")),
        "anonymous_hour" => Some(("your (guest)", "hour")),
        "anonymous_day" => Some(("your (guest)", "day")),
        _ => None,
    }
}

fn again(wait: Option<u64>) -> String {
    match wait {
        Some(secs) => format!("; try again in {secs} s"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(scope: &str, used: Option<i64>, wait: Option<u64>) -> UsageRefusal {
        UsageRefusal {
            scope: scope.into(),
            limit: 100,
            used,
            units: 25,
            retry_after_seconds: wait,
        }
    }

    #[test]
    fn a_full_window_says_which_and_when() {
        let e = limit_error(&refusal("user_hour", Some(90), Some(1200)));
        assert_eq!(
            (e.status, e.code, e.retry_after_secs),
            (429, "usage_limit_exceeded", Some(1200))
        );
        assert!(
            e.message.contains("your usage limit for this hour"),
            "{}",
            e.message
        );
        assert!(e.message.contains("90 of 100 units") && e.message.contains("needs 25"));
        let e = limit_error(&refusal("anonymous_day", Some(99), Some(5)));
        assert!(
            e.message.contains("guest") && e.message.contains("day"),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_project_cap_has_its_own_code() {
        let e = limit_error(&refusal("project_hour", Some(100), Some(60)));
        assert_eq!(
            (e.code, e.retry_after_secs),
            ("project_capacity_reached", Some(60))
        );
        assert!(
            !e.message.contains("100"),
            "no project figures to users: {}",
            e.message
        );
    }

    #[test]
    fn too_large_never_says_wait() {
        let e = too_large_error(&refusal("anonymous_hour", None, None));
        assert_eq!(
            (e.status, e.code, e.retry_after_secs),
            (429, "usage_request_too_large", None)
        );
        assert!(e.message.contains("fewer images"), "{}", e.message);
    }
}
