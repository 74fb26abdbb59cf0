//! The pipeline activities: implementations of the declarations in
//! `orchestrator_workflows::activities`, wired to the block source, the artifact store, the
//! SNOS runner, the prover and the settlement client.
//!
//! Every activity is idempotent, because Temporal may run it more than once:
//! - DA and SNOS write artifacts under keys fixed by chain and block, and reuse an artifact
//!   already stored with the same hash;
//! - the prover submission looks up the block's dedup id before posting;
//! - the settlement send reads the core contract first and sends nothing for a settled block,
//!   and a replacement reuses the recorded nonce;
//! - the settlement send records the signed transaction as a heartbeat detail before
//!   broadcasting it, and a retry resumes that transaction instead of signing at a new nonce.

pub mod config;
mod errors;

pub use config::{L1Settings, PipelineConfig, ProverSettings};

use crate::da::{self, DaLayout, NoNonces};
use crate::prover::{self, AtlanticClient, QueryKey, api::QueryStatus};
use crate::settlement::{self, SettlementClient};
use crate::source::{BlockSource, SourceError};
use crate::store::{ArtifactStore, artifact_key};
use crate::telemetry::{self, ActivityTelemetry};
use alloy::primitives::B256;
use errors::permanent;
use orchestrator_workflows::activities::{BlockRef, ProverPollInput, SnosInput, definitions};
use orchestrator_workflows::types::{
    AlertInput, ArtifactRef, ConfirmInput, ConfirmOutcome, DaEncoding, DaOutput, FactCheckInput,
    FactCheckOutput, FollowerPoll, FollowerPollInput, L1Attempt, ProverStatus, ProverSubmitInput,
    SendOutcome, SettleInput, SettlementOutput,
    SnosOutput,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use temporalio_client::{ActivityIdentifier, RpcOptions};
use temporalio_common::protos::TaskToken;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use tracing::{info, warn};

/// The real activities, shared by all activity tasks of a worker.
pub struct PipelineActivitiesImpl {
    config: PipelineConfig,
    source: BlockSource,
    store: ArtifactStore,
    prover: AtlanticClient,
    settlement: SettlementClient,
    /// Same account with a fixed gas limit, for blocks whose predecessor is still in flight:
    /// gas estimation runs on the latest L1 state, where the contract would still reject them.
    settlement_in_flight: SettlementClient,
    snos: crate::snos::ConfiguredRunner,
}

impl std::fmt::Debug for PipelineActivitiesImpl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PipelineActivitiesImpl").field("config", &self.config).finish_non_exhaustive()
    }
}

impl PipelineActivitiesImpl {
    /// Builds the activities from a validated configuration.
    pub fn new(config: PipelineConfig) -> anyhow::Result<Self> {
        let source = BlockSource::new(config.madara_rpc_url.clone(), config.rpc_timeout);
        let store = ArtifactStore::from_url(&config.artifact_store)?;
        let prover = AtlanticClient::new(config.prover.atlantic.clone())?;
        let settlement = SettlementClient::new(config.l1.settlement.clone(), config.l1.private_key.clone());
        let mut in_flight_config = config.l1.settlement.clone();
        in_flight_config.fees.gas_limit = Some(config.l1.in_flight_gas_limit);
        let settlement_in_flight = SettlementClient::new(in_flight_config, config.l1.private_key.clone());
        let snos = crate::snos::ConfiguredRunner::new(config.snos.clone())?;
        Ok(Self { config, source, store, prover, settlement, settlement_in_flight, snos })
    }

    fn check_chain(&self, chain_id: &str) -> Result<(), ActivityError> {
        if chain_id == self.config.chain_id {
            return Ok(());
        }
        Err(permanent(
            format!(
                "this worker serves chain {} but the workflow is for chain {chain_id}; run a \
                 worker with ORCHESTRATOR_CHAIN_ID={chain_id}",
                self.config.chain_id
            ),
            "ChainMismatch",
        ))
    }

    async fn load(&self, artifact: &ArtifactRef) -> Result<Vec<u8>, ActivityError> {
        self.store.get(artifact).await.map_err(|e| {
            let retryable = e.is_retryable();
            errors::failure(e.to_string(), e.failure_type(), retryable)
        })
    }

    async fn save(&self, key: String, bytes: Vec<u8>) -> Result<ArtifactRef, ActivityError> {
        self.store.put(&key, bytes).await.map_err(|e| {
            let retryable = e.is_retryable();
            errors::failure(e.to_string(), e.failure_type(), retryable)
        })
    }

    async fn load_blobs(&self, refs: &[ArtifactRef]) -> Result<Vec<da::Blob>, ActivityError> {
        let mut blobs = Vec::with_capacity(refs.len());
        for artifact in refs {
            let bytes = self.load(artifact).await?;
            blobs.push(da::Blob::from_bytes(&bytes).map_err(|e| permanent(e, "InvalidBlob"))?);
        }
        Ok(blobs)
    }

    async fn load_program_output(&self, artifact: &ArtifactRef) -> Result<settlement::ProgramOutput, ActivityError> {
        let bytes = self.load(artifact).await?;
        let text = String::from_utf8(bytes).map_err(|e| permanent(e, "InvalidProgramOutput"))?;
        settlement::ProgramOutput::parse(&text).map_err(|e| permanent(e, "InvalidProgramOutput"))
    }

    async fn prepare_update(&self, input_output: &ArtifactRef, blobs: &[ArtifactRef]) -> Result<settlement::StateUpdate, ActivityError> {
        let output = self.load_program_output(input_output).await?;
        let blobs = self.load_blobs(blobs).await?;
        let blobs = blobs.iter().map(|b| alloy::eips::eip4844::Blob::from_slice(b.as_bytes())).collect();
        settlement::StateUpdate::prepare(output, blobs, self.config.l1.settlement.sidecar_kind)
            .map_err(|e| permanent(format!("blobs do not match the program output: {e}"), "BlobMismatch"))
    }
}

fn source_error(error: SourceError) -> ActivityError {
    let retryable = error.is_retryable();
    errors::failure(error.to_string(), "BlockSource", retryable)
}

fn settlement_error(error: settlement::SettlementError) -> ActivityError {
    let retryable = error.is_retryable();
    errors::failure(error.to_string(), "Settlement", retryable)
}

fn attempt_of(sent: &settlement::SentTx) -> L1Attempt {
    L1Attempt {
        tx_hash: format!("{:#x}", sent.tx_hash),
        nonce: sent.nonce,
        max_fee_per_gas: sent.fees.max_fee_per_gas,
        max_priority_fee_per_gas: sent.fees.max_priority_fee_per_gas,
        max_fee_per_blob_gas: sent.fees.max_fee_per_blob_gas,
        sent_at_ms: 0,
    }
}

fn parse_tx_hash(text: &str) -> Result<B256, ActivityError> {
    text.parse().map_err(|e| permanent(format!("invalid transaction hash {text:?}: {e}"), "InvalidInput"))
}

/// Rebuilds the transaction to replace from its workflow record. The gas limit is not recorded,
/// so the replacement takes the fresh estimate.
fn previous_tx(previous: &L1Attempt) -> Result<settlement::SentTx, ActivityError> {
    Ok(settlement::SentTx {
        tx_hash: parse_tx_hash(&previous.tx_hash)?,
        nonce: previous.nonce,
        fees: settlement::TxFees {
            max_fee_per_gas: previous.max_fee_per_gas,
            max_priority_fee_per_gas: previous.max_priority_fee_per_gas,
            max_fee_per_blob_gas: previous.max_fee_per_blob_gas,
            ..Default::default()
        },
    })
}

fn sent_outcome(input: &SettleInput, sent: &settlement::SentTx) -> SendOutcome {
    info!(
        chain_id = %input.chain_id,
        block_number = input.block_number,
        tx_hash = %sent.tx_hash,
        nonce = sent.nonce,
        "settlement transaction sent"
    );
    SendOutcome::Sent(attempt_of(sent))
}

/// Returns the transaction that an earlier attempt of `settle_send` signed, from the heartbeat
/// details it recorded before broadcasting, or `None` on a first attempt.
fn recorded_send(ctx: &ActivityContext) -> Result<Option<settlement::SentTx>, ActivityError> {
    ctx.heartbeat_details()
        .deserialize::<settlement::SentTx>()
        .map_err(|e| {
            permanent(
                format!(
                    "heartbeat details of the previous settle_send attempt are not a recorded \
                     transaction: {e}; check the settlement account's pending transactions \
                     before settling this block again"
                ),
                "InvalidHeartbeatDetails",
            )
        })
}

/// Returns `dropped` when no transaction of the sender is mined at that nonce yet, so a resend
/// fills the gap the dropped transaction left. Otherwise `None`: the pending nonce is used.
async fn reusable_nonce(
    client: &settlement::SettlementClient,
    dropped: u64,
) -> Result<Option<u64>, ActivityError> {
    let next_mined = client.latest_nonce().await.map_err(settlement_error)?;
    Ok((next_mined <= dropped).then_some(dropped))
}

/// Interval between two heartbeats of a long activity. The SDK throttles what it sends to 0.8
/// of the attempt's heartbeat timeout, so a short interval costs no extra requests.
const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(5);

/// Runs `work` and records an empty heartbeat every [`HEARTBEAT_INTERVAL`] until it finishes.
/// Then a worker that dies mid-attempt is noticed at the heartbeat timeout.
///
/// Heartbeats go out while `work` awaits, so CPU-heavy steps inside it must run on a blocking
/// thread (the SNOS runner does).
async fn with_heartbeats<T>(ctx: &ActivityContext, work: impl Future<Output = T>) -> T {
    let beat = async {
        let mut interval = tokio::time::interval(HEARTBEAT_INTERVAL);
        loop {
            interval.tick().await;
            if let Err(error) = ctx.record_heartbeat(()).await {
                warn!(%error, activity = %ctx.info().activity_type, "recording a heartbeat failed");
            }
        }
    };
    tokio::pin!(work);
    tokio::select! {
        output = &mut work => output,
        _ = beat => unreachable!("the heartbeat loop never ends"),
    }
}

/// Records the signed transaction as the activity's heartbeat details and waits until the
/// Temporal server has stored them, so that a retry after a crash during the broadcast finds
/// the transaction. On failure nothing is broadcast.
///
/// `ActivityContext::record_heartbeat` keeps the details for the attempt's failure report but
/// does not wait for the server. SDK core 0.10 sends the first heartbeat of an attempt in the
/// background and throttles later ones to 0.8 of the heartbeat timeout, or 30 s without one.
/// So the details also go in an acknowledged `RecordActivityTaskHeartbeat` call through the
/// worker's client, which the broadcast waits for.
///
/// The server keeps only the latest details, so any other heartbeat that `settle_send` sends
/// must carry the recorded transaction forward.
async fn record_signed(
    ctx: &ActivityContext,
    sent: &settlement::SentTx,
) -> Result<(), ActivityError> {
    ctx.record_heartbeat(*sent).await.map_err(|e| {
        permanent(
            format!(
                "encoding transaction {} as heartbeat details failed: {e}",
                sent.tx_hash
            ),
            "HeartbeatEncoding",
        )
    })?;
    if ctx.info().is_local {
        // A local activity has no heartbeat details on the server, so its retries start afresh.
        return Ok(());
    }
    // NOTE: `ActivityContext::client` panics when the worker was not built from a Temporal
    // client. The worker binary always builds it from one.
    let task_token = TaskToken::from(ctx.info().task_token.clone());
    ctx.client()
        .get_async_activity_handle(ActivityIdentifier::from_task_token(task_token))
        .heartbeat(Some(*sent), RpcOptions::default())
        .await
        .map_err(|e| {
            errors::failure(
                format!(
                    "recording signed transaction {} (nonce {}) in the Temporal server failed: \
                     {e}; it was not broadcast, and the next attempt signs it again at the \
                     same nonce",
                    sent.tx_hash, sent.nonce
                ),
                "HeartbeatFailed",
                true,
            )
        })?;
    Ok(())
}

/// Handles a broadcast rejected with "nonce too low": the nonce was mined, maybe by this
/// update's own transaction. Returns the transaction if the node has it, `AlreadySettled` if the
/// contract stores the block, and otherwise a retryable failure. The retry then finds the nonce
/// mined and signs a new transaction at the pending nonce.
async fn resolve_nonce_consumed(
    client: &SettlementClient,
    update: &settlement::StateUpdate,
    signed: &settlement::SignedUpdate,
    sender: alloy::primitives::Address,
    nonce: u64,
) -> Result<SendOutcome, ActivityError> {
    if client
        .is_transaction_known(signed.tx_hash)
        .await
        .map_err(settlement_error)?
    {
        return Ok(SendOutcome::Sent(attempt_of(&signed.sent())));
    }
    let block_number = update.program_output().new_block_number();
    let state = client.read_state().await.map_err(settlement_error)?;
    if state
        .block_number
        .is_some_and(|settled| settled >= block_number)
    {
        info!(
            block_number,
            nonce, "nonce used by another transaction and the block is settled"
        );
        return Ok(SendOutcome::AlreadySettled);
    }
    Err(errors::failure(
        format!(
            "nonce {nonce} of {sender} was used by another transaction and block {block_number} is \
             not settled; the next attempt signs a new transaction at the pending nonce"
        ),
        "SettlementNonceUsed",
        true,
    ))
}

// The macro adds one associated constant per activity; the worker registers the whole set.
#[allow(dead_code)]
#[activities]
impl PipelineActivitiesImpl {
    #[activity(definition = definitions::DaEncode)]
    async fn da_encode(self: Arc<Self>, ctx: ActivityContext, block: BlockRef) -> Result<DaOutput, ActivityError> {
        let (chain_id, number) = (block.chain_id.clone(), block.block_number);
        let observer = ActivityTelemetry::new("da_encode", &ctx, &chain_id, Some(number));
        let heartbeat_ctx = ctx.clone();
        let work = with_heartbeats(&heartbeat_ctx, self.run_da_encode(ctx, block));
        observer.observe_with(work, |_| telemetry::record_l2_block_seen(&chain_id, number)).await
    }

    async fn run_da_encode(self: Arc<Self>, _ctx: ActivityContext, block: BlockRef) -> Result<DaOutput, ActivityError> {
        self.check_chain(&block.chain_id)?;
        let number = block.block_number;
        let header = self.source.block_header(number).await.map_err(source_error)?;
        let update = self.source.state_update(number).await.map_err(source_error)?;
        let mut layout = DaLayout::for_starknet_version(&header.starknet_version)
            .map_err(|e| permanent(e, "UnsupportedStarknetVersion"))?;
        layout.stateful_compression &= self.config.da.stateful_compression;
        let encoding = DaEncoding {
            starknet_version: header.starknet_version.clone(),
            format: match layout.encoding {
                da::Encoding::V2 => "v2",
                da::Encoding::Legacy => "legacy",
            }
            .to_string(),
            stateful_compression: layout.stateful_compression,
            stateful_compression_enabled: self.config.da.stateful_compression,
            stateless_compression: layout.stateless_compression,
        };

        let mut state_update = update;
        if layout.stateful_compression {
            let reader = self.source.state_at(number.saturating_sub(1));
            state_update = da::stateful::compress_stateful(&state_update, &reader)
                .await
                .map_err(|e| errors::failure(e.to_string(), "StatefulCompression", e.is_retryable()))?;
        }
        let felts = match layout.encoding {
            da::Encoding::V2 => da::state_diff_to_felts(&state_update.state_diff, layout, &NoNonces),
            da::Encoding::Legacy => {
                let mut nonces = BTreeMap::new();
                for contract in da::encode::contracts_needing_nonce(&state_update.state_diff) {
                    let nonce = self.source.nonce_at(number, contract).await.map_err(source_error)?;
                    nonces.insert(contract, nonce);
                }
                da::state_diff_to_felts(&state_update.state_diff, layout, &nonces)
            }
        }
        .map_err(|e| permanent(e, "DaEncoding"))?;
        let blobs = da::felts_to_blobs(&felts, self.config.da.max_blobs).map_err(|e| permanent(e, "DaEncoding"))?;

        let mut refs = Vec::with_capacity(blobs.len());
        let mut versioned_hashes = Vec::with_capacity(blobs.len());
        for (index, blob) in blobs.iter().enumerate() {
            let commitment = da::kzg::commitment(blob).map_err(|e| permanent(e, "Kzg"))?;
            versioned_hashes.push(format!("0x{}", hex::encode(da::kzg::versioned_hash(&commitment))));
            let key = artifact_key(&block.chain_id, number, &format!("blob-{}.bin", index + 1));
            refs.push(self.save(key, blob.as_bytes().to_vec()).await?);
        }
        info!(chain_id = %block.chain_id, block_number = number, felts = felts.len(), blobs = blobs.len(), "encoded state diff");
        Ok(DaOutput { blobs: refs, versioned_hashes, felt_count: felts.len() as u64, encoding: Some(encoding) })
    }

    #[activity(definition = definitions::SnosRun)]
    async fn snos_run(self: Arc<Self>, ctx: ActivityContext, input: SnosInput) -> Result<SnosOutput, ActivityError> {
        let observer = ActivityTelemetry::new("snos_run", &ctx, &input.block.chain_id, Some(input.block.block_number));
        let work = async {
            self.check_chain(&input.block.chain_id)?;
            snos_stage::run(&self, input).await
        };
        observer.observe(with_heartbeats(&ctx, work)).await
    }

    #[activity(definition = definitions::ProverSubmit)]
    async fn prover_submit(self: Arc<Self>, ctx: ActivityContext, input: ProverSubmitInput) -> Result<String, ActivityError> {
        let observer = ActivityTelemetry::new("prover_submit", &ctx, &self.config.chain_id, None);
        observer.observe_with(self.run_prover_submit(input), |query_id| telemetry::record_prover_submitted(query_id)).await
    }

    async fn run_prover_submit(self: Arc<Self>, input: ProverSubmitInput) -> Result<String, ActivityError> {
        let pie = self.load(&input.pie).await?;
        let submitted = self
            .prover
            .submit_pie(pie, &QueryKey::new(input.dedup_id.clone()))
            .await
            .map_err(|e| errors::failure(e.to_string(), e.failure_type(), e.is_retryable()))?;
        info!(dedup_id = %input.dedup_id, query_id = %submitted.query_id, reused = submitted.reused, "prover query submitted");
        Ok(submitted.query_id)
    }

    #[activity(definition = definitions::ProverPoll)]
    async fn prover_poll(self: Arc<Self>, ctx: ActivityContext, input: ProverPollInput) -> Result<ProverStatus, ActivityError> {
        let observer = ActivityTelemetry::new("prover_poll", &ctx, &self.config.chain_id, None);
        let query_id = input.query_id.clone();
        let chain_id = self.config.chain_id.clone();
        observer
            .observe_with(self.run_prover_poll(input), |status| telemetry::record_prover_status(&chain_id, &query_id, status))
            .await
    }

    async fn run_prover_poll(self: Arc<Self>, input: ProverPollInput) -> Result<ProverStatus, ActivityError> {
        let query = self
            .prover
            .get_query(&input.query_id)
            .await
            .map_err(|e| errors::failure(e.to_string(), e.failure_type(), e.is_retryable()))?;
        Ok(match query.status {
            QueryStatus::Done => ProverStatus::Done,
            QueryStatus::Failed => ProverStatus::Failed(
                query.error_reason.clone().unwrap_or_else(|| "the prover gave no reason".to_string()),
            ),
            QueryStatus::Received | QueryStatus::InProgress | QueryStatus::Unknown => ProverStatus::InProgress,
        })
    }

    #[activity(definition = definitions::FactCheck)]
    async fn fact_check(self: Arc<Self>, ctx: ActivityContext, input: FactCheckInput) -> Result<FactCheckOutput, ActivityError> {
        let observer = ActivityTelemetry::new("fact_check", &ctx, &input.chain_id, None);
        observer.observe(self.run_fact_check(input)).await
    }

    async fn run_fact_check(self: Arc<Self>, input: FactCheckInput) -> Result<FactCheckOutput, ActivityError> {
        self.check_chain(&input.chain_id)?;
        let pie = self.load(&input.pie).await?;
        let info = prover::compute_fact_info_from_zip(&pie).map_err(|e| permanent(e, "InvalidPie"))?;
        let registered = prover::is_fact_registered(&self.config.l1.settlement.rpc_url, self.config.l1.fact_registry, info.fact)
            .await
            .map_err(|e| errors::failure(e.to_string(), "FactRegistry", e.is_retryable()))?;
        Ok(FactCheckOutput { fact: format!("{:#x}", info.fact), registered })
    }

    /// Signs the block's state update, records the signed transaction as a heartbeat detail,
    /// then broadcasts it. A retry that finds the record resumes that transaction (see
    /// [`SettlementClient::resume`]) instead of signing a second one at the next nonce.
    #[activity(definition = definitions::SettleSend)]
    pub async fn settle_send(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: SettleInput,
    ) -> Result<SendOutcome, ActivityError> {
        let (chain_id, number) = (input.chain_id.clone(), input.block_number);
        let observer = ActivityTelemetry::new("settle_send", &ctx, &chain_id, Some(number));
        observer
            .observe_with(self.run_settle_send(ctx, input), |outcome| telemetry::record_send_outcome(&chain_id, number, outcome))
            .await
    }

    async fn run_settle_send(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: SettleInput,
    ) -> Result<SendOutcome, ActivityError> {
        self.check_chain(&input.chain_id)?;
        let update = self
            .prepare_update(&input.program_output, &input.blobs)
            .await?;
        let state = self
            .settlement
            .read_state()
            .await
            .map_err(settlement_error)?;
        let predecessor_mined = match state.block_number {
            Some(settled) => settled + 1 >= input.block_number,
            None => input.block_number == 0,
        };
        let client = if predecessor_mined {
            &self.settlement
        } else {
            &self.settlement_in_flight
        };
        let raised;
        let client = match input.max_fee_wei.as_deref() {
            None => client,
            Some(text) => {
                let cap = text.parse::<u128>().map_err(|_| {
                    permanent(
                        format!(
                            "fee cap {text:?} raised for block {} is not a decimal number of \
                             wei; send raise_fee_cap again with digits only",
                            input.block_number
                        ),
                        "InvalidFeeCap",
                    )
                })?;
                raised = client.with_fee_cap(cap);
                &raised
            }
        };

        let outcome = match recorded_send(&ctx)? {
            Some(recorded) => {
                info!(
                    chain_id = %input.chain_id,
                    block_number = input.block_number,
                    attempt = ctx.info().attempt,
                    tx_hash = %recorded.tx_hash,
                    nonce = recorded.nonce,
                    "resuming the settlement transaction of the previous attempt"
                );
                match client
                    .resume(&update, &recorded)
                    .await
                    .map_err(settlement_error)?
                {
                    settlement::ResumeOutcome::Recorded(sent) => {
                        return Ok(sent_outcome(&input, &sent));
                    }
                    settlement::ResumeOutcome::Signed(outcome) => outcome,
                }
            }
            None => match &input.replace {
                None => {
                    let nonce = match input.resend_nonce {
                        Some(dropped) => reusable_nonce(client, dropped).await?,
                        None => None,
                    };
                    client.sign_update(&update, nonce).await
                }
                Some(previous) => {
                    client
                        .sign_replacement(&update, &previous_tx(previous)?)
                        .await
                }
            }
            .map_err(settlement_error)?,
        };
        let signed = match outcome {
            settlement::SignOutcome::Signed(signed) => signed,
            settlement::SignOutcome::AlreadySettled { .. } => {
                return Ok(SendOutcome::AlreadySettled);
            }
            settlement::SignOutcome::FeeCapExceeded(exceeded) => {
                return Ok(SendOutcome::FeeCapExceeded {
                    required_wei: exceeded.max_total_fee_wei.to_string(),
                    cap_wei: exceeded.cap_wei.to_string(),
                });
            }
        };

        record_signed(&ctx, &signed.sent()).await?;
        match client.broadcast(&signed).await {
            Ok(sent) => Ok(sent_outcome(&input, &sent)),
            Err(settlement::SettlementError::NonceConsumed { sender, nonce }) => {
                resolve_nonce_consumed(client, &update, &signed, sender, nonce).await
            }
            Err(error) => Err(settlement_error(error)),
        }
    }

    #[activity(definition = definitions::SettleConfirm)]
    async fn settle_confirm(self: Arc<Self>, ctx: ActivityContext, input: ConfirmInput) -> Result<ConfirmOutcome, ActivityError> {
        let (chain_id, number) = (input.chain_id.clone(), input.block_number);
        let observer = ActivityTelemetry::new("settle_confirm", &ctx, &chain_id, Some(number));
        observer
            .observe_with(self.run_settle_confirm(input), |outcome| telemetry::record_confirm_outcome(&chain_id, number, outcome))
            .await
    }

    async fn run_settle_confirm(self: Arc<Self>, input: ConfirmInput) -> Result<ConfirmOutcome, ActivityError> {
        self.check_chain(&input.chain_id)?;
        let output = self.load_program_output(&input.program_output).await?;
        let mut all_dropped = true;
        let mut confirmed = None;
        // Newest first: a replacement is the likeliest to be mined.
        for hash in input.tx_hashes.iter().rev() {
            match self
                .settlement
                .check_confirmation(parse_tx_hash(hash)?, self.config.l1.confirmations)
                .await
                .map_err(settlement_error)?
            {
                settlement::Confirmation::Confirmed(tx) => {
                    confirmed = Some((hash.clone(), tx));
                    all_dropped = false;
                    break;
                }
                settlement::Confirmation::Reverted { reason, .. } => {
                    // The contract's previous-block check: an earlier block's update had not
                    // been applied when this one executed.
                    if reason.contains("INVALID_PREV_BLOCK_NUMBER") {
                        return Ok(ConfirmOutcome::RevertedBehind(reason));
                    }
                    return Ok(ConfirmOutcome::Reverted(reason));
                }
                settlement::Confirmation::Pending { .. } => all_dropped = false,
                settlement::Confirmation::Dropped => {}
            }
        }
        let verification = self.settlement.verify(&output).await.map_err(settlement_error)?;
        let settled = matches!(verification, settlement::Verification::Settled | settlement::Verification::Superseded { .. });
        if let settlement::Verification::Mismatch { expected, found } = &verification {
            // Behind the previous block: earlier updates in flight are not mined yet.
            let behind = found.block_number.is_none_or(|settled| settled + 1 < input.block_number);
            if behind {
                return self.pending_or_queued(input.nonce).await;
            }
            return Err(permanent(
                format!("core contract holds {found:?}, neither the previous nor the new state {expected:?} of the program output"),
                "StateMismatch",
            ));
        }
        match (confirmed, settled) {
            (Some((tx_hash, tx)), true) => Ok(ConfirmOutcome::Confirmed(SettlementOutput {
                tx_hash,
                l1_block: tx.block_number,
                gas_used: tx.gas_used,
                blob_gas_used: tx.blob_gas_used,
                fee_paid_wei: tx.total_fee_wei.to_string(),
            })),
            // Settled by a transaction this run did not record (an earlier run's): no cost known.
            (None, true) if input.tx_hashes.is_empty() || all_dropped => Ok(ConfirmOutcome::Confirmed(SettlementOutput {
                tx_hash: String::new(),
                l1_block: 0,
                gas_used: 0,
                blob_gas_used: 0,
                fee_paid_wei: "0".to_string(),
            })),
            (_, _) if all_dropped && !input.tx_hashes.is_empty() => Ok(ConfirmOutcome::Dropped),
            (Some(_), false) => Ok(ConfirmOutcome::Pending),
            (None, _) => self.pending_or_queued(input.nonce).await,
        }
    }

    /// Reports a transaction that is not mined as queued when an earlier nonce of the sender
    /// is not mined either, so the workflow does not replace it for being stuck.
    async fn pending_or_queued(&self, nonce: Option<u64>) -> Result<ConfirmOutcome, ActivityError> {
        let Some(nonce) = nonce else {
            return Ok(ConfirmOutcome::Pending);
        };
        let next_nonce = self.settlement.latest_nonce().await.map_err(settlement_error)?;
        if next_nonce < nonce {
            return Ok(ConfirmOutcome::Queued { next_nonce });
        }
        Ok(ConfirmOutcome::Pending)
    }

    #[activity(definition = definitions::L1SettledBlock)]
    async fn l1_settled_block(self: Arc<Self>, ctx: ActivityContext, chain_id: String) -> Result<Option<u64>, ActivityError> {
        let observer = ActivityTelemetry::new("l1_settled_block", &ctx, &chain_id, None);
        let read = async {
            self.check_chain(&chain_id)?;
            let state = self.settlement.read_state().await.map_err(settlement_error)?;
            Ok(state.block_number)
        };
        observer
            .observe_with(read, |settled: &Option<u64>| {
                if let Some(settled) = *settled {
                    telemetry::record_l1_settled_block(&chain_id, settled);
                }
            })
            .await
    }

    #[activity(definition = definitions::FollowerPoll)]
    async fn follower_poll(
        self: Arc<Self>,
        ctx: ActivityContext,
        input: FollowerPollInput,
    ) -> Result<FollowerPoll, ActivityError> {
        let observer = ActivityTelemetry::new("follower_poll", &ctx, &input.chain_id, None);
        let chain_id = input.chain_id.clone();
        let work = async {
            self.check_chain(&input.chain_id)?;
            follower::poll(&self.source, &self.settlement, &input).await
        };
        observer
            .observe_with(work, |poll: &FollowerPoll| {
                telemetry::record_l2_block_seen(&chain_id, poll.l2_latest);
                if let Some(settled) = poll.l1_settled {
                    telemetry::record_l1_settled_block(&chain_id, settled);
                }
            })
            .await
    }

    #[activity(definition = definitions::RaiseAlert)]
    async fn raise_alert(self: Arc<Self>, _ctx: ActivityContext, input: AlertInput) -> Result<(), ActivityError> {
        let block = input.block_number.map_or_else(|| "-".to_string(), |b| b.to_string());
        tracing::error!(
            chain_id = %input.chain_id,
            block_number = %block,
            alert = %input.kind,
            "{}",
            input.message
        );
        if input.kind == "proving_deadline"
            && let Some(block) = input.block_number
        {
            telemetry::proving_deadline_exceeded(&input.chain_id, block);
        }
        Ok(())
    }
}

mod follower;
mod snos_stage;
