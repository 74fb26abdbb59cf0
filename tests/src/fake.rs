//! Test implementations of the pipeline activities over an in-memory chain model.
//!
//! The model keeps what the real services would. It stores the L1 core contract's last settled
//! block, which accepts block N only on top of N−1 as the real contract does. It also counts
//! the transactions sent per block and the prover queries per dedup id. Tests use it to check workflow logic
//! (ordering, retries, exactly-once sends) without the cost of real DA, SNOS and proving; the
//! shipped worker never registers it.

use orchestrator_workflows::activities::{BlockRef, ProverPollInput, SnosInput, definitions};
use orchestrator_workflows::types::{
    ArtifactRef, ConfirmInput, ConfirmOutcome, DaOutput, FactCheckInput, FactCheckOutput,
    L1Attempt, ProverStatus, ProverSubmitInput, SendOutcome, SettleInput, SettlementOutput,
    SnosOutput,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use temporalio_common::error::ApplicationFailure;
use temporalio_macros::activities;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

/// State of one fake chain.
#[derive(Debug, Default)]
pub struct FakeChain {
    /// Last block the fake core contract holds.
    pub settled: Option<u64>,
    /// Blocks in the order the contract accepted them.
    pub settlement_order: Vec<u64>,
    /// Transactions sent per block (a duplicate send shows up as a count above 1).
    pub sends: BTreeMap<u64, u32>,
    /// Blocks whose transaction is in the fake mempool.
    pub mempool: BTreeSet<u64>,
    /// Blocks whose SNOS run fails permanently until removed.
    pub fail_snos: BTreeSet<u64>,
    /// Blocks that finished proving.
    pub proven: BTreeSet<u64>,
    /// Prover submissions per dedup id.
    pub prover_posts: HashMap<String, u32>,
    /// Polls before a prover query reports DONE.
    pub prover_polls_needed: u32,
    /// Polls seen per query id.
    pub prover_polls: HashMap<String, u32>,
}

/// Fake chains keyed by chain id, shared between the test and the worker.
#[derive(Debug, Clone, Default)]
pub struct FakeWorld {
    chains: Arc<Mutex<HashMap<String, FakeChain>>>,
}

impl FakeWorld {
    /// Runs `f` on the chain's state, creating it on first use.
    pub fn with_chain<R>(&self, chain_id: &str, f: impl FnOnce(&mut FakeChain) -> R) -> R {
        let mut chains = self.chains.lock().expect("fake world lock");
        f(chains.entry(chain_id.to_string()).or_default())
    }
}

fn artifact(key: String) -> ArtifactRef {
    ArtifactRef { key, sha256: "00".repeat(32), size: 1 }
}

/// Parses `chain/block` out of the fake artifact keys.
fn block_of(key: &str) -> (String, u64) {
    let mut parts = key.split('/');
    let chain = parts.next().unwrap_or_default().to_string();
    let block = parts.next().and_then(|b| b.parse().ok()).unwrap_or_default();
    (chain, block)
}

/// Activity implementations backed by a [`FakeWorld`].
pub struct FakeActivities {
    /// Shared world.
    pub world: FakeWorld,
}

#[activities]
impl FakeActivities {
    #[activity(definition = definitions::DaEncode)]
    async fn da_encode(self: Arc<Self>, _ctx: ActivityContext, block: BlockRef) -> Result<DaOutput, ActivityError> {
        let key = format!("{}/{}/blob-1", block.chain_id, block.block_number);
        Ok(DaOutput { blobs: vec![artifact(key)], versioned_hashes: vec![format!("0x01{:062x}", block.block_number)], felt_count: 10 })
    }

    #[activity(definition = definitions::SnosRun)]
    async fn snos_run(self: Arc<Self>, _ctx: ActivityContext, input: SnosInput) -> Result<SnosOutput, ActivityError> {
        let block = input.block;
        let fails = self.world.with_chain(&block.chain_id, |c| c.fail_snos.contains(&block.block_number));
        if fails {
            return Err(ApplicationFailure::non_retryable(format!(
                "Cairo execution failed for block {}: injected test failure",
                block.block_number
            ))
            .into());
        }
        let base = format!("{}/{}", block.chain_id, block.block_number);
        Ok(SnosOutput { pie: artifact(format!("{base}/pie")), program_output: artifact(format!("{base}/output")), step_count: 1000 })
    }

    #[activity(definition = definitions::ProverSubmit)]
    async fn prover_submit(self: Arc<Self>, _ctx: ActivityContext, input: ProverSubmitInput) -> Result<String, ActivityError> {
        let (chain, _) = block_of(&input.pie.key);
        self.world.with_chain(&chain, |c| *c.prover_posts.entry(input.dedup_id.clone()).or_default() += 1);
        Ok(format!("query-{}", input.dedup_id))
    }

    #[activity(definition = definitions::ProverPoll)]
    async fn prover_poll(self: Arc<Self>, _ctx: ActivityContext, input: ProverPollInput) -> Result<ProverStatus, ActivityError> {
        // query-block-<chain>-<n>
        let rest = input.query_id.trim_start_matches("query-block-");
        let (chain, block) = rest.rsplit_once('-').unwrap_or((rest, "0"));
        let block: u64 = block.parse().unwrap_or_default();
        Ok(self.world.with_chain(chain, |c| {
            let polls = c.prover_polls.entry(input.query_id.clone()).or_default();
            *polls += 1;
            if *polls > c.prover_polls_needed {
                c.proven.insert(block);
                ProverStatus::Done
            } else {
                ProverStatus::InProgress
            }
        }))
    }

    #[activity(definition = definitions::FactCheck)]
    async fn fact_check(self: Arc<Self>, _ctx: ActivityContext, input: FactCheckInput) -> Result<FactCheckOutput, ActivityError> {
        let (_, block) = block_of(&input.pie.key);
        Ok(FactCheckOutput { fact: format!("0x{block:064x}"), registered: true })
    }

    #[activity(definition = definitions::SettleSend)]
    async fn settle_send(self: Arc<Self>, _ctx: ActivityContext, input: SettleInput) -> Result<SendOutcome, ActivityError> {
        let block = input.block_number;
        Ok(self.world.with_chain(&input.chain_id, |c| {
            if c.settled.is_some_and(|s| s >= block) {
                return SendOutcome::AlreadySettled;
            }
            *c.sends.entry(block).or_default() += 1;
            c.mempool.insert(block);
            let nonce = c.sends.values().map(|n| u64::from(*n)).sum::<u64>();
            SendOutcome::Sent(L1Attempt {
                tx_hash: format!("0x{block:064x}"),
                nonce,
                max_fee_per_gas: 1,
                max_priority_fee_per_gas: 1,
                max_fee_per_blob_gas: 1,
                sent_at_ms: 0,
            })
        }))
    }

    #[activity(definition = definitions::SettleConfirm)]
    async fn settle_confirm(self: Arc<Self>, _ctx: ActivityContext, input: ConfirmInput) -> Result<ConfirmOutcome, ActivityError> {
        let block = input.block_number;
        Ok(self.world.with_chain(&input.chain_id, |c| {
            // Mine the mempool in block order, as the contract's previous-block check would.
            loop {
                let next = c.settled.map_or_else(|| c.mempool.iter().next().copied(), |s| Some(s + 1));
                match next {
                    Some(next) if c.mempool.remove(&next) => {
                        c.settled = Some(next);
                        c.settlement_order.push(next);
                    }
                    _ => break,
                }
            }
            if c.settled.is_some_and(|s| s >= block) {
                ConfirmOutcome::Confirmed(SettlementOutput {
                    tx_hash: format!("0x{block:064x}"),
                    l1_block: block,
                    gas_used: 100_000,
                    blob_gas_used: 131_072,
                    fee_paid_wei: "1".to_string(),
                })
            } else {
                ConfirmOutcome::Pending
            }
        }))
    }

    #[activity(definition = definitions::L1SettledBlock)]
    async fn l1_settled_block(self: Arc<Self>, _ctx: ActivityContext, chain_id: String) -> Result<Option<u64>, ActivityError> {
        Ok(self.world.with_chain(&chain_id, |c| c.settled))
    }
}
