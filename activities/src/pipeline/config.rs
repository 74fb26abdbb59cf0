//! Validated configuration of the pipeline activities of one worker.
//!
//! The worker binary builds it from flags and environment variables and rejects bad values at
//! start-up, before it polls for any work. Secrets (the L1 private key, the Atlantic API key)
//! are held in types whose `Debug` output is redacted.

use crate::prover::AtlanticConfig;
use crate::settlement::{L1PrivateKey, SettlementConfig};
use alloy::primitives::Address;
use std::path::PathBuf;
use std::time::Duration;

/// How the DA stage encodes state diffs.
#[derive(Debug, Clone)]
pub struct DaSettings {
    /// Whether Starknet 0.13.4+ blocks use stateful compression (aliases read from contract
    /// `0x2`). Off for nodes that do not keep the alias contract, such as starknet-devnet.
    pub stateful_compression: bool,
    /// Maximum blobs per block; more is an error that fails the block.
    pub max_blobs: usize,
}

/// Which SNOS runner the SNOS stage uses.
#[derive(Debug, Clone)]
pub enum SnosSettings {
    /// An operator-provided command; `{block}`, `{rpc_url}` and `{output}` in the arguments
    /// are replaced, and the command must write a Cairo PIE zip to `{output}`.
    External {
        /// Program and arguments.
        command: Vec<String>,
        /// Time limit of one run.
        timeout: Duration,
    },
    /// The embedded stand-in program run in cairo-vm, or another compiled Cairo 0 program.
    InProcess {
        /// Compiled program JSON; `None` uses the embedded stand-in.
        program: Option<PathBuf>,
        /// Cairo layout, for example `all_cairo`.
        layout: String,
    },
}

/// Prover client settings.
#[derive(Debug, Clone)]
pub struct ProverSettings {
    /// Atlantic API endpoint, key and request fields.
    pub atlantic: AtlanticConfig,
}

/// L1 settlement settings.
#[derive(Debug, Clone)]
pub struct L1Settings {
    /// RPC, core contract, sidecar kind and fee policy.
    pub settlement: SettlementConfig,
    /// Signing key of the settlement account.
    pub private_key: L1PrivateKey,
    /// Fact registry the core contract checks.
    pub fact_registry: Address,
    /// Blocks on top of the including block before a settlement counts as confirmed.
    pub confirmations: u64,
}

/// Everything the pipeline activities need.
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Chain this worker serves.
    pub chain_id: String,
    /// Starknet node JSON-RPC URL.
    pub madara_rpc_url: url::Url,
    /// Timeout of one node request.
    pub rpc_timeout: Duration,
    /// Artifact store URL: `file:///path` or `s3://bucket/prefix?endpoint=…`.
    pub artifact_store: String,
    /// DA stage.
    pub da: DaSettings,
    /// SNOS stage.
    pub snos: SnosSettings,
    /// Proving stage.
    pub prover: ProverSettings,
    /// Settlement stage.
    pub l1: L1Settings,
}
