//! `SettlementSequencer`: one long-running workflow per chain that orders settlement.
//!
//! # Why a sequencer
//! The core contract accepts block N only on top of block N−1, and the L1 account sends every
//! update from one nonce sequence. So settlement transactions must leave in block order, while
//! the work before them (DA, SNOS, proving) runs in parallel across blocks. Each
//! `BlockWorkflow` signals `block_ready` when its proof is done and waits for a
//! `settlement_turn` signal. The sequencer grants the turn to block N only when block N−1 has
//! reported `block_sent` (its transaction is in the mempool, so the pending nonce already
//! counts it), settlement is not paused, and fewer than `max_in_flight` transactions await
//! confirmation. Confirmation waits therefore overlap, and a block that fails before sending
//! holds back only the blocks after it: they keep running their earlier stages and wait.
//!
//! A block that fails after its turn reports `block_failed`. The sequencer then hands the turn
//! back to that block number, so that `retry` of the block can send again.
//!
//! Transactions of later blocks already in flight when a block fails after sending revert on
//! the contract's previous-block check (`INVALID_PREV_BLOCK_NUMBER`). Those blocks do not fail:
//! each reports `block_requeued` and requests its turn again. The sequencer grants a requeued
//! block its turn only once no lower block is in flight, or once a lower block is sent again
//! (the failed block's retry). So it sends again with a fresh nonce behind the retried block,
//! and never while the failed block's first transaction may still fail.
//!
//! The sequencer continues as new when the server suggests it, carrying its state in the input.

use crate::activities::PipelineActivities;
use crate::block::{BlockWorkflow, activity_options};
use crate::types::{SequencerInput, SequencerStatus, StageSettings, block_workflow_id};
use std::collections::BTreeSet;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ContinueAsNewOptions, SignalWorkflowOptions, SyncWorkflowContext, WorkflowContext,
    WorkflowContextView, WorkflowResult,
};

/// Per-chain settlement ordering.
#[workflow]
#[derive(Default)]
pub struct SettlementSequencer {
    chain_id: String,
    next_block: Option<u64>,
    last_settled: Option<u64>,
    paused: bool,
    max_in_flight: u32,
    ready: BTreeSet<u64>,
    in_flight: BTreeSet<u64>,
    /// Blocks whose update reverted behind an unsettled earlier block.
    requeued: BTreeSet<u64>,
    /// Block granted the turn that has not reported `block_sent` or `block_failed` yet.
    granted: Option<u64>,
}

impl SettlementSequencer {
    /// Returns the block that may be granted the turn now, if any.
    fn grantable(&self) -> Option<u64> {
        let next = self.next_block?;
        // A block below the frontier re-runs after a failure or is already settled: its send
        // activity reads the contract and sends nothing in the latter case.
        if let Some(&early) = self.ready.iter().next() {
            if early < next && self.granted.is_none() {
                return Some(early);
            }
        }
        if self.paused || self.granted.is_some() {
            return None;
        }
        if self.in_flight.len() as u32 >= self.max_in_flight.max(1) {
            return None;
        }
        // A requeued block sent once while a lower block was in flight and reverted because
        // that block was not settled. It waits until every lower block confirmed or failed.
        let lower_in_flight = self.in_flight.first().is_some_and(|&lowest| lowest < next);
        if self.requeued.contains(&next) && lower_in_flight {
            return None;
        }
        self.ready.contains(&next).then_some(next)
    }

    fn snapshot(&self) -> SequencerStatus {
        SequencerStatus {
            chain_id: self.chain_id.clone(),
            next_block: self.next_block,
            last_settled: self.last_settled,
            paused: self.paused,
            ready: self.ready.iter().copied().collect(),
            in_flight: self.in_flight.iter().copied().collect(),
            requeued: self.requeued.iter().copied().collect(),
            max_in_flight: self.max_in_flight,
        }
    }
}

#[workflow_methods]
impl SettlementSequencer {
    /// Grants settlement turns in block order until the server suggests continuing as new.
    #[run(name = "SettlementSequencer")]
    pub async fn run(ctx: &mut WorkflowContext<Self>, input: SequencerInput) -> WorkflowResult<()> {
        // Signals delivered with the start (a `pause` sent right after `start`) are applied
        // before this line, so the input adds to the state instead of replacing it.
        ctx.state_mut(|s| {
            s.chain_id = input.chain_id.clone();
            s.next_block = match (s.next_block, input.next_block) {
                (Some(signalled), Some(given)) => Some(signalled.max(given)),
                (signalled, given) => signalled.or(given),
            };
            s.paused = s.paused || input.paused;
            s.max_in_flight = input.max_in_flight;
            s.ready.extend(input.ready.iter().copied());
            s.in_flight.extend(input.in_flight.iter().copied());
            s.requeued.extend(input.requeued.iter().copied());
        });

        if ctx.state(|s| s.next_block.is_none()) {
            let settled = ctx
                .execute_activity(
                    PipelineActivities::l1_settled_block,
                    input.chain_id.clone(),
                    activity_options(&StageSettings {
                        attempt_timeout_secs: 60,
                        max_attempts: 0,
                        initial_retry_interval_ms: 1_000,
                        max_retry_interval_secs: 60,
                        heartbeat_timeout_secs: 0,
                    }),
                )
                .await?;
            ctx.state_mut(|s| {
                s.last_settled = settled;
                // With nothing settled on L1 the core contract accepts block 0 first.
                s.next_block = Some(settled.map_or(0, |b| b + 1));
            });
        }

        loop {
            ctx.wait_condition(|s| s.grantable().is_some()).await?;
            let Some(block) = ctx.state(|s| s.grantable()) else { continue };
            ctx.state_mut(|s| {
                s.ready.remove(&block);
                s.requeued.remove(&block);
                s.granted = Some(block);
            });
            let chain_id = ctx.state(|s| s.chain_id.clone());
            let handle = ctx.external_workflow(block_workflow_id(&chain_id, block), None);
            if handle
                .signal(BlockWorkflow::settlement_turn, (), SignalWorkflowOptions::default())
                .await
                .is_err()
            {
                // The block's run is gone (terminated by an operator): forget the grant so the
                // next run of it can ask again.
                ctx.state_mut(|s| s.granted = None);
            }

            if ctx.continue_as_new_suggested() && ctx.state(|s| s.granted.is_none()) {
                let next_input = ctx.state(|s| SequencerInput {
                    chain_id: s.chain_id.clone(),
                    max_in_flight: s.max_in_flight,
                    next_block: s.next_block,
                    paused: s.paused,
                    ready: s.ready.iter().copied().collect(),
                    in_flight: s.in_flight.iter().copied().collect(),
                    requeued: s.requeued.iter().copied().collect(),
                });
                ctx.continue_as_new(next_input, ContinueAsNewOptions::default())?;
            }
        }
    }

    /// Records that a block finished proving and requests its settlement turn.
    #[signal(name = "block_ready")]
    pub fn block_ready(&mut self, _ctx: &mut SyncWorkflowContext<Self>, block: u64) {
        self.ready.insert(block);
    }

    /// Records that the granted block broadcast its transaction, so the next block may send.
    #[signal(name = "block_sent")]
    pub fn block_sent(&mut self, _ctx: &mut SyncWorkflowContext<Self>, block: u64) {
        if self.granted == Some(block) {
            self.granted = None;
        }
        self.in_flight.insert(block);
        // A lower block sent again after its failure: the requeued blocks above it may send
        // behind it as usual.
        self.requeued.retain(|&requeued| requeued < block);
        if self.next_block.is_none_or(|next| next <= block) {
            self.next_block = Some(block + 1);
        }
    }

    /// Records that a block's settlement is confirmed and verified on L1.
    #[signal(name = "block_confirmed")]
    pub fn block_confirmed(&mut self, _ctx: &mut SyncWorkflowContext<Self>, block: u64) {
        if self.granted == Some(block) {
            // Already settled on L1: its send activity sent nothing.
            self.granted = None;
        }
        self.in_flight.remove(&block);
        self.last_settled = Some(self.last_settled.map_or(block, |last| last.max(block)));
        if self.next_block.is_none_or(|next| next <= block) {
            self.next_block = Some(block + 1);
        }
    }

    /// Records that a block failed after requesting its turn and hands the turn back to it.
    #[signal(name = "block_failed")]
    pub fn block_failed(&mut self, _ctx: &mut SyncWorkflowContext<Self>, block: u64) {
        if self.granted == Some(block) {
            self.granted = None;
        }
        self.in_flight.remove(&block);
        if self.next_block.is_none_or(|next| next > block) {
            self.next_block = Some(block);
        }
    }

    /// Records that a block's update reverted because the previous block was not settled, and
    /// hands the turn back to it. The block requests its turn again with `block_ready`.
    #[signal(name = "block_requeued")]
    pub fn block_requeued(&mut self, _ctx: &mut SyncWorkflowContext<Self>, block: u64) {
        if self.granted == Some(block) {
            self.granted = None;
        }
        self.in_flight.remove(&block);
        self.requeued.insert(block);
        if self.next_block.is_none_or(|next| next > block) {
            self.next_block = Some(block);
        }
    }

    /// Stops granting turns; transactions already sent still confirm.
    #[signal(name = "pause")]
    pub fn pause(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _input: ()) {
        self.paused = true;
    }

    /// Resumes granting turns.
    #[signal(name = "resume")]
    pub fn resume(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _input: ()) {
        self.paused = false;
    }

    /// Current ordering state.
    #[query(name = "status")]
    pub fn status(&self, _ctx: &WorkflowContextView) -> SequencerStatus {
        self.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::SettlementSequencer;

    /// Sequencer after block 5 reverted behind block 4, whose own update is still in flight.
    fn after_requeue() -> SettlementSequencer {
        SettlementSequencer {
            next_block: Some(5),
            max_in_flight: 4,
            ready: [5].into(),
            in_flight: [4, 6].into(),
            requeued: [5].into(),
            ..SettlementSequencer::default()
        }
    }

    #[test]
    fn requeued_block_waits_for_lower_in_flight() {
        assert_eq!(after_requeue().grantable(), None);
    }

    #[test]
    fn requeued_block_sends_once_lower_block_confirms() {
        let mut sequencer = after_requeue();
        sequencer.in_flight.remove(&4);
        assert_eq!(sequencer.grantable(), Some(5));
    }

    #[test]
    fn block_without_requeue_pipelines() {
        let mut sequencer = after_requeue();
        sequencer.requeued.clear();
        assert_eq!(sequencer.grantable(), Some(5));
    }
}
