//! Wire types of the Atlantic HTTP API (Herodotus), shared by the client and the local
//! prover service.
//!
//! Field names follow the API's JSON and multipart names. Only the fields this project reads
//! are modelled; unknown fields are ignored.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Path of the submit endpoint.
pub const SUBMIT_PATH: &str = "atlantic-query";
/// Path of the lookup-by-dedup-id endpoint (query parameter `dedupId`).
pub const DEDUP_LOOKUP_PATH: &str = "atlantic-query-by-dedup-id";
/// Header that carries the API key.
pub const API_KEY_HEADER: &str = "api-key";
/// Query parameter that carries the API key in older API versions.
pub const API_KEY_QUERY_PARAMETER: &str = "apiKey";
/// Message the API returns when a query with the submitted dedup id already exists.
pub const DEDUP_ID_EXISTS_MESSAGE: &str = "ATLANTIC_QUERY_WITH_DEDUP_ID_ALREADY_EXISTS";

/// Lifecycle status of an Atlantic query.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QueryStatus {
    /// Accepted, not started.
    Received,
    /// Being traced, proved or verified.
    InProgress,
    /// Finished successfully.
    Done,
    /// Finished with an error, described by `errorReason`.
    Failed,
    /// A status missing from this enum, to be treated as still processing.
    #[serde(other)]
    Unknown,
}

impl QueryStatus {
    /// Returns whether the query will not change any more (DONE or FAILED).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Done | Self::Failed)
    }
}

/// Declared job size, from the step count: under 13 million steps `S`, under 30 million `M`,
/// otherwise `L`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobSize {
    /// Up to 12 million steps.
    S,
    /// 13 to 29 million steps.
    M,
    /// 30 million steps or more.
    L,
}

impl JobSize {
    /// Picks the size for `n_steps` Cairo steps, counted in whole millions.
    pub fn from_steps(n_steps: u64) -> Self {
        match n_steps / 1_000_000 {
            0..=12 => Self::S,
            13..=29 => Self::M,
            _ => Self::L,
        }
    }
}

/// Declares an enum whose variants map to fixed API strings, with `FromStr` and `Display`.
macro_rules! api_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant,)+
        }

        impl $name {
            /// All accepted API strings.
            pub const VALUES: &'static [&'static str] = &[$($text),+];

            /// Returns the API string.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                match text {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(format!(
                        "invalid {} {text:?}; expected one of {}",
                        stringify!($name),
                        Self::VALUES.join(", ")
                    )),
                }
            }
        }
    };
}

api_enum! {
    /// Artifact Atlantic should produce (`result` field).
    ProofResult {
        /// Execution trace only.
        TraceGeneration = "TRACE_GENERATION",
        /// A STARK proof.
        ProofGeneration = "PROOF_GENERATION",
        /// Verify a submitted proof.
        ProofVerification = "PROOF_VERIFICATION",
        /// Verify on L1 and register the fact there.
        ProofVerificationOnL1 = "PROOF_VERIFICATION_ON_L1",
        /// Verify on L2 and register the fact there.
        ProofVerificationOnL2 = "PROOF_VERIFICATION_ON_L2",
        /// Prove, then verify.
        ProofGenerationAndVerification = "PROOF_GENERATION_AND_VERIFICATION",
        /// Register the fact hash only.
        FactHashRegistration = "FACT_HASH_REGISTRATION",
        /// Trace and metadata.
        TraceAndMetadataGeneration = "TRACE_AND_METADATA_GENERATION",
    }
}

api_enum! {
    /// Network whose verifier is used (`network` field).
    Network {
        /// Ethereum or Starknet mainnet.
        Mainnet = "MAINNET",
        /// A test network such as Sepolia.
        Testnet = "TESTNET",
    }
}

api_enum! {
    /// Cairo VM that produced the PIE (`cairoVm` field).
    CairoVm {
        /// cairo-vm in Rust.
        Rust = "rust",
        /// cairo-lang's Python VM.
        Python = "python",
    }
}

api_enum! {
    /// Cairo language version of the program (`cairoVersion` field).
    CairoVersion {
        /// Cairo 0.
        Cairo0 = "cairo0",
        /// Cairo 1 and later.
        Cairo1 = "cairo1",
    }
}

api_enum! {
    /// Prover backend (`sharpProver` field).
    SharpProver {
        /// Stone.
        Stone = "stone",
        /// Stwo.
        Stwo = "stwo",
    }
}

/// An Atlantic query as `GET /atlantic-query/{id}` returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AtlanticQuery {
    /// Query id.
    pub id: String,
    /// Lifecycle status.
    pub status: QueryStatus,
    /// Current processing step, such as `PROOF_GENERATION`.
    #[serde(default)]
    pub step: Option<String>,
    /// Dedup id given at submission.
    #[serde(default)]
    pub dedup_id: Option<String>,
    /// Fact hash in the Integrity verifier's format, once known.
    #[serde(default)]
    pub integrity_fact_hash: Option<String>,
    /// Fact hash in SHARP's format (`keccak(program_hash ‖ output_root)`), once known.
    #[serde(default)]
    pub sharp_fact_hash: Option<String>,
    /// Aggregation bucket.
    #[serde(default)]
    pub bucket_id: Option<String>,
    /// Position inside the bucket.
    #[serde(default)]
    pub bucket_job_index: Option<u64>,
    /// Failure reason of a FAILED query.
    #[serde(default)]
    pub error_reason: Option<String>,
}

/// Body of `GET /atlantic-query/{id}` and of the dedup lookup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryResponse {
    /// The query.
    pub atlantic_query: AtlanticQuery,
    /// Links to run metadata.
    #[serde(default)]
    pub metadata_urls: Vec<String>,
}

/// Body of a successful `POST /atlantic-query`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubmitResponse {
    /// Id of the new query.
    pub atlantic_query_id: String,
}

/// Body of an API error.
///
/// NOTE: the sources this was written from do not publish the real API's error schema.
/// Public clients read a `message` field, so only that field is modelled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    /// Error message.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_size_follows_step_millions() {
        assert_eq!(JobSize::from_steps(15_135), JobSize::S);
        assert_eq!(JobSize::from_steps(12_999_999), JobSize::S);
        assert_eq!(JobSize::from_steps(13_000_000), JobSize::M);
        assert_eq!(JobSize::from_steps(29_999_999), JobSize::M);
        assert_eq!(JobSize::from_steps(30_000_000), JobSize::L);
    }

    #[test]
    fn api_enum_round_trips_strings() {
        assert_eq!(
            "PROOF_VERIFICATION_ON_L1".parse(),
            Ok(ProofResult::ProofVerificationOnL1)
        );
        assert_eq!(CairoVm::Rust.to_string(), "rust");
        let error = "MAIN".parse::<Network>().unwrap_err();
        assert!(error.contains("MAINNET, TESTNET"), "message: {error}");
    }

    #[test]
    fn unknown_status_is_not_final() {
        let status: QueryStatus = serde_json::from_str("\"QUEUED\"").unwrap();
        assert_eq!(status, QueryStatus::Unknown);
        assert!(!status.is_final());
    }
}
