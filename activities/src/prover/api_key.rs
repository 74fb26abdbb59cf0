//! The Atlantic API key, kept out of `Debug` output, logs and error messages.

use std::fmt;
use std::path::Path;

use super::error::ApiKeyError;

/// Text that replaces the key wherever it would otherwise be shown.
pub const REDACTED: &str = "<redacted>";

/// An Atlantic API key. `Debug` prints `<redacted>` and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key, trimming surrounding whitespace.
    ///
    /// # Errors
    /// [`ApiKeyError::Empty`] when nothing is left after trimming.
    pub fn new(key: impl Into<String>, origin: &str) -> Result<Self, ApiKeyError> {
        let key = key.into().trim().to_owned();
        if key.is_empty() {
            return Err(ApiKeyError::Empty {
                origin: origin.to_owned(),
            });
        }
        Ok(Self(key))
    }

    /// Reads the key from the environment variable `variable`.
    ///
    /// # Errors
    /// [`ApiKeyError::MissingVariable`] when it is unset, [`ApiKeyError::Empty`] when blank.
    pub fn from_env(variable: &str) -> Result<Self, ApiKeyError> {
        let key = std::env::var(variable).map_err(|_| ApiKeyError::MissingVariable {
            variable: variable.to_owned(),
        })?;
        Self::new(key, &format!("environment variable {variable}"))
    }

    /// Reads the key from a file, ignoring surrounding whitespace.
    ///
    /// # Errors
    /// [`ApiKeyError::Io`] when the file cannot be read, [`ApiKeyError::Empty`] when blank.
    pub fn from_file(path: &Path) -> Result<Self, ApiKeyError> {
        let key = std::fs::read_to_string(path).map_err(|source| ApiKeyError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::new(key, &format!("file {}", path.display()))
    }

    /// Returns the key itself, for the one place that puts it on the wire.
    pub(crate) fn expose_secret(&self) -> &str {
        &self.0
    }

    /// Replaces every occurrence of the key in `text` with [`REDACTED`].
    pub(crate) fn redact(&self, text: &str) -> String {
        text.replace(&self.0, REDACTED)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(REDACTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_key() {
        let key = ApiKey::new("secret-key-123", "test").unwrap();
        assert_eq!(format!("{key:?}"), REDACTED);
        assert_eq!(format!("{:?}", Some(&key)), format!("Some({REDACTED})"));
    }

    #[test]
    fn blank_key_is_rejected() {
        let error = ApiKey::new("  \n", "file k.txt").unwrap_err();
        assert!(error.to_string().contains("file k.txt"), "message: {error}");
    }

    #[test]
    fn file_key_is_trimmed() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, b"abc\n").unwrap();
        let key = ApiKey::from_file(file.path()).unwrap();
        assert_eq!(key.expose_secret(), "abc");
    }

    #[test]
    fn redact_replaces_every_occurrence() {
        let key = ApiKey::new("k3y", "test").unwrap();
        assert_eq!(
            key.redact("a k3y b k3y"),
            format!("a {REDACTED} b {REDACTED}")
        );
    }
}
