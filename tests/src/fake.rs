//! Test implementations of the pipeline activities over an in-memory chain model.
//!
//! The model keeps what the real services would. It stores the L1 core contract's last settled
//! block, which accepts block N only on top of N−1 as the real contract does. It also counts
//! the transactions sent per block and the prover queries per dedup id. Tests use it to check workflow logic
//! (ordering, retries, exactly-once sends) without the cost of real DA, SNOS and proving; the
//! shipped worker never registers it.

use orchestrator_workflows::activities::{BlockRef, ProverPollInput, SnosInput, definitions};
use orchestrator_workflows::types::{
    AlertInput, ArtifactRef, BlockLink, ConfirmInput, ConfirmOutcome, DaOutput, FactCheckInput,
    FactCheckOutput, FollowerPoll, FollowerPollInput, L1Attempt, ProverStatus, ProverSubmitInput, SendOutcome, SettleInput, SettlementOutput,
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
    /// The fake L2 node's final blocks: number → (hash, parent hash).
    pub l2_blocks: BTreeMap<u64, (String, String)>,
    /// Alerts raised, oldest first.
    pub alerts: Vec<AlertInput>,
}

impl FakeChain {
    /// Appends blocks to the fake node, each hash derived from `salt` and its number, each
    /// parent the hash of the block before.
    pub fn grow_l2(&mut self, blocks: std::ops::RangeInclusive<u64>, salt: u64) {
        for number in blocks {
            let parent = match number.checked_sub(1).and_then(|p| self.l2_blocks.get(&p)) {
                Some((hash, _)) => hash.clone(),
                None => "0x0".to_string(),
            };
            let hash = format!("{:#x}", (salt << 32) + number + 1);
            self.l2_blocks.insert(number, (hash, parent));
        }
    }
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
        Ok(DaOutput { blobs: vec![artifact(key)], versioned_hashes: vec![format!("0x01{:062x}", block.block_number)], felt_count: 10, encoding: None })
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
    #[activity(definition = definitions::FollowerPoll)]
    async fn follower_poll(self: Arc<Self>, _ctx: ActivityContext, input: FollowerPollInput) -> Result<FollowerPoll, ActivityError> {
        Ok(self.world.with_chain(&input.chain_id, |c| {
            let l2_latest = c.l2_blocks.keys().next_back().copied().unwrap_or(0);
            let first_block = input.next_block.unwrap_or_else(|| c.settled.map_or(0, |s| s + 1));
            let unsettled = first_block.saturating_sub(c.settled.map_or(0, |s| s + 1));
            let room = input.window.max(1).saturating_sub(unsettled);
            let mut last = l2_latest.min((first_block + room).saturating_sub(1));
            if let Some(bound) = input.last_block {
                last = last.min(bound);
            }
            let mut parent = input.parent.clone().or_else(|| {
                let previous = first_block.checked_sub(1)?;
                let (hash, _) = c.l2_blocks.get(&previous)?;
                Some(BlockLink { number: previous, hash: hash.clone() })
            });
            let mut poll = FollowerPoll {
                l2_latest,
                l1_settled: c.settled,
                first_block,
                blocks: Vec::new(),
                parent: parent.clone(),
                reorg: None,
            };
            if room == 0 {
                return poll;
            }
            for number in first_block..=last {
                let Some((hash, parent_hash)) = c.l2_blocks.get(&number) else { break };
                if let Some(expected) = &parent
                    && &expected.hash != parent_hash
                {
                    poll.reorg = Some(format!(
                        "L2 reorg: block {number} has parent hash {parent_hash}, expected {}",
                        expected.hash
                    ));
                    break;
                }
                let link = BlockLink { number, hash: hash.clone() };
                parent = Some(link.clone());
                poll.blocks.push(link);
            }
            poll
        }))
    }

    #[activity(definition = definitions::RaiseAlert)]
    async fn raise_alert(self: Arc<Self>, _ctx: ActivityContext, input: AlertInput) -> Result<(), ActivityError> {
        let chain_id = input.chain_id.clone();
        self.world.with_chain(&chain_id, |c| c.alerts.push(input));
        Ok(())
    }
}
