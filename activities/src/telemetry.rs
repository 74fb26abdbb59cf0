//! Metrics and tracing spans of the pipeline activities.
//!
//! Instruments come from the OpenTelemetry global meter provider, which the worker installs
//! at start-up (`orchestrator_worker::telemetry`). Without one the calls here are no-ops, so
//! tests and tools that run activities without telemetry need no set-up.
//!
//! Every instrument carries a `chain_id` attribute. Names already end in their unit
//! (`_seconds`, `_wei`, `_blocks`), so the OTLP name and the Prometheus name are the same,
//! except that Prometheus adds `_total` to counters and `_bucket`, `_sum` and `_count` to
//! histograms.
//!
//! Instruments are looked up on every call instead of being cached, because a cached
//! instrument stays bound to the provider that was global when it was created, and the worker
//! may install its provider after the first call. The SDK returns the same aggregation for the
//! same name, so repeated look-ups count into one series.

use opentelemetry::KeyValue;
use opentelemetry::global;
use opentelemetry::metrics::{Counter, Gauge, Histogram, Meter};
use orchestrator_workflows::types::{ConfirmOutcome, ProverStatus, SendOutcome};
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;
use temporalio_sdk::activities::{ActivityContext, ActivityError};
use tracing::Instrument;
use tracing::field::Empty;

/// Name of the OpenTelemetry meter and tracer scope of the orchestrator's own telemetry.
pub const METER_NAME: &str = "orchestrator";

/// Blocks whose settlement L1 confirmed (counter).
pub const BLOCKS_SETTLED: &str = "orchestrator_blocks_settled";
/// Wall time of one activity attempt, with attributes `activity` and `outcome` (histogram).
pub const ACTIVITY_DURATION: &str = "orchestrator_activity_duration_seconds";
/// Failed activity attempts, with attributes `activity`, `error_class` and `error_type`
/// (counter).
pub const ACTIVITY_FAILURES: &str = "orchestrator_activity_failures";
/// Time from a prover submission to the first poll that finds the query DONE (histogram).
pub const PROVER_LATENCY: &str = "orchestrator_prover_latency_seconds";
/// L1 gas used by one block's settlement transaction (histogram).
pub const L1_GAS_USED: &str = "orchestrator_l1_gas_used";
/// L1 blob gas used by one block's settlement transaction (histogram).
pub const L1_BLOB_GAS_USED: &str = "orchestrator_l1_blob_gas_used";
/// Fee paid for one block's settlement transaction, in wei (histogram).
pub const L1_FEE_PAID: &str = "orchestrator_l1_fee_paid_wei";
/// Highest L2 block number the pipeline has seen (gauge).
pub const L2_LATEST_BLOCK: &str = "orchestrator_l2_latest_block";
/// Highest L2 block number the core contract on L1 stores (gauge).
pub const L1_SETTLED_BLOCK: &str = "orchestrator_l1_settled_block";
/// Latest L2 block minus the last settled block, 0 when nothing is behind (gauge).
pub const SETTLEMENT_LAG: &str = "orchestrator_settlement_lag_blocks";
/// Settlement sends held back because the fee exceeded the configured cap (counter).
pub const FEE_CAP_PAUSES: &str = "orchestrator_fee_cap_pauses";
/// Blocks that missed their proving deadline (counter).
pub const PROVING_DEADLINE_ALERTS: &str = "orchestrator_proving_deadline_alerts";

/// Every instrument name this module defines, as exported over OTLP.
pub const METRIC_NAMES: &[&str] = &[
    BLOCKS_SETTLED,
    ACTIVITY_DURATION,
    ACTIVITY_FAILURES,
    PROVER_LATENCY,
    L1_GAS_USED,
    L1_BLOB_GAS_USED,
    L1_FEE_PAID,
    L2_LATEST_BLOCK,
    L1_SETTLED_BLOCK,
    SETTLEMENT_LAG,
    FEE_CAP_PAUSES,
    PROVING_DEADLINE_ALERTS,
];

/// Instrument kind, which decides the series names Prometheus shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Monotonic sum: one `_total` series.
    Counter,
    /// Last value: one series under the instrument's name.
    Gauge,
    /// Bucket counts: `_bucket`, `_sum` and `_count` series.
    Histogram,
}

/// Returns the kind of an instrument in [`METRIC_NAMES`], or `None` for any other name.
pub fn metric_kind(name: &str) -> Option<MetricKind> {
    match name {
        BLOCKS_SETTLED | ACTIVITY_FAILURES | FEE_CAP_PAUSES | PROVING_DEADLINE_ALERTS => {
            Some(MetricKind::Counter)
        }
        L2_LATEST_BLOCK | L1_SETTLED_BLOCK | SETTLEMENT_LAG => Some(MetricKind::Gauge),
        ACTIVITY_DURATION | PROVER_LATENCY | L1_GAS_USED | L1_BLOB_GAS_USED | L1_FEE_PAID => {
            Some(MetricKind::Histogram)
        }
        _ => None,
    }
}

/// Returns the series names under which Prometheus shows an instrument of [`METRIC_NAMES`]
/// (the worker's exporter adds no unit suffix, since the names contain the unit).
pub fn prometheus_series(name: &str) -> Vec<String> {
    match metric_kind(name) {
        Some(MetricKind::Counter) => vec![format!("{name}_total")],
        Some(MetricKind::Gauge) => vec![name.to_string()],
        Some(MetricKind::Histogram) => ["_bucket", "_sum", "_count"]
            .iter()
            .map(|suffix| format!("{name}{suffix}"))
            .collect(),
        None => Vec::new(),
    }
}

/// Bucket bounds of the activity duration, in seconds: from a cached artifact to an hour-long
/// SNOS run.
const DURATION_BUCKETS: &[f64] = &[
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
];
/// Bucket bounds of the prover latency, in seconds: proving takes minutes to hours.
const PROVER_LATENCY_BUCKETS: &[f64] = &[
    10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0,
];
/// Bucket bounds of the execution gas of one settlement transaction.
const GAS_BUCKETS: &[f64] = &[
    50_000.0,
    100_000.0,
    200_000.0,
    300_000.0,
    500_000.0,
    750_000.0,
    1_000_000.0,
    1_500_000.0,
    2_000_000.0,
    3_000_000.0,
    5_000_000.0,
];
/// Bucket bounds of the blob gas: one to nine blobs of 131072 blob gas each (EIP-4844).
const BLOB_GAS_BUCKETS: &[f64] = &[
    131_072.0,
    262_144.0,
    393_216.0,
    524_288.0,
    655_360.0,
    786_432.0,
    917_504.0,
    1_048_576.0,
    1_179_648.0,
];
/// Bucket bounds of the fee of one settlement transaction, in wei (1e18 wei = 1 ETH).
const FEE_BUCKETS: &[f64] = &[1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19];

/// Maximum prover submissions whose start time is kept while waiting for DONE. A query that
/// never reaches DONE or FAILED on this worker (another worker polls it, or the block fails
/// elsewhere) would otherwise stay forever; past the limit the oldest entry is dropped.
const MAX_PENDING_PROOFS: usize = 10_000;

fn meter() -> Meter {
    global::meter(METER_NAME)
}

fn counter(name: &'static str, description: &'static str) -> Counter<u64> {
    meter()
        .u64_counter(name)
        .with_description(description)
        .build()
}

fn gauge(name: &'static str, description: &'static str) -> Gauge<u64> {
    meter()
        .u64_gauge(name)
        .with_description(description)
        .build()
}

fn histogram(
    name: &'static str,
    description: &'static str,
    unit: &'static str,
    buckets: &[f64],
) -> Histogram<f64> {
    meter()
        .f64_histogram(name)
        .with_description(description)
        .with_unit(unit)
        .with_boundaries(buckets.to_vec())
        .build()
}

fn chain(chain_id: &str) -> KeyValue {
    KeyValue::new("chain_id", chain_id.to_string())
}

/// Per-chain block numbers behind the lag gauge.
#[derive(Debug, Default, Clone, Copy)]
struct ChainProgress {
    latest_l2: Option<u64>,
    settled: Option<u64>,
}

static PROGRESS: Mutex<Option<HashMap<String, ChainProgress>>> = Mutex::new(None);

/// Start of each prover query still waiting for DONE, by query id.
static PENDING_PROOFS: Mutex<Option<HashMap<String, Instant>>> = Mutex::new(None);

/// Locks a table, recovering it when a thread panicked while holding it: the tables contain
/// plain numbers that a panic cannot leave half-written.
fn lock<T>(table: &Mutex<Option<T>>) -> MutexGuard<'_, Option<T>> {
    table
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Updates the chain's progress and records the lag gauge.
fn update_progress(chain_id: &str, update: impl FnOnce(&mut ChainProgress)) {
    let progress = {
        let mut table = lock(&PROGRESS);
        let entry = table
            .get_or_insert_with(HashMap::new)
            .entry(chain_id.to_string())
            .or_default();
        update(entry);
        *entry
    };
    let attributes = [chain(chain_id)];
    if let Some(latest) = progress.latest_l2 {
        gauge(
            L2_LATEST_BLOCK,
            "Highest L2 block number the pipeline has seen",
        )
        .record(latest, &attributes);
    }
    if let Some(settled) = progress.settled {
        gauge(
            L1_SETTLED_BLOCK,
            "Highest L2 block number the core contract on L1 stores",
        )
        .record(settled, &attributes);
    }
    if let Some(latest) = progress.latest_l2 {
        // Before the first settlement every block up to the latest one is behind.
        let lag = match progress.settled {
            Some(settled) => latest.saturating_sub(settled),
            None => latest + 1,
        };
        gauge(
            SETTLEMENT_LAG,
            "Latest L2 block minus the last settled block",
        )
        .record(lag, &attributes);
    }
}

/// Records an L2 block number the pipeline has seen (the node's head as the follower polls it,
/// or a block that `da_encode` starts on); the gauge keeps the highest one.
pub fn record_l2_block_seen(chain_id: &str, block_number: u64) {
    update_progress(chain_id, |progress| {
        progress.latest_l2 = Some(
            progress
                .latest_l2
                .map_or(block_number, |seen| seen.max(block_number)),
        );
    });
}

/// Records the last L2 block the core contract stores, as read from L1. A lower value than
/// before (an L1 reorg) replaces the old one.
pub fn record_l1_settled_block(chain_id: &str, block_number: u64) {
    update_progress(chain_id, |progress| progress.settled = Some(block_number));
}

/// Receipt figures of a confirmed settlement transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettlementCost {
    /// Execution gas used.
    pub gas_used: u64,
    /// Blob gas used.
    pub blob_gas_used: u64,
    /// Total fee paid (execution and blob gas), in wei.
    pub fee_paid_wei: u128,
}

/// Records a block whose settlement L1 confirmed: counts it, raises the settled block gauge to
/// it and, when the settling transaction is known, records its cost.
pub fn record_block_settled(chain_id: &str, block_number: u64, cost: Option<SettlementCost>) {
    let attributes = [chain(chain_id)];
    counter(BLOCKS_SETTLED, "Blocks whose settlement L1 confirmed").add(1, &attributes);
    update_progress(chain_id, |progress| {
        progress.settled = Some(
            progress
                .settled
                .map_or(block_number, |settled| settled.max(block_number)),
        );
    });
    let Some(cost) = cost else {
        return;
    };
    histogram(
        L1_GAS_USED,
        "L1 gas used by one block's settlement transaction",
        "gas",
        GAS_BUCKETS,
    )
    .record(cost.gas_used as f64, &attributes);
    histogram(
        L1_BLOB_GAS_USED,
        "L1 blob gas used by one block's settlement transaction",
        "gas",
        BLOB_GAS_BUCKETS,
    )
    .record(cost.blob_gas_used as f64, &attributes);
    histogram(
        L1_FEE_PAID,
        "Fee paid for one block's settlement transaction",
        "wei",
        FEE_BUCKETS,
    )
    .record(cost.fee_paid_wei as f64, &attributes);
}

/// Counts a settlement send held back because the fee exceeded the cap (both in wei).
pub fn record_fee_cap_pause(chain_id: &str, block_number: u64, required_wei: &str, cap_wei: &str) {
    tracing::warn!(
        chain_id,
        block_number,
        required_wei,
        cap_wei,
        "settlement paused: the fee exceeds the cap"
    );
    counter(
        FEE_CAP_PAUSES,
        "Settlement sends held back because the fee exceeded the cap",
    )
    .add(1, &[chain(chain_id)]);
}

/// Counts a block that missed its proving deadline and logs a warning naming the block.
///
/// The block number goes to the log, not to an attribute, so that the counter keeps one series
/// per chain. Workflow code must call this only outside replay, or a replayed history counts
/// the same block again.
pub fn proving_deadline_exceeded(chain_id: &str, block_number: u64) {
    tracing::warn!(chain_id, block_number, "block missed its proving deadline");
    counter(
        PROVING_DEADLINE_ALERTS,
        "Blocks that missed their proving deadline",
    )
    .add(1, &[chain(chain_id)]);
}

/// Notes when a prover query was submitted, for the latency recorded when it is DONE. A query
/// submitted again (a retry that found the same dedup id) keeps its first time.
pub fn record_prover_submitted(query_id: &str) {
    let mut table = lock(&PENDING_PROOFS);
    let pending = table.get_or_insert_with(HashMap::new);
    if pending.contains_key(query_id) {
        return;
    }
    if pending.len() >= MAX_PENDING_PROOFS
        && let Some(oldest) = pending
            .iter()
            .min_by_key(|(_, started)| **started)
            .map(|(id, _)| id.clone())
    {
        pending.remove(&oldest);
    }
    pending.insert(query_id.to_string(), Instant::now());
}

/// Records the prover latency of a query that is DONE, once per query. A query submitted by
/// another worker process, or before this one restarted, has no start time and is skipped.
pub fn record_prover_done(chain_id: &str, query_id: &str) {
    let started = lock(&PENDING_PROOFS)
        .as_mut()
        .and_then(|pending| pending.remove(query_id));
    let Some(started) = started else {
        return;
    };
    histogram(
        PROVER_LATENCY,
        "Time from a prover submission to the first poll that finds it DONE",
        "s",
        PROVER_LATENCY_BUCKETS,
    )
    .record(started.elapsed().as_secs_f64(), &[chain(chain_id)]);
}

/// Forgets the start time of a query that FAILED, which never reaches DONE.
pub fn record_prover_failed(query_id: &str) {
    if let Some(pending) = lock(&PENDING_PROOFS).as_mut() {
        pending.remove(query_id);
    }
}

/// Records what `settle_send` returned: the transaction hash on the current span, or a fee-cap
/// pause.
pub fn record_send_outcome(chain_id: &str, block_number: u64, outcome: &SendOutcome) {
    match outcome {
        SendOutcome::Sent(attempt) => record_tx_hash(&attempt.tx_hash),
        SendOutcome::FeeCapExceeded {
            required_wei,
            cap_wei,
        } => {
            record_fee_cap_pause(chain_id, block_number, required_wei, cap_wei);
        }
        SendOutcome::AlreadySettled => {}
    }
}

/// Records what `settle_confirm` returned: for a confirmed block, the settled block, its
/// transaction hash on the current span and the receipt's gas and fee.
pub fn record_confirm_outcome(chain_id: &str, block_number: u64, outcome: &ConfirmOutcome) {
    let ConfirmOutcome::Confirmed(output) = outcome else {
        return;
    };
    // An empty hash means an earlier run's transaction settled the block, with no known cost.
    let cost = if output.tx_hash.is_empty() {
        None
    } else {
        record_tx_hash(&output.tx_hash);
        let fee_paid_wei = output.fee_paid_wei.parse().unwrap_or_else(|error| {
            tracing::warn!(chain_id, block_number, fee_paid_wei = %output.fee_paid_wei, %error, "settlement fee is not a wei amount; recording 0");
            0
        });
        Some(SettlementCost {
            gas_used: output.gas_used,
            blob_gas_used: output.blob_gas_used,
            fee_paid_wei,
        })
    };
    record_block_settled(chain_id, block_number, cost);
}

/// Records what `prover_poll` returned for `query_id`: the latency of a DONE query, or the end
/// of a FAILED one.
pub fn record_prover_status(chain_id: &str, query_id: &str, status: &ProverStatus) {
    match status {
        ProverStatus::Done => record_prover_done(chain_id, query_id),
        ProverStatus::Failed(_) => record_prover_failed(query_id),
        ProverStatus::InProgress => {}
    }
}

/// Returns the block number in a block workflow id (`block-{chain_id}-{block_number}`), or
/// `None` for any other workflow id.
pub fn block_number_from_workflow_id(chain_id: &str, workflow_id: &str) -> Option<u64> {
    workflow_id
        .strip_prefix("block-")?
        .strip_prefix(chain_id)?
        .strip_prefix('-')?
        .parse()
        .ok()
}

/// Creates the span of one activity attempt. Its fields are `activity`, `chain_id`,
/// `block_number`, `workflow_id` and `tx_hash`; the unknown ones stay empty, and
/// [`record_tx_hash`] fills in `tx_hash` later.
pub fn activity_span(
    activity: &'static str,
    chain_id: &str,
    block_number: Option<u64>,
    workflow_id: Option<&str>,
) -> tracing::Span {
    let span = tracing::info_span!(
        "activity",
        otel.name = activity,
        activity,
        chain_id,
        block_number = Empty,
        workflow_id = Empty,
        tx_hash = Empty,
    );
    if let Some(block_number) = block_number {
        // OpenTelemetry attributes have no unsigned integer, and tracing-opentelemetry 0.33
        // exports a u64 field as a string, so the number goes in as i64 when it fits.
        match i64::try_from(block_number) {
            Ok(signed) => span.record("block_number", signed),
            Err(_) => span.record("block_number", block_number),
        };
    }
    if let Some(workflow_id) = workflow_id {
        span.record("workflow_id", workflow_id);
    }
    span
}

/// Sets the `tx_hash` field of the current activity span.
pub fn record_tx_hash(tx_hash: &dyn std::fmt::Display) {
    tracing::Span::current().record("tx_hash", tracing::field::display(tx_hash));
}

/// Class and type of a failed activity attempt, as the failure counter labels them.
///
/// The class is `retryable`, `non_retryable` or `cancelled`. The type is the failure type
/// that the pipeline sets on its application failures (the error enum's class or variant,
/// such as `Settlement` or `StateMismatch`), or `unspecified` when it set none.
pub fn failure_labels(error: &ActivityError) -> Option<(&'static str, String)> {
    match error {
        ActivityError::Application(failure) => {
            let class = if failure.is_non_retryable() {
                "non_retryable"
            } else {
                "retryable"
            };
            let kind = failure.type_name().unwrap_or("unspecified").to_string();
            Some((class, kind))
        }
        ActivityError::Cancelled { .. } => Some(("cancelled", "Cancelled".to_string())),
        // The activity completes later through the client: not a failure.
        ActivityError::WillCompleteAsync => None,
        // A variant added by a later SDK version.
        _ => Some(("unknown", "unknown".to_string())),
    }
}

/// Records the duration and, on failure, the failure of one activity attempt.
pub fn record_activity_result<T>(
    activity: &'static str,
    chain_id: &str,
    seconds: f64,
    result: &Result<T, ActivityError>,
) {
    let failure = result.as_ref().err().and_then(failure_labels);
    let outcome = match (&result, &failure) {
        (Ok(_), _) => "ok",
        (Err(_), Some(_)) => "failed",
        (Err(_), None) => "async",
    };
    histogram(
        ACTIVITY_DURATION,
        "Wall time of one activity attempt",
        "s",
        DURATION_BUCKETS,
    )
    .record(
        seconds,
        &[
            chain(chain_id),
            KeyValue::new("activity", activity),
            KeyValue::new("outcome", outcome),
        ],
    );
    if let Some((class, kind)) = failure {
        counter(ACTIVITY_FAILURES, "Failed activity attempts").add(
            1,
            &[
                chain(chain_id),
                KeyValue::new("activity", activity),
                KeyValue::new("error_class", class),
                KeyValue::new("error_type", kind),
            ],
        );
    }
}

/// Telemetry of one activity attempt: its span, duration and failure.
#[derive(Debug)]
pub struct ActivityTelemetry {
    activity: &'static str,
    chain_id: String,
    span: tracing::Span,
}

impl ActivityTelemetry {
    /// Starts the telemetry of an attempt of `activity` for a block of `chain_id`; the workflow
    /// id comes from the activity's context.
    pub fn new(
        activity: &'static str,
        ctx: &ActivityContext,
        chain_id: &str,
        block_number: Option<u64>,
    ) -> Self {
        let workflow_id = ctx.info().workflow_id.as_deref();
        let block_number = block_number
            .or_else(|| workflow_id.and_then(|id| block_number_from_workflow_id(chain_id, id)));
        Self {
            activity,
            chain_id: chain_id.to_string(),
            span: activity_span(activity, chain_id, block_number, workflow_id),
        }
    }

    /// Runs the activity's work inside the span and records its duration and failure.
    pub async fn observe<T>(
        self,
        work: impl Future<Output = Result<T, ActivityError>>,
    ) -> Result<T, ActivityError> {
        self.observe_with(work, |_| {}).await
    }

    /// Like [`observe`](Self::observe), and on success also passes the output to `on_success`,
    /// which runs inside the span.
    pub async fn observe_with<T>(
        self,
        work: impl Future<Output = Result<T, ActivityError>>,
        on_success: impl FnOnce(&T),
    ) -> Result<T, ActivityError> {
        let started = Instant::now();
        let result = work.instrument(self.span.clone()).await;
        if let Ok(output) = &result {
            self.span.in_scope(|| on_success(output));
        }
        record_activity_result(
            self.activity,
            &self.chain_id,
            started.elapsed().as_secs_f64(),
            &result,
        );
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use temporalio_common::error::ApplicationFailure;

    #[test]
    fn workflow_id_parses_block_number() {
        assert_eq!(
            block_number_from_workflow_id("devnet", "block-devnet-42"),
            Some(42)
        );
        assert_eq!(
            block_number_from_workflow_id("my-chain", "block-my-chain-7"),
            Some(7)
        );
    }

    #[test]
    fn workflow_id_of_other_chain_rejected() {
        assert_eq!(
            block_number_from_workflow_id("devnet", "block-other-42"),
            None
        );
        assert_eq!(
            block_number_from_workflow_id("devnet", "settlement-devnet"),
            None
        );
        assert_eq!(
            block_number_from_workflow_id("devnet", "block-devnet-"),
            None
        );
    }

    #[test]
    fn failure_labels_name_class_and_type() {
        let retryable = ActivityError::application(
            ApplicationFailure::builder("rpc down")
                .type_name("BlockSource".to_string())
                .build(),
        );
        assert_eq!(
            failure_labels(&retryable),
            Some(("retryable", "BlockSource".to_string()))
        );

        let permanent = ActivityError::application(
            ApplicationFailure::builder("bad state")
                .type_name("StateMismatch".to_string())
                .non_retryable(true)
                .build(),
        );
        assert_eq!(
            failure_labels(&permanent),
            Some(("non_retryable", "StateMismatch".to_string()))
        );

        let untyped = ActivityError::application(ApplicationFailure::new("no type"));
        assert_eq!(
            failure_labels(&untyped),
            Some(("retryable", "unspecified".to_string()))
        );

        assert_eq!(
            failure_labels(&ActivityError::cancelled()),
            Some(("cancelled", "Cancelled".to_string()))
        );
        assert_eq!(failure_labels(&ActivityError::WillCompleteAsync), None);
    }

    #[test]
    fn every_metric_has_a_kind() {
        for name in METRIC_NAMES {
            assert!(metric_kind(name).is_some(), "{name} has no kind");
        }
        assert_eq!(
            prometheus_series(BLOCKS_SETTLED),
            ["orchestrator_blocks_settled_total"]
        );
        assert_eq!(
            prometheus_series(SETTLEMENT_LAG),
            ["orchestrator_settlement_lag_blocks"]
        );
        assert_eq!(prometheus_series(PROVER_LATENCY).len(), 3);
    }

    #[test]
    fn metric_names_are_unique() {
        let mut names = METRIC_NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), METRIC_NAMES.len());
    }
}
