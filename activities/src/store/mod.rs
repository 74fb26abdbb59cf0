//! Artifact store: content-addressed references to the blobs, PIEs and program outputs that
//! stages pass to each other, on a local directory or an S3 bucket (the `object_store` crate).
//!
//! Activities write an artifact with [`ArtifactStore::put`], which returns an [`ArtifactRef`]
//! (key, SHA-256, size) small enough for workflow history. Readers call
//! [`ArtifactStore::get`] with that reference, which checks size and SHA-256, so a stage never
//! reads an artifact that changed after the reference was recorded.
//!
//! # Idempotency
//! `put` may run again with the same key, as activities do on retry. Content equal to the
//! stored object is not written again. Different content replaces the object and logs a
//! warning, because references recorded for the old content no longer verify.

mod error;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{BackoffConfig, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};
use sha2::{Digest, Sha256};
use url::Url;

pub use error::StoreError;
pub use orchestrator_workflows::types::ArtifactRef;

/// Returns the key of artifact `name` of a block: `{chain_id}/{block:012}/{name}`.
///
/// The zero-padded block number keeps a chain's keys in block order when listed.
pub fn artifact_key(chain_id: &str, block: u64, name: &str) -> String {
    format!("{chain_id}/{block:012}/{name}")
}

/// Returns the SHA-256 of `bytes` as lowercase hex, the form [`ArtifactRef::sha256`] records.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Retries of the S3 client for one call. Temporal retries failed activities, so the client
/// retries only briefly to ride out throttling, and the two retry loops do not multiply.
const CLIENT_RETRY: RetryConfig = RetryConfig {
    backoff: BackoffConfig {
        init_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(2),
        base: 2.0,
    },
    max_retries: 3,
    retry_timeout: Duration::from_secs(20),
};

/// Query parameters accepted in an `s3://` store URL.
const S3_PARAMETERS: [&str; 4] = ["endpoint", "region", "allow_http", "virtual_hosted_style"];

/// Artifact storage on a local directory or an S3 bucket, under an optional key prefix.
#[derive(Clone)]
pub struct ArtifactStore {
    backend: Arc<dyn ObjectStore>,
    /// Prefix prepended to every key, without leading or trailing `/`; empty for none.
    prefix: String,
    /// Description for logs and `Debug`: the URL without user info or query.
    location: String,
}

impl fmt::Debug for ArtifactStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ArtifactStore")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl ArtifactStore {
    /// Opens the store at `url`.
    ///
    /// - `file:///path/to/dir`: a local directory, created if missing. Writes are atomic
    ///   (temporary file then rename) and synced to disk.
    /// - `s3://bucket/prefix?endpoint=…&region=…&allow_http=true`: an S3 bucket, with keys
    ///   under `prefix` (optional). `endpoint` selects an S3-compatible server,
    ///   `virtual_hosted_style=true` switches from path-style to virtual-hosted requests.
    ///   Credentials and any option not in the URL come from the standard `AWS_*` environment
    ///   variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`,
    ///   `AWS_REGION`, …). The URL must not carry credentials.
    ///
    /// # Errors
    /// [`StoreError::InvalidUrl`] for an unsupported scheme, an unknown query parameter or
    /// credentials in the URL, and [`StoreError::CreateDirectory`] when the local directory
    /// cannot be created.
    pub fn from_url(url: &str) -> Result<Self, StoreError> {
        let parsed = Url::parse(url).map_err(|error| StoreError::InvalidUrl {
            url: redact_url(url),
            reason: error.to_string(),
        })?;
        match parsed.scheme() {
            "file" => Self::open_local(&parsed),
            "s3" => Self::open_s3(&parsed),
            scheme => Err(invalid_url(
                &parsed,
                format!("unsupported scheme {scheme:?}; use file or s3"),
            )),
        }
    }

    fn open_local(url: &Url) -> Result<Self, StoreError> {
        if url.query().is_some() {
            return Err(invalid_url(
                url,
                "a file URL takes no query parameters".into(),
            ));
        }
        let directory = url
            .to_file_path()
            .map_err(|()| invalid_url(url, "not an absolute local path".into()))?;
        std::fs::create_dir_all(&directory).map_err(|source| StoreError::CreateDirectory {
            path: directory.clone(),
            source,
        })?;
        let backend = LocalFileSystem::new_with_prefix(&directory)
            .map_err(|error| invalid_url(url, error.to_string()))?
            .with_fsync(true);
        Ok(Self {
            backend: Arc::new(backend),
            prefix: String::new(),
            location: format!("file://{}", directory.display()),
        })
    }

    fn open_s3(url: &Url) -> Result<Self, StoreError> {
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid_url(
                url,
                "credentials in the URL are not accepted; set AWS_ACCESS_KEY_ID and \
                 AWS_SECRET_ACCESS_KEY"
                    .into(),
            ));
        }
        let bucket = url
            .host_str()
            .filter(|bucket| !bucket.is_empty())
            .ok_or_else(|| invalid_url(url, "missing bucket name".into()))?;

        let mut builder = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_retry(CLIENT_RETRY);
        for (name, value) in url.query_pairs() {
            builder = match name.as_ref() {
                "endpoint" => builder.with_endpoint(value.as_ref()),
                "region" => builder.with_region(value.as_ref()),
                "allow_http" => builder.with_allow_http(parse_bool(url, &name, &value)?),
                "virtual_hosted_style" => {
                    builder.with_virtual_hosted_style_request(parse_bool(url, &name, &value)?)
                }
                other => {
                    return Err(invalid_url(
                        url,
                        format!(
                            "unknown query parameter {other:?}; accepted: {}",
                            S3_PARAMETERS.join(", ")
                        ),
                    ));
                }
            };
        }
        let backend = builder
            .build()
            .map_err(|error| invalid_url(url, error.to_string()))?;

        let prefix = url.path().trim_matches('/').to_owned();
        if !prefix.is_empty() {
            ObjectPath::parse(&prefix).map_err(|error| invalid_url(url, error.to_string()))?;
        }
        Ok(Self {
            backend: Arc::new(backend),
            location: format!("s3://{bucket}/{prefix}"),
            prefix,
        })
    }

    /// Returns where the store is, for logs: the URL without query or user info.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// Stores `bytes` under `key` and returns its reference.
    ///
    /// When an object with the same content is already stored under `key`, nothing is written.
    /// When the stored object differs, it is replaced and a warning is logged. Comparing
    /// downloads the existing object when its size equals `bytes.len()`.
    ///
    /// # Errors
    /// [`StoreError::InvalidKey`], and [`StoreError::Backend`] (retryable) when the backend
    /// fails.
    #[tracing::instrument(skip_all, fields(key = %key, size = bytes.len()))]
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<ArtifactRef, StoreError> {
        let path = self.object_path(key)?;
        let artifact = ArtifactRef {
            key: key.to_owned(),
            sha256: sha256_hex(&bytes),
            size: bytes.len() as u64,
        };

        match self.compare_stored(&path, &artifact).await? {
            Some(StoredContent::Same) => {
                tracing::debug!(sha256 = %artifact.sha256, "artifact already stored");
                return Ok(artifact);
            }
            Some(StoredContent::Different { size, sha256 }) => {
                tracing::warn!(
                    stored_size = size,
                    stored_sha256 = sha256.as_deref().unwrap_or("not computed"),
                    sha256 = %artifact.sha256,
                    "replacing an artifact whose content differs"
                );
            }
            None => {}
        }

        self.backend
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(|source| backend_error("put", key, source))?;
        tracing::debug!(sha256 = %artifact.sha256, "artifact stored");
        Ok(artifact)
    }

    /// Compares the object stored at `path` with the content `artifact` describes: `None`
    /// when no object exists.
    async fn compare_stored(
        &self,
        path: &ObjectPath,
        artifact: &ArtifactRef,
    ) -> Result<Option<StoredContent>, StoreError> {
        let meta = match self.backend.head(path).await {
            Ok(meta) => meta,
            Err(object_store::Error::NotFound { .. }) => return Ok(None),
            Err(source) => return Err(backend_error("head", &artifact.key, source)),
        };
        if meta.size != artifact.size {
            return Ok(Some(StoredContent::Different {
                size: meta.size,
                sha256: None,
            }));
        }
        let stored = match self.read(path, &artifact.key).await {
            Ok(stored) => stored,
            // Deleted between the two calls: the caller writes it.
            Err(StoreError::NotFound { .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        let sha256 = sha256_hex(&stored);
        if sha256 == artifact.sha256 {
            Ok(Some(StoredContent::Same))
        } else {
            Ok(Some(StoredContent::Different {
                size: meta.size,
                sha256: Some(sha256),
            }))
        }
    }

    /// Reads the artifact and checks its size and SHA-256 against `artifact`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`], [`StoreError::SizeMismatch`] and [`StoreError::HashMismatch`]
    /// (not retryable), and [`StoreError::Backend`] (retryable).
    #[tracing::instrument(skip_all, fields(key = %artifact.key))]
    pub async fn get(&self, artifact: &ArtifactRef) -> Result<Vec<u8>, StoreError> {
        let path = self.object_path(&artifact.key)?;
        let bytes = self.read(&path, &artifact.key).await?;

        if bytes.len() as u64 != artifact.size {
            return Err(StoreError::SizeMismatch {
                key: artifact.key.clone(),
                expected: artifact.size,
                actual: bytes.len() as u64,
            });
        }
        let sha256 = sha256_hex(&bytes);
        if !sha256.eq_ignore_ascii_case(&artifact.sha256) {
            return Err(StoreError::HashMismatch {
                key: artifact.key.clone(),
                expected: artifact.sha256.clone(),
                actual: sha256,
            });
        }
        Ok(bytes)
    }

    /// Returns whether an object is stored under `key`.
    ///
    /// # Errors
    /// [`StoreError::InvalidKey`], and [`StoreError::Backend`] (retryable).
    pub async fn exists(&self, key: &str) -> Result<bool, StoreError> {
        let path = self.object_path(key)?;
        match self.backend.head(&path).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(source) => Err(backend_error("head", key, source)),
        }
    }

    async fn read(&self, path: &ObjectPath, key: &str) -> Result<Vec<u8>, StoreError> {
        let result = match self.backend.get(path).await {
            Ok(result) => result,
            Err(object_store::Error::NotFound { .. }) => {
                return Err(StoreError::NotFound {
                    key: key.to_owned(),
                });
            }
            Err(source) => return Err(backend_error("get", key, source)),
        };
        let bytes = result
            .bytes()
            .await
            .map_err(|source| backend_error("get", key, source))?;
        Ok(Vec::from(bytes))
    }

    fn object_path(&self, key: &str) -> Result<ObjectPath, StoreError> {
        let invalid = |reason: String| StoreError::InvalidKey {
            key: key.to_owned(),
            reason,
        };
        if key.is_empty() || key.starts_with('/') || key.ends_with('/') {
            return Err(invalid(
                "keys must not be empty or start or end with `/`".into(),
            ));
        }
        let full = if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix)
        };
        let path = ObjectPath::parse(&full).map_err(|error| invalid(error.to_string()))?;
        // `parse` accepts `.` and `..` segments, which a local store would resolve.
        if key
            .split('/')
            .any(|segment| segment == "." || segment == "..")
        {
            return Err(invalid("`.` and `..` segments are not allowed".into()));
        }
        Ok(path)
    }
}

/// Result of comparing a stored object with the content about to be written.
enum StoredContent {
    /// Same size and SHA-256.
    Same,
    /// Another size, or the same size and another SHA-256.
    Different {
        /// Size of the stored object.
        size: u64,
        /// SHA-256 of the stored object, computed only when the sizes are equal.
        sha256: Option<String>,
    },
}

fn parse_bool(url: &Url, name: &str, value: &str) -> Result<bool, StoreError> {
    value.parse().map_err(|_| {
        invalid_url(
            url,
            format!("query parameter {name} must be true or false, not {value:?}"),
        )
    })
}

fn invalid_url(url: &Url, reason: String) -> StoreError {
    StoreError::InvalidUrl {
        url: redact_url(url.as_str()),
        reason,
    }
}

/// Removes user info from a URL for error messages.
fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) => {
            let _ = parsed.set_username("");
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => "<unparseable URL>".to_owned(),
    }
}

fn backend_error(operation: &'static str, key: &str, source: object_store::Error) -> StoreError {
    StoreError::Backend {
        operation,
        key: key.to_owned(),
        source,
    }
}
