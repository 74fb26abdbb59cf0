//! Command-line flags and environment variables of the worker.
//!
//! Variable names follow the upstream Madara orchestrator where a setting exists there
//! (`MADARA_ORCHESTRATOR_*`); settings new to this project use `ORCHESTRATOR_*`.

use alloy::primitives::Address;
use anyhow::{Context, bail};
use orchestrator_activities::pipeline::config::DaSettings;
use orchestrator_activities::snos::{ExternalConfig, InProcessConfig, SnosRunnerConfig};
use orchestrator_activities::pipeline::{L1Settings, PipelineConfig, ProverSettings};
use orchestrator_activities::prover::{ApiKey, AtlanticConfig};
use orchestrator_activities::settlement::{FeePolicy, L1PrivateKey, SettlementConfig, SidecarKind};
use std::path::PathBuf;
use std::time::Duration;

/// Worker settings.
#[derive(Debug, clap::Parser)]
#[command(name = "orchestrator-worker", version, about = "Run block workflows and their activities")]
pub struct WorkerArgs {
    /// Temporal task queue to poll.
    #[arg(long, env = "ORCHESTRATOR_TASK_QUEUE", default_value = orchestrator_workflows::TASK_QUEUE)]
    pub task_queue: String,
    /// Chain id this worker serves; must match the one given to `orchestrator start`.
    #[arg(long, env = "ORCHESTRATOR_CHAIN_ID", default_value = "devnet")]
    pub chain_id: String,
    /// Starknet (Madara) node JSON-RPC URL.
    #[arg(long, env = "MADARA_ORCHESTRATOR_MADARA_RPC_URL", default_value = "http://127.0.0.1:5050/rpc")]
    pub madara_rpc_url: String,
    /// Timeout of one node request, in seconds.
    #[arg(long, env = "ORCHESTRATOR_RPC_TIMEOUT_SECS", default_value_t = 30)]
    pub rpc_timeout_secs: u64,
    /// Artifact store: `file:///absolute/path` or `s3://bucket/prefix` (S3 options as query
    /// parameters, for example `?endpoint=http://127.0.0.1:9000&allow_http=true`).
    #[arg(long, env = "ORCHESTRATOR_ARTIFACT_STORE", default_value = "file:///tmp/orchestrator-artifacts")]
    pub artifact_store: String,
    /// Use stateful compression (aliases from contract 0x2) for Starknet 0.13.4+ blocks. Turn
    /// it off for nodes without the alias contract, such as starknet-devnet.
    #[arg(long, env = "ORCHESTRATOR_STATEFUL_COMPRESSION", default_value_t = false, action = clap::ArgAction::Set)]
    pub stateful_compression: bool,
    /// Maximum blobs per block; a larger state diff fails the block.
    #[arg(long, env = "ORCHESTRATOR_MAX_BLOBS", default_value_t = 6)]
    pub max_blobs: usize,
    /// External SNOS command with `{block}`, `{rpc_url}` and `{output}` placeholders, split on
    /// spaces. Without it the embedded stand-in program runs in cairo-vm.
    #[arg(long, env = "ORCHESTRATOR_SNOS_COMMAND")]
    pub snos_command: Option<String>,
    /// Time limit of one external SNOS run, in seconds.
    #[arg(long, env = "ORCHESTRATOR_SNOS_TIMEOUT_SECS", default_value_t = 3_600)]
    pub snos_timeout_secs: u64,
    /// Compiled Cairo 0 program for the in-process runner, instead of the stand-in.
    #[arg(long, env = "ORCHESTRATOR_SNOS_PROGRAM")]
    pub snos_program: Option<PathBuf>,
    /// Cairo layout of the in-process runner.
    #[arg(long, env = "ORCHESTRATOR_SNOS_LAYOUT", default_value = "all_cairo")]
    pub snos_layout: String,
    /// Atlantic API base URL (the local prover in development).
    #[arg(long, env = "MADARA_ORCHESTRATOR_ATLANTIC_SERVICE_URL", default_value = "http://127.0.0.1:8090")]
    pub atlantic_url: String,
    /// File holding the Atlantic API key; `MADARA_ORCHESTRATOR_ATLANTIC_API_KEY` may hold the
    /// key itself instead.
    #[arg(long, env = "MADARA_ORCHESTRATOR_ATLANTIC_API_KEY_FILE")]
    pub atlantic_api_key_file: Option<PathBuf>,
    /// Ethereum JSON-RPC URL of the settlement layer.
    #[arg(long, env = "MADARA_ORCHESTRATOR_ETHEREUM_SETTLEMENT_RPC_URL", default_value = "http://127.0.0.1:8545")]
    pub l1_rpc_url: String,
    /// Starknet core contract address on L1.
    #[arg(long, env = "MADARA_ORCHESTRATOR_L1_CORE_CONTRACT_ADDRESS")]
    pub core_contract: Option<String>,
    /// Fact registry address on L1.
    #[arg(long, env = "ORCHESTRATOR_FACT_REGISTRY_ADDRESS")]
    pub fact_registry: Option<String>,
    /// Cap on `maxFeePerGas·gas + maxFeePerBlobGas·blobGas` of one settlement, in wei.
    #[arg(long, env = "MADARA_ORCHESTRATOR_ETHEREUM_L2_STATE_UPDATE_MAX_FEE_WEI")]
    pub max_fee_wei: Option<u128>,
    /// Send EIP-7594 cell proofs instead of EIP-4844 blob proofs.
    #[arg(long, env = "ORCHESTRATOR_CELL_PROOFS", default_value_t = false, action = clap::ArgAction::Set)]
    pub cell_proofs: bool,
    /// L1 blocks on top of the including block before a settlement counts as confirmed.
    #[arg(long, env = "ORCHESTRATOR_L1_CONFIRMATIONS", default_value_t = 3)]
    pub confirmations: u64,
    /// Gas limit of an update sent while the previous block's update is still pending, when
    /// gas cannot be estimated on the latest state.
    #[arg(long, env = "ORCHESTRATOR_L1_IN_FLIGHT_GAS_LIMIT", default_value_t = 1_500_000)]
    pub in_flight_gas_limit: u64,
    /// OTLP export and Prometheus endpoint.
    #[command(flatten)]
    pub telemetry: orchestrator_worker::telemetry::TelemetryArgs,
}

fn parse_url(value: &str, setting: &str) -> anyhow::Result<url::Url> {
    url::Url::parse(value).with_context(|| format!("invalid URL {value:?} in {setting}; expected for example http://127.0.0.1:8545"))
}

fn parse_address(value: Option<&str>, setting: &str) -> anyhow::Result<Address> {
    let Some(value) = value else {
        bail!("{setting} is not set; deploy the contracts with `orchestrator l1 deploy` and set it to the printed address");
    };
    value.parse().with_context(|| format!("invalid address {value:?} in {setting}; expected 0x and 40 hex digits"))
}

impl WorkerArgs {
    /// Validates the settings and builds the pipeline configuration.
    pub fn into_pipeline_config(self) -> anyhow::Result<PipelineConfig> {
        let madara_rpc_url = parse_url(&self.madara_rpc_url, "MADARA_ORCHESTRATOR_MADARA_RPC_URL")?;
        let l1_rpc_url = parse_url(&self.l1_rpc_url, "MADARA_ORCHESTRATOR_ETHEREUM_SETTLEMENT_RPC_URL")?;
        let atlantic_url = parse_url(&self.atlantic_url, "MADARA_ORCHESTRATOR_ATLANTIC_SERVICE_URL")?;
        let core_contract = parse_address(self.core_contract.as_deref(), "MADARA_ORCHESTRATOR_L1_CORE_CONTRACT_ADDRESS")?;
        let fact_registry = parse_address(self.fact_registry.as_deref(), "ORCHESTRATOR_FACT_REGISTRY_ADDRESS")?;
        let private_key = L1PrivateKey::from_env()?;
        let api_key = match &self.atlantic_api_key_file {
            Some(path) => ApiKey::from_file(path)?,
            None => match std::env::var("MADARA_ORCHESTRATOR_ATLANTIC_API_KEY") {
                Ok(value) if !value.is_empty() => ApiKey::new(value, "MADARA_ORCHESTRATOR_ATLANTIC_API_KEY")?,
                _ => bail!(
                    "no Atlantic API key: set MADARA_ORCHESTRATOR_ATLANTIC_API_KEY_FILE or \
                     MADARA_ORCHESTRATOR_ATLANTIC_API_KEY (any value works with the local prover)"
                ),
            },
        };
        if self.max_blobs == 0 {
            bail!("ORCHESTRATOR_MAX_BLOBS is 0; a block needs at least one blob (the L1 default is 6)");
        }
        let mut fees = FeePolicy::default();
        if let Some(cap) = self.max_fee_wei {
            fees.max_total_fee_wei = cap;
        }
        let snos = match &self.snos_command {
            Some(command) => {
                let mut words = command.split_whitespace().map(str::to_string);
                let Some(program) = words.next() else {
                    bail!("ORCHESTRATOR_SNOS_COMMAND is empty; unset it to use the embedded program");
                };
                SnosRunnerConfig::External(ExternalConfig {
                    program: PathBuf::from(program),
                    args: words.collect(),
                    rpc_url: self.madara_rpc_url.clone(),
                    timeout: Duration::from_secs(self.snos_timeout_secs),
                    work_dir: None,
                })
            }
            None => SnosRunnerConfig::InProcess(InProcessConfig {
                program_path: self.snos_program.clone(),
                layout: self.snos_layout.clone(),
                ..InProcessConfig::default()
            }),
        };
        Ok(PipelineConfig {
            chain_id: self.chain_id,
            madara_rpc_url,
            rpc_timeout: Duration::from_secs(self.rpc_timeout_secs),
            artifact_store: self.artifact_store,
            da: DaSettings { stateful_compression: self.stateful_compression, max_blobs: self.max_blobs },
            snos,
            prover: ProverSettings { atlantic: AtlanticConfig::new(atlantic_url, api_key) },
            l1: L1Settings {
                settlement: SettlementConfig {
                    rpc_url: l1_rpc_url,
                    core_contract,
                    sidecar_kind: if self.cell_proofs { SidecarKind::Eip7594 } else { SidecarKind::Eip4844 },
                    fees,
                },
                private_key,
                fact_registry,
                confirmations: self.confirmations,
                in_flight_gas_limit: self.in_flight_gas_limit,
            },
        })
    }
}
