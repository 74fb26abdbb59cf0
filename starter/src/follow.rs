//! Client operations on a chain's block follower: start it, read its position, pause and
//! resume it.

use anyhow::Context;
use orchestrator_workflows::types::{FollowerInput, FollowerStatus, follower_workflow_id};
use orchestrator_workflows::{ChainFollower, TASK_QUEUE, attributes};
use temporalio_client::{
    Client, WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowQueryOptions,
    WorkflowSignalOptions, WorkflowStartOptions,
};
use temporalio_common::search_attributes::SearchAttributes;

/// Whether [`start_follower`] started a new follower or found one running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowerStart {
    /// A new follower run was started with the given input.
    Started,
    /// A follower was already running; it keeps its own settings and position.
    AlreadyRunning,
}

/// Starts the chain's follower unless one is running.
///
/// A running follower is left as it is, so restarting the CLI or the worker never starts a
/// second follower or changes the position of the first.
pub async fn start_follower(
    client: &Client,
    input: FollowerInput,
) -> anyhow::Result<FollowerStart> {
    let chain_id = input.chain_id.clone();
    let workflow_id = follower_workflow_id(&chain_id);
    let running = client
        .get_workflow_handle::<ChainFollower>(workflow_id.clone())
        .describe(Default::default())
        .await
        .ok()
        .is_some_and(|d| d.status() == temporalio_client::WorkflowExecutionStatus::Running);
    let options = WorkflowStartOptions::new(TASK_QUEUE, workflow_id)
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
        .search_attributes(SearchAttributes::new([
            attributes::CHAIN_ID.value_set(chain_id.clone())
        ]))
        .build();
    client
        .start_workflow(ChainFollower::run, input, options)
        .await
        .with_context(|| format!("failed to start the block follower of chain {chain_id}"))?;
    Ok(if running {
        FollowerStart::AlreadyRunning
    } else {
        FollowerStart::Started
    })
}

/// Reads the follower's position with its `status` query.
pub async fn follower_status(client: &Client, chain_id: &str) -> anyhow::Result<FollowerStatus> {
    let workflow_id = follower_workflow_id(chain_id);
    client
        .get_workflow_handle::<ChainFollower>(workflow_id.clone())
        .query(ChainFollower::status, (), WorkflowQueryOptions::default())
        .await
        .with_context(|| {
            format!(
                "failed to query {workflow_id}; start it with `orchestrator follow` and check \
                 that a worker is running"
            )
        })?
        .with_context(|| format!("{workflow_id} has not recorded its state yet"))
}

/// Pauses (`true`) or resumes (`false`) the follower. Resuming also clears a stop caused by a
/// chain mismatch; the follower then checks the chain again.
pub async fn set_follower_paused(
    client: &Client,
    chain_id: &str,
    paused: bool,
) -> anyhow::Result<()> {
    let handle = client.get_workflow_handle::<ChainFollower>(follower_workflow_id(chain_id));
    let options = WorkflowSignalOptions::default();
    let result = if paused {
        handle.signal(ChainFollower::pause, (), options).await
    } else {
        handle.signal(ChainFollower::resume, (), options).await
    };
    result.with_context(|| {
        format!(
            "failed to signal the block follower of chain {chain_id}; start it with \
             `orchestrator follow`"
        )
    })
}
