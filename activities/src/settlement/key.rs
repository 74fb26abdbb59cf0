//! The L1 private key that signs state updates, kept out of logs and error messages.

use std::fmt;
use std::path::Path;

use alloy::primitives::Address;
use alloy::signers::local::PrivateKeySigner;

/// Environment variable holding the L1 private key as hex.
pub const PRIVATE_KEY_ENV: &str = "MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY";
/// Environment variable holding the path of a file that contains the L1 private key as hex.
pub const PRIVATE_KEY_FILE_ENV: &str = "MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY_FILE";

/// Failure to load the L1 private key. Messages name where the key came from, never the key.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// Neither variable is set.
    #[error("no L1 private key: set {PRIVATE_KEY_ENV} or {PRIVATE_KEY_FILE_ENV}")]
    Missing,
    /// Both variables are set, so the choice would be a guess.
    #[error("both {PRIVATE_KEY_ENV} and {PRIVATE_KEY_FILE_ENV} are set; unset one of them")]
    Ambiguous,
    /// The key file cannot be read.
    #[error("cannot read the L1 private key file {path}: {source}")]
    Unreadable {
        /// Path of the key file.
        path: String,
        /// I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The value is not a 32-byte secp256k1 secret key in hex.
    #[error(
        "the L1 private key in {source_name} is invalid: expected 64 hex digits (optionally \
         0x-prefixed) of a valid secp256k1 secret key"
    )]
    Invalid {
        /// Environment variable or file the key came from.
        source_name: String,
    },
}

/// Private key of the account that signs L1 state updates.
///
/// `Debug` prints `<redacted>` and there is no `Display`, so the key cannot reach logs through
/// formatting. The underlying signing key is zeroed when dropped (k256 `SigningKey`).
#[derive(Clone)]
pub struct L1PrivateKey {
    signer: PrivateKeySigner,
}

impl fmt::Debug for L1PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl L1PrivateKey {
    /// Parses a hex key. `source_name` names the variable or file it came from, for errors.
    pub fn parse(value: &str, source_name: &str) -> Result<Self, KeyError> {
        let invalid = || KeyError::Invalid {
            source_name: source_name.to_owned(),
        };
        let digits = value.trim();
        let digits = digits.strip_prefix("0x").unwrap_or(digits);
        if digits.len() != 64 {
            return Err(invalid());
        }
        let signer = digits.parse::<PrivateKeySigner>().map_err(|_| invalid())?;
        Ok(Self { signer })
    }

    /// Reads a hex key from the file at `path`.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let text = std::fs::read_to_string(path).map_err(|source| KeyError::Unreadable {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Loads the key from [`PRIVATE_KEY_ENV`] or from the file named by
    /// [`PRIVATE_KEY_FILE_ENV`]. Exactly one of them must be set.
    pub fn from_env() -> Result<Self, KeyError> {
        let inline = std::env::var(PRIVATE_KEY_ENV)
            .ok()
            .filter(|value| !value.is_empty());
        let file = std::env::var_os(PRIVATE_KEY_FILE_ENV).filter(|value| !value.is_empty());
        match (inline, file) {
            (Some(value), None) => Self::parse(&value, PRIVATE_KEY_ENV),
            (None, Some(path)) => Self::from_file(Path::new(&path)),
            (Some(_), Some(_)) => Err(KeyError::Ambiguous),
            (None, None) => Err(KeyError::Missing),
        }
    }

    /// Returns the address of the account.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    pub(crate) fn signer(&self) -> &PrivateKeySigner {
        &self.signer
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The first well-known anvil development key; it guards no funds.
    const ANVIL_KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

    #[test]
    fn debug_output_is_redacted() {
        let key = L1PrivateKey::parse(ANVIL_KEY, "test").expect("valid key");
        assert_eq!(format!("{key:?}"), "<redacted>");
        assert_eq!(format!("{:?}", Some(&key)), "Some(<redacted>)");
    }

    #[test]
    fn parse_accepts_prefix_and_newline() {
        let key = L1PrivateKey::parse(&format!("0x{ANVIL_KEY}\n"), "test").expect("valid key");
        assert_eq!(
            key.address().to_string(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
    }

    #[test]
    fn invalid_key_error_names_source_not_key() {
        let bad = "zz".repeat(32);
        let error = L1PrivateKey::parse(&bad, PRIVATE_KEY_ENV).expect_err("invalid key");
        let message = error.to_string();
        assert!(message.contains(PRIVATE_KEY_ENV), "{message}");
        assert!(!message.contains(&bad), "{message}");
    }

    #[test]
    fn zero_key_is_invalid() {
        let error = L1PrivateKey::parse(&"0".repeat(64), "key.hex").expect_err("zero key");
        assert!(error.to_string().contains("key.hex"), "{error}");
    }

    #[test]
    fn from_file_reads_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("l1.key");
        std::fs::write(&path, format!("{ANVIL_KEY}\n")).expect("write key");
        let key = L1PrivateKey::from_file(&path).expect("valid key file");
        assert_eq!(
            key.address().to_string(),
            "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
        );
    }
}
