//! `ChainFollower`: one long-running workflow per chain that starts a `BlockWorkflow` for every
//! new final block of the node.
//!
//! Each poll runs the `follower_poll` activity, which reads the node's latest block and the
//! core contract and returns the next blocks to start, each checked against its parent's hash.
//! The follower starts them as abandoned child workflows with the block's usual workflow id.
//! A block that already has a workflow (started by `orchestrator start`, or by an earlier run
//! of the follower) is therefore never started twice, because the server rejects the
//! duplicate id. At most
//! `window` blocks are started and not yet settled on L1, so a stalled settlement does not
//! pile up work.
//!
//! The node's chain no longer matches when a block's parent hash differs from the hash of the
//! block started before it, or when the node's hash of the settled block differs from the one
//! on L1. The follower then raises an alert, records the reason in its status and starts
//! nothing more until an operator sends `resume`, which checks again.
//!
//! The follower continues as new when the server suggests it, carrying its position.

use crate::activities::PipelineActivities;
use crate::attributes;
use crate::block::{BlockWorkflow, activity_options};
use crate::types::{
    AlertInput, BlockInput, BlockProgress, FollowerInput, FollowerPollInput, FollowerStatus, Stage,
    StageSettings, block_workflow_id,
};
use std::time::{Duration, UNIX_EPOCH};
use temporalio_common::search_attributes::SearchAttributes;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{
    ChildWorkflowOptions, ContinueAsNewOptions, ParentClosePolicy, SyncWorkflowContext,
    WorkflowContext, WorkflowContextView, WorkflowIdReusePolicy, WorkflowResult,
};

/// Activity settings of the follower's poll and alert: retried without limit, at most 30 s apart.
const POLL_ACTIVITY: StageSettings = StageSettings {
    attempt_timeout_secs: 60,
    max_attempts: 0,
    initial_retry_interval_ms: 1_000,
    max_retry_interval_secs: 30,
    heartbeat_timeout_secs: 0,
};

/// Per-chain block follower.
#[workflow]
#[derive(Default)]
pub struct ChainFollower {
    input: Option<FollowerInput>,
    status: Option<FollowerStatus>,
    /// Incremented by `resume`, so a stopped or paused follower notices it.
    resumes: u64,
    /// Set by a `pause` delivered before the run recorded its status.
    paused_early: bool,
}

impl ChainFollower {
    fn status_mut(&mut self) -> &mut FollowerStatus {
        self.status.as_mut().expect("the run sets the status first")
    }
}

#[workflow_methods]
impl ChainFollower {
    /// Polls the node and starts block workflows until `last_block` is started, or forever.
    #[run(name = "ChainFollower")]
    pub async fn run(
        ctx: &mut WorkflowContext<Self>,
        input: FollowerInput,
    ) -> WorkflowResult<FollowerStatus> {
        let status = FollowerStatus {
            chain_id: input.chain_id.clone(),
            next_block: input.next_block,
            last_block: input.last_block,
            l2_latest: None,
            l1_settled: None,
            lag: None,
            window: input.window.max(1),
            paused: input.paused || ctx.state(|s| s.paused_early),
            stopped: None,
            started: input.started_before,
            last_poll_at: None,
        };
        ctx.state_mut(|s| {
            s.status = Some(status);
            s.input = Some(input.clone());
        });
        let chain_id = input.chain_id.clone();
        let mut parent = input.parent.clone();
        let poll_interval = Duration::from_secs(input.poll_interval_secs.max(1));

        loop {
            // Paused or stopped: wait for `resume`.
            if ctx.state(|s| {
                s.status
                    .as_ref()
                    .is_some_and(|current| current.paused || current.stopped.is_some())
            }) {
                let resumes = ctx.state(|s| s.resumes);
                ctx.wait_condition(|s| s.resumes > resumes).await?;
                continue;
            }
            if let Some((next, last)) = ctx.state(|s| {
                s.status
                    .as_ref()
                    .and_then(|current| current.next_block.zip(current.last_block))
            }) && next > last
            {
                return Ok(ctx.state(|s| s.status.clone().expect("set at start")));
            }

            let request = ctx.state(|s| {
                let current = s.status.as_ref().expect("set at start");
                FollowerPollInput {
                    chain_id: chain_id.clone(),
                    next_block: current.next_block,
                    last_block: current.last_block,
                    window: current.window,
                    parent: parent.clone(),
                }
            });
            let poll = ctx
                .execute_activity(
                    PipelineActivities::follower_poll,
                    request,
                    activity_options(&POLL_ACTIVITY),
                )
                .await?;
            let now = ctx
                .workflow_time()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs());
            ctx.state_mut(|s| {
                let current = s.status_mut();
                current.l2_latest = Some(poll.l2_latest);
                current.l1_settled = poll.l1_settled;
                current.lag = Some(poll.l2_latest.saturating_sub(poll.l1_settled.unwrap_or(0)));
                current.last_poll_at = now;
                current.next_block.get_or_insert(poll.first_block);
            });
            if parent.is_none() {
                parent = poll.parent.clone();
            }

            for link in &poll.blocks {
                start_block(ctx, &chain_id, link.number).await;
                parent = Some(link.clone());
                ctx.state_mut(|s| {
                    let current = s.status_mut();
                    current.next_block = Some(link.number + 1);
                    current.started += 1;
                });
            }

            if let Some(reason) = poll.reorg {
                ctx.state_mut(|s| s.status_mut().stopped = Some(reason.clone()));
                let block = ctx.state(|s| s.status.as_ref().and_then(|current| current.next_block));
                ctx.execute_activity(
                    PipelineActivities::raise_alert,
                    AlertInput {
                        chain_id: chain_id.clone(),
                        block_number: block,
                        kind: "l2_reorg".to_string(),
                        message: reason,
                    },
                    activity_options(&POLL_ACTIVITY),
                )
                .await?;
                // After `resume` the parent is read again from the node and L1.
                parent = None;
                continue;
            }

            if ctx.continue_as_new_suggested() {
                let next_input = ctx.state(|s| {
                    let current = s.status.as_ref().expect("set at start");
                    let base = s.input.clone().expect("set at start");
                    FollowerInput {
                        next_block: current.next_block,
                        paused: current.paused,
                        parent: parent.clone(),
                        started_before: current.started,
                        ..base
                    }
                });
                ctx.continue_as_new(next_input, ContinueAsNewOptions::default())?;
            }

            // Poll again at once while there is a backlog the window allows.
            let caught_up = ctx.state(|s| {
                s.status.as_ref().is_some_and(|current| {
                    current.next_block.is_some_and(|next| next > poll.l2_latest)
                        || poll.blocks.is_empty()
                })
            });
            if caught_up {
                let resumes = ctx.state(|s| s.resumes);
                temporalio_sdk::workflows::select! {
                    _ = ctx.timer(poll_interval) => {},
                    _ = ctx.wait_condition(|s| s.resumes > resumes) => {},
                }
            }
        }
    }

    /// Stops starting blocks; blocks already started go on.
    #[signal(name = "pause")]
    pub fn pause(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _input: ()) {
        match self.status.as_mut() {
            Some(status) => status.paused = true,
            None => self.paused_early = true,
        }
    }

    /// Resumes a paused follower, or one stopped by a chain mismatch, which it checks again.
    #[signal(name = "resume")]
    pub fn resume(&mut self, _ctx: &mut SyncWorkflowContext<Self>, _input: ()) {
        match self.status.as_mut() {
            Some(status) => {
                status.paused = false;
                status.stopped = None;
            }
            None => self.paused_early = false,
        }
        self.resumes += 1;
    }

    /// Current position of the follower.
    #[query(name = "status")]
    pub fn status(&self, _ctx: &WorkflowContextView) -> Option<FollowerStatus> {
        self.status.clone()
    }
}

/// Starts the block's workflow as an abandoned child, unless its id is already taken.
async fn start_block(ctx: &mut WorkflowContext<ChainFollower>, chain_id: &str, block_number: u64) {
    let settings = ctx.state(|s| s.input.as_ref().expect("set at start").settings.clone());
    let input = BlockInput {
        chain_id: chain_id.to_string(),
        block_number,
        settings,
        resume: BlockProgress::default(),
    };
    let options = ChildWorkflowOptions::builder()
        .workflow_id(block_workflow_id(chain_id, block_number))
        .parent_close_policy(ParentClosePolicy::Abandon)
        .id_reuse_policy(WorkflowIdReusePolicy::RejectDuplicate)
        .search_attributes(SearchAttributes::new([
            attributes::CHAIN_ID.value_set(chain_id.to_string()),
            attributes::BLOCK_NUMBER.value_set(block_number as i64),
            attributes::stage_update(Stage::Pending),
        ]))
        .build();
    // A start that fails because the id exists means the block already has a workflow, which
    // is what the follower wants: it never runs a block twice.
    let _ = ctx
        .start_child_workflow(BlockWorkflow::run, input, options)
        .await;
}
