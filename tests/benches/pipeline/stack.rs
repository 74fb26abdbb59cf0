//! The servers a benchmark run needs: a Temporal dev server, starknet-devnet, and per run a
//! fresh anvil with the contracts, the in-process local prover and `orchestrator-worker`
//! processes.

use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::U256;
use alloy::signers::local::PrivateKeySigner;
use anyhow::{Context, bail};
use orchestrator_activities::prover::ApiKey;
use orchestrator_activities::prover::local::{
    FactRegistrationConfig, LocalProverConfig, serve_with_shutdown,
};
use orchestrator_activities::settlement::L1PrivateKey;
use orchestrator_activities::settlement::contracts::{
    CoreContractParams, DeployedContracts, InitialState, deploy_contracts,
};
use orchestrator_activities::snos::{InProcessConfig, InProcessRunner};
use orchestrator_activities::source::BlockSource;
use orchestrator_tests::chains::{ChildGuard, Devnet, anvil_bin};
use orchestrator_tests::temporal_bin;
use serde::Serialize;
use starknet_types_core::felt::Felt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use temporalio_sdk::testing::{
    EphemeralExe, LocalServer, LocalWorkflowEnvironmentOptions, WorkflowEnvironment,
};
use url::Url;

/// Key the workers send to the local prover, which checks it.
const PROVER_API_KEY: &str = "local-bench-key";
/// Request timeout of the workers' Starknet RPC client, in seconds.
const RPC_TIMEOUT_SECS: u64 = 10;
/// Time a new worker process gets to connect before the run starts.
const WORKER_STARTUP: Duration = Duration::from_secs(2);

/// L1 settings of a run.
#[derive(Debug, Clone, Serialize)]
pub struct L1Params {
    /// Anvil's interval mining period, in seconds.
    pub block_time_secs: u64,
    /// Whether anvil also mines every transaction at once (`--mixed-mining`).
    pub mixed_mining: bool,
    /// Blocks on top of the including block before a settlement counts as confirmed.
    pub confirmations: u64,
}

/// Returns a free TCP port on 127.0.0.1.
///
/// NOTE: another process may take the port between this call and the server binding it.
fn free_port() -> anyhow::Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("failed to bind a free port")?;
    Ok(listener.local_addr()?.port())
}

/// A Temporal dev server whose address the worker processes can be given.
pub struct Temporal {
    /// Server and client.
    pub env: WorkflowEnvironment<LocalServer>,
    /// `host:port` of the frontend.
    pub address: String,
}

impl Temporal {
    /// Starts the dev server with a SQLite file in WAL mode, as `scripts/dev-stack.sh` does,
    /// and creates the search attributes.
    pub async fn start(database: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        let options = LocalWorkflowEnvironmentOptions::builder()
            .server_executable(EphemeralExe::ExistingPath(
                temporal_bin().display().to_string(),
            ))
            .port(port)
            .database_filename(database.to_path_buf())
            .extra_args(
                [
                    "--ip",
                    "127.0.0.1",
                    "--sqlite-pragma",
                    "journal_mode=wal",
                    "--sqlite-pragma",
                    "synchronous=normal",
                ]
                .map(String::from)
                .to_vec(),
            )
            .build();
        let env = WorkflowEnvironment::start_local(options)
            .await
            .context("failed to start the Temporal dev server")?;
        orchestrator_starter::ops::setup_search_attributes(env.client()).await?;
        Ok(Self {
            env,
            address: format!("127.0.0.1:{port}"),
        })
    }
}

/// Creates `count` blocks on devnet with one `devnet_mint` each, so every block has a state
/// diff.
pub async fn create_blocks(devnet: &Devnet, count: u64) -> anyhow::Result<()> {
    let first = devnet.block_number().await? + 1;
    for index in first..first + count {
        let address = format!("0x{:064x}", 0x1000 + index);
        devnet
            .mint(&address, u128::from(index) * 1_000)
            .await
            .with_context(|| format!("devnet_mint to {address} failed"))?;
    }
    let latest = devnet.block_number().await?;
    if latest != first + count - 1 {
        bail!(
            "devnet is at block {latest} after {count} mints from block {first}; each mint \
             should make exactly one block"
        );
    }
    Ok(())
}

/// Anvil, the deployed contracts and the local prover of one run.
pub struct L1Stack {
    /// Anvil, killed when the stack is dropped.
    pub anvil: AnvilInstance,
    /// Fact registry and core contract.
    pub contracts: DeployedContracts,
    /// Settlement key (anvil's first account), hex without `0x`.
    pub settlement_key_hex: String,
    /// Local prover URL.
    pub prover_url: Url,
    prover_shutdown: tokio::sync::oneshot::Sender<()>,
    prover_task: tokio::task::JoinHandle<()>,
}

impl L1Stack {
    /// Starts anvil, deploys the contracts bound to the SNOS stand-in's program hash and to
    /// devnet's block 0, and serves the local prover with no delays.
    pub async fn start(params: &L1Params, source: &BlockSource) -> anyhow::Result<Self> {
        let mut anvil = Anvil::at(anvil_bin())
            .host("127.0.0.1")
            .arg("--hardfork")
            .arg("prague")
            .block_time(params.block_time_secs);
        if params.mixed_mining {
            anvil = anvil.arg("--mixed-mining");
        }
        let anvil = anvil.try_spawn().context("failed to start anvil")?;
        let keys = anvil.keys();
        if keys.len() < 2 {
            bail!("anvil funded {} accounts; the run needs two", keys.len());
        }
        let settlement_key_hex = hex::encode(keys[0].to_bytes());
        let settlement_key = L1PrivateKey::parse(&settlement_key_hex, "anvil account 0")?;
        let prover_signer = PrivateKeySigner::from_signing_key(keys[1].clone().into());

        let genesis = source.block_header(0).await?;
        let program_hash = InProcessRunner::new(InProcessConfig::default())?
            .program_hash()
            .await?;
        let contract_params = CoreContractParams {
            program_hash: felt_to_u256(program_hash),
            aggregator_program_hash: U256::ZERO,
            config_hash: U256::ZERO,
            initial_state: InitialState {
                block_number: Some(0),
                state_root: felt_to_u256(genesis.new_root),
                block_hash: felt_to_u256(genesis.hash),
            },
        };
        let contracts =
            deploy_contracts(anvil.endpoint_url(), &settlement_key, &contract_params).await?;

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let prover_url: Url = format!("http://{}", listener.local_addr()?).parse()?;
        let config = LocalProverConfig {
            received_delay: Duration::ZERO,
            in_progress_delay: Duration::ZERO,
            api_key: Some(ApiKey::new(PROVER_API_KEY, "bench")?),
            fact_registration: Some(FactRegistrationConfig {
                rpc_url: anvil.endpoint_url(),
                signer: prover_signer,
                registry: contracts.fact_registry,
            }),
            ..LocalProverConfig::default()
        };
        let (prover_shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let prover_task = tokio::spawn(async move {
            let stopped = async move {
                let _ = stopped.await;
            };
            if let Err(error) = serve_with_shutdown(listener, config, stopped).await {
                eprintln!("local prover failed: {error}");
            }
        });
        Ok(Self {
            anvil,
            contracts,
            settlement_key_hex,
            prover_url,
            prover_shutdown,
            prover_task,
        })
    }

    /// Stops the local prover. Anvil stops when the stack is dropped.
    pub async fn stop(self) {
        let _ = self.prover_shutdown.send(());
        let _ = self.prover_task.await;
    }
}

fn felt_to_u256(felt: Felt) -> U256 {
    U256::from_be_bytes(felt.to_bytes_be())
}

/// Everything a worker process is configured with.
pub struct WorkerSpec<'a> {
    /// The `orchestrator-worker` binary.
    pub binary: &'a Path,
    /// Temporal frontend `host:port`.
    pub temporal_address: &'a str,
    /// Chain id of the run.
    pub chain_id: &'a str,
    /// Devnet JSON-RPC URL.
    pub devnet_url: &'a Url,
    /// L1 stack of the run.
    pub l1: &'a L1Stack,
    /// Confirmations the worker waits for.
    pub confirmations: u64,
    /// Artifact store URL.
    pub artifact_store: &'a str,
    /// Folder for the worker logs.
    pub log_dir: &'a Path,
}

/// A running `orchestrator-worker` process, killed when dropped.
pub struct WorkerProcess {
    process: ChildGuard,
    /// Process id, for reading its memory use.
    pub pid: u32,
    /// File with the process's output.
    pub log_path: PathBuf,
}

impl WorkerProcess {
    /// Starts worker number `index` with the settings in `spec` and checks it is still
    /// running after [`WORKER_STARTUP`].
    pub async fn spawn(spec: &WorkerSpec<'_>, index: usize) -> anyhow::Result<Self> {
        let log_path = spec
            .log_dir
            .join(format!("worker-{}-{index}.log", spec.chain_id));
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("failed to create {}", log_path.display()))?;
        let child = Command::new(spec.binary)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::var_os("HOME").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("TEMPORAL_ADDRESS", spec.temporal_address)
            .env("ORCHESTRATOR_CHAIN_ID", spec.chain_id)
            .env(
                "MADARA_ORCHESTRATOR_MADARA_RPC_URL",
                spec.devnet_url.as_str(),
            )
            .env(
                "ORCHESTRATOR_RPC_TIMEOUT_SECS",
                RPC_TIMEOUT_SECS.to_string(),
            )
            .env(
                "MADARA_ORCHESTRATOR_ETHEREUM_SETTLEMENT_RPC_URL",
                spec.l1.anvil.endpoint(),
            )
            .env(
                "MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY",
                &spec.l1.settlement_key_hex,
            )
            .env(
                "MADARA_ORCHESTRATOR_L1_CORE_CONTRACT_ADDRESS",
                spec.l1.contracts.core_contract.to_string(),
            )
            .env(
                "ORCHESTRATOR_FACT_REGISTRY_ADDRESS",
                spec.l1.contracts.fact_registry.to_string(),
            )
            .env(
                "MADARA_ORCHESTRATOR_ATLANTIC_SERVICE_URL",
                spec.l1.prover_url.as_str(),
            )
            .env("MADARA_ORCHESTRATOR_ATLANTIC_API_KEY", PROVER_API_KEY)
            .env("ORCHESTRATOR_ARTIFACT_STORE", spec.artifact_store)
            .env(
                "ORCHESTRATOR_L1_CONFIRMATIONS",
                spec.confirmations.to_string(),
            )
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("failed to start {}", spec.binary.display()))?;
        let pid = child.id();
        let mut process = ChildGuard::new("orchestrator-worker", child);
        tokio::time::sleep(WORKER_STARTUP).await;
        if let Some(status) = process.exit_status() {
            bail!(
                "orchestrator-worker exited with {status}; see {}",
                log_path.display()
            );
        }
        Ok(Self {
            process,
            pid,
            log_path,
        })
    }

    /// Returns an error when the process has exited.
    pub fn check_running(&mut self) -> anyhow::Result<()> {
        match self.process.exit_status() {
            Some(status) => bail!(
                "orchestrator-worker (pid {}) exited with {status}; see {}",
                self.pid,
                self.log_path.display()
            ),
            None => Ok(()),
        }
    }
}
