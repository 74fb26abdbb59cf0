//! Per-block rows of `orchestrator status`: read from the server, printed as a table or JSON.
//!
//! A row combines the block workflow's `status` query (stage, outputs, errors) with the
//! server's description of the run (start time, pending activity attempts and their last
//! failure). So a block whose activity is retrying shows the error before the stage gives up.

use orchestrator_workflows::types::{BlockStatus, Stage, block_workflow_id};
use orchestrator_workflows::{BlockWorkflow, TASK_QUEUE};
use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};
use temporalio_client::errors::{WorkflowInteractionError, WorkflowQueryError};
use temporalio_client::{
    Client, WorkflowExecutionDescription, WorkflowExecutionStatus, WorkflowQueryOptions,
};
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;

/// One block's row of `orchestrator status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockRow {
    /// L2 block number.
    pub block_number: u64,
    /// Workflow id of the block.
    pub workflow_id: String,
    /// Run id of the latest run, when the workflow exists.
    pub run_id: Option<String>,
    /// Stage from the `status` query, or from the `PipelineStage` search attribute when the
    /// query failed.
    pub stage: Option<String>,
    /// When the current stage started, Unix milliseconds. For `Settled` and `Failed` this is
    /// when the block settled or failed. Before the first stage it is the workflow's start.
    pub stage_since_ms: Option<u64>,
    /// Seconds since `stage_since_ms`.
    pub age_secs: Option<u64>,
    /// Attempts of the current stage (of the failed stage for a failed block): the activity's
    /// attempt number, except in proving (prover submissions) and settlement (L1 transactions
    /// sent). `None` when the server keeps no count.
    pub attempts: Option<u32>,
    /// Last error of the block: the retrying activity's last failure, or the error that
    /// failed the block.
    pub last_error: Option<String>,
    /// State diff encoding of the block once its DA stage finished, with the chain's
    /// stateful-compression setting, for example `v2, stateful off (chain setting)`.
    pub da_encoding: Option<String>,
    /// Wait reason of the block, or its L1 transaction once settled.
    pub note: Option<String>,
    /// Reason this row is incomplete, with the fix, or `None` when every field was read.
    pub error: Option<String>,
    /// Full result of the `status` query, when it succeeded.
    pub status: Option<BlockStatus>,
}

/// Reads the rows of the given blocks, one block after the other.
///
/// A block that cannot be read still gets a row, with `error` set, so one missing block does
/// not hide the others.
pub async fn collect_rows(
    client: &Client,
    chain_id: &str,
    blocks: std::ops::RangeInclusive<u64>,
) -> Vec<BlockRow> {
    let mut rows = Vec::new();
    for block in blocks {
        rows.push(collect_row(client, chain_id, block).await);
    }
    rows
}

/// Reads one block's row.
pub async fn collect_row(client: &Client, chain_id: &str, block_number: u64) -> BlockRow {
    let workflow_id = block_workflow_id(chain_id, block_number);
    let mut row = BlockRow {
        block_number,
        workflow_id: workflow_id.clone(),
        run_id: None,
        stage: None,
        stage_since_ms: None,
        age_secs: None,
        attempts: None,
        last_error: None,
        da_encoding: None,
        note: None,
        error: None,
        status: None,
    };
    let handle = client.get_workflow_handle::<BlockWorkflow>(workflow_id.clone());
    let description = match handle.describe(Default::default()).await {
        Ok(description) => description,
        Err(WorkflowInteractionError::NotFound(_)) => {
            row.error = Some(format!(
                "block {block_number} has no workflow {workflow_id}; start it with \
                 `orchestrator start {block_number}`, or check --chain-id and TEMPORAL_NAMESPACE"
            ));
            return row;
        }
        Err(error) => {
            row.error = Some(format!(
                "failed to describe {workflow_id} of block {block_number}: {error}; check that the \
                 Temporal server at TEMPORAL_ADDRESS is up"
            ));
            return row;
        }
    };
    row.run_id = Some(description.run_id().to_string());
    let pending = pending_activity(&description);

    match handle
        .query(BlockWorkflow::status, (), WorkflowQueryOptions::default())
        .await
    {
        Ok(Some(status)) => fill_from_status(&mut row, &status, &description, pending.as_ref()),
        Ok(None) => {
            row.error = Some(format!(
                "{workflow_id} of block {block_number} has not recorded its state yet; check that \
                 an orchestrator-worker polls task queue {TASK_QUEUE}"
            ));
        }
        Err(WorkflowQueryError::NotFound(_)) => {
            row.error = Some(format!(
                "{workflow_id} of block {block_number} disappeared while being read; run status again"
            ));
        }
        Err(error) => {
            row.error = Some(format!(
                "status query of {workflow_id} (block {block_number}) failed: {error}; check that an \
                 orchestrator-worker polls task queue {TASK_QUEUE}, since queries run on a worker"
            ));
        }
    }
    if row.stage.is_none() {
        // Without the query, the search attribute the workflow keeps up to date is the best
        // source of the stage, and the run's start the best source of the age.
        row.stage = stage_attribute(&description);
        row.stage_since_ms = description.start_time().map(unix_ms);
        row.age_secs = row.stage_since_ms.map(age_secs);
        row.last_error = pending.as_ref().and_then(|p| p.last_failure.clone());
    }
    if matches!(row.stage.as_deref(), Some("Failed")) && row.attempts.is_none() {
        row.attempts = last_activity_attempt(client, &workflow_id).await;
    }
    row
}

/// The most recent pending activity of a run: its attempt number and last failure.
struct PendingActivity {
    attempt: u32,
    last_failure: Option<String>,
}

fn pending_activity(description: &WorkflowExecutionDescription) -> Option<PendingActivity> {
    let activity = description
        .raw()
        .pending_activities
        .iter()
        .max_by_key(|a| a.attempt)?;
    Some(PendingActivity {
        attempt: u32::try_from(activity.attempt).unwrap_or(0).max(1),
        last_failure: activity.last_failure.as_ref().map(|f| root_message(f)),
    })
}

fn root_message(
    failure: &temporalio_common::protos::temporal::api::failure::v1::Failure,
) -> String {
    let mut failure = failure;
    while let Some(cause) = failure.cause.as_deref() {
        failure = cause;
    }
    failure.message.clone()
}

fn fill_from_status(
    row: &mut BlockRow,
    status: &BlockStatus,
    description: &WorkflowExecutionDescription,
    pending: Option<&PendingActivity>,
) {
    row.stage = Some(status.stage.as_str().to_string());
    row.stage_since_ms = stage_since_ms(status).or_else(|| description.start_time().map(unix_ms));
    row.age_secs = row.stage_since_ms.map(age_secs);
    let counted_stage = match status.stage {
        Stage::Failed => status.failed_stage,
        stage => Some(stage),
    };
    row.attempts = counted_stage.and_then(|stage| stage_attempts(status, stage, pending));
    row.last_error = match pending.and_then(|p| p.last_failure.clone()) {
        Some(failure) if description.status() == WorkflowExecutionStatus::Running => Some(failure),
        _ => status.last_error.clone(),
    };
    row.da_encoding = status
        .progress
        .da
        .as_ref()
        .and_then(|da| da.encoding.as_ref())
        .map(|encoding| encoding.summary());
    row.note = match status.stage {
        Stage::Settled => status.progress.settlement.as_ref().map(|settlement| {
            if settlement.tx_hash.is_empty() {
                "already settled on L1 by an earlier run".to_string()
            } else {
                format!("L1 tx {}", settlement.tx_hash)
            }
        }),
        Stage::Failed => None,
        _ => status.waiting_for.clone(),
    };
    row.status = Some(status.clone());
}

/// Start of the current stage: the open timing, or the end of the last one once the block
/// settled or failed.
fn stage_since_ms(status: &BlockStatus) -> Option<u64> {
    let last = status.timings.last()?;
    match last.finished_ms {
        None => Some(last.started_ms),
        Some(finished) if matches!(status.stage, Stage::Settled | Stage::Failed) => Some(finished),
        Some(_) => None,
    }
}

fn stage_attempts(
    status: &BlockStatus,
    stage: Stage,
    pending: Option<&PendingActivity>,
) -> Option<u32> {
    match stage {
        Stage::Proving => Some(status.prover_resubmits + 1),
        Stage::Settlement | Stage::Settled => Some(
            u32::try_from(status.l1_attempts.len())
                .unwrap_or(u32::MAX)
                .max(1),
        ),
        _ => pending
            .map(|p| p.attempt)
            .or(if status.stage == Stage::Failed {
                None
            } else {
                Some(1)
            }),
    }
}

fn stage_attribute(description: &WorkflowExecutionDescription) -> Option<String> {
    description
        .search_attributes()
        .get(&orchestrator_workflows::attributes::PIPELINE_STAGE)
}

/// Attempt number of the last activity a closed run started, read from its history.
async fn last_activity_attempt(client: &Client, workflow_id: &str) -> Option<u32> {
    let handle = client.get_workflow_handle::<BlockWorkflow>(workflow_id.to_string());
    let events = handle
        .fetch_history(Default::default())
        .into_events()
        .await
        .ok()?;
    events
        .iter()
        .rev()
        .find_map(|event| match &event.attributes {
            Some(Attributes::ActivityTaskStartedEventAttributes(started)) => {
                u32::try_from(started.attempt).ok()
            }
            _ => None,
        })
}

fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn age_secs(since_ms: u64) -> u64 {
    unix_ms(SystemTime::now()).saturating_sub(since_ms) / 1_000
}

/// Formats an age in seconds as `42s`, `17m` or `5h`.
pub fn format_age(secs: u64) -> String {
    match secs {
        0..=119 => format!("{secs}s"),
        120..=7_199 => format!("{}m", secs / 60),
        _ => format!("{}h", secs / 3_600),
    }
}

/// Maximum width of the NOTE column when the output has a known width.
const NOTE_WIDTH: usize = 40;

/// Renders rows as a table. With `width`, the NOTE column is cut to 40 characters and LAST
/// ERROR to what remains of the line; without it, nothing is cut.
pub fn render_table(rows: &[BlockRow], width: Option<usize>) -> String {
    let notes: Vec<String> = rows
        .iter()
        .map(|row| {
            let note = row.note.as_deref().unwrap_or("-");
            truncate(note, width.map_or(usize::MAX, |_| NOTE_WIDTH))
        })
        .collect();
    let note_width = notes
        .iter()
        .map(|note| note.chars().count())
        .max()
        .unwrap_or(0)
        .max("NOTE".len());

    let encoding_width = rows
        .iter()
        .filter_map(|row| row.da_encoding.as_ref())
        .map(|encoding| encoding.chars().count())
        .max()
        .unwrap_or(0)
        .max("DA ENCODING".len());

    let mut out = format!(
        "{:>8}  {:<24}  {:>5}  {:>8}  {:<encoding_width$}  {:<note_width$}  LAST ERROR\n",
        "BLOCK", "STAGE", "AGE", "ATTEMPTS", "DA ENCODING", "NOTE"
    );
    for (row, note) in rows.iter().zip(&notes) {
        let error = match (&row.error, &row.last_error) {
            (Some(error), _) => error.clone(),
            (None, Some(last)) => last.clone(),
            (None, None) => "-".to_string(),
        };
        let fixed = format!(
            "{:>8}  {:<24}  {:>5}  {:>8}  {:<encoding_width$}  {:<note_width$}  ",
            row.block_number,
            row.stage.as_deref().unwrap_or("unknown"),
            row.age_secs.map_or("-".to_string(), format_age),
            row.attempts.map_or("-".to_string(), |a| a.to_string()),
            row.da_encoding.as_deref().unwrap_or("-"),
            note,
        );
        let error = match width {
            Some(width) => truncate(&error, width.saturating_sub(fixed.chars().count()).max(20)),
            None => truncate(&error, usize::MAX),
        };
        let line = format!("{fixed}{error}");
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Cuts `text` to at most `max` characters, ending with `…` when cut. Line breaks become
/// spaces so a row stays on one line.
pub fn truncate(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max {
        return flat;
    }
    let mut cut: String = flat.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(block_number: u64, last_error: Option<&str>) -> BlockRow {
        BlockRow {
            block_number,
            workflow_id: format!("block-devnet-{block_number}"),
            run_id: None,
            stage: Some("Snos".to_string()),
            stage_since_ms: None,
            age_secs: Some(150),
            attempts: Some(3),
            last_error: last_error.map(str::to_string),
            da_encoding: None,
            note: None,
            error: None,
            status: None,
        }
    }

    #[test]
    fn truncate_marks_cut_text() {
        assert_eq!(truncate("abcdef", 4), "abc…");
        assert_eq!(truncate("abc", 4), "abc");
        assert_eq!(truncate("a\nb", 4), "a b");
    }

    #[test]
    fn table_fits_terminal_width() {
        let long = "Snos: connection refused ".repeat(20);
        let table = render_table(&[row(7, Some(&long))], Some(100));
        for line in table.lines() {
            assert!(line.chars().count() <= 100, "line wider than 100: {line:?}");
        }
        let data = table.lines().nth(1).expect("a data row");
        assert!(data.contains("Snos"), "stage missing: {data}");
        assert!(data.contains("2m"), "age missing: {data}");
        assert!(data.ends_with('…'), "long error not cut: {data}");
    }

    #[test]
    fn table_without_width_keeps_full_error() {
        let long = "x".repeat(300);
        let table = render_table(&[row(7, Some(&long))], None);
        assert!(table.contains(&long));
    }

    #[test]
    fn read_error_replaces_last_error() {
        let mut unreadable = row(9, Some("old"));
        unreadable.error = Some("block 9 has no workflow".to_string());
        let table = render_table(&[unreadable], None);
        assert!(table.contains("block 9 has no workflow"));
        assert!(!table.contains("old"));
    }

    #[test]
    fn table_shows_da_encoding() {
        let mut encoded = row(11, None);
        encoded.da_encoding = Some("v2, stateful off (chain setting)".to_string());
        let table = render_table(&[encoded, row(12, None)], Some(200));
        let header = table.lines().next().expect("a header");
        assert!(header.contains("DA ENCODING"), "header: {header}");
        let encoded_line = table.lines().nth(1).expect("row of block 11");
        assert!(encoded_line.contains("v2, stateful off (chain setting)"), "row: {encoded_line}");
    }

    #[test]
    fn age_units() {
        assert_eq!(format_age(59), "59s");
        assert_eq!(format_age(600), "10m");
        assert_eq!(format_age(7_200), "2h");
    }
}
