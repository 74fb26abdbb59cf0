//! Payloads that cross the workflow boundary: inputs, activity results and the block status.
//!
//! Everything here is serialized into Temporal history, so it stays small: artifacts (blobs,
//! PIEs, proofs) travel as [`ArtifactRef`]s, never as bytes, and no type here contains a secret.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Reference to an artifact in the artifact store: enough to fetch and verify it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRef {
    /// Object key inside the store, unique per chain and block.
    pub key: String,
    /// SHA-256 of the content, lowercase hex.
    pub sha256: String,
    /// Size of the content in bytes.
    pub size: u64,
}

/// Pipeline stage of one block, in execution order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Stage {
    /// Waiting for the workflow to start its first activity.
    Pending,
    /// State diff → blobs, KZG commitments.
    DataAvailability,
    /// Starknet OS run → Cairo PIE and program output.
    Snos,
    /// Prover job submitted and polled.
    Proving,
    /// Waiting for the previous blocks to send their L1 transactions.
    WaitingForSettlementTurn,
    /// L1 transaction sent and awaiting confirmations.
    Settlement,
    /// New state verified on L1.
    Settled,
    /// A stage exhausted its retries; `retry` re-runs the block from that stage.
    Failed,
}

impl Stage {
    /// Value of the `PipelineStage` search attribute for this stage.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Pending => "Pending",
            Stage::DataAvailability => "DataAvailability",
            Stage::Snos => "Snos",
            Stage::Proving => "Proving",
            Stage::WaitingForSettlementTurn => "WaitingForSettlementTurn",
            Stage::Settlement => "Settlement",
            Stage::Settled => "Settled",
            Stage::Failed => "Failed",
        }
    }
}

/// Retry policy and timeout of the activities of one stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageSettings {
    /// Start-to-close timeout of one activity attempt, in seconds.
    pub attempt_timeout_secs: u64,
    /// Maximum attempts of one activity before the block fails; 0 means unlimited.
    pub max_attempts: u32,
    /// Delay before the first retry, in milliseconds.
    pub initial_retry_interval_ms: u64,
    /// Upper bound of the retry delay, in seconds.
    pub max_retry_interval_secs: u64,
    /// Heartbeat timeout of one attempt, in seconds; 0 sets none. With it, the server retries
    /// an attempt whose worker died after this long instead of after the attempt timeout. Only
    /// activities that heartbeat while they work (DA and SNOS) may set it.
    #[serde(default)]
    pub heartbeat_timeout_secs: u64,
}

impl StageSettings {
    fn with_timeout(attempt_timeout_secs: u64, max_attempts: u32) -> Self {
        Self {
            attempt_timeout_secs,
            max_attempts,
            initial_retry_interval_ms: 1_000,
            max_retry_interval_secs: 60,
            heartbeat_timeout_secs: 0,
        }
    }

    fn with_heartbeat_timeout(mut self, heartbeat_timeout_secs: u64) -> Self {
        self.heartbeat_timeout_secs = heartbeat_timeout_secs;
        self
    }
}

/// Timing of the proving stage: how often to poll and how long to wait.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProvingSettings {
    /// Activities of the stage (submit, poll, fact check).
    pub activity: StageSettings,
    /// Interval between two status polls, in seconds (a durable timer).
    pub poll_interval_secs: u64,
    /// Time after submission past which the block alerts and waits for an operator signal.
    pub deadline_secs: u64,
    /// How many times a FAILED prover query is resubmitted before the block fails.
    pub max_resubmits: u32,
}

/// Timing of the settlement stage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettlementSettings {
    /// Activities of the stage (send, confirm, verify).
    pub activity: StageSettings,
    /// Interval between two confirmation checks, in seconds (a durable timer).
    pub confirm_poll_interval_secs: u64,
    /// Interval between two fee checks while the fee cap is exceeded, in seconds.
    pub fee_cap_poll_interval_secs: u64,
    /// Time without inclusion after which a transaction is replaced with higher fees, in seconds.
    pub stuck_timeout_secs: u64,
    /// Maximum fee bumps of one transaction before the block fails.
    pub max_fee_bumps: u32,
    /// Times a block whose update reverted because the previous block was not settled yet
    /// goes back to wait for its turn and sends again, before the block fails.
    #[serde(default = "default_max_requeues")]
    pub max_requeues: u32,
}

fn default_max_requeues() -> u32 {
    5
}

/// Per-block pipeline settings, carried in the workflow input so a run is reproducible.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineSettings {
    /// Data availability stage.
    pub data_availability: StageSettings,
    /// SNOS stage.
    pub snos: StageSettings,
    /// Proving stage.
    pub proving: ProvingSettings,
    /// Settlement stage.
    pub settlement: SettlementSettings,
}

impl Default for PipelineSettings {
    /// Defaults sized for real provers: polls every 30 s and a 6-hour proving deadline.
    fn default() -> Self {
        Self {
            data_availability: StageSettings::with_timeout(300, 10).with_heartbeat_timeout(60),
            snos: StageSettings::with_timeout(3_600, 5).with_heartbeat_timeout(60),
            proving: ProvingSettings {
                activity: StageSettings::with_timeout(120, 0),
                poll_interval_secs: 30,
                deadline_secs: 6 * 3_600,
                max_resubmits: 2,
            },
            settlement: SettlementSettings {
                activity: StageSettings::with_timeout(120, 0),
                confirm_poll_interval_secs: 12,
                fee_cap_poll_interval_secs: 60,
                stuck_timeout_secs: 600,
                max_fee_bumps: 5,
                max_requeues: default_max_requeues(),
            },
        }
    }
}

/// Input of one `BlockWorkflow` run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockInput {
    /// Chain id of the appchain, for example `SN_SEPOLIA` or `MADARA_DEVNET`.
    pub chain_id: String,
    /// L2 block number.
    pub block_number: u64,
    /// Retry policies, timeouts and intervals.
    pub settings: PipelineSettings,
    /// Work an earlier failed run already finished; `retry` passes it so those stages are skipped.
    #[serde(default)]
    pub resume: BlockProgress,
}

/// Result of the data availability stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaOutput {
    /// One artifact per blob, in blob order.
    pub blobs: Vec<ArtifactRef>,
    /// EIP-4844 versioned hash of each blob, `0x` hex.
    pub versioned_hashes: Vec<String>,
    /// Number of felts encoded before padding.
    pub felt_count: u64,
    /// Encoding the stage applied. `None` in histories recorded before the field existed.
    #[serde(default)]
    pub encoding: Option<DaEncoding>,
}

/// State diff encoding of one block: what its Starknet version requires, narrowed by the
/// chain's settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DaEncoding {
    /// Starknet version the node reported for the block.
    pub starknet_version: String,
    /// `v2` (Starknet 0.13.3 and later) or `legacy`.
    pub format: String,
    /// Whether addresses and keys were replaced by their aliases (stateful compression).
    pub stateful_compression: bool,
    /// Whether the chain's settings allow stateful compression. A node that does not keep the
    /// alias contract (starknet-devnet) needs it off.
    pub stateful_compression_enabled: bool,
    /// Whether the felts went through stateless compression.
    pub stateless_compression: bool,
}

impl DaEncoding {
    /// Short description for status tables, for example `v2, stateful off (chain setting)`.
    pub fn summary(&self) -> String {
        if self.format != "v2" {
            return self.format.clone();
        }
        let stateful = match (self.stateful_compression, self.stateful_compression_enabled) {
            (true, _) => "stateful on",
            (false, false) => "stateful off (chain setting)",
            (false, true) => "stateful off (version)",
        };
        let stateless = if self.stateless_compression { "" } else { ", stateless off" };
        format!("v2, {stateful}{stateless}")
    }
}

/// Result of the SNOS stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnosOutput {
    /// The Cairo PIE zip.
    pub pie: ArtifactRef,
    /// The program output, one `0x` felt per line.
    pub program_output: ArtifactRef,
    /// Cairo steps of the run, which sizes the prover job.
    pub step_count: u64,
}

/// Input of the prover submission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProverSubmitInput {
    /// Deduplication id sent to the prover: the block workflow id.
    pub dedup_id: String,
    /// PIE to prove.
    pub pie: ArtifactRef,
    /// Cairo steps of the PIE.
    pub step_count: u64,
}

/// Status of a prover query as the poll activity saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProverStatus {
    /// Received or in progress.
    InProgress,
    /// Proof done; the fact should now be registered.
    Done,
    /// The prover gave up on the query, with its reason.
    Failed(String),
}

/// Result of the proving stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofOutput {
    /// Prover query id.
    pub query_id: String,
    /// Fact of the PIE, `0x` hex, checked registered on L1.
    pub fact: String,
}

/// Input of the fact check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactCheckInput {
    /// Chain the block belongs to.
    pub chain_id: String,
    /// PIE whose fact is checked.
    pub pie: ArtifactRef,
}

/// Result of the fact check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactCheckOutput {
    /// Fact of the PIE, `0x` hex.
    pub fact: String,
    /// Whether the fact registry reports it valid.
    pub registered: bool,
}

/// Input of the settlement transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettleInput {
    /// Chain the block belongs to.
    pub chain_id: String,
    /// L2 block number.
    pub block_number: u64,
    /// Program output of the block.
    pub program_output: ArtifactRef,
    /// Blobs of the block.
    pub blobs: Vec<ArtifactRef>,
    /// Transaction to replace at the same nonce with higher fees, if any.
    pub replace: Option<L1Attempt>,
    /// Fee cap in wei raised by an operator for this block (decimal), replacing the worker's
    /// configured cap.
    #[serde(default)]
    pub max_fee_wei: Option<String>,
    /// Nonce of this block's transaction that the node dropped (reorg or eviction). The new
    /// transaction takes it again unless the account already has a mined transaction there,
    /// so that transactions of later blocks are not left behind a nonce gap.
    #[serde(default)]
    pub resend_nonce: Option<u64>,
}

/// One L1 transaction sent for a block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct L1Attempt {
    /// Transaction hash, `0x` hex.
    pub tx_hash: String,
    /// Account nonce of the transaction.
    pub nonce: u64,
    /// `maxFeePerGas` in wei.
    pub max_fee_per_gas: u128,
    /// `maxPriorityFeePerGas` in wei.
    pub max_priority_fee_per_gas: u128,
    /// `maxFeePerBlobGas` in wei.
    pub max_fee_per_blob_gas: u128,
    /// Workflow time of the send, Unix milliseconds.
    #[serde(default)]
    pub sent_at_ms: u64,
}

/// Outcome of a settlement send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SendOutcome {
    /// The contract already holds this block or a later one: nothing was sent.
    AlreadySettled,
    /// A transaction was signed and broadcast.
    Sent(L1Attempt),
    /// The fees would exceed the configured cap: nothing was signed.
    FeeCapExceeded {
        /// Total fee the transaction would need, in wei.
        required_wei: String,
        /// Configured cap, in wei.
        cap_wei: String,
    },
}

/// Input of a confirmation check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmInput {
    /// Chain the block belongs to.
    pub chain_id: String,
    /// L2 block number.
    pub block_number: u64,
    /// Program output whose state the contract must show.
    pub program_output: ArtifactRef,
    /// Transaction hashes sent for the block, newest last; any of them may be mined.
    pub tx_hashes: Vec<String>,
    /// Account nonce of the transactions. With it, a pending transaction whose nonce is not
    /// the account's next one is reported as [`ConfirmOutcome::Queued`].
    #[serde(default)]
    pub nonce: Option<u64>,
}

/// Outcome of a confirmation check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfirmOutcome {
    /// Not mined yet, or mined with too few confirmations.
    Pending,
    /// Mined, confirmed and the contract holds the block's state.
    Confirmed(SettlementOutput),
    /// Mined and reverted, with the decoded reason.
    Reverted(String),
    /// No transaction of the block is known to the node any more (reorg or eviction).
    Dropped,
    /// Pending behind an earlier transaction of the same account that is not mined yet, so
    /// higher fees would not help.
    Queued {
        /// The account's next nonce to be mined.
        next_nonce: u64,
    },
    /// Reverted because the contract did not hold the previous block yet: an earlier block's
    /// update failed or was dropped. The block can send again once that block settles.
    RevertedBehind(String),
}

/// Result of the settlement stage: the L1 cost accounting of the block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementOutput {
    /// Hash of the transaction that settled the block, or empty when it was already settled.
    pub tx_hash: String,
    /// L1 block that included it.
    pub l1_block: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Blob gas used.
    pub blob_gas_used: u64,
    /// Total fee paid, in wei.
    pub fee_paid_wei: String,
}

/// Stage outputs a block has produced so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockProgress {
    /// Data availability result.
    pub da: Option<DaOutput>,
    /// SNOS result.
    pub snos: Option<SnosOutput>,
    /// Proving result.
    pub proof: Option<ProofOutput>,
    /// Settlement result.
    pub settlement: Option<SettlementOutput>,
}

/// Start and end of one stage, in workflow time (Unix milliseconds).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageTiming {
    /// Stage measured.
    pub stage: Stage,
    /// Start, Unix milliseconds.
    pub started_ms: u64,
    /// End, Unix milliseconds, unset while running.
    pub finished_ms: Option<u64>,
}

/// State of one block, returned by the `status` query; it replaces upstream's job table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockStatus {
    /// Chain id.
    pub chain_id: String,
    /// L2 block number.
    pub block_number: u64,
    /// Current stage.
    pub stage: Stage,
    /// Stage that failed, when `stage` is `Failed`.
    pub failed_stage: Option<Stage>,
    /// Reason the block is waiting, when it waits on something other than its own work.
    pub waiting_for: Option<String>,
    /// Activity attempts per stage, including retries.
    pub attempts: BTreeMap<String, u32>,
    /// Outputs produced so far.
    pub progress: BlockProgress,
    /// Prover query id, once submitted.
    pub prover_query_id: Option<String>,
    /// Prover resubmissions after FAILED.
    pub prover_resubmits: u32,
    /// Every L1 transaction sent for the block, oldest first.
    pub l1_attempts: Vec<L1Attempt>,
    /// Stage timings.
    pub timings: Vec<StageTiming>,
    /// Last error seen, with the stage it came from.
    pub last_error: Option<String>,
}

/// Input of the per-chain settlement sequencer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequencerInput {
    /// Chain id.
    pub chain_id: String,
    /// Maximum settlement transactions sent and not yet confirmed.
    pub max_in_flight: u32,
    /// Next block allowed to send; `None` reads it from the core contract on first start.
    pub next_block: Option<u64>,
    /// Whether settlement starts paused.
    #[serde(default)]
    pub paused: bool,
    /// Blocks that reported ready and have not been granted their turn (carried over
    /// continue-as-new).
    #[serde(default)]
    pub ready: Vec<u64>,
    /// Blocks sent and not yet confirmed (carried over continue-as-new).
    #[serde(default)]
    pub in_flight: Vec<u64>,
    /// Blocks whose update reverted behind an unsettled earlier block and that wait for the
    /// blocks below them to settle (carried over continue-as-new).
    #[serde(default)]
    pub requeued: Vec<u64>,
}

/// State of the settlement sequencer, returned by its `status` query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SequencerStatus {
    /// Chain id.
    pub chain_id: String,
    /// Next block allowed to send its transaction.
    pub next_block: Option<u64>,
    /// Highest block confirmed in order.
    pub last_settled: Option<u64>,
    /// Whether an operator paused settlement.
    pub paused: bool,
    /// Blocks waiting for their turn.
    pub ready: Vec<u64>,
    /// Blocks sent and not confirmed.
    pub in_flight: Vec<u64>,
    /// Blocks whose update reverted behind an unsettled earlier block; each is granted its
    /// turn again only when no lower block is in flight.
    #[serde(default)]
    pub requeued: Vec<u64>,
    /// Maximum transactions in flight.
    pub max_in_flight: u32,
}

/// Workflow id of a block, unique per chain and block number.
pub fn block_workflow_id(chain_id: &str, block_number: u64) -> String {
    format!("block-{chain_id}-{block_number}")
}

/// Workflow id of a chain's settlement sequencer.
pub fn sequencer_workflow_id(chain_id: &str) -> String {
    format!("settlement-{chain_id}")
}

/// Workflow id of a chain's block follower.
pub fn follower_workflow_id(chain_id: &str) -> String {
    format!("follower-{chain_id}")
}

/// Input of the per-chain block follower.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowerInput {
    /// Chain id.
    pub chain_id: String,
    /// Settings passed to every block workflow the follower starts.
    pub settings: PipelineSettings,
    /// First block to start; `None` starts after the block settled on L1 (or at 0).
    pub next_block: Option<u64>,
    /// Last block to start; the follower finishes after starting it. `None` follows forever.
    pub last_block: Option<u64>,
    /// Maximum blocks started and not yet settled on L1.
    pub window: u64,
    /// Seconds between two polls of the node.
    pub poll_interval_secs: u64,
    /// Whether the follower starts paused.
    #[serde(default)]
    pub paused: bool,
    /// Hash of the block before `next_block`, carried over continue-as-new.
    #[serde(default)]
    pub parent: Option<BlockLink>,
    /// Blocks started by earlier runs of this follower (carried over continue-as-new).
    #[serde(default)]
    pub started_before: u64,
}

/// A block number and its hash, `0x` hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockLink {
    /// L2 block number.
    pub number: u64,
    /// Block hash, `0x` hex.
    pub hash: String,
}

/// Input of the `follower_poll` activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerPollInput {
    /// Chain id.
    pub chain_id: String,
    /// Next block to start; `None` means the block after the one settled on L1.
    pub next_block: Option<u64>,
    /// Last block to start, if bounded.
    pub last_block: Option<u64>,
    /// Maximum blocks started and not yet settled on L1.
    pub window: u64,
    /// Hash the next block's parent hash must equal, when known.
    pub parent: Option<BlockLink>,
}

/// Result of one follower poll of the node and the core contract.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerPoll {
    /// Latest final block of the node.
    pub l2_latest: u64,
    /// Last block settled on L1.
    pub l1_settled: Option<u64>,
    /// First block this poll considered.
    pub first_block: u64,
    /// Blocks to start now, in order, each checked against its parent.
    pub blocks: Vec<BlockLink>,
    /// Hash of the block before `first_block`, when known.
    pub parent: Option<BlockLink>,
    /// Set when the node's chain no longer matches the settled or started blocks.
    pub reorg: Option<String>,
}

/// State of the block follower, returned by its `status` query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerStatus {
    /// Chain id.
    pub chain_id: String,
    /// Next block the follower will start.
    pub next_block: Option<u64>,
    /// Last block the follower will start, if bounded.
    pub last_block: Option<u64>,
    /// Latest final block of the node at the last poll.
    pub l2_latest: Option<u64>,
    /// Last block settled on L1 at the last poll.
    pub l1_settled: Option<u64>,
    /// Blocks between the node's latest block and the last settled one.
    pub lag: Option<u64>,
    /// Maximum blocks started and not yet settled.
    pub window: u64,
    /// Whether an operator paused the follower.
    pub paused: bool,
    /// Reason the follower stopped (an L2 reorg), kept until an operator resumes it.
    pub stopped: Option<String>,
    /// Blocks this follower has started.
    pub started: u64,
    /// Unix seconds of the last poll.
    pub last_poll_at: Option<u64>,
}

/// Input of the `raise_alert` activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertInput {
    /// Chain id.
    pub chain_id: String,
    /// Block concerned, if any.
    pub block_number: Option<u64>,
    /// Stable alert name, for example `proving_deadline` or `l2_reorg`.
    pub kind: String,
    /// Description of the event and the operator's next step.
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::DaEncoding;

    fn encoding(format: &str, stateful: bool, enabled: bool) -> DaEncoding {
        DaEncoding {
            starknet_version: "0.14.0".to_string(),
            format: format.to_string(),
            stateful_compression: stateful,
            stateful_compression_enabled: enabled,
            stateless_compression: true,
        }
    }

    #[test]
    fn encoding_summary_names_the_reason() {
        assert_eq!(encoding("v2", true, true).summary(), "v2, stateful on");
        assert_eq!(encoding("v2", false, false).summary(), "v2, stateful off (chain setting)");
        assert_eq!(encoding("v2", false, true).summary(), "v2, stateful off (version)");
        assert_eq!(encoding("legacy", false, true).summary(), "legacy");
    }
}
