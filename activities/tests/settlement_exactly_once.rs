//! Exactly-once settlement sends: the `settle_send` activity on an anvil L1, run through the
//! SDK's `ActivityEnvironment` with a fake Temporal server that stores acknowledged heartbeats.
//!
//! A retry is simulated by running the activity again with the heartbeat details that the
//! previous attempt recorded, as the Temporal server hands them to the next attempt. The fake
//! server can reject heartbeats, and can run a hook between the acknowledged heartbeat and the
//! broadcast to change the chain at that moment.
//!
//! Every test starts its own anvil from `ORCHESTRATOR_ANVIL_BIN` (default: the npm
//! `@foundry-rs/anvil-linux-amd64` binary in the orchestrator cache).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::eips::eip4844::{BYTES_PER_BLOB, Blob};
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{Provider, ProviderBuilder, RootProvider};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use futures::future::BoxFuture;
use orchestrator_activities::pipeline::config::DaSettings;
use orchestrator_activities::pipeline::{
    L1Settings, PipelineActivitiesImpl, PipelineConfig, ProverSettings,
};
use orchestrator_activities::prover::{ApiKey, AtlanticConfig};
use orchestrator_activities::settlement::contracts::{
    CoreContractParams, DeployedContracts, FactRegistry, InitialState, deploy_contracts,
    fact_program_hash, state_transition_fact,
};
use orchestrator_activities::settlement::{
    CoreState, FeePolicy, GENESIS_PREV_BLOCK_NUMBER, L1PrivateKey, ProgramOutput, SentTx,
    SettlementClient, SettlementConfig, SidecarKind, SignOutcome, SignedUpdate, StateUpdate,
    open_blob,
};
use orchestrator_activities::snos::SnosRunnerConfig;
use orchestrator_activities::store::{ArtifactStore, artifact_key};
use orchestrator_workflows::types::{L1Attempt, SendOutcome, SettleInput};
use temporalio_client::callback_based::{
    CallbackBasedGrpcService, GrpcRequest, GrpcSuccessResponse,
};
use temporalio_client::tonic::Status;
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions};
use temporalio_sdk::activities::ActivityError;
use temporalio_sdk::testing::{
    ActivityEnvironment, ActivityEnvironmentError, TestActivityInfoOptions,
};
use url::Url;

const DEFAULT_ANVIL_BIN: &str =
    "/root/.cache/orchestrator/npm/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";
const PROGRAM_HASH: U256 = U256::from_limbs([0x05, 0, 0, 0x0100]);
const AGGREGATOR_PROGRAM_HASH: U256 = U256::from_limbs([0x07, 0, 0, 0x0200]);
const CONFIG_HASH: U256 = U256::from_limbs([0x0c, 0, 0, 0x0300]);
const CHAIN_ID: &str = "exactly-once";
const HEARTBEAT_RPC: &str = "RecordActivityTaskHeartbeat";

fn start_anvil() -> AnvilInstance {
    let binary = std::env::var_os("ORCHESTRATOR_ANVIL_BIN")
        .map_or_else(|| PathBuf::from(DEFAULT_ANVIL_BIN), PathBuf::from);
    Anvil::at(&binary)
        .arg("--hardfork")
        .arg("prague")
        .try_spawn()
        .unwrap_or_else(|error| panic!("cannot start anvil at {}: {error}", binary.display()))
}

/// Deterministic pseudo-random 32-byte words: keccak256(tag ‖ index).
fn random_word(tag: &str, index: u64) -> [u8; 32] {
    let mut preimage = tag.as_bytes().to_vec();
    preimage.extend_from_slice(&index.to_be_bytes());
    keccak256(preimage).0
}

/// Returns a felt below 2^248, which is below the Starknet prime.
fn random_felt(tag: &str, index: u64) -> U256 {
    let mut word = random_word(tag, index);
    word[0] = 0;
    U256::from_be_bytes(word)
}

/// Returns a blob of 4096 field elements below 2^254, which is below the BLS12-381 modulus.
fn random_blob(tag: &str) -> Blob {
    let mut bytes = vec![0u8; BYTES_PER_BLOB];
    for (index, element) in bytes.chunks_mut(32).enumerate() {
        let mut word = random_word(tag, index as u64);
        word[0] &= 0x3f;
        element.copy_from_slice(&word);
    }
    Blob::try_from(bytes.as_slice()).expect("blob size")
}

/// Builds the program output of block 0 from genesis whose KZG words match `blobs`.
fn genesis_output(blobs: &[Blob]) -> ProgramOutput {
    let prev = CoreState {
        block_number: None,
        state_root: U256::ZERO,
        block_hash: U256::ZERO,
    };
    let x0 = random_felt("x0", 0);
    let mut words = vec![
        prev.state_root,
        random_felt("root", 0),
        GENESIS_PREV_BLOCK_NUMBER,
        U256::ZERO,
        prev.block_hash,
        random_felt("hash", 0),
        U256::ZERO,
        CONFIG_HASH,
        U256::from(1),
        U256::ZERO,
        x0,
        U256::from(blobs.len()),
    ];
    let openings: Vec<_> = blobs
        .iter()
        .enumerate()
        .map(|(index, blob)| open_blob(blob, B256::from(x0), index + 1).expect("kzg opening"))
        .collect();
    for opening in &openings {
        words.push(U256::from_be_slice(&opening.commitment[24..]));
        words.push(U256::from_be_slice(&opening.commitment[..24]));
    }
    for opening in &openings {
        let y = U256::from_be_bytes(opening.evaluation.0);
        words.push(y & U256::from(u128::MAX));
        words.push(y >> 128);
    }
    // No L2->L1 and no L1->L2 messages.
    words.extend([U256::ZERO, U256::ZERO]);
    ProgramOutput::from_words(words).expect("test output is valid")
}

/// Activity calls and heartbeats seen by one simulated attempt.
#[derive(Debug, Default)]
struct HeartbeatLog {
    /// Details passed to `ActivityContext::record_heartbeat`, in order.
    recorded: Vec<SentTx>,
    /// Details of each acknowledged heartbeat the fake server stored, with whether the L1 node
    /// had that transaction when the heartbeat arrived.
    acknowledged: Vec<(SentTx, bool)>,
}

/// Code the fake Temporal server runs after storing a heartbeat and before it replies, so
/// before the activity broadcasts the recorded transaction.
type Hook = Arc<dyn Fn(SentTx) -> BoxFuture<'static, ()> + Send + Sync>;

/// How one simulated attempt runs.
#[derive(Default)]
struct Attempt {
    /// Attempt number, 1 for the first.
    number: u32,
    /// Heartbeat details of the previous attempt, as the server passes them on.
    details: Option<SentTx>,
    /// Whether the fake server rejects heartbeats.
    reject_heartbeats: bool,
    /// Code to run between the acknowledged heartbeat and the broadcast.
    hook: Option<Hook>,
}

impl Attempt {
    fn first() -> Self {
        Self {
            number: 1,
            ..Self::default()
        }
    }

    fn retry(number: u32, details: SentTx) -> Self {
        Self {
            number,
            details: Some(details),
            ..Self::default()
        }
    }
}

/// Returns a Temporal client whose requests go to an in-process fake server. The server
/// returns an empty message for every request, stores heartbeat details in `log` unless
/// `reject_heartbeats`, and runs `hook` on each stored heartbeat.
async fn fake_temporal_client(
    log: Arc<Mutex<HeartbeatLog>>,
    l1: RootProvider,
    reject_heartbeats: bool,
    hook: Option<Hook>,
) -> Client {
    let service = CallbackBasedGrpcService {
        callback: Arc::new(move |request: GrpcRequest| {
            let log = log.clone();
            let l1 = l1.clone();
            let hook = hook.clone();
            Box::pin(async move {
                if request.rpc == HEARTBEAT_RPC {
                    if reject_heartbeats {
                        return Err(Status::invalid_argument("heartbeat rejected by the test"));
                    }
                    // `record_heartbeat` ran just before this call, with the same details.
                    let details = log
                        .lock()
                        .expect("log lock")
                        .recorded
                        .last()
                        .copied()
                        .expect("the activity recorded details before the acknowledged heartbeat");
                    let known = l1
                        .get_transaction_by_hash(details.tx_hash)
                        .await
                        .expect("eth_getTransactionByHash")
                        .is_some();
                    log.lock()
                        .expect("log lock")
                        .acknowledged
                        .push((details, known));
                    if let Some(hook) = hook {
                        hook(details).await;
                    }
                }
                Ok(GrpcSuccessResponse {
                    headers: Default::default(),
                    proto: Vec::new(),
                })
            }) as BoxFuture<'static, Result<GrpcSuccessResponse, Status>>
        }),
    };
    let target = Url::parse("http://127.0.0.1:7233").expect("url");
    let options = ConnectionOptions::new(target)
        .service_override(service)
        .dns_load_balancing(None)
        .build();
    let connection = Connection::connect(options)
        .await
        .expect("connect to the fake Temporal server");
    Client::new(connection, ClientOptions::new("default").build()).expect("client")
}

/// A local L1 with the contracts deployed, the registered block 0 output, its artifacts in a
/// local store, and the pipeline configuration that settles it.
struct Fixture {
    anvil: AnvilInstance,
    contracts: DeployedContracts,
    client: SettlementClient,
    update: StateUpdate,
    config: PipelineConfig,
    input: SettleInput,
    _store_dir: tempfile::TempDir,
}

impl Fixture {
    async fn start(tag: &str) -> Self {
        let anvil = start_anvil();
        let secret = hex::encode(anvil.first_key().to_bytes());
        let key = L1PrivateKey::parse(&secret, "anvil first key").expect("anvil key is valid");
        let params = CoreContractParams {
            program_hash: PROGRAM_HASH,
            aggregator_program_hash: AGGREGATOR_PROGRAM_HASH,
            config_hash: CONFIG_HASH,
            initial_state: InitialState::default(),
        };
        let contracts = deploy_contracts(anvil.endpoint_url(), &key, &params)
            .await
            .expect("deploy contracts");
        let settlement = SettlementConfig {
            rpc_url: anvil.endpoint_url(),
            core_contract: contracts.core_contract,
            sidecar_kind: SidecarKind::Eip4844,
            fees: FeePolicy::default(),
        };
        let client = SettlementClient::new(settlement.clone(), key.clone());

        let blobs: Vec<Blob> = (0..2)
            .map(|index| random_blob(&format!("{tag}-{index}")))
            .collect();
        let output = genesis_output(&blobs);
        let update = StateUpdate::prepare(output.clone(), blobs.clone(), SidecarKind::Eip4844)
            .expect("blobs match the output");

        let store_dir = tempfile::tempdir().expect("temporary directory");
        let store_url = format!("file://{}", store_dir.path().display());
        let store = ArtifactStore::from_url(&store_url).expect("local store");
        let output_text: String = output
            .words()
            .iter()
            .map(|word| format!("{word:#x}\n"))
            .collect();
        let program_output = store
            .put(
                &artifact_key(CHAIN_ID, 0, "program_output.txt"),
                output_text.into_bytes(),
            )
            .await
            .expect("store program output");
        let mut blob_refs = Vec::new();
        for (index, blob) in blobs.iter().enumerate() {
            let key = artifact_key(CHAIN_ID, 0, &format!("blob-{}.bin", index + 1));
            blob_refs.push(store.put(&key, blob.to_vec()).await.expect("store blob"));
        }

        let unused_url = Url::parse("http://127.0.0.1:9").expect("url");
        let config = PipelineConfig {
            chain_id: CHAIN_ID.to_owned(),
            madara_rpc_url: unused_url.clone(),
            rpc_timeout: Duration::from_secs(5),
            artifact_store: store_url,
            da: DaSettings {
                stateful_compression: false,
                max_blobs: 6,
            },
            snos: SnosRunnerConfig::default(),
            prover: ProverSettings {
                atlantic: AtlanticConfig::new(
                    unused_url,
                    ApiKey::new("unused", "test").expect("api key"),
                ),
            },
            l1: L1Settings {
                settlement,
                private_key: key,
                fact_registry: contracts.fact_registry,
                confirmations: 0,
                in_flight_gas_limit: 1_500_000,
            },
        };
        let input = SettleInput {
            chain_id: CHAIN_ID.to_owned(),
            block_number: 0,
            program_output,
            blobs: blob_refs,
            replace: None,
            max_fee_wei: None,
            resend_nonce: None,
        };
        let fixture = Self {
            anvil,
            contracts,
            client,
            update,
            config,
            input,
            _store_dir: store_dir,
        };
        fixture.register(&output, &params).await;
        // Blocks are mined only on request from here on, so that the transaction pool and the
        // chain are in a known state at every step of a test.
        fixture.set_automine(false).await;
        fixture
    }

    async fn register(&self, output: &ProgramOutput, params: &CoreContractParams) {
        let program_hash =
            fact_program_hash(params.program_hash, params.aggregator_program_hash, output);
        let fact = state_transition_fact(program_hash, output);
        let receipt = FactRegistry::new(self.contracts.fact_registry, self.wallet_provider())
            .registerFact(fact)
            .send()
            .await
            .expect("send registerFact")
            .get_receipt()
            .await
            .expect("registerFact receipt");
        assert!(receipt.status(), "registerFact reverted");
    }

    fn wallet_provider(&self) -> impl Provider {
        let signer = PrivateKeySigner::from(self.anvil.first_key().clone());
        ProviderBuilder::new()
            .wallet(EthereumWallet::from(signer))
            .connect_http(self.anvil.endpoint_url())
    }

    fn provider(&self) -> RootProvider {
        self.client.provider().clone()
    }

    async fn mine(&self, blocks: u64) {
        let () = self
            .provider()
            .raw_request("anvil_mine".into(), (U256::from(blocks),))
            .await
            .expect("anvil_mine");
    }

    async fn set_automine(&self, enabled: bool) {
        let () = self
            .provider()
            .raw_request("evm_setAutomine".into(), (enabled,))
            .await
            .expect("evm_setAutomine");
    }

    async fn drop_transaction(&self, tx_hash: B256) {
        let _: Option<B256> = self
            .provider()
            .raw_request("anvil_dropTransaction".into(), (tx_hash,))
            .await
            .expect("anvil_dropTransaction");
        assert!(!self.is_known(tx_hash).await, "{tx_hash} left the pool");
    }

    async fn is_known(&self, tx_hash: B256) -> bool {
        self.client
            .is_transaction_known(tx_hash)
            .await
            .expect("eth_getTransactionByHash")
    }

    async fn pending_nonce(&self) -> u64 {
        self.client.pending_nonce().await.expect("pending nonce")
    }

    async fn latest_nonce(&self) -> u64 {
        self.client.latest_nonce().await.expect("latest nonce")
    }

    async fn settled_block(&self) -> Option<u64> {
        self.client
            .read_state()
            .await
            .expect("read state")
            .block_number
    }

    /// Sends 1 wei from the settlement account to itself at `nonce`: a transaction that is not
    /// the state update but uses its nonce.
    async fn send_transfer(&self, nonce: u64) -> B256 {
        let sender: Address = self.client.sender();
        let request = TransactionRequest::default()
            .with_from(sender)
            .with_to(sender)
            .with_value(U256::from(1))
            .with_nonce(nonce);
        *self
            .wallet_provider()
            .send_transaction(request)
            .await
            .expect("send transfer")
            .tx_hash()
    }

    /// Signs the state update at the pending nonce without broadcasting it.
    async fn sign(&self) -> SignedUpdate {
        match self.client.sign_update(&self.update, None).await {
            Ok(SignOutcome::Signed(signed)) => signed,
            other => panic!("expected a signed update, got {other:?}"),
        }
    }

    /// Runs `settle_send` once as `attempt`, returning its result and what it recorded.
    async fn run(
        &self,
        input: SettleInput,
        attempt: Attempt,
    ) -> (Result<SendOutcome, ActivityEnvironmentError>, HeartbeatLog) {
        let log = Arc::new(Mutex::new(HeartbeatLog::default()));
        let client = fake_temporal_client(
            log.clone(),
            self.provider(),
            attempt.reject_heartbeats,
            attempt.hook,
        )
        .await;
        let activities =
            PipelineActivitiesImpl::new(self.config.clone()).expect("pipeline activities");
        let recorder = log.clone();
        let mut builder = ActivityEnvironment::builder_with_default()
            .register_activities(activities)
            .on_heartbeat(move |details| {
                let details = details
                    .downcast_ref::<SentTx>()
                    .copied()
                    .expect("heartbeat details are a SentTx");
                recorder.lock().expect("log lock").recorded.push(details);
            });
        if let Some(details) = attempt.details {
            builder = builder
                .heartbeat_details(details)
                .expect("encode heartbeat details");
        }
        let environment = builder
            .info(
                TestActivityInfoOptions::builder()
                    .attempt(attempt.number)
                    .activity_type("settle_send")
                    .build(),
            )
            .client(client)
            .build();
        let result = environment
            .run(PipelineActivitiesImpl::settle_send, input)
            .await;
        let log = std::mem::take(&mut *log.lock().expect("log lock"));
        (result, log)
    }
}

fn expect_sent(result: Result<SendOutcome, ActivityEnvironmentError>) -> L1Attempt {
    match result {
        Ok(SendOutcome::Sent(attempt)) => attempt,
        other => panic!("expected a sent transaction, got {other:?}"),
    }
}

/// Returns the failure type, whether Temporal may retry it, and the message.
fn expect_failure(result: Result<SendOutcome, ActivityEnvironmentError>) -> (String, bool, String) {
    match result {
        Err(ActivityEnvironmentError::Activity(ActivityError::Application(failure))) => (
            failure.type_name().unwrap_or_default().to_owned(),
            !failure.is_non_retryable(),
            failure.source_error().to_string(),
        ),
        other => panic!("expected an application failure, got {other:?}"),
    }
}

fn hash_of(attempt: &L1Attempt) -> B256 {
    attempt.tx_hash.parse().expect("transaction hash")
}

#[tokio::test]
async fn first_attempt_records_before_broadcast() {
    let fixture = Fixture::start("record").await;
    let nonce = fixture.pending_nonce().await;

    let (result, log) = fixture.run(fixture.input.clone(), Attempt::first()).await;
    let sent = expect_sent(result);

    assert_eq!(sent.nonce, nonce);
    assert_eq!(log.recorded.len(), 1, "one heartbeat recorded");
    assert_eq!(log.recorded[0].tx_hash, hash_of(&sent));
    assert_eq!(log.recorded[0].nonce, nonce);
    assert_eq!(log.recorded[0].fees.max_fee_per_gas, sent.max_fee_per_gas);
    assert_eq!(log.acknowledged.len(), 1, "one heartbeat acknowledged");
    assert_eq!(log.acknowledged[0].0, log.recorded[0]);
    assert!(
        !log.acknowledged[0].1,
        "the server stored the heartbeat before the node had the transaction"
    );
    assert!(fixture.is_known(hash_of(&sent)).await);
    assert_eq!(fixture.pending_nonce().await, nonce + 1);
}

#[tokio::test]
async fn retry_after_lost_result_keeps_hash() {
    let fixture = Fixture::start("lost-result").await;
    let nonce = fixture.pending_nonce().await;
    let (result, first_log) = fixture.run(fixture.input.clone(), Attempt::first()).await;
    let first = expect_sent(result);

    // The worker died before Temporal recorded the result: the server retries the activity
    // with the heartbeat details of the first attempt.
    let (result, log) = fixture
        .run(
            fixture.input.clone(),
            Attempt::retry(2, first_log.recorded[0]),
        )
        .await;
    let retried = expect_sent(result);

    assert_eq!(retried.tx_hash, first.tx_hash);
    assert_eq!(retried.nonce, first.nonce);
    assert!(log.recorded.is_empty(), "the retry signed nothing");
    assert_eq!(
        fixture.pending_nonce().await,
        nonce + 1,
        "one transaction sent"
    );

    fixture.mine(1).await;
    assert_eq!(
        fixture.latest_nonce().await,
        nonce + 1,
        "one transaction mined"
    );
    assert_eq!(fixture.settled_block().await, Some(0));

    // A retry after the transaction is mined still reports it.
    let (result, log) = fixture
        .run(
            fixture.input.clone(),
            Attempt::retry(3, first_log.recorded[0]),
        )
        .await;
    assert_eq!(expect_sent(result).tx_hash, first.tx_hash);
    assert!(log.recorded.is_empty(), "the retry signed nothing");
    assert_eq!(fixture.pending_nonce().await, nonce + 1);
}

#[tokio::test]
async fn retry_after_crash_before_broadcast_sends_recorded() {
    let fixture = Fixture::start("crash-before-broadcast").await;
    // The first attempt signed and recorded the transaction, then died before broadcasting.
    let signed = fixture.sign().await;
    assert!(!fixture.is_known(signed.tx_hash).await);

    let (result, log) = fixture
        .run(fixture.input.clone(), Attempt::retry(2, signed.sent()))
        .await;
    let sent = expect_sent(result);

    assert_eq!(
        hash_of(&sent),
        signed.tx_hash,
        "same nonce and fees give the same hash"
    );
    assert_eq!(sent.nonce, signed.nonce);
    assert_eq!(log.recorded, vec![signed.sent()]);
    assert!(fixture.is_known(signed.tx_hash).await);
    assert_eq!(fixture.pending_nonce().await, signed.nonce + 1);
}

#[tokio::test]
async fn retry_after_drop_resends_same_nonce() {
    let fixture = Fixture::start("dropped").await;
    let (result, first_log) = fixture.run(fixture.input.clone(), Attempt::first()).await;
    let first = expect_sent(result);
    fixture.drop_transaction(hash_of(&first)).await;

    // Fees unchanged: the retry broadcasts the very same transaction again.
    let (result, log) = fixture
        .run(
            fixture.input.clone(),
            Attempt::retry(2, first_log.recorded[0]),
        )
        .await;
    let again = expect_sent(result);
    assert_eq!(again.tx_hash, first.tx_hash);
    assert_eq!(again.nonce, first.nonce);
    assert_eq!(log.recorded, first_log.recorded);
    assert!(fixture.is_known(hash_of(&first)).await);

    // Dropped again, then the base fee rises: the retry signs at the same nonce with the
    // higher fees, so it is a new transaction that can only replace the first.
    fixture.drop_transaction(hash_of(&first)).await;
    let high_base_fee = U256::from(first.max_fee_per_gas.max(5_000_000_000));
    let () = fixture
        .provider()
        .raw_request("anvil_setNextBlockBaseFeePerGas".into(), (high_base_fee,))
        .await
        .expect("anvil_setNextBlockBaseFeePerGas");
    fixture.mine(1).await;
    assert_eq!(
        fixture.latest_nonce().await,
        first.nonce,
        "nothing was mined"
    );

    let (result, log) = fixture
        .run(
            fixture.input.clone(),
            Attempt::retry(3, first_log.recorded[0]),
        )
        .await;
    let raised = expect_sent(result);
    assert_eq!(raised.nonce, first.nonce);
    assert_ne!(raised.tx_hash, first.tx_hash);
    assert!(raised.max_fee_per_gas > first.max_fee_per_gas);
    assert_eq!(log.recorded.len(), 1);
    assert_eq!(log.recorded[0].tx_hash, hash_of(&raised));

    fixture.mine(1).await;
    assert_eq!(
        fixture.latest_nonce().await,
        first.nonce + 1,
        "one transaction mined"
    );
    assert_eq!(fixture.settled_block().await, Some(0));
}

#[tokio::test]
async fn retry_after_fee_drop_resends_recorded() {
    let fixture = Fixture::start("fees-fell").await;
    let (result, first_log) = fixture.run(fixture.input.clone(), Attempt::first()).await;
    let first = expect_sent(result);
    fixture.drop_transaction(hash_of(&first)).await;
    // Empty blocks lower the base fee, so a fresh estimate is below the recorded fees.
    fixture.mine(3).await;
    assert_eq!(
        fixture.latest_nonce().await,
        first.nonce,
        "nothing was mined"
    );

    let (result, _) = fixture
        .run(
            fixture.input.clone(),
            Attempt::retry(2, first_log.recorded[0]),
        )
        .await;
    let again = expect_sent(result);
    assert_eq!(again.tx_hash, first.tx_hash, "the recorded fees are kept");
    assert_eq!(again.nonce, first.nonce);
}

#[tokio::test]
async fn retry_with_foreign_pending_tx_keeps_nonce() {
    let fixture = Fixture::start("foreign-pending").await;
    // The recorded transaction never reached the node, and a cheap transfer of the account
    // waits in the pool at its nonce.
    let signed = fixture.sign().await;
    let sender = fixture.client.sender();
    let request = TransactionRequest::default()
        .with_from(sender)
        .with_to(sender)
        .with_value(U256::from(1))
        .with_nonce(signed.nonce)
        .with_gas_limit(21_000)
        .with_max_fee_per_gas(signed.fees.max_fee_per_gas / 2)
        .with_max_priority_fee_per_gas(1);
    let _pending = fixture
        .wallet_provider()
        .send_transaction(request)
        .await
        .expect("send transfer");
    assert_eq!(fixture.pending_nonce().await, signed.nonce + 1);

    let (result, _) = fixture
        .run(fixture.input.clone(), Attempt::retry(2, signed.sent()))
        .await;
    let sent = expect_sent(result);
    assert_eq!(sent.nonce, signed.nonce, "the update replaces the transfer");
    assert_eq!(hash_of(&sent), signed.tx_hash);
    assert_eq!(
        fixture.pending_nonce().await,
        signed.nonce + 1,
        "no second nonce used"
    );

    fixture.mine(1).await;
    assert_eq!(fixture.latest_nonce().await, signed.nonce + 1);
    assert_eq!(fixture.settled_block().await, Some(0));
}

#[tokio::test]
async fn rejected_heartbeat_blocks_broadcast() {
    let fixture = Fixture::start("heartbeat-rejected").await;
    let nonce = fixture.pending_nonce().await;
    let attempt = Attempt {
        reject_heartbeats: true,
        ..Attempt::first()
    };
    let (result, log) = fixture.run(fixture.input.clone(), attempt).await;
    let (failure_type, retryable, message) = expect_failure(result);

    assert_eq!(failure_type, "HeartbeatFailed");
    assert!(retryable, "a retry may reach the server: {message}");
    assert_eq!(log.recorded.len(), 1);
    assert!(
        !fixture.is_known(log.recorded[0].tx_hash).await,
        "not broadcast"
    );
    assert_eq!(fixture.pending_nonce().await, nonce, "nothing was sent");

    // The SDK reports the recorded details with the failure, so the retry gets them.
    let (result, _) = fixture
        .run(fixture.input.clone(), Attempt::retry(2, log.recorded[0]))
        .await;
    let sent = expect_sent(result);
    assert_eq!(hash_of(&sent), log.recorded[0].tx_hash);
    assert_eq!(fixture.pending_nonce().await, nonce + 1);
}

#[tokio::test]
async fn retry_after_foreign_tx_signs_at_pending_nonce() {
    let fixture = Fixture::start("foreign-retry").await;
    // The first attempt signed and recorded the update, then died before broadcasting, and
    // another transaction of the account was mined at that nonce.
    let signed = fixture.sign().await;
    fixture.send_transfer(signed.nonce).await;
    fixture.mine(1).await;
    assert_eq!(fixture.latest_nonce().await, signed.nonce + 1);

    let (result, _) = fixture
        .run(fixture.input.clone(), Attempt::retry(2, signed.sent()))
        .await;
    let sent = expect_sent(result);
    assert_eq!(sent.nonce, signed.nonce + 1);
    assert_ne!(hash_of(&sent), signed.tx_hash);

    fixture.mine(1).await;
    assert_eq!(fixture.settled_block().await, Some(0));
}

#[tokio::test]
async fn retry_after_settling_tx_is_already_settled() {
    let fixture = Fixture::start("settled-retry").await;
    // The recorded transaction never reached the node, but another transaction of this update
    // at the same nonce (one whose record was lost) was mined.
    let signed = fixture.sign().await;
    let other = fixture
        .client
        .replace(&fixture.update, &signed.sent())
        .await
        .expect("replace");
    assert!(matches!(
        other,
        orchestrator_activities::settlement::SendOutcome::Sent(_)
    ));
    fixture.mine(1).await;
    assert_eq!(fixture.settled_block().await, Some(0));
    let nonce = fixture.pending_nonce().await;

    let (result, log) = fixture
        .run(fixture.input.clone(), Attempt::retry(2, signed.sent()))
        .await;
    assert!(
        matches!(result, Ok(SendOutcome::AlreadySettled)),
        "expected AlreadySettled, got {result:?}"
    );
    assert!(log.recorded.is_empty(), "nothing signed");
    assert_eq!(fixture.pending_nonce().await, nonce, "nothing sent");
}

#[tokio::test]
async fn nonce_too_low_unsettled_is_retryable() {
    let fixture = Fixture::start("nonce-too-low").await;
    // Between the heartbeat and the broadcast, another transaction of the account is mined
    // at the signed nonce.
    let hook_fixture_url = fixture.anvil.endpoint_url();
    let signer = PrivateKeySigner::from(fixture.anvil.first_key().clone());
    let hook: Hook = Arc::new(move |recorded: SentTx| {
        let url = hook_fixture_url.clone();
        let signer = signer.clone();
        Box::pin(async move {
            let provider = ProviderBuilder::new()
                .wallet(EthereumWallet::from(signer.clone()))
                .connect_http(url);
            let request = TransactionRequest::default()
                .with_to(signer.address())
                .with_value(U256::from(1))
                .with_nonce(recorded.nonce);
            let _pending = provider
                .send_transaction(request)
                .await
                .expect("send transfer");
            let () = provider
                .raw_request("anvil_mine".into(), (U256::from(1),))
                .await
                .expect("anvil_mine");
        })
    });
    let attempt = Attempt {
        hook: Some(hook),
        ..Attempt::first()
    };
    let (result, log) = fixture.run(fixture.input.clone(), attempt).await;
    let (failure_type, retryable, message) = expect_failure(result);

    assert_eq!(failure_type, "SettlementNonceUsed");
    assert!(
        retryable,
        "the next attempt can sign at the pending nonce: {message}"
    );
    assert!(message.contains("not settled"), "message: {message}");
    assert_eq!(fixture.settled_block().await, None);

    // The retry finds the recorded nonce mined by the transfer and signs at the next one.
    let recorded = log.recorded[0];
    let (result, _) = fixture
        .run(fixture.input.clone(), Attempt::retry(2, recorded))
        .await;
    let sent = expect_sent(result);
    assert_eq!(sent.nonce, recorded.nonce + 1);
    fixture.mine(1).await;
    assert_eq!(fixture.settled_block().await, Some(0));
}

#[tokio::test]
async fn nonce_too_low_settled_is_already_settled() {
    let fixture = Fixture::start("nonce-too-low-settled").await;
    // Between the heartbeat and the broadcast, another transaction of this update (higher
    // fees, same nonce) is mined and settles the block.
    let settlement = fixture.client.clone();
    let update = Arc::new(fixture.update.clone());
    let hook: Hook = Arc::new(move |recorded: SentTx| {
        let settlement = settlement.clone();
        let update = update.clone();
        Box::pin(async move {
            let outcome = settlement
                .replace(&update, &recorded)
                .await
                .expect("send a competing transaction");
            assert!(matches!(
                outcome,
                orchestrator_activities::settlement::SendOutcome::Sent(_)
            ));
            let () = settlement
                .provider()
                .raw_request("anvil_mine".into(), (U256::from(1),))
                .await
                .expect("anvil_mine");
        })
    });
    let attempt = Attempt {
        hook: Some(hook),
        ..Attempt::first()
    };
    let (result, log) = fixture.run(fixture.input.clone(), attempt).await;

    assert!(
        matches!(result, Ok(SendOutcome::AlreadySettled)),
        "expected AlreadySettled, got {result:?}"
    );
    assert_eq!(fixture.settled_block().await, Some(0));
    assert!(
        !fixture.is_known(log.recorded[0].tx_hash).await,
        "the signed one was rejected"
    );
}

#[tokio::test]
async fn replacement_of_foreign_nonce_is_retryable() {
    let fixture = Fixture::start("replace-foreign").await;
    let (result, _) = fixture.run(fixture.input.clone(), Attempt::first()).await;
    let first = expect_sent(result);
    // The first transaction leaves the pool and a transfer takes its nonce.
    fixture.drop_transaction(hash_of(&first)).await;
    fixture.send_transfer(first.nonce).await;
    fixture.mine(1).await;

    let input = SettleInput {
        replace: Some(first.clone()),
        ..fixture.input.clone()
    };
    let (result, log) = fixture.run(input.clone(), Attempt::first()).await;
    let (failure_type, retryable, message) = expect_failure(result);
    assert_eq!(failure_type, "SettlementNonceUsed");
    assert!(retryable, "message: {message}");
    assert_eq!(log.recorded[0].nonce, first.nonce);

    let (result, _) = fixture.run(input, Attempt::retry(2, log.recorded[0])).await;
    let sent = expect_sent(result);
    assert_eq!(sent.nonce, first.nonce + 1);
}

#[tokio::test]
async fn replacement_after_settlement_is_already_settled() {
    let fixture = Fixture::start("replace-settled").await;
    let (result, _) = fixture.run(fixture.input.clone(), Attempt::first()).await;
    let first = expect_sent(result);
    fixture.mine(1).await;
    let nonce = fixture.pending_nonce().await;

    let input = SettleInput {
        replace: Some(first),
        ..fixture.input.clone()
    };
    let (result, log) = fixture.run(input, Attempt::first()).await;
    assert!(
        matches!(result, Ok(SendOutcome::AlreadySettled)),
        "expected AlreadySettled, got {result:?}"
    );
    assert!(log.recorded.is_empty(), "nothing signed");
    assert_eq!(fixture.pending_nonce().await, nonce);
}

#[tokio::test]
async fn broadcast_of_known_tx_returns_same_hash() {
    let fixture = Fixture::start("already-known").await;
    let signed = fixture.sign().await;
    let first = fixture.client.broadcast(&signed).await.expect("broadcast");
    let again = fixture
        .client
        .broadcast(&signed)
        .await
        .expect("rebroadcast");

    assert_eq!(first, signed.sent());
    assert_eq!(again, first);
    assert_eq!(fixture.pending_nonce().await, signed.nonce + 1);
}

#[tokio::test]
async fn raised_fee_cap_lets_a_capped_block_send() {
    let mut fixture = Fixture::start("raised-cap").await;
    fixture.config.l1.settlement.fees.max_total_fee_wei = 1;
    let nonce = fixture.pending_nonce().await;

    let (result, log) = fixture.run(fixture.input.clone(), Attempt::first()).await;
    match result {
        Ok(SendOutcome::FeeCapExceeded { cap_wei, .. }) => assert_eq!(cap_wei, "1"),
        other => panic!("expected FeeCapExceeded under a 1 wei cap, got {other:?}"),
    }
    assert!(log.recorded.is_empty(), "nothing is signed above the cap");
    assert_eq!(fixture.pending_nonce().await, nonce, "nothing is sent above the cap");

    let raised = SettleInput {
        max_fee_wei: Some(u128::MAX.to_string()),
        ..fixture.input.clone()
    };
    let sent = expect_sent(fixture.run(raised, Attempt::first()).await.0);
    assert_eq!(sent.nonce, nonce);

    let invalid = SettleInput {
        max_fee_wei: Some("1e18".to_string()),
        ..fixture.input.clone()
    };
    let (failure_type, retryable, message) =
        expect_failure(fixture.run(invalid, Attempt::first()).await.0);
    assert_eq!(failure_type, "InvalidFeeCap");
    assert!(!retryable);
    assert!(message.contains("1e18"), "message: {message}");
}
