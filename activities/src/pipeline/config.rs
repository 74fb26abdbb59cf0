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
///
/// `Debug` shows the node URL without credentials or query, which may carry API keys.
#[derive(Clone)]
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

impl std::fmt::Debug for PipelineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineConfig")
            .field("chain_id", &self.chain_id)
            .field(
                "madara_rpc_url",
                &crate::source::redact_url(&self.madara_rpc_url),
            )
            .field("rpc_timeout", &self.rpc_timeout)
            .field("artifact_store", &self.artifact_store)
            .field("da", &self.da)
            .field("snos", &self.snos)
            .field("prover", &self.prover)
            .field("l1", &self.l1)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prover::ApiKey;
    use crate::settlement::{FeePolicy, SidecarKind};

    const KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

    #[test]
    fn debug_output_hides_secrets() {
        let rpc_url =
            url::Url::parse("http://user:rpc-password@127.0.0.1:5050/rpc?apikey=rpc-secret")
                .unwrap();
        let l1_url = url::Url::parse("http://127.0.0.1:8545/?key=l1-secret").unwrap();
        let config = PipelineConfig {
            chain_id: "devnet".to_string(),
            madara_rpc_url: rpc_url,
            rpc_timeout: Duration::from_secs(1),
            artifact_store: "file:///tmp/artifacts".to_string(),
            da: DaSettings {
                stateful_compression: false,
                max_blobs: 6,
            },
            snos: SnosRunnerConfig::default(),
            prover: ProverSettings {
                atlantic: AtlanticConfig::new(
                    url::Url::parse("http://127.0.0.1:8090").unwrap(),
                    ApiKey::new("atlantic-secret", "test").unwrap(),
                ),
            },
            l1: L1Settings {
                settlement: SettlementConfig {
                    rpc_url: l1_url,
                    core_contract: Address::ZERO,
                    sidecar_kind: SidecarKind::Eip4844,
                    fees: FeePolicy::default(),
                },
                private_key: L1PrivateKey::parse(KEY, "test").unwrap(),
                fact_registry: Address::ZERO,
                confirmations: 3,
                in_flight_gas_limit: 1_500_000,
            },
        };
        let debug = format!("{config:?}");
        for secret in [
            "rpc-password",
            "rpc-secret",
            "l1-secret",
            "atlantic-secret",
            &KEY[2..],
        ] {
            assert!(
                !debug.contains(secret),
                "Debug output contains {secret}: {debug}"
            );
        }
        assert!(debug.contains("devnet"));
    }
}
