//! Temporal client operations: search attributes, starting blocks, status, retry, pause.
//!
//! The client reads the SDK's standard settings (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
//! `TEMPORAL_API_KEY`, TLS variables and the `temporal.toml` profile).

use anyhow::{Context, bail};
use orchestrator_workflows::{
    BlockWorkflow, SettlementSequencer, TASK_QUEUE, attributes,
    types::{
        BlockInput, BlockProgress, BlockStatus, PipelineSettings, SequencerInput, SequencerStatus,
        Stage, block_workflow_id, sequencer_workflow_id,
    },
};
use std::collections::HashMap;
use temporalio_client::{
    Client, ClientOptions, Connection, NamespacedClient, WorkflowExecutionStatus,
    WorkflowIdConflictPolicy, WorkflowIdReusePolicy, WorkflowQueryOptions, WorkflowSignalOptions,
    WorkflowStartOptions, envconfig::LoadClientConfigProfileOptions,
};
use temporalio_common::protos::temporal::api::{
    enums::v1::IndexedValueType,
    operatorservice::v1::{AddSearchAttributesRequest, ListSearchAttributesRequest},
};
use temporalio_common::search_attributes::SearchAttributes;

/// Connects to Temporal with the SDK's standard environment settings.
pub async fn connect() -> anyhow::Result<Client> {
    let (connection_options, client_options) = ClientOptions::load_from_config(
        LoadClientConfigProfileOptions::default(),
    )
    .map_err(|e| {
        anyhow::anyhow!(
            "invalid Temporal client settings (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE): {e}"
        )
    })?;
    let address = connection_options.target.to_string();
    let connection = Connection::connect(connection_options).await.with_context(|| {
        format!("failed to connect to Temporal at {address}; start it with scripts/dev-stack.sh or set TEMPORAL_ADDRESS")
    })?;
    Ok(Client::new(connection, client_options)?)
}

/// Creates the custom search attributes the workflows set, skipping those that exist.
///
/// Returns the names it created.
pub async fn setup_search_attributes(client: &Client) -> anyhow::Result<Vec<String>> {
    let namespace = client.namespace().to_string();
    let mut operator = client.connection().operator_service();
    // The time-skipping test server implements add but not list: treat that as "none yet".
    let existing = match operator
        .list_search_attributes(temporalio_client::tonic::Request::new(
            ListSearchAttributesRequest {
                namespace: namespace.clone(),
            },
        ))
        .await
    {
        Ok(response) => response.into_inner().custom_attributes,
        Err(status) if status.code() == temporalio_client::tonic::Code::Unimplemented => {
            HashMap::new()
        }
        Err(status) => return Err(status).context("failed to list search attributes"),
    };
    let mut missing = HashMap::new();
    for (name, kind) in attributes::ALL {
        if existing.contains_key(name) {
            continue;
        }
        let kind = match kind {
            "Int" => IndexedValueType::Int,
            _ => IndexedValueType::Keyword,
        };
        missing.insert(name.to_string(), kind as i32);
    }
    if missing.is_empty() {
        return Ok(Vec::new());
    }
    let mut created: Vec<String> = missing.keys().cloned().collect();
    created.sort();
    operator
        .add_search_attributes(temporalio_client::tonic::Request::new(
            AddSearchAttributesRequest {
                search_attributes: missing,
                namespace,
            },
        ))
        .await
        .context("failed to create search attributes")?;
    Ok(created)
}

/// Starts the chain's settlement sequencer unless it is already running.
pub async fn ensure_sequencer(
    client: &Client,
    chain_id: &str,
    max_in_flight: u32,
) -> anyhow::Result<()> {
    let input = SequencerInput {
        chain_id: chain_id.to_string(),
        max_in_flight,
        next_block: None,
        paused: false,
        ready: Vec::new(),
        in_flight: Vec::new(),
        requeued: Vec::new(),
    };
    let options = WorkflowStartOptions::new(TASK_QUEUE, sequencer_workflow_id(chain_id))
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicate)
        .search_attributes(SearchAttributes::new([
            attributes::CHAIN_ID.value_set(chain_id.to_string())
        ]))
        .build();
    client
        .start_workflow(SettlementSequencer::run, input, options)
        .await
        .with_context(|| format!("failed to start the settlement sequencer of chain {chain_id}"))?;
    Ok(())
}

/// Result of `start` for one block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartOutcome {
    /// A new run was started.
    Started,
    /// A run is already in progress; it was left alone.
    AlreadyRunning,
    /// The block already completed; it is not run again.
    AlreadyDone,
}

/// Starts `BlockWorkflow` for one block: never a second run of a running or completed block.
pub async fn start_block(
    client: &Client,
    chain_id: &str,
    block_number: u64,
    settings: &PipelineSettings,
    resume: BlockProgress,
) -> anyhow::Result<StartOutcome> {
    Ok(
        start_block_run(client, chain_id, block_number, settings, resume)
            .await?
            .outcome,
    )
}

/// Result of [`start_block_run`]: what happened and which run now serves the block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedRun {
    /// Whether a run was started.
    pub outcome: StartOutcome,
    /// Run id of the run started or found running; `None` for a completed block.
    pub run_id: Option<String>,
}

/// Starts `BlockWorkflow` for one block like [`start_block`], and returns the run id too.
pub async fn start_block_run(
    client: &Client,
    chain_id: &str,
    block_number: u64,
    settings: &PipelineSettings,
    resume: BlockProgress,
) -> anyhow::Result<StartedRun> {
    let workflow_id = block_workflow_id(chain_id, block_number);
    let input = BlockInput {
        chain_id: chain_id.to_string(),
        block_number,
        settings: settings.clone(),
        resume,
    };
    let options = WorkflowStartOptions::new(TASK_QUEUE, workflow_id.clone())
        .id_conflict_policy(WorkflowIdConflictPolicy::UseExisting)
        .id_reuse_policy(WorkflowIdReusePolicy::AllowDuplicateFailedOnly)
        .search_attributes(SearchAttributes::new([
            attributes::CHAIN_ID.value_set(chain_id.to_string()),
            attributes::BLOCK_NUMBER.value_set(block_number as i64),
            attributes::stage_update(Stage::Pending),
        ]))
        .build();
    let before = describe_status(client, &workflow_id).await;
    match client
        .start_workflow(BlockWorkflow::run, input, options)
        .await
    {
        Ok(handle) => Ok(StartedRun {
            outcome: match before {
                Some(WorkflowExecutionStatus::Running) => StartOutcome::AlreadyRunning,
                _ => StartOutcome::Started,
            },
            run_id: handle.info().run_id.clone(),
        }),
        Err(error) if error.to_string().contains("already") => Ok(StartedRun {
            outcome: StartOutcome::AlreadyDone,
            run_id: None,
        }),
        Err(error) => Err(error).with_context(|| format!("failed to start block {block_number}")),
    }
}

async fn describe_status(client: &Client, workflow_id: &str) -> Option<WorkflowExecutionStatus> {
    let handle = client.get_workflow_handle::<BlockWorkflow>(workflow_id);
    let description = handle.describe(Default::default()).await.ok()?;
    Some(description.status())
}

/// Reads a block's status with the `status` query; it works on closed runs too.
pub async fn block_status(
    client: &Client,
    chain_id: &str,
    block_number: u64,
) -> anyhow::Result<BlockStatus> {
    let workflow_id = block_workflow_id(chain_id, block_number);
    let handle = client.get_workflow_handle::<BlockWorkflow>(workflow_id.clone());
    let status = handle
        .query(BlockWorkflow::status, (), WorkflowQueryOptions::default())
        .await
        .with_context(|| {
            format!("failed to query {workflow_id}; is a worker running and was the block started?")
        })?;
    status.with_context(|| format!("{workflow_id} has not recorded its state yet"))
}

/// Re-runs a failed block from its failed stage, keeping the stages it finished.
///
/// Returns the block's status before the retry.
pub async fn retry_block(
    client: &Client,
    chain_id: &str,
    block_number: u64,
    settings: &PipelineSettings,
) -> anyhow::Result<BlockStatus> {
    Ok(retry_block_run(client, chain_id, block_number, settings)
        .await?
        .failed)
}

/// Runs before and after [`retry_block_run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetriedBlock {
    /// Status of the failed run.
    pub failed: BlockStatus,
    /// Run id of the failed run.
    pub failed_run_id: Option<String>,
    /// Run id of the new run.
    pub new_run_id: Option<String>,
}

/// Re-runs a failed block like [`retry_block`], and returns the run ids of both runs.
pub async fn retry_block_run(
    client: &Client,
    chain_id: &str,
    block_number: u64,
    settings: &PipelineSettings,
) -> anyhow::Result<RetriedBlock> {
    let status = block_status(client, chain_id, block_number).await?;
    if status.stage != Stage::Failed {
        bail!(
            "block {block_number} is at stage {}, not Failed; only a failed block can be retried",
            status.stage.as_str()
        );
    }
    let workflow_id = block_workflow_id(chain_id, block_number);
    let failed_run_id = client
        .get_workflow_handle::<BlockWorkflow>(workflow_id)
        .describe(Default::default())
        .await
        .ok()
        .map(|description| description.run_id().to_string());
    let mut resume = status.progress.clone();
    // A failed settlement leaves no valid settlement output; a failed proof none either.
    resume.settlement = None;
    let started = start_block_run(client, chain_id, block_number, settings, resume).await?;
    Ok(RetriedBlock {
        failed: status,
        failed_run_id,
        new_run_id: started.run_id,
    })
}

/// Reads the settlement sequencer's state.
pub async fn sequencer_status(client: &Client, chain_id: &str) -> anyhow::Result<SequencerStatus> {
    let handle = client.get_workflow_handle::<SettlementSequencer>(sequencer_workflow_id(chain_id));
    handle
        .query(
            SettlementSequencer::status,
            (),
            WorkflowQueryOptions::default(),
        )
        .await
        .with_context(|| format!("failed to query the settlement sequencer of chain {chain_id}"))
}

/// Pauses (`true`) or resumes (`false`) settlement of a chain.
pub async fn set_paused(client: &Client, chain_id: &str, paused: bool) -> anyhow::Result<()> {
    let handle = client.get_workflow_handle::<SettlementSequencer>(sequencer_workflow_id(chain_id));
    let result = if paused {
        handle
            .signal(
                SettlementSequencer::pause,
                (),
                WorkflowSignalOptions::default(),
            )
            .await
    } else {
        handle
            .signal(
                SettlementSequencer::resume,
                (),
                WorkflowSignalOptions::default(),
            )
            .await
    };
    result.with_context(|| format!("failed to signal the settlement sequencer of chain {chain_id}"))
}

/// Change that [`change_paused`] made to a chain's settlement sequencer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseChange {
    /// Workflow id of the sequencer.
    pub workflow_id: String,
    /// Run id of the sequencer run that received the signal.
    pub run_id: Option<String>,
    /// Sequencer state before the signal, when its `status` query succeeded.
    pub before: Option<SequencerStatus>,
    /// Sequencer state after the signal took effect; `None` when the query failed or the
    /// state did not change within five seconds.
    pub after: Option<SequencerStatus>,
}

/// Pauses (`true`) or resumes (`false`) settlement of a chain and reads the sequencer's state
/// before and after.
pub async fn change_paused(
    client: &Client,
    chain_id: &str,
    paused: bool,
) -> anyhow::Result<PauseChange> {
    let workflow_id = sequencer_workflow_id(chain_id);
    let handle = client.get_workflow_handle::<SettlementSequencer>(workflow_id.clone());
    let run_id = match handle.describe(Default::default()).await {
        Ok(description) if description.status() == WorkflowExecutionStatus::Running => {
            Some(description.run_id().to_string())
        }
        Ok(description) => bail!(
            "the settlement sequencer {workflow_id} of chain {chain_id} is not running (status {:?}); \
             `orchestrator start` starts it",
            description.status()
        ),
        Err(temporalio_client::errors::WorkflowInteractionError::NotFound(_)) => bail!(
            "chain {chain_id} has no settlement sequencer {workflow_id}; `orchestrator start` starts \
             it, or check --chain-id"
        ),
        Err(error) => {
            return Err(error).with_context(|| {
                format!("failed to describe the settlement sequencer {workflow_id}")
            });
        }
    };
    let before = sequencer_status(client, chain_id).await.ok();
    set_paused(client, chain_id, paused).await?;
    let mut after = None;
    for _ in 0..25 {
        match sequencer_status(client, chain_id).await {
            Ok(status) if status.paused == paused => {
                after = Some(status);
                break;
            }
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
            Err(_) => break,
        }
    }
    Ok(PauseChange {
        workflow_id,
        run_id,
        before,
        after,
    })
}

/// Parses `N` or `FROM..TO` (inclusive) into a block range.
pub fn parse_block_range(text: &str) -> anyhow::Result<std::ops::RangeInclusive<u64>> {
    let parse = |part: &str| {
        part.trim().parse::<u64>().with_context(|| {
            format!("invalid block number {part:?} in {text:?}; expected N or FROM..TO, for example 1..5")
        })
    };
    let range = match text.split_once("..") {
        Some((from, to)) => parse(from)?..=parse(to.trim_start_matches('='))?,
        None => {
            let block = parse(text)?;
            block..=block
        }
    };
    if range.is_empty() {
        bail!("invalid block range {text:?}: the end is below the start");
    }
    Ok(range)
}
