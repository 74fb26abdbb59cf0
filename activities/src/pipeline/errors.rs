//! Mapping of library errors to Temporal activity failures.
//!
//! A retryable error becomes a retryable application failure, which Temporal retries with the
//! stage's policy. Any other error becomes a non-retryable failure, which fails the block with
//! the message. The failure type is the error's class, so operators can filter on it.

use temporalio_common::error::ApplicationFailure;
use temporalio_sdk::activities::ActivityError;

/// Builds an activity failure from a message, its class and whether a retry may help.
pub fn failure(message: String, failure_type: &str, retryable: bool) -> ActivityError {
    tracing::warn!(failure_type, retryable, error = %message, "activity failed");
    let failure = if retryable {
        ApplicationFailure::builder(message).type_name(failure_type.to_string()).build()
    } else {
        ApplicationFailure::builder(message)
            .type_name(failure_type.to_string())
            .non_retryable(true)
            .build()
    };
    ActivityError::application(failure)
}

/// Builds a permanent failure, which fails the block with this message.
pub fn permanent(error: impl std::fmt::Display, failure_type: &str) -> ActivityError {
    failure(error.to_string(), failure_type, false)
}
