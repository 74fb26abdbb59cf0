//! The whole pipeline on the local stack: a Temporal dev server, anvil with the contracts,
//! starknet-devnet, the local prover with fact registration, and a worker running the real
//! activities. Signed transfers and a contract deployment make blocks on devnet, and the
//! blocks must settle on anvil in order, once each.
//!
//! Needs starknet-devnet (`scripts/install-devnet.sh`) besides the tools that
//! `scripts/install-tools.sh` installs.

use alloy::consensus::Transaction as _;
use alloy::network::TransactionResponse as _;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::signers::local::PrivateKeySigner;
use orchestrator_activities::da::kzg::versioned_hash;
use orchestrator_activities::pipeline::config::DaSettings;
use orchestrator_activities::pipeline::{
    L1Settings, PipelineActivitiesImpl, PipelineConfig, ProverSettings,
};
use orchestrator_activities::prover::local::{
    FactRegistrationConfig, LocalProverConfig, LocalProverStats, serve_with_shutdown,
};
use orchestrator_activities::prover::{ApiKey, AtlanticConfig};
use orchestrator_activities::settlement::contracts::{
    CoreContractParams, DeployedContracts, InitialState, deploy_contracts,
};
use orchestrator_activities::settlement::{
    FeePolicy, L1PrivateKey, ProgramOutput, SettlementClient, SettlementConfig, SidecarKind,
    decode_update_state_calldata,
};
use orchestrator_activities::snos::{
    InProcessConfig, InProcessRunner, SnosRunnerConfig,
};
use orchestrator_activities::source::BlockSource;
use orchestrator_activities::store::ArtifactStore;
use orchestrator_starter::follow::{self, FollowerStart};
use orchestrator_starter::load::{self, LoadKind, LoadPlan};
use orchestrator_starter::ops::{self, StartOutcome};
use orchestrator_tests::chains::{Devnet, devnet_bin, spawn_anvil};
use orchestrator_tests::{spawn_worker, start_dev_server};
use orchestrator_workflows::ChainFollower;
use orchestrator_workflows::types::{
    BlockProgress, BlockStatus, FollowerInput, FollowerStatus, PipelineSettings, Stage,
    block_workflow_id, follower_workflow_id,
};
use starknet_types_core::felt::Felt;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use temporalio_client::{Client, WorkflowCountOptions};
use url::Url;

/// Chain id of the workflows and of the worker.
const CHAIN: &str = "e2e";
/// Number of L2 blocks created and settled.
const BLOCKS: u64 = 20;
/// Maximum time all blocks may take to settle.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(600);
/// Key the worker sends to the local prover, which checks it.
const PROVER_API_KEY: &str = "local-end-to-end-key";
/// Settlement transactions in flight at once.
const MAX_IN_FLIGHT: u32 = 4;
/// Request timeout of the worker's Starknet RPC client.
const RPC_TIMEOUT: Duration = Duration::from_secs(10);

/// Default settings with short poll intervals and retry delays, as in
/// `scripts/local-settings.json`.
fn fast_settings() -> PipelineSettings {
    let mut settings = PipelineSettings::default();
    for stage in [
        &mut settings.data_availability,
        &mut settings.snos,
        &mut settings.proving.activity,
        &mut settings.settlement.activity,
    ] {
        stage.initial_retry_interval_ms = 200;
        stage.max_retry_interval_secs = 2;
    }
    settings.proving.poll_interval_secs = 1;
    settings.proving.deadline_secs = 600;
    settings.settlement.confirm_poll_interval_secs = 1;
    settings.settlement.fee_cap_poll_interval_secs = 10;
    settings.settlement.stuck_timeout_secs = 60;
    settings
}

fn felt_to_u256(felt: Felt) -> U256 {
    U256::from_be_bytes(felt.to_bytes_be())
}

/// Computes the program hash of the embedded SNOS stand-in, which the core contract binds
/// facts to.
async fn standin_program_hash() -> U256 {
    let runner =
        InProcessRunner::new(InProcessConfig::default()).expect("load the SNOS stand-in program");
    let program_hash = runner.program_hash().await.expect("program hash of the SNOS stand-in");
    felt_to_u256(program_hash)
}

/// The in-process local prover; [`LocalProver::stop`] shuts it down.
struct LocalProver {
    url: Url,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl LocalProver {
    /// Serves the prover on a free port, registering every fact in `registry` with `signer`.
    async fn start(l1_url: Url, signer: PrivateKeySigner, registry: Address) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port for the local prover");
        let address = listener.local_addr().expect("prover listener address");
        let config = LocalProverConfig {
            received_delay: Duration::from_millis(100),
            in_progress_delay: Duration::from_millis(300),
            api_key: Some(ApiKey::new(PROVER_API_KEY, "test").expect("non-blank key")),
            fact_registration: Some(FactRegistrationConfig {
                rpc_url: l1_url,
                signer,
                registry,
            }),
            ..LocalProverConfig::default()
        };
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let stopped = async move {
                let _ = stopped.await;
            };
            if let Err(error) = serve_with_shutdown(listener, config, stopped).await {
                panic!("local prover failed: {error}");
            }
        });
        let url = format!("http://{address}").parse().expect("prover URL");
        Self {
            url,
            shutdown,
            task,
        }
    }

    async fn stats(&self) -> LocalProverStats {
        let url = self.url.join("/_local/stats").expect("stats URL");
        reqwest::get(url)
            .await
            .expect("GET /_local/stats")
            .json()
            .await
            .expect("stats JSON")
    }

    async fn stop(self) {
        let _ = self.shutdown.send(());
        self.task.await.expect("local prover task");
    }
}

/// A successful or reverted transaction to the core contract, decoded.
#[derive(Debug)]
struct CoreTransaction {
    l1_block: u64,
    tx_hash: B256,
    succeeded: bool,
    output: ProgramOutput,
    blob_versioned_hashes: Vec<B256>,
}

/// Scans every L1 block for transactions to `core` and decodes their `updateStateKzgDA`
/// calldata, in L1 order.
async fn core_transactions(l1: &RootProvider, core: Address) -> Vec<CoreTransaction> {
    let latest = l1.get_block_number().await.expect("eth_blockNumber");
    let mut found = Vec::new();
    for number in 0..=latest {
        let block = l1
            .get_block_by_number(number.into())
            .full()
            .await
            .expect("eth_getBlockByNumber")
            .unwrap_or_else(|| panic!("L1 block {number} not found"));
        for tx in block.transactions.txns() {
            if tx.to() != Some(core) {
                continue;
            }
            let tx_hash = tx.tx_hash();
            let receipt = l1
                .get_transaction_receipt(tx_hash)
                .await
                .expect("eth_getTransactionReceipt")
                .unwrap_or_else(|| panic!("no receipt for mined transaction {tx_hash}"));
            let call = decode_update_state_calldata(tx.input()).unwrap_or_else(|error| {
                panic!(
                    "transaction {tx_hash} to the core contract is not updateStateKzgDA: {error}"
                )
            });
            let output = ProgramOutput::from_words(call.programOutput).unwrap_or_else(|error| {
                panic!("transaction {tx_hash} carries an invalid program output: {error}")
            });
            found.push(CoreTransaction {
                l1_block: number,
                tx_hash,
                succeeded: receipt.status(),
                output,
                blob_versioned_hashes: tx.blob_versioned_hashes().unwrap_or_default().to_vec(),
            });
        }
    }
    found
}

/// Polls every block's status until all are settled, printing each stage change. Fails on a
/// failed block or after [`SETTLE_TIMEOUT`].
async fn wait_until_settled(client: &Client, blocks: std::ops::RangeInclusive<u64>) {
    let started = Instant::now();
    let mut seen: BTreeMap<u64, (Stage, Option<String>)> = BTreeMap::new();
    loop {
        let mut settled = 0;
        for block in blocks.clone() {
            let Ok(status) = ops::block_status(client, CHAIN, block).await else {
                continue;
            };
            let current = (status.stage, status.last_error.clone());
            if seen.get(&block) != Some(&current) {
                println!(
                    "{:>5.1} s  block {block}: {:?}{}",
                    started.elapsed().as_secs_f64(),
                    status.stage,
                    status
                        .last_error
                        .as_deref()
                        .map(|error| format!(" (last error: {error})"))
                        .unwrap_or_default()
                );
                seen.insert(block, current);
            }
            assert_ne!(
                status.stage,
                Stage::Failed,
                "block {block} failed: {status:#?}"
            );
            if status.stage == Stage::Settled {
                settled += 1;
            }
        }
        if settled == blocks.clone().count() {
            println!(
                "all blocks settled after {:.1} s",
                started.elapsed().as_secs_f64()
            );
            return;
        }
        assert!(
            started.elapsed() < SETTLE_TIMEOUT,
            "blocks did not settle within {SETTLE_TIMEOUT:?}; last stages: {seen:#?}"
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Waits until anvil has mined `count` more blocks, so a transaction sent just before would
/// have been included.
async fn wait_for_l1_blocks(l1: &RootProvider, count: u64) {
    let start = l1.get_block_number().await.expect("eth_blockNumber");
    let deadline = Instant::now() + Duration::from_secs(30);
    while l1.get_block_number().await.expect("eth_blockNumber") < start + count {
        assert!(
            Instant::now() < deadline,
            "anvil mined no {count} blocks in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn block_status(client: &Client, block: u64) -> BlockStatus {
    ops::block_status(client, CHAIN, block)
        .await
        .unwrap_or_else(|error| panic!("status of block {block}: {error:#}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_settles_devnet_blocks() {
    let work_dir = tempfile::tempdir().expect("create a temporary directory");

    // Phase 1: the stack. A missing devnet fails the test before any server starts.
    devnet_bin();
    let env = start_dev_server().await;
    let client = env.client().clone();
    let anvil = spawn_anvil();
    let l1_url = anvil.endpoint_url();
    let l1 = RootProvider::new_http(l1_url.clone());
    let devnet = Devnet::spawn(42, 0, &work_dir.path().join("devnet-42.log"))
        .await
        .expect("start starknet-devnet");
    let source = BlockSource::new(devnet.url.clone(), RPC_TIMEOUT);

    let (settlement_key, prover_signer) = anvil_accounts(&anvil);
    let settlement_account = settlement_key.address();
    let prover_account = prover_signer.address();
    let contracts = deploy(&l1_url, &settlement_key, &source).await;
    let prover = LocalProver::start(l1_url.clone(), prover_signer, contracts.fact_registry).await;

    let artifacts_dir = work_dir.path().join("artifacts");
    let artifact_store = format!("file://{}", artifacts_dir.display());
    let settlement_config = SettlementConfig {
        rpc_url: l1_url.clone(),
        core_contract: contracts.core_contract,
        sidecar_kind: SidecarKind::Eip4844,
        fees: FeePolicy::default(),
    };
    let config = PipelineConfig {
        chain_id: CHAIN.to_string(),
        madara_rpc_url: devnet.url.clone(),
        rpc_timeout: RPC_TIMEOUT,
        artifact_store: artifact_store.clone(),
        da: DaSettings {
            stateful_compression: false,
            max_blobs: 6,
        },
        snos: SnosRunnerConfig::default(),
        prover: ProverSettings {
            atlantic: AtlanticConfig::new(
                prover.url.clone(),
                ApiKey::new(PROVER_API_KEY, "test").expect("non-blank key"),
            ),
        },
        l1: L1Settings {
            settlement: settlement_config.clone(),
            private_key: settlement_key.clone(),
            fact_registry: contracts.fact_registry,
            confirmations: 2,
            in_flight_gas_limit: 1_500_000,
        },
    };
    let activities = PipelineActivitiesImpl::new(config).expect("build the pipeline activities");
    let worker = spawn_worker(client.clone(), activities);
    let settlement = SettlementClient::new(settlement_config, settlement_key);

    // Phase 2: blocks made by signed account transactions: transfers, then one contract
    // deployment. Devnet makes one block per transaction.
    let load_account = load::devnet_accounts(&devnet.url)
        .await
        .expect("read devnet's predeployed accounts")
        .into_iter()
        .next()
        .expect("devnet predeploys at least one account");
    let plan = LoadPlan { transfers: BLOCKS - 1, deployments: 1 };
    let sent = load::send_load(&devnet.url, &load_account, plan, |_| {})
        .await
        .expect("send the load transactions");
    let sent_blocks: Vec<u64> = sent.iter().map(|load| load.block_number).collect();
    assert_eq!(
        sent_blocks,
        (1..=BLOCKS).collect::<Vec<_>>(),
        "block of each load transaction"
    );
    assert_eq!(
        devnet.block_number().await.expect("devnet block number"),
        BLOCKS,
        "each transaction should make exactly one devnet block"
    );
    let deployment = sent.last().expect("the deployment");
    assert_eq!(deployment.kind, LoadKind::Deployment, "kind of the last transaction");
    let deploy_update = source
        .state_update(BLOCKS)
        .await
        .expect("state update of the deployment block");
    let deployed: Vec<Felt> = deploy_update
        .state_diff
        .deployed_contracts
        .iter()
        .map(|contract| contract.address)
        .collect();
    assert!(
        deployed.contains(&Felt::from_bytes_be(&deployment.target.to_bytes_be())),
        "deployed contracts of block {BLOCKS}: {deployed:?}"
    );

    let mut l2_hashes = BTreeMap::new();
    for block in 1..=BLOCKS {
        let header = source
            .block_header(block)
            .await
            .expect("devnet block header");
        l2_hashes.insert(block, felt_to_u256(header.hash));
    }

    // The follower starts every block after the one settled at deployment (block 0).
    ops::ensure_sequencer(&client, CHAIN, MAX_IN_FLIGHT)
        .await
        .expect("start the settlement sequencer");
    assert_eq!(
        follow::start_follower(&client, follower_input()).await.expect("start the follower"),
        FollowerStart::Started
    );
    wait_until_settled(&client, 1..=BLOCKS).await;
    let encoding = block_status(&client, 1)
        .await
        .progress
        .da
        .and_then(|da| da.encoding)
        .expect("DA encoding in block 1's status");
    assert_eq!(
        encoding.summary(),
        "v2, stateful off (chain setting)",
        "DA encoding of block 1: {encoding:?}"
    );

    // Phase 3: the L1 state, the settlement transactions and the prover's submissions.
    let state = settlement
        .read_state()
        .await
        .expect("read the core contract");
    assert_eq!(
        state.block_number,
        Some(BLOCKS),
        "core contract block number"
    );
    assert_eq!(
        state.block_hash, l2_hashes[&BLOCKS],
        "core contract block hash"
    );

    let transactions = core_transactions(&l1, contracts.core_contract).await;
    let reverted: Vec<&CoreTransaction> = transactions.iter().filter(|tx| !tx.succeeded).collect();
    let succeeded: Vec<&CoreTransaction> = transactions.iter().filter(|tx| tx.succeeded).collect();
    println!(
        "transactions to the core contract: {} in total, {} successful, {} reverted",
        transactions.len(),
        succeeded.len(),
        reverted.len()
    );
    for tx in &transactions {
        println!(
            "  L1 block {:>4}  {}  L2 block {}  blobs {}  {}",
            tx.l1_block,
            tx.tx_hash,
            tx.output.new_block_number(),
            tx.blob_versioned_hashes.len(),
            if tx.succeeded { "ok" } else { "reverted" }
        );
    }
    assert!(
        reverted.is_empty(),
        "reverted settlement transactions: {reverted:#?}"
    );
    let settled_order: Vec<u64> = succeeded
        .iter()
        .map(|tx| tx.output.new_block_number())
        .collect();
    assert_eq!(
        settled_order,
        (1..=BLOCKS).collect::<Vec<_>>(),
        "L2 blocks of the successful updates, in L1 order"
    );

    for tx in &succeeded {
        let block = tx.output.new_block_number();
        assert_eq!(
            tx.output.new_block_hash(),
            l2_hashes[&block],
            "block hash in the program output of block {block}"
        );
        let expected: Vec<B256> = (0..tx.output.n_blobs())
            .map(|index| B256::from(versioned_hash(&tx.output.commitment(index).0)))
            .collect();
        assert_eq!(
            tx.blob_versioned_hashes, expected,
            "blob versioned hashes of block {block}'s transaction {}",
            tx.tx_hash
        );

        let status = block_status(&client, block).await;
        let recorded = status
            .progress
            .settlement
            .as_ref()
            .unwrap_or_else(|| panic!("block {block} has no settlement output"));
        assert_eq!(
            recorded.tx_hash,
            format!("{:#x}", tx.tx_hash),
            "transaction hash recorded by block {block}"
        );
        assert_eq!(recorded.l1_block, tx.l1_block, "L1 block of block {block}");
        let da = status
            .progress
            .da
            .as_ref()
            .unwrap_or_else(|| panic!("block {block} has no DA output"));
        let sent: Vec<String> = expected.iter().map(|hash| format!("{hash:#x}")).collect();
        assert_eq!(
            da.versioned_hashes, sent,
            "versioned hashes of block {block}'s DA stage"
        );
        assert_eq!(status.l1_attempts.len(), 1, "L1 attempts of block {block}");
    }

    let stats = prover.stats().await;
    println!("local prover: {stats:?}");
    let expected_posts: BTreeMap<String, u64> = (1..=BLOCKS)
        .map(|block| (block_workflow_id(CHAIN, block), 1))
        .collect();
    assert_eq!(
        stats.posts_by_dedup_id, expected_posts,
        "POST /atlantic-query per block"
    );

    // Phase 4: starting settled blocks again does nothing.
    let settlement_nonce = l1
        .get_transaction_count(settlement_account)
        .await
        .expect("settlement account nonce");
    let prover_nonce = l1
        .get_transaction_count(prover_account)
        .await
        .expect("prover account nonce");
    ops::ensure_sequencer(&client, CHAIN, MAX_IN_FLIGHT)
        .await
        .expect("start the settlement sequencer again");
    for block in 1..=BLOCKS {
        let outcome = ops::start_block(
            &client,
            CHAIN,
            block,
            &fast_settings(),
            BlockProgress::default(),
        )
        .await
        .expect("start block again");
        assert_eq!(outcome, StartOutcome::AlreadyDone, "block {block}");
    }
    // A second start attaches to the running follower; a new follower after a terminated one
    // resumes after the settled blocks. Neither starts a block again.
    assert_eq!(
        follow::start_follower(&client, follower_input()).await.expect("start the follower again"),
        FollowerStart::AlreadyRunning
    );
    client
        .get_workflow_handle::<ChainFollower>(follower_workflow_id(CHAIN))
        .terminate(Default::default())
        .await
        .expect("terminate the follower");
    assert_eq!(
        follow::start_follower(&client, follower_input()).await.expect("restart the follower"),
        FollowerStart::Started
    );
    let restarted = wait_for_follower(&client, "a poll after the restart", |s| {
        s.l2_latest == Some(BLOCKS)
    })
    .await;
    assert_eq!(restarted.next_block, Some(BLOCKS + 1), "{restarted:?}");
    assert_eq!(restarted.started, 0, "blocks started by the restarted follower");
    let runs = client
        .count_workflows(
            format!("WorkflowType = 'BlockWorkflow' AND ChainId = '{CHAIN}'"),
            WorkflowCountOptions::default(),
        )
        .await
        .expect("count block workflows")
        .count();
    assert_eq!(runs as u64, BLOCKS, "block workflow runs");
    wait_for_l1_blocks(&l1, 3).await;
    let transactions_after = core_transactions(&l1, contracts.core_contract).await;
    println!(
        "transactions to the core contract after the restart: {}",
        transactions_after.len()
    );
    assert_eq!(
        transactions_after.len(),
        transactions.len(),
        "new transactions to the core contract after starting settled blocks"
    );
    assert_eq!(
        l1.get_transaction_count(settlement_account)
            .await
            .expect("settlement account nonce"),
        settlement_nonce,
        "settlement account nonce after starting settled blocks"
    );
    assert_eq!(
        l1.get_transaction_count(prover_account)
            .await
            .expect("prover account nonce"),
        prover_nonce,
        "prover account nonce after starting settled blocks"
    );
    assert_eq!(
        prover.stats().await.posts_by_dedup_id,
        expected_posts,
        "POST /atlantic-query per block after starting settled blocks"
    );

    // Phase 5: an L2 reorg. Devnet restarts on the same port with another history: blocks
    // 1 to BLOCKS + 1 all empty.
    // NOTE: starknet-devnet 0.10.1 block hashes do not chain. Two histories whose block N has
    // the same number and transaction count give block N the same hash, whatever came before.
    // A history with an empty block 1 and one mint per later block gave block 20 the settled
    // hash here, and the core contract accepted block 21 on top of it. So every block of the
    // new history is empty, unlike the one-transaction blocks that were settled.
    let recorded_hash = recorded_block_hash(&client, &artifact_store, 1).await;
    assert_eq!(
        recorded_hash, l2_hashes[&1],
        "block hash in block 1's stored program output"
    );
    let port = devnet.port;
    drop(devnet);
    let devnet = Devnet::spawn(43, port, &work_dir.path().join("devnet-43.log"))
        .await
        .expect("restart starknet-devnet with another seed on the same port");
    for _ in 1..=BLOCKS + 1 {
        devnet
            .create_block()
            .await
            .expect("devnet_createBlock on the restarted devnet");
    }
    let stopped = wait_for_follower(&client, "a stop after the reorg", |s| s.stopped.is_some()).await;
    let reason = stopped.stopped.clone().expect("stop reason");
    println!("follower after the reorg: {reason}");
    assert!(
        reason.contains("L2 reorg") && reason.contains(&format!("block {BLOCKS}")),
        "stop reason: {reason}"
    );
    assert_eq!(stopped.next_block, Some(BLOCKS + 1), "follower position after the reorg");
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        ops::block_status(&client, CHAIN, BLOCKS + 1).await.is_err(),
        "block {} was started on the reorged chain",
        BLOCKS + 1
    );

    drop(worker);
    prover.stop().await;
    env.shutdown().await.expect("stop the dev server");
    drop(devnet);
    drop(anvil);
}

/// Follower settings of the test: every block after the settled one, polled every second.
fn follower_input() -> FollowerInput {
    FollowerInput {
        chain_id: CHAIN.to_string(),
        settings: fast_settings(),
        next_block: None,
        last_block: None,
        window: 8,
        poll_interval_secs: 1,
        paused: false,
        parent: None,
        started_before: 0,
    }
}

/// Polls the follower's status until `done` holds.
async fn wait_for_follower(
    client: &Client,
    what: &str,
    done: impl Fn(&FollowerStatus) -> bool,
) -> FollowerStatus {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let status = follow::follower_status(client, CHAIN).await;
        if let Ok(status) = &status
            && done(status)
        {
            return status.clone();
        }
        assert!(Instant::now() < deadline, "follower never reached {what}: {status:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Returns the settlement key (anvil's first account) and the prover's key (its second), so
/// fact registrations and state updates never compete for one account's nonces.
fn anvil_accounts(anvil: &AnvilInstance) -> (L1PrivateKey, PrivateKeySigner) {
    let keys = anvil.keys();
    assert!(keys.len() >= 2, "anvil should fund at least two accounts");
    let settlement_key = L1PrivateKey::parse(&hex::encode(keys[0].to_bytes()), "anvil account 0")
        .expect("anvil key 0 is valid");
    let prover_signer = PrivateKeySigner::from_signing_key(keys[1].clone().into());
    (settlement_key, prover_signer)
}

/// Deploys the fact registry and the core contract, bound to the stand-in's program hash and
/// starting from devnet's block 0.
async fn deploy(l1_url: &Url, key: &L1PrivateKey, source: &BlockSource) -> DeployedContracts {
    let genesis = source.block_header(0).await.expect("devnet block 0");
    let params = CoreContractParams {
        program_hash: standin_program_hash().await,
        aggregator_program_hash: U256::ZERO,
        config_hash: U256::ZERO,
        initial_state: InitialState {
            block_number: Some(0),
            state_root: felt_to_u256(genesis.new_root),
            block_hash: felt_to_u256(genesis.hash),
        },
    };
    let contracts = deploy_contracts(l1_url.clone(), key, &params)
        .await
        .expect("deploy the contracts on anvil");
    println!(
        "contracts: fact registry {}, core contract {}; program hash {:#x}",
        contracts.fact_registry, contracts.core_contract, params.program_hash
    );
    contracts
}

/// Reads the new block hash from the program output that block `block`'s SNOS stage stored.
async fn recorded_block_hash(client: &Client, artifact_store: &str, block: u64) -> U256 {
    let status = block_status(client, block).await;
    let snos = status
        .progress
        .snos
        .unwrap_or_else(|| panic!("block {block} has no SNOS output"));
    let store = ArtifactStore::from_url(artifact_store).expect("open the artifact store");
    let bytes = store
        .get(&snos.program_output)
        .await
        .expect("read the stored program output");
    let text = String::from_utf8(bytes).expect("program output is text");
    let output = ProgramOutput::parse(&text).expect("valid stored program output");
    output.new_block_hash()
}
