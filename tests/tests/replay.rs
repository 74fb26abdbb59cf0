//! Replays histories recorded from real runs against the current workflow code.
//!
//! A workflow change that alters the commands a recorded history expects fails here. To
//! re-record on purpose: `ORCHESTRATOR_RECORD_HISTORIES=1 cargo test -p orchestrator-tests
//! --test workflows`.

use orchestrator_tests::workspace_root;
use orchestrator_workflows::activities::PipelineActivities;
use orchestrator_workflows::activities::{BlockRef, SnosInput};
use orchestrator_workflows::types::{BlockInput, BlockStatus};
use orchestrator_workflows::{BlockWorkflow, SettlementSequencer};
use temporalio_client::WorkflowHistory;
use temporalio_macros::{workflow, workflow_methods};
use temporalio_sdk::{ActivityOptions, WorkflowContext, WorkflowResult};
use temporalio_sdk::workflow_replayer::{WorkflowReplayer, WorkflowReplayerOptions};

/// Reads a recorded history: a binary protobuf `History` message.
fn history(file: &str) -> WorkflowHistory {
    use prost::Message;
    use temporalio_common::protos::temporal::api::history::v1::History;

    let path = workspace_root().join("tests/histories").join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let history = History::decode(bytes.as_slice()).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
    WorkflowHistory::from(history)
}

const HISTORIES: [&str; 4] =
    ["block-settled.binpb", "block-retried.binpb", "block-waited.binpb", "sequencer.binpb"];

#[tokio::test]
async fn recorded_histories_replay() {
    let replayer = WorkflowReplayer::new(
        WorkflowReplayerOptions::new()
            .register_workflow::<BlockWorkflow>()
            .expect("register BlockWorkflow")
            .register_workflow::<SettlementSequencer>()
            .expect("register SettlementSequencer")
            .build(),
    )
    .expect("replayer");
    for file in HISTORIES {
        if let Err(error) = replayer.replay_workflow(history(file)).await {
            panic!("{file} no longer replays against the current workflow code: {error}");
        }
    }
}

/// A `BlockWorkflow` that skips data availability: a change a replay must reject.
#[workflow]
#[derive(Default)]
struct ChangedBlockWorkflow;

#[workflow_methods]
impl ChangedBlockWorkflow {
    #[run(name = "BlockWorkflow")]
    async fn run(ctx: &mut WorkflowContext<Self>, input: BlockInput) -> WorkflowResult<Option<BlockStatus>> {
        let block = BlockRef { chain_id: input.chain_id, block_number: input.block_number };
        let da = orchestrator_workflows::types::DaOutput { blobs: vec![], versioned_hashes: vec![], felt_count: 0, encoding: None };
        ctx.execute_activity(
            PipelineActivities::snos_run,
            SnosInput { block, da },
            ActivityOptions::start_to_close_timeout(std::time::Duration::from_secs(10)),
        )
        .await?;
        Ok(None)
    }
}

#[tokio::test]
async fn changed_workflow_is_nondeterministic() {
    let replayer = WorkflowReplayer::new(
        WorkflowReplayerOptions::new()
            .register_workflow::<ChangedBlockWorkflow>()
            .expect("register the changed workflow")
            .build(),
    )
    .expect("replayer");
    let result = replayer.replay_workflow(history("block-settled.binpb")).await;
    let error = result.expect_err("a reordered workflow must fail replay");
    println!("replay rejected the changed workflow: {error}");
}
