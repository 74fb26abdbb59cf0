//! Errors of the artifact store, with their retry classification.

/// Failure of an artifact store operation.
///
/// Backend failures (network, throttling, credentials) are retryable. A missing object, a
/// size or hash mismatch and configuration errors are not: repeating the call returns the
/// same result, so the workflow must produce the artifact again or an operator must act.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store URL cannot be used.
    #[error(
        "invalid artifact store URL {url}: {reason}; expected file:///path or \
         s3://bucket/prefix?endpoint=http://host:port&region=us-east-1&allow_http=true"
    )]
    InvalidUrl {
        /// The URL, without user info.
        url: String,
        /// Reason the URL is invalid.
        reason: String,
    },
    /// The local store directory cannot be created.
    #[error("failed to create the artifact store directory {path}")]
    CreateDirectory {
        /// Directory of the store.
        path: std::path::PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The key is not a valid object path.
    #[error(
        "invalid artifact key {key:?}: {reason}; keys are `/`-separated names without empty, \
         `.` or `..` segments"
    )]
    InvalidKey {
        /// The rejected key.
        key: String,
        /// Reason the key is invalid.
        reason: String,
    },
    /// No object exists under the key.
    #[error("artifact {key} not found in the store; the stage that wrote it must run again")]
    NotFound {
        /// Key of the artifact.
        key: String,
    },
    /// The object has another size than the reference records.
    #[error(
        "artifact {key} has {actual} bytes but its reference records {expected}; the object \
         was overwritten or truncated, so the stage that wrote it must run again"
    )]
    SizeMismatch {
        /// Key of the artifact.
        key: String,
        /// Size in the reference.
        expected: u64,
        /// Size of the stored object.
        actual: u64,
    },
    /// The object's content does not hash to the reference's SHA-256.
    #[error(
        "artifact {key} has SHA-256 {actual} but its reference records {expected}; the object \
         was overwritten or corrupted, so the stage that wrote it must run again"
    )]
    HashMismatch {
        /// Key of the artifact.
        key: String,
        /// SHA-256 in the reference, lowercase hex.
        expected: String,
        /// SHA-256 of the stored content, lowercase hex.
        actual: String,
    },
    /// The storage backend failed.
    #[error("artifact store {operation} of {key} failed")]
    Backend {
        /// Operation that failed: `put`, `get` or `head`.
        operation: &'static str,
        /// Key of the artifact.
        key: String,
        /// Error of the backend.
        source: object_store::Error,
    },
}

impl StoreError {
    /// Returns whether repeating the operation may succeed.
    ///
    /// Backend errors are retryable, including authentication failures, because credentials
    /// can be rotated while the worker runs. Backend errors that describe the request itself
    /// (an invalid path, an operation the backend does not support) are not.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Backend { source, .. } => !matches!(
                source,
                object_store::Error::InvalidPath { .. }
                    | object_store::Error::NotSupported { .. }
                    | object_store::Error::NotImplemented { .. }
                    | object_store::Error::UnknownConfigurationKey { .. }
            ),
            Self::CreateDirectory { .. } => true,
            Self::InvalidUrl { .. }
            | Self::InvalidKey { .. }
            | Self::NotFound { .. }
            | Self::SizeMismatch { .. }
            | Self::HashMismatch { .. } => false,
        }
    }

    /// Returns a stable name of the error kind, for failure type names and metrics.
    pub fn failure_type(&self) -> &'static str {
        match self {
            Self::InvalidUrl { .. } => "StoreInvalidUrl",
            Self::CreateDirectory { .. } => "StoreCreateDirectory",
            Self::InvalidKey { .. } => "StoreInvalidKey",
            Self::NotFound { .. } => "StoreNotFound",
            Self::SizeMismatch { .. } => "StoreSizeMismatch",
            Self::HashMismatch { .. } => "StoreHashMismatch",
            Self::Backend { .. } => "StoreBackend",
        }
    }
}
