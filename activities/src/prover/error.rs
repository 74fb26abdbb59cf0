//! Errors of the prover module, each enum with its retry classification.

use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::{Address, B256};

/// Failure to read a Cairo PIE zip. Never retryable: the same bytes fail the same way.
#[derive(Debug, thiserror::Error)]
pub enum PieError {
    /// The PIE file could not be read.
    #[error("failed to read Cairo PIE file {path}")]
    Io {
        /// Path of the file.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The bytes are not a zip archive.
    #[error(
        "Cairo PIE is not a zip archive ({message}); pass the zip written by cairo-vm or cairo-run"
    )]
    NotAZip {
        /// Message of the zip reader.
        message: String,
    },
    /// A required zip entry is absent.
    #[error(
        "Cairo PIE zip has no {entry} entry; a PIE contains metadata.json, memory.bin, \
         additional_data.json, execution_resources.json and version.json"
    )]
    MissingEntry {
        /// Name of the missing entry.
        entry: &'static str,
    },
    /// An entry exists but cannot be parsed.
    #[error("Cairo PIE entry {entry} is invalid: {message}")]
    InvalidEntry {
        /// Name of the entry.
        entry: &'static str,
        /// Description of the problem.
        message: String,
    },
    /// The program has no output builtin, so it has no program output.
    #[error("Cairo PIE has no output builtin segment, so it has no program output")]
    NoOutputSegment,
    /// A cell of the output segment cannot be read as a felt.
    #[error("Cairo PIE output cell {offset} is invalid because {reason}")]
    InvalidOutputCell {
        /// Offset inside the output segment.
        offset: u64,
        /// Reason the cell is invalid.
        reason: &'static str,
    },
}

/// Failure to compute a fact from a PIE. Never retryable.
#[derive(Debug, thiserror::Error)]
pub enum FactError {
    /// The PIE could not be read.
    #[error(transparent)]
    Pie(PieError),
    /// The output pages or the `gps_fact_topology` attribute do not describe the output.
    #[error("invalid fact topology: {0}")]
    InvalidTopology(String),
}

/// Failure to load the Atlantic API key.
#[derive(Debug, thiserror::Error)]
pub enum ApiKeyError {
    /// The environment variable is unset or not Unicode.
    #[error("environment variable {variable} is not set; set it to the Atlantic API key")]
    MissingVariable {
        /// Name of the variable.
        variable: String,
    },
    /// The key file could not be read.
    #[error("failed to read the API key file {path}")]
    Io {
        /// Path of the file.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The key is empty after trimming whitespace.
    #[error("the Atlantic API key from {origin} is empty")]
    Empty {
        /// Environment variable or file the key came from.
        origin: String,
    },
}

/// Failure of a request to an Atlantic API.
///
/// Messages never contain the API key: URLs are stripped from transport errors and any
/// occurrence of the key in response bodies is replaced before the error is built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AtlanticError {
    /// The connection failed or broke before a response arrived.
    #[error("{operation} failed: connection error: {message}")]
    Connection {
        /// Request that failed, such as `submit query`.
        operation: &'static str,
        /// Transport error text, without the URL.
        message: String,
    },
    /// No response within the request timeout.
    #[error("{operation} timed out after {timeout:?}")]
    Timeout {
        /// Request that failed.
        operation: &'static str,
        /// Configured timeout.
        timeout: Duration,
    },
    /// HTTP 429.
    #[error("{operation} was rate limited (HTTP 429); retry later")]
    RateLimited {
        /// Request that failed.
        operation: &'static str,
        /// Delay from the `Retry-After` header, when present.
        retry_after: Option<Duration>,
    },
    /// HTTP 5xx.
    #[error("{operation} failed: Atlantic returned HTTP {status}: {body}")]
    ServerError {
        /// Request that failed.
        operation: &'static str,
        /// HTTP status code.
        status: u16,
        /// Start of the response body.
        body: String,
    },
    /// An HTML page instead of JSON, as load balancers and gateways return when the service
    /// behind them is unreachable.
    #[error(
        "{operation} failed: Atlantic returned an HTML page with HTTP {status} instead of JSON"
    )]
    HtmlResponse {
        /// Request that failed.
        operation: &'static str,
        /// HTTP status code.
        status: u16,
    },
    /// A success status with a body that is not the expected JSON.
    #[error("{operation} failed: invalid response body with HTTP {status}: {message}")]
    InvalidResponse {
        /// Request that failed.
        operation: &'static str,
        /// HTTP status code.
        status: u16,
        /// Parse error.
        message: String,
    },
    /// The API rejected the request with a 4xx status and a JSON message.
    #[error("{operation} rejected by Atlantic with HTTP {status}: {message}")]
    Rejected {
        /// Request that failed.
        operation: &'static str,
        /// HTTP status code.
        status: u16,
        /// The API's message.
        message: String,
    },
    /// A query with the same dedup id exists but belongs to another bucket or job index.
    #[error(
        "Atlantic query {query_id} with dedup id {dedup_id} belongs to {found}, but this job \
         is {expected}; use a dedup id unique to each job"
    )]
    DedupConflict {
        /// Shared dedup id.
        dedup_id: String,
        /// Existing query.
        query_id: String,
        /// Bucket id and job index of the existing query.
        found: String,
        /// Bucket id and job index of this request.
        expected: String,
    },
    /// The artifacts store has no off-chain proof for the query.
    #[error("no proof for Atlantic query {query_id}: {code}")]
    ProofUnavailable {
        /// Query id.
        query_id: String,
        /// Code returned by the store, such as `NO_OFFCHAIN_PROOF_FOR_JOB`.
        code: String,
    },
    /// The PIE to submit could not be read.
    #[error("cannot submit the Cairo PIE: {0}")]
    Pie(#[from] PieError),
}

impl AtlanticError {
    /// Returns whether retrying the same request may succeed: connection errors, timeouts,
    /// 429, 5xx, HTML pages and unparseable bodies. API rejections, dedup conflicts, missing
    /// proofs and invalid PIEs are permanent.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Connection { .. }
            | Self::Timeout { .. }
            | Self::RateLimited { .. }
            | Self::ServerError { .. }
            | Self::HtmlResponse { .. }
            | Self::InvalidResponse { .. } => true,
            Self::Rejected { .. }
            | Self::DedupConflict { .. }
            | Self::ProofUnavailable { .. }
            | Self::Pie(_) => false,
        }
    }

    /// Returns a stable name of the error class, for Temporal failure types.
    pub fn failure_type(&self) -> &'static str {
        match self {
            Self::Connection { .. } => "AtlanticConnection",
            Self::Timeout { .. } => "AtlanticTimeout",
            Self::RateLimited { .. } => "AtlanticRateLimited",
            Self::ServerError { .. } => "AtlanticServerError",
            Self::HtmlResponse { .. } => "AtlanticHtmlResponse",
            Self::InvalidResponse { .. } => "AtlanticInvalidResponse",
            Self::Rejected { .. } => "AtlanticRejected",
            Self::DedupConflict { .. } => "AtlanticDedupConflict",
            Self::ProofUnavailable { .. } => "AtlanticProofUnavailable",
            Self::Pie(_) => "InvalidCairoPie",
        }
    }

    /// Returns the server's requested delay before a retry, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Failure to read or write a fact registry on L1.
#[derive(Debug, thiserror::Error)]
pub enum FactRegistryError {
    /// The RPC request failed or timed out.
    #[error("fact registry {registry} call failed: {message}")]
    Rpc {
        /// Registry contract.
        registry: Address,
        /// Transport error text.
        message: String,
    },
    /// The call returned no data, which happens when no contract is deployed at the address.
    #[error("fact registry {registry} returned no data; check that the contract is deployed there")]
    NoContract {
        /// Registry contract.
        registry: Address,
    },
    /// The contract reverted or returned data that does not decode.
    #[error("fact registry {registry} rejected the call: {message}")]
    Contract {
        /// Registry contract.
        registry: Address,
        /// Revert or decode error.
        message: String,
    },
    /// The `registerFact` transaction was mined but reverted.
    #[error("registerFact({fact}) transaction {tx_hash} on {registry} reverted")]
    Reverted {
        /// Registry contract.
        registry: Address,
        /// Fact being registered.
        fact: B256,
        /// Transaction hash.
        tx_hash: B256,
    },
    /// The L1 signer key is invalid.
    #[error("invalid L1 private key in {origin}: expected 32 bytes as hex")]
    InvalidPrivateKey {
        /// File the key came from.
        origin: String,
    },
}

impl FactRegistryError {
    /// Returns whether a retry may succeed: only RPC transport failures.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Rpc { .. })
    }

    /// Returns a stable name of the error class, for Temporal failure types.
    pub fn failure_type(&self) -> &'static str {
        match self {
            Self::Rpc { .. } => "FactRegistryRpc",
            Self::NoContract { .. } => "FactRegistryNoContract",
            Self::Contract { .. } => "FactRegistryContract",
            Self::Reverted { .. } => "FactRegistryReverted",
            Self::InvalidPrivateKey { .. } => "InvalidL1PrivateKey",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_atlantic_errors_are_retryable() {
        let operation = "get query";
        let transient = [
            AtlanticError::Connection {
                operation,
                message: "refused".into(),
            },
            AtlanticError::Timeout {
                operation,
                timeout: Duration::from_secs(1),
            },
            AtlanticError::RateLimited {
                operation,
                retry_after: None,
            },
            AtlanticError::ServerError {
                operation,
                status: 503,
                body: String::new(),
            },
            AtlanticError::HtmlResponse {
                operation,
                status: 404,
            },
            AtlanticError::InvalidResponse {
                operation,
                status: 200,
                message: String::new(),
            },
        ];
        for error in transient {
            assert!(
                error.is_retryable(),
                "{} should be retryable",
                error.failure_type()
            );
        }
    }

    #[test]
    fn permanent_atlantic_errors_are_not_retryable() {
        let permanent = [
            AtlanticError::Rejected {
                operation: "submit query",
                status: 400,
                message: "x".into(),
            },
            AtlanticError::ProofUnavailable {
                query_id: "q".into(),
                code: "c".into(),
            },
            AtlanticError::Pie(PieError::NoOutputSegment),
        ];
        for error in permanent {
            assert!(
                !error.is_retryable(),
                "{} should not be retryable",
                error.failure_type()
            );
        }
    }
}
