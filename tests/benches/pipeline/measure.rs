//! Figures taken from a run: percentiles, worker memory, and the size and time split of block
//! workflow histories.

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use orchestrator_workflows::BlockWorkflow;
use orchestrator_workflows::types::block_workflow_id;
use prost::Message;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use temporalio_client::{Client, WorkflowFetchHistoryOptions};
use temporalio_common::protos::temporal::api::enums::v1::EventType;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use temporalio_common::protos::temporal::api::history::v1::{History, HistoryEvent};

/// p50, p90, maximum and mean of a sample.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    /// Median (nearest rank).
    pub p50: f64,
    /// 90th percentile (nearest rank).
    pub p90: f64,
    /// Maximum.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
}

impl Summary {
    /// Summarizes `values`; all figures are 0 for an empty sample.
    pub fn of(values: &[f64]) -> Self {
        if values.is_empty() {
            return Self::default();
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let rank = |quantile: f64| {
            let index = (quantile * sorted.len() as f64).ceil() as usize;
            sorted[index.clamp(1, sorted.len()) - 1]
        };
        Self {
            p50: rank(0.5),
            p90: rank(0.9),
            max: sorted[sorted.len() - 1],
            mean: sorted.iter().sum::<f64>() / sorted.len() as f64,
        }
    }
}

/// Returns the resident set size of process `pid` in MiB, from `VmRSS` in
/// `/proc/PID/status`.
pub fn rss_mib(pid: u32) -> anyhow::Result<f64> {
    let path = format!("/proc/{pid}/status");
    let status =
        std::fs::read_to_string(&path).with_context(|| format!("failed to read {path}"))?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .with_context(|| format!("{path} has no VmRSS line"))?;
    let kib: f64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .with_context(|| format!("invalid VmRSS line {line:?} in {path}"))?;
    Ok(kib / 1024.0)
}

/// Size and time split of one block workflow's history.
#[derive(Debug, Clone, Default)]
pub struct HistoryFigures {
    /// Number of events.
    pub events: usize,
    /// Size of the history as an encoded `temporal.api.history.v1.History` message, in bytes.
    pub bytes: usize,
    /// Number of durable timers started.
    pub timers: usize,
    /// Number of events per event type.
    pub event_types: BTreeMap<String, usize>,
    /// Seconds per part of the run: `activity <name>` (started to completed, last attempt),
    /// `activity queue` (scheduled to started), `timers` (started to fired) and
    /// `workflow tasks` (scheduled to completed).
    pub seconds: BTreeMap<String, f64>,
}

/// Fetches the whole history of block `block`'s workflow.
pub async fn fetch_history(
    client: &Client,
    chain_id: &str,
    block: u64,
) -> anyhow::Result<Vec<HistoryEvent>> {
    let workflow_id = block_workflow_id(chain_id, block);
    client
        .get_workflow_handle::<BlockWorkflow>(workflow_id.clone())
        .fetch_history(WorkflowFetchHistoryOptions::default())
        .into_events()
        .await
        .with_context(|| format!("failed to fetch the history of {workflow_id}"))
}

/// Fetches and measures the histories of `blocks`, eight requests at a time.
pub async fn measure_histories(
    client: &Client,
    chain_id: &str,
    blocks: impl Iterator<Item = u64>,
) -> anyhow::Result<Vec<HistoryFigures>> {
    futures::stream::iter(blocks)
        .map(|block| async move {
            let events = fetch_history(client, chain_id, block).await?;
            Ok::<_, anyhow::Error>(analyze_history(events))
        })
        .buffered(8)
        .try_collect()
        .await
}

fn event_seconds(event: &HistoryEvent) -> Option<f64> {
    let time = event.event_time.as_ref()?;
    Some(time.seconds as f64 + f64::from(time.nanos) * 1e-9)
}

/// Counts the events and bytes of a history and splits its wall time by activity, timer and
/// workflow task.
pub fn analyze_history(events: Vec<HistoryEvent>) -> HistoryFigures {
    let mut figures = HistoryFigures {
        events: events.len(),
        ..HistoryFigures::default()
    };
    // Activity name per scheduled event id, and the time of every event, by event id.
    let mut activity_names: HashMap<i64, String> = HashMap::new();
    let mut times: HashMap<i64, f64> = HashMap::new();
    for event in &events {
        let Some(time) = event_seconds(event) else {
            continue;
        };
        let event_type =
            EventType::try_from(event.event_type).map_or("unknown", |kind| kind.as_str_name());
        *figures
            .event_types
            .entry(event_type.to_string())
            .or_default() += 1;
        times.insert(event.event_id, time);
        let since = |id: i64| times.get(&id).map(|start| time - start);
        let mut add = |part: String, seconds: Option<f64>| {
            if let Some(seconds) = seconds {
                *figures.seconds.entry(part).or_default() += seconds;
            }
        };
        match &event.attributes {
            Some(Attributes::ActivityTaskScheduledEventAttributes(attributes)) => {
                let name = attributes
                    .activity_type
                    .as_ref()
                    .map(|kind| kind.name.clone())
                    .unwrap_or_default();
                activity_names.insert(event.event_id, name);
            }
            Some(Attributes::ActivityTaskStartedEventAttributes(attributes)) => {
                add(
                    "activity queue".to_string(),
                    since(attributes.scheduled_event_id),
                );
            }
            Some(Attributes::ActivityTaskCompletedEventAttributes(attributes)) => {
                let name = activity_names
                    .get(&attributes.scheduled_event_id)
                    .cloned()
                    .unwrap_or_default();
                add(
                    format!("activity {name}"),
                    since(attributes.started_event_id),
                );
            }
            Some(Attributes::TimerStartedEventAttributes(_)) => figures.timers += 1,
            Some(Attributes::TimerFiredEventAttributes(attributes)) => {
                add("timers".to_string(), since(attributes.started_event_id));
            }
            Some(Attributes::WorkflowTaskCompletedEventAttributes(attributes)) => {
                add(
                    "workflow tasks".to_string(),
                    since(attributes.scheduled_event_id),
                );
            }
            _ => {}
        }
    }
    figures.bytes = History { events }.encoded_len();
    figures
}

/// Mean and maximum history size of a set of block workflows, and the mean time split.
#[derive(Debug, Clone, Default, Serialize)]
pub struct HistorySummary {
    /// Block workflows measured.
    pub workflows: usize,
    /// Mean number of events.
    pub events_mean: f64,
    /// Maximum number of events.
    pub events_max: usize,
    /// Mean encoded size in bytes.
    pub bytes_mean: f64,
    /// Maximum encoded size in bytes.
    pub bytes_max: usize,
    /// Mean number of durable timers per workflow.
    pub timers_mean: f64,
    /// Mean number of events per event type.
    pub event_types_mean: BTreeMap<String, f64>,
    /// Mean seconds per part of a workflow run (see [`HistoryFigures::seconds`]).
    pub mean_seconds: BTreeMap<String, f64>,
}

impl HistorySummary {
    /// Summarizes the figures of several workflows.
    pub fn of(figures: &[HistoryFigures]) -> Self {
        if figures.is_empty() {
            return Self::default();
        }
        let count = figures.len() as f64;
        let mut mean_seconds: BTreeMap<String, f64> = BTreeMap::new();
        let mut event_types_mean: BTreeMap<String, f64> = BTreeMap::new();
        for history in figures {
            for (part, seconds) in &history.seconds {
                *mean_seconds.entry(part.clone()).or_default() += seconds / count;
            }
            for (event_type, events) in &history.event_types {
                *event_types_mean.entry(event_type.clone()).or_default() += *events as f64 / count;
            }
        }
        Self {
            workflows: figures.len(),
            events_mean: figures.iter().map(|h| h.events as f64).sum::<f64>() / count,
            events_max: figures.iter().map(|h| h.events).max().unwrap_or(0),
            bytes_mean: figures.iter().map(|h| h.bytes as f64).sum::<f64>() / count,
            bytes_max: figures.iter().map(|h| h.bytes).max().unwrap_or(0),
            timers_mean: figures.iter().map(|h| h.timers as f64).sum::<f64>() / count,
            event_types_mean,
            mean_seconds,
        }
    }
}
