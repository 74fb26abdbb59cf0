//! Validated configuration of the pipeline activities of one worker.
//!
//! The worker binary builds it from flags and environment variables and rejects bad values at
//! start-up, before it polls for any work. Secrets (the L1 private key, the Atlantic API key)
//! are held in types whose `Debug` output is redacted.

use crate::prover::AtlanticConfig;
use crate::settlement::{L1PrivateKey, SettlementConfig};
use crate::snos::SnosRunnerConfig;
use alloy::primitives::Address;
use std::time::Duration;

/// Settings of the DA stage.
#[derive(Debug, Clone)]
pub struct DaSettings {
    /// Whether Starknet 0.13.4+ blocks use stateful compression (aliases read from contract
    /// `0x2`). Off for nodes that do not keep the alias contract, such as starknet-devnet.
    pub stateful_compression: bool,
    /// Maximum blobs per block; more is an error that fails the block.
    pub max_blobs: usize,
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
    /// Gas limit of an update sent while the previous block's update is not mined yet, when
    /// `eth_estimateGas` cannot be used because it runs on the latest state.
    pub in_flight_gas_limit: u64,
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
    /// SNOS stage: the external command or the in-process program.
    pub snos: SnosRunnerConfig,
    /// Proving stage.
    pub prover: ProverSettings,
    /// Settlement stage.
    pub l1: L1Settings,
}
