//! `BlockWorkflow`: one durable workflow per L2 block, from state diff to verified settlement.
//!
//! The stages run in order: data availability, SNOS, proving, settlement. Each stage's output is
//! kept in the workflow state (exposed by the `status` query), so a later run started by
//! `retry` can skip what a failed run already finished. Settlement order across blocks is the
//! settlement sequencer's job (see [`crate::sequencer`]): a block requests its turn, sends its
//! transaction when granted, and reports back.

use crate::activities::{BlockRef, PipelineActivities, ProverPollInput, SnosInput};
use crate::attributes::{self, stage_update};
use crate::sequencer::SettlementSequencer;
use crate::types::{
    AlertInput, BlockInput, BlockProgress, BlockStatus, ConfirmInput, ConfirmOutcome, FactCheckInput,
    L1Attempt, ProofOutput, ProverStatus, ProverSubmitInput, SendOutcome, SettleInput,
    SettlementOutput, Stage, StageSettings, StageTiming, block_workflow_id,
    sequencer_workflow_id,
};
use std::time::{Duration, UNIX_EPOCH};
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ActivityOptions, SignalWorkflowOptions, SyncWorkflowContext, WorkflowContext,
    WorkflowContextView, WorkflowResult,
};
use temporalio_common::{RetryPolicy, error::ApplicationFailure};

/// Patch id of the alert raised when a prover query passes its deadline.
const PROVING_DEADLINE_ALERT_PATCH: &str = "proving-deadline-alert";

/// Interval between two attempts to reach the settlement sequencer when it is not running.
const SEQUENCER_RETRY_INTERVAL: Duration = Duration::from_secs(10);

/// One L2 block's pipeline.
#[workflow]
#[derive(Default)]
pub struct BlockWorkflow {
    status: Option<BlockStatus>,
    settlement_turn: bool,
    wake_count: u64,
    deadline_extension_secs: u64,
    /// Fee cap in wei raised by an operator with `raise_fee_cap`, decimal.
    fee_cap_wei: Option<String>,
}

#[workflow_methods]
impl BlockWorkflow {
    /// Runs the block through every stage and returns its final status.
    #[run(name = "BlockWorkflow")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: BlockInput) -> WorkflowResult<BlockStatus> {
        let status = BlockStatus {
            chain_id: input.chain_id.clone(),
            block_number: input.block_number,
            stage: Stage::Pending,
            failed_stage: None,
            waiting_for: None,
            attempts: Default::default(),
            progress: input.resume.clone(),
            prover_query_id: input.resume.proof.as_ref().map(|p| p.query_id.clone()),
            prover_resubmits: 0,
            l1_attempts: Vec::new(),
            timings: Vec::new(),
            last_error: None,
        };
        ctx.state_mut(|s| s.status = Some(status));
        ctx.upsert_search_attributes([
            attributes::CHAIN_ID.value_set(input.chain_id.clone()),
            attributes::BLOCK_NUMBER.value_set(input.block_number as i64),
        ]);

        match run_stages(ctx, &input).await {
            Ok(()) => {
                enter_stage(ctx, Stage::Settled);
                Ok(current_status(ctx))
            }
            Err(StageError::Failed { stage, message }) => {
                let now = now_ms(ctx);
                ctx.state_mut(|s| {
                    let status = s.status.as_mut().expect("status is set at start");
                    status.stage = Stage::Failed;
                    status.failed_stage = Some(stage);
                    status.waiting_for = None;
                    status.last_error = Some(format!("{}: {message}", stage.as_str()));
                    close_timing(status, now);
                });
                ctx.upsert_search_attributes([stage_update(Stage::Failed)]);
                if stage >= Stage::WaitingForSettlementTurn {
                    // Give the turn back so a re-run of this block can send again.
                    notify_sequencer(ctx, &input, SequencerEvent::Failed).await;
                }
                Err(ApplicationFailure::non_retryable(format!(
                    "block {} failed at {}: {message}",
                    input.block_number,
                    stage.as_str()
                ))
                .into())
            }
            Err(StageError::Terminated(termination)) => Err(termination),
        }
    }

    /// Lets the block send its settlement transaction; sent by the settlement sequencer.
    #[signal(name = "settlement_turn")]
    pub fn settlement_turn(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _input: ()) {
        self.settlement_turn = true;
    }

    /// Wakes a block waiting on a condition an operator fixed (a raised fee cap, a prover
    /// that caught up), so it checks again at once instead of at its next timer.
    #[signal(name = "wake")]
    pub fn wake(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _input: ()) {
        self.wake_count += 1;
    }

    /// Replaces the worker's L1 fee cap for this block with `wei` (a decimal integer) and
    /// wakes the block, so a block waiting for fees to drop sends at once if the new cap
    /// allows it. A value that is not a decimal integer is ignored and shown in the status.
    #[signal(name = "raise_fee_cap")]
    pub fn raise_fee_cap(&mut self, _ctx: &mut SyncWorkflowContext<Self>, wei: String) {
        let wei = wei.trim().to_string();
        if !wei.is_empty() && wei.bytes().all(|b| b.is_ascii_digit()) {
            self.fee_cap_wei = Some(wei);
        } else if let Some(status) = self.status.as_mut() {
            status.last_error = Some(format!(
                "raise_fee_cap ignored: {wei:?} is not a decimal number of wei"
            ));
        }
        self.wake_count += 1;
    }

    /// Extends the proving deadline by the given number of seconds.
    #[signal(name = "extend_proving_deadline")]
    pub fn extend_proving_deadline(&mut self, _ctx: &mut SyncWorkflowContext<Self>, secs: u64) {
        self.deadline_extension_secs += secs;
        self.wake_count += 1;
    }

    /// Current state of the block.
    #[query(name = "status")]
    pub fn status(&self, _ctx: &WorkflowContextView) -> Option<BlockStatus> {
        self.status.clone()
    }
}

/// Reason a stage stopped the pipeline.
enum StageError {
    /// The stage gave up: the block fails with this message.
    Failed { stage: Stage, message: String },
    /// The workflow itself ends (cancelled, evicted, continued as new).
    Terminated(temporalio_sdk::WorkflowTermination),
}

type StageResult<T> = Result<T, StageError>;

/// Events a block reports to its chain's settlement sequencer.
#[derive(Clone, Copy)]
enum SequencerEvent {
    Ready,
    Sent,
    Confirmed,
    Failed,
    Requeued,
}

async fn run_stages(ctx: &mut WorkflowContext<BlockWorkflow>, input: &BlockInput) -> StageResult<()> {
    let settings = &input.settings;
    let block = BlockRef { chain_id: input.chain_id.clone(), block_number: input.block_number };

    let da = match input.resume.da.clone() {
        Some(da) => da,
        None => {
            enter_stage(ctx, Stage::DataAvailability);
            let da = ctx
                .execute_activity(
                    PipelineActivities::da_encode,
                    block.clone(),
                    activity_options(&settings.data_availability),
                )
                .await
                .map_err(|e| activity_failed(Stage::DataAvailability, &e))?;
            ctx.state_mut(|s| progress_mut(s).da = Some(da.clone()));
            da
        }
    };

    let snos = match input.resume.snos.clone() {
        Some(snos) => snos,
        None => {
            enter_stage(ctx, Stage::Snos);
            let snos = ctx
                .execute_activity(
                    PipelineActivities::snos_run,
                    SnosInput { block: block.clone(), da: da.clone() },
                    activity_options(&settings.snos),
                )
                .await
                .map_err(|e| activity_failed(Stage::Snos, &e))?;
            ctx.state_mut(|s| progress_mut(s).snos = Some(snos.clone()));
            snos
        }
    };

    if input.resume.proof.is_none() {
        enter_stage(ctx, Stage::Proving);
        let proof = prove(ctx, input, &snos).await?;
        ctx.state_mut(|s| progress_mut(s).proof = Some(proof));
    }

    enter_stage(ctx, Stage::WaitingForSettlementTurn);
    wait_for_turn(ctx, input, "settlement of the previous blocks".to_string()).await?;
    enter_stage(ctx, Stage::Settlement);
    let settlement = settle(ctx, input, &da.blobs, &snos.program_output).await?;
    ctx.state_mut(|s| progress_mut(s).settlement = Some(settlement));
    notify_sequencer(ctx, input, SequencerEvent::Confirmed).await;
    Ok(())
}

/// Submits the PIE, polls on durable timers until the prover is done, then checks the fact.
async fn prove(
    ctx: &mut WorkflowContext<BlockWorkflow>,
    input: &BlockInput,
    snos: &crate::types::SnosOutput,
) -> StageResult<ProofOutput> {
    let settings = &input.settings.proving;
    let options = activity_options(&settings.activity);
    let dedup_id = block_workflow_id(&input.chain_id, input.block_number);
    let mut resubmits = 0;

    let query_id = loop {
        let query_id = ctx
            .execute_activity(
                PipelineActivities::prover_submit,
                ProverSubmitInput {
                    dedup_id: dedup_id.clone(),
                    pie: snos.pie.clone(),
                    step_count: snos.step_count,
                },
                options.clone(),
            )
            .await
            .map_err(|e| activity_failed(Stage::Proving, &e))?;
        ctx.state_mut(|s| status_mut(s).prover_query_id = Some(query_id.clone()));
        let submitted_ms = now_ms(ctx);

        let outcome = loop {
            let status = ctx
                .execute_activity(
                    PipelineActivities::prover_poll,
                    ProverPollInput { query_id: query_id.clone() },
                    options.clone(),
                )
                .await
                .map_err(|e| activity_failed(Stage::Proving, &e))?;
            if status != ProverStatus::InProgress {
                break status;
            }
            let deadline_ms = submitted_ms
                + 1_000 * (settings.deadline_secs + ctx.state(|s| s.deadline_extension_secs));
            if now_ms(ctx) >= deadline_ms {
                // Past the deadline the block alerts and waits for an operator instead of
                // failing: the prover may still finish, and a resubmission would pay twice.
                let message = format!(
                    "prover query {query_id} not done after {} s; send the \
                     extend_proving_deadline signal to keep waiting",
                    settings.deadline_secs
                );
                ctx.state_mut(|s| status_mut(s).waiting_for = Some(message.clone()));
                // Histories recorded before the alert existed have no alert activity here.
                if ctx.patched(PROVING_DEADLINE_ALERT_PATCH) {
                    ctx.execute_activity(
                        PipelineActivities::raise_alert,
                        AlertInput {
                            chain_id: input.chain_id.clone(),
                            block_number: Some(input.block_number),
                            kind: "proving_deadline".to_string(),
                            message,
                        },
                        options.clone(),
                    )
                    .await
                    .map_err(|e| activity_failed(Stage::Proving, &e))?;
                }
                let wakes = ctx.state(|s| s.wake_count);
                ctx.wait_condition(|s| s.wake_count > wakes)
                    .await
                    .map_err(|e| StageError::Terminated(e.into()))?;
                ctx.state_mut(|s| status_mut(s).waiting_for = None);
                continue;
            }
            sleep_or_wake(ctx, Duration::from_secs(settings.poll_interval_secs)).await;
        };

        match outcome {
            ProverStatus::Done => break query_id,
            ProverStatus::Failed(reason) if resubmits < settings.max_resubmits => {
                resubmits += 1;
                ctx.state_mut(|s| {
                    let status = status_mut(s);
                    status.prover_resubmits = resubmits;
                    status.last_error = Some(format!("prover query {query_id} failed: {reason}"));
                });
            }
            ProverStatus::Failed(reason) => {
                return Err(StageError::Failed {
                    stage: Stage::Proving,
                    message: format!(
                        "prover query {query_id} failed after {resubmits} resubmissions: {reason}"
                    ),
                });
            }
            ProverStatus::InProgress => unreachable!("the poll loop only breaks on a final status"),
        }
    };

    // The registry may lag behind the prover's DONE: wait for it on the poll interval, up to
    // the same deadline.
    let checked_since_ms = now_ms(ctx);
    loop {
        let check = ctx
            .execute_activity(
                PipelineActivities::fact_check,
                FactCheckInput { chain_id: input.chain_id.clone(), pie: snos.pie.clone() },
                options.clone(),
            )
            .await
            .map_err(|e| activity_failed(Stage::Proving, &e))?;
        if check.registered {
            ctx.state_mut(|s| status_mut(s).waiting_for = None);
            return Ok(ProofOutput { query_id, fact: check.fact });
        }
        if now_ms(ctx) >= checked_since_ms + 1_000 * settings.deadline_secs {
            return Err(StageError::Failed {
                stage: Stage::Proving,
                message: format!(
                    "fact {} is not registered on L1 {} s after the prover finished",
                    check.fact, settings.deadline_secs
                ),
            });
        }
        let message = format!("fact {} not registered on L1 yet", check.fact);
        ctx.state_mut(|s| status_mut(s).waiting_for = Some(message));
        sleep_or_wake(ctx, Duration::from_secs(settings.poll_interval_secs)).await;
    }
}

/// Tells the sequencer the block is ready and waits until it grants the turn.
async fn wait_for_turn(
    ctx: &mut WorkflowContext<BlockWorkflow>,
    input: &BlockInput,
    waiting_for: String,
) -> StageResult<()> {
    ctx.state_mut(|s| {
        s.settlement_turn = false;
        status_mut(s).waiting_for = Some(waiting_for);
    });
    notify_sequencer(ctx, input, SequencerEvent::Ready).await;
    ctx.wait_condition(|s| s.settlement_turn)
        .await
        .map_err(|e| StageError::Terminated(e.into()))?;
    ctx.state_mut(|s| status_mut(s).waiting_for = None);
    Ok(())
}

/// Sends the settlement transaction and follows it until it is confirmed and verified.
async fn settle(
    ctx: &mut WorkflowContext<BlockWorkflow>,
    input: &BlockInput,
    blobs: &[crate::types::ArtifactRef],
    program_output: &crate::types::ArtifactRef,
) -> StageResult<SettlementOutput> {
    let settings = &input.settings.settlement;
    let options = activity_options(&settings.activity);
    let mut replace: Option<L1Attempt> = None;
    let mut bumps = 0;
    let mut requeues = 0;
    // The sequencer hears `block_sent` once per turn: not again for a replacement or for a
    // resend after a drop, but again after the block was requeued and granted a new turn.
    let mut sent_reported = false;
    // The stuck timer of a transaction queued behind an earlier nonce starts when the
    // transaction becomes the account's next one.
    let mut queued_until_ms = 0;
    // Attempts of earlier turns reverted: the confirmation check follows this turn's only.
    let mut turn_start = 0;
    let mut resend_nonce: Option<u64> = None;

    loop {
        let outcome = ctx
            .execute_activity(
                PipelineActivities::settle_send,
                SettleInput {
                    chain_id: input.chain_id.clone(),
                    block_number: input.block_number,
                    program_output: program_output.clone(),
                    blobs: blobs.to_vec(),
                    replace: replace.clone(),
                    max_fee_wei: ctx.state(|s| s.fee_cap_wei.clone()),
                    resend_nonce,
                },
                options.clone(),
            )
            .await
            .map_err(|e| activity_failed(Stage::Settlement, &e))?;

        match outcome {
            SendOutcome::FeeCapExceeded { required_wei, cap_wei } => {
                let message = format!(
                    "L1 fee {required_wei} wei exceeds the cap of {cap_wei} wei; waiting for \
                     fees to drop, or raise the cap for this block with `orchestrator fee-cap \
                     WEI` (and MADARA_ORCHESTRATOR_ETHEREUM_L2_STATE_UPDATE_MAX_FEE_WEI for later \
                     blocks)"
                );
                ctx.state_mut(|s| status_mut(s).waiting_for = Some(message));
                sleep_or_wake(ctx, Duration::from_secs(settings.fee_cap_poll_interval_secs)).await;
                continue;
            }
            SendOutcome::AlreadySettled => {}
            SendOutcome::Sent(mut attempt) => {
                attempt.sent_at_ms = now_ms(ctx);
                ctx.state_mut(|s| {
                    let status = status_mut(s);
                    status.waiting_for = None;
                    status.l1_attempts.push(attempt.clone());
                });
                resend_nonce = None;
                if !sent_reported {
                    sent_reported = true;
                    notify_sequencer(ctx, input, SequencerEvent::Sent).await;
                }
            }
        }

        // Follow the transactions sent in this turn until one is confirmed.
        loop {
            let (tx_hashes, nonce) = ctx.state(|s| {
                let attempts = &status_ref(s).l1_attempts[turn_start..];
                let hashes: Vec<String> = attempts.iter().map(|a| a.tx_hash.clone()).collect();
                (hashes, attempts.last().map(|a| a.nonce))
            });
            let outcome = ctx
                .execute_activity(
                    PipelineActivities::settle_confirm,
                    ConfirmInput {
                        chain_id: input.chain_id.clone(),
                        block_number: input.block_number,
                        program_output: program_output.clone(),
                        tx_hashes,
                        nonce,
                    },
                    options.clone(),
                )
                .await
                .map_err(|e| activity_failed(Stage::Settlement, &e))?;
            match outcome {
                ConfirmOutcome::Confirmed(output) => return Ok(output),
                ConfirmOutcome::Reverted(reason) => {
                    return Err(StageError::Failed {
                        stage: Stage::Settlement,
                        message: format!("updateStateKzgDA reverted: {reason}"),
                    });
                }
                ConfirmOutcome::RevertedBehind(reason) => {
                    if requeues >= settings.max_requeues {
                        return Err(StageError::Failed {
                            stage: Stage::Settlement,
                            message: format!(
                                "updateStateKzgDA reverted because block {} was not settled, \
                                 {requeues} times: {reason}",
                                input.block_number.saturating_sub(1)
                            ),
                        });
                    }
                    requeues += 1;
                    notify_sequencer(ctx, input, SequencerEvent::Requeued).await;
                    let waiting_for = format!(
                        "settlement of block {}: this block's update reverted before it ({reason}) \
                         and is sent again after it",
                        input.block_number.saturating_sub(1)
                    );
                    enter_stage(ctx, Stage::WaitingForSettlementTurn);
                    wait_for_turn(ctx, input, waiting_for).await?;
                    enter_stage(ctx, Stage::Settlement);
                    replace = None;
                    resend_nonce = None;
                    bumps = 0;
                    sent_reported = false;
                    turn_start = ctx.state(|s| status_ref(s).l1_attempts.len());
                    break;
                }
                ConfirmOutcome::Queued { next_nonce } => {
                    let message = format!(
                        "L1 transaction queued behind nonce {next_nonce}, an earlier block's \
                         transaction that is not mined yet"
                    );
                    ctx.state_mut(|s| status_mut(s).waiting_for = Some(message));
                    queued_until_ms = now_ms(ctx);
                    sleep_or_wake(ctx, Duration::from_secs(settings.confirm_poll_interval_secs))
                        .await;
                }
                ConfirmOutcome::Dropped => {
                    // A reorg or an eviction removed the transaction: send it again with the
                    // same checks, which also notice when the block is settled after all. The
                    // new transaction takes the dropped one's nonce, if that is still free.
                    replace = None;
                    resend_nonce = ctx.state(|s| status_ref(s).l1_attempts.last().map(|a| a.nonce));
                    break;
                }
                ConfirmOutcome::Pending => {
                    ctx.state_mut(|s| status_mut(s).waiting_for = None);
                    let last = ctx.state(|s| status_ref(s).l1_attempts.last().cloned());
                    if let Some(last) = last {
                        let stuck_ms = 1_000 * settings.stuck_timeout_secs;
                        let waiting_since_ms = last.sent_at_ms.max(queued_until_ms);
                        if now_ms(ctx) >= waiting_since_ms + stuck_ms {
                            if bumps >= settings.max_fee_bumps {
                                return Err(StageError::Failed {
                                    stage: Stage::Settlement,
                                    message: format!(
                                        "transaction still not included after {bumps} fee bumps; \
                                         attempts: {}",
                                        ctx.state(|s| describe_attempts(&status_ref(s).l1_attempts))
                                    ),
                                });
                            }
                            bumps += 1;
                            replace = Some(last);
                            break;
                        }
                    }
                    sleep_or_wake(ctx, Duration::from_secs(settings.confirm_poll_interval_secs))
                        .await;
                }
            }
        }
    }
}

fn describe_attempts(attempts: &[L1Attempt]) -> String {
    attempts
        .iter()
        .map(|a| {
            format!(
                "{} (nonce {}, max fee {} wei/gas, blob fee {} wei/gas)",
                a.tx_hash, a.nonce, a.max_fee_per_gas, a.max_fee_per_blob_gas
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Signals the chain's settlement sequencer, retrying on a timer while it is not running.
async fn notify_sequencer(
    ctx: &mut WorkflowContext<BlockWorkflow>,
    input: &BlockInput,
    event: SequencerEvent,
) {
    let handle = ctx.external_workflow(sequencer_workflow_id(&input.chain_id), None);
    let block = input.block_number;
    loop {
        let sent = match event {
            SequencerEvent::Ready => {
                handle.signal(SettlementSequencer::block_ready, block, SignalWorkflowOptions::default()).await
            }
            SequencerEvent::Sent => {
                handle.signal(SettlementSequencer::block_sent, block, SignalWorkflowOptions::default()).await
            }
            SequencerEvent::Confirmed => {
                handle
                    .signal(SettlementSequencer::block_confirmed, block, SignalWorkflowOptions::default())
                    .await
            }
            SequencerEvent::Failed => {
                handle.signal(SettlementSequencer::block_failed, block, SignalWorkflowOptions::default()).await
            }
            SequencerEvent::Requeued => {
                handle
                    .signal(SettlementSequencer::block_requeued, block, SignalWorkflowOptions::default())
                    .await
            }
        };
        match sent {
            Ok(()) => return,
            Err(error) => {
                let message = format!(
                    "settlement sequencer {} unreachable ({error}); start it with \
                     `orchestrator start`",
                    sequencer_workflow_id(&input.chain_id)
                );
                ctx.state_mut(|s| status_mut(s).waiting_for = Some(message));
                ctx.timer(SEQUENCER_RETRY_INTERVAL).await;
            }
        }
    }
}

/// Sleeps on a durable timer, returning early when the `wake` signal arrives.
async fn sleep_or_wake(ctx: &mut WorkflowContext<BlockWorkflow>, duration: Duration) {
    let wakes = ctx.state(|s| s.wake_count);
    temporalio_sdk::workflows::select! {
        _ = ctx.timer(duration) => {},
        _ = ctx.wait_condition(|s| s.wake_count > wakes) => {},
    }
}

fn enter_stage(ctx: &mut WorkflowContext<BlockWorkflow>, stage: Stage) {
    let now = now_ms(ctx);
    ctx.state_mut(|s| {
        let status = status_mut(s);
        close_timing(status, now);
        status.stage = stage;
        if stage != Stage::Settled {
            status.timings.push(StageTiming { stage, started_ms: now, finished_ms: None });
        }
    });
    ctx.upsert_search_attributes([stage_update(stage)]);
}

fn close_timing(status: &mut BlockStatus, now: u64) {
    if let Some(timing) = status.timings.last_mut() {
        if timing.finished_ms.is_none() {
            timing.finished_ms = Some(now);
        }
    }
}

fn activity_failed(stage: Stage, error: &temporalio_sdk::ActivityExecutionError) -> StageError {
    StageError::Failed { stage, message: root_cause_message(error) }
}

/// Message of the innermost failure: the activity's own error rather than the SDK's wrapper.
fn root_cause_message(error: &temporalio_sdk::ActivityExecutionError) -> String {
    let Some(mut failure) = error.failure() else {
        return error.to_string();
    };
    while let Some(cause) = failure.cause.as_deref() {
        failure = cause;
    }
    failure.message.clone()
}

/// Activity options for a stage: its attempt timeout and retry policy.
pub(crate) fn activity_options(settings: &StageSettings) -> ActivityOptions {
    let retry = RetryPolicy::builder()
        .initial_interval(Duration::from_millis(settings.initial_retry_interval_ms))
        .maximum_interval(Duration::from_secs(settings.max_retry_interval_secs))
        .maximum_attempts(settings.max_attempts)
        .build();
    let heartbeat_timeout =
        (settings.heartbeat_timeout_secs > 0).then(|| Duration::from_secs(settings.heartbeat_timeout_secs));
    ActivityOptions::with_start_to_close_timeout(Duration::from_secs(settings.attempt_timeout_secs))
        .retry_policy(retry)
        .maybe_heartbeat_timeout(heartbeat_timeout)
        .build()
}

fn now_ms(ctx: &WorkflowContext<BlockWorkflow>) -> u64 {
    ctx.workflow_time()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn current_status(ctx: &WorkflowContext<BlockWorkflow>) -> BlockStatus {
    ctx.state(|s| status_ref(s).clone())
}

fn status_ref(state: &BlockWorkflow) -> &BlockStatus {
    state.status.as_ref().expect("status is set at start")
}

fn status_mut(state: &mut BlockWorkflow) -> &mut BlockStatus {
    state.status.as_mut().expect("status is set at start")
}

fn progress_mut(state: &mut BlockWorkflow) -> &mut BlockProgress {
    &mut status_mut(state).progress
}
