//! Reliability suite: crashes, restarts and faults on the real local stack.
//!
//! Every test starts its own stack (`orchestrator_tests::stack`): a Temporal dev server on a
//! SQLite file, anvil with the contracts, starknet-devnet, the local prover and the
//! `orchestrator-worker` binary as a child process. After the faults, each test checks the L1
//! history: one successful `updateStateKzgDA` per block, in block order, and one prover
//! submission per block. Each test prints one `reliability:` line with its totals.
//!
//! `RELIABILITY_SEED` replays the crash run's schedule of kills and restarts. Needs
//! starknet-devnet (`scripts/install-devnet.sh`) besides the tools of `scripts/install-tools.sh`.

use alloy::primitives::U256;
use orchestrator_activities::prover::local::{FaultCount, FaultPlan};
use orchestrator_activities::settlement::{
    FeePolicy, L1PrivateKey, ProgramOutput, SettlementClient, SettlementConfig, SidecarKind,
    Verification,
};
use orchestrator_activities::store::ArtifactStore;
use orchestrator_tests::stack::{
    ProxyFault, ResponseRewrite, SplitMix64, Stack, StackOptions, WorkerProcess, anvil_rpc,
    fast_settings, no_params, seed_from_env, worker_binary,
};
use orchestrator_workflows::types::Stage;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Blocks of the crash run.
const CRASH_BLOCKS: u64 = 30;
/// Worker kills of the crash run; at least ten are required.
const CRASH_KILLS: u32 = 12;
/// Maximum time the blocks of one test may take to settle after the faults end.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(600);

fn options(chain: &str) -> StackOptions {
    StackOptions {
        chain: chain.to_string(),
        ..StackOptions::default()
    }
}

async fn start_stack(options: StackOptions) -> Stack {
    Stack::start(options).await.expect("start the local stack")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_run_settles_every_block_once() {
    let seed = seed_from_env();
    println!("crash run seed {seed}; rerun with RELIABILITY_SEED={seed}");
    let mut rng = SplitMix64::new(seed);
    let mut stack = start_stack(options("crash")).await;
    let blocks = stack
        .mint_blocks(CRASH_BLOCKS)
        .await
        .expect("create devnet blocks");
    stack
        .start_blocks(blocks.clone(), &fast_settings())
        .await
        .expect("start the block workflows");

    // The Temporal restart and the L1 outage each follow one kill chosen by the seed.
    let temporal_restart_at = 2 + (rng.next_u64() % 5) as u32;
    let outage_at = 7 + (rng.next_u64() % 4) as u32;
    let outage_length = rng.duration_ms(5_000, 15_000);
    let mut outage_until: Option<Instant> = None;
    let started = Instant::now();

    for kill in 1..=CRASH_KILLS {
        let wait = rng.duration_ms(1_500, 6_000);
        let deadline = Instant::now() + wait;
        while Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(250)).await;
            end_outage(&stack, &mut outage_until);
            stack
                .worker
                .ensure_running()
                .expect("restart an exited worker");
        }
        stack.worker.kill();
        println!(
            "{:>6.1} s  kill {kill}: worker killed with SIGKILL",
            started.elapsed().as_secs_f64()
        );
        tokio::time::sleep(rng.duration_ms(0, 1_500)).await;
        if kill == temporal_restart_at {
            stack
                .temporal
                .restart()
                .await
                .expect("restart the Temporal dev server");
            println!(
                "{:>6.1} s  Temporal dev server killed and restarted on the same SQLite file",
                started.elapsed().as_secs_f64()
            );
        }
        if kill == outage_at {
            stack.l1_proxy.set_fault(ProxyFault::Refuse, None);
            outage_until = Some(Instant::now() + outage_length);
            println!(
                "{:>6.1} s  anvil unreachable for {:.1} s",
                started.elapsed().as_secs_f64(),
                outage_length.as_secs_f64()
            );
        }
        stack.worker.restart().expect("restart the worker");
    }
    let outage_deadline = Instant::now() + SETTLE_TIMEOUT;
    while outage_until.is_some() {
        assert!(
            Instant::now() < outage_deadline,
            "the worker made no connection to anvil during the outage within {SETTLE_TIMEOUT:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        end_outage(&stack, &mut outage_until);
    }
    stack
        .worker
        .ensure_running()
        .expect("restart an exited worker");

    stack
        .wait_until_settled(blocks.clone(), SETTLE_TIMEOUT)
        .await
        .expect("every block settles after the crashes");
    let audit = stack
        .audit(blocks.clone())
        .await
        .expect("read the L1 and prover history");
    println!(
        "reliability: crash run seed {seed}: {} blocks settled, {} worker kills, {} Temporal \
         restarts, 1 L1 outage ({} connections refused), {} unexpected worker exits, {} \
         duplicates, {:.0} s",
        audit.settled_order().len(),
        stack.worker.kills,
        stack.temporal.restarts,
        stack.l1_proxy.injected(),
        stack.worker.unexpected_exits.len(),
        audit.duplicates(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        stack.worker.kills >= 10,
        "worker kills: {}",
        stack.worker.kills
    );
    assert_eq!(stack.temporal.restarts, 1, "Temporal restarts");
    assert!(
        stack.l1_proxy.injected() > 0,
        "no worker connection to anvil was refused"
    );
    audit.assert_exactly_once_in_order(blocks);
}

/// Ends the L1 outage once its time is up and it refused at least one worker connection. The
/// seeded outage can fall in a phase without L1 traffic (every block still in DA or SNOS), so
/// it lasts until the worker next reaches anvil.
fn end_outage(stack: &Stack, outage_until: &mut Option<Instant>) {
    let refused = stack.l1_proxy.injected() > 0;
    if outage_until.is_some_and(|until| Instant::now() >= until && refused) {
        stack.l1_proxy.clear();
        *outage_until = None;
        println!("anvil reachable again");
    }
}

/// Settles `count` new devnet blocks on a fresh stack without faults and checks them.
async fn settle_new_blocks(stack: &Stack, count: u64) -> std::ops::RangeInclusive<u64> {
    let blocks = stack
        .mint_blocks(count)
        .await
        .expect("create devnet blocks");
    stack
        .start_blocks(blocks.clone(), &fast_settings())
        .await
        .expect("start the block workflows");
    stack
        .wait_until_settled(blocks.clone(), SETTLE_TIMEOUT)
        .await
        .expect("blocks settle");
    blocks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_503_and_timeouts_are_retried() {
    let stack = start_stack(StackOptions {
        rpc_timeout_secs: 2,
        ..options("node-faults")
    })
    .await;

    stack
        .devnet_proxy
        .set_fault(ProxyFault::ServiceUnavailable, Some(4));
    let first = settle_new_blocks(&stack, 1).await;
    let unavailable = stack.devnet_proxy.injected();
    assert_eq!(unavailable, 4, "node connections answered with 503");

    stack.devnet_proxy.set_fault(ProxyFault::Stall, Some(3));
    let second = settle_new_blocks(&stack, 1).await;
    let stalled = stack.devnet_proxy.injected() - unavailable;
    assert_eq!(stalled, 3, "node connections left without an answer");

    let blocks = *first.start()..=*second.end();
    let audit = stack.audit(blocks.clone()).await.expect("read the history");
    println!(
        "reliability: node faults: 1 run, {} faults injected ({unavailable} HTTP 503, {stalled} \
         stalled requests), {} blocks settled, {} duplicates",
        unavailable + stalled,
        audit.settled_order().len(),
        audit.duplicates()
    );
    audit.assert_exactly_once_in_order(blocks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn block_started_before_it_exists_waits() {
    let stack = start_stack(options("early-start")).await;
    let block = stack
        .devnet
        .block_number()
        .await
        .expect("devnet block number")
        + 1;
    stack
        .start_blocks(block..=block, &fast_settings())
        .await
        .expect("start a workflow for a block devnet has not created");

    // With the fast settings the DA activity retries for about 13 s before the block fails,
    // so the block is created after 5 s.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let status = stack
        .status(block)
        .await
        .expect("status of the early block");
    assert_eq!(
        status.stage,
        Stage::DataAvailability,
        "stage before the block exists: {status:#?}"
    );
    assert!(
        stack.core_transactions().await.expect("scan L1").is_empty(),
        "an update was sent for a block that does not exist"
    );

    let created = stack.mint_blocks(1).await.expect("create the block");
    assert_eq!(*created.start(), block, "number of the created block");
    stack
        .wait_until_settled(block..=block, SETTLE_TIMEOUT)
        .await
        .expect("the block settles once created");
    let audit = stack.audit(block..=block).await.expect("read the history");
    println!(
        "reliability: block not found yet: 1 run, 1 fault injected, {} blocks settled, {} duplicates",
        audit.settled_order().len(),
        audit.duplicates()
    );
    audit.assert_exactly_once_in_order(block..=block);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prover_http_errors_then_success() {
    let stack = start_stack(options("prover-http")).await;
    let plan = FaultPlan {
        html_not_found: Some(FaultCount::Times(3)),
        service_unavailable: Some(FaultCount::Times(3)),
        ..FaultPlan::default()
    };
    stack
        .prover
        .set_faults(&plan)
        .await
        .expect("set the prover faults");
    let blocks = settle_new_blocks(&stack, 1).await;

    let audit = stack.audit(blocks.clone()).await.expect("read the history");
    println!(
        "reliability: prover HTML 404 and 503: 1 run, 6 faults injected, {} blocks settled, {} \
         duplicates",
        audit.settled_order().len(),
        audit.duplicates()
    );
    audit.assert_exactly_once_in_order(blocks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prover_failed_twice_then_success() {
    let stack = start_stack(options("prover-failed")).await;
    let plan = FaultPlan {
        fail_queries: Some(FaultCount::Times(2)),
        ..FaultPlan::default()
    };
    stack
        .prover
        .set_faults(&plan)
        .await
        .expect("set the prover faults");
    let blocks = settle_new_blocks(&stack, 1).await;
    let block = *blocks.start();

    let status = stack.status(block).await.expect("status of the block");
    assert_eq!(status.prover_resubmits, 2, "resubmissions after FAILED");
    let audit = stack.audit(blocks.clone()).await.expect("read the history");
    assert_eq!(
        audit.posts[&block], 3,
        "prover queries: the first and two resubmissions"
    );
    println!(
        "reliability: prover FAILED twice: 1 run, 2 faults injected, {} blocks settled, {} \
         duplicate updates",
        audit.settled_order().len(),
        audit.per_block.values().filter(|count| **count > 1).count()
    );
    audit.assert_l1_exactly_once_in_order(blocks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prover_failing_block_holds_only_later_blocks() {
    let stack = start_stack(options("prover-always")).await;
    let blocks = stack.mint_blocks(3).await.expect("create devnet blocks");
    let (first, failing, later) = (*blocks.start(), *blocks.start() + 1, *blocks.end());
    let settings = fast_settings();
    stack
        .start_blocks(first..=first, &settings)
        .await
        .expect("start the first block");
    stack
        .wait_until_settled(first..=first, SETTLE_TIMEOUT)
        .await
        .expect("the first block settles");

    let always = FaultPlan {
        fail_queries: Some(FaultCount::Always),
        failure_reason: Some("proof generation failed (injected)".to_string()),
        ..FaultPlan::default()
    };
    stack
        .prover
        .set_faults(&always)
        .await
        .expect("fail every query");
    stack
        .start_blocks(failing..=failing, &settings)
        .await
        .expect("start the failing block");
    let statuses = stack
        .wait_for(
            failing..=failing,
            SETTLE_TIMEOUT,
            |status| status.stage == Stage::Failed,
            |_| true,
        )
        .await
        .expect("the block fails once its resubmissions are used up");
    let failed = &statuses[&failing];
    assert_eq!(
        failed.failed_stage,
        Some(Stage::Proving),
        "failed stage: {failed:#?}"
    );
    let error = failed.last_error.clone().unwrap_or_default();
    assert!(
        error.contains("proof generation failed (injected)"),
        "last error names the prover's reason: {error}"
    );

    stack
        .prover
        .set_faults(&FaultPlan::default())
        .await
        .expect("clear the prover faults");
    stack
        .start_blocks(later..=later, &settings)
        .await
        .expect("start the later block");
    stack
        .wait_for(
            later..=later,
            SETTLE_TIMEOUT,
            |status| status.stage == Stage::WaitingForSettlementTurn,
            |_| false,
        )
        .await
        .expect("the later block is proven and waits for its turn");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let waiting = stack
        .status(later)
        .await
        .expect("status of the later block");
    assert_eq!(
        waiting.stage,
        Stage::WaitingForSettlementTurn,
        "later block: {waiting:#?}"
    );
    let settled: Vec<u64> = stack
        .audit(blocks.clone())
        .await
        .expect("history")
        .settled_order();
    assert_eq!(
        settled,
        vec![first],
        "blocks settled while the failing block is failed"
    );

    // An operator retries the failed block once the prover works: both blocks then settle.
    orchestrator_starter::ops::retry_block(&stack.client, &stack.options.chain, failing, &settings)
        .await
        .expect("retry the failed block");
    stack
        .wait_until_settled(blocks.clone(), SETTLE_TIMEOUT)
        .await
        .expect("every block settles after the retry");
    let audit = stack.audit(blocks.clone()).await.expect("read the history");
    println!(
        "reliability: prover FAILED always: 1 run, {} failed queries, {} blocks settled, {} \
         duplicate updates",
        1 + settings.proving.max_resubmits,
        audit.settled_order().len(),
        audit.per_block.values().filter(|count| **count > 1).count()
    );
    audit.assert_l1_exactly_once_in_order(blocks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fee_above_cap_waits_until_raised() {
    let mut stack = start_stack(StackOptions {
        max_fee_wei: Some(1_000),
        ..options("fee-cap")
    })
    .await;
    let blocks = stack.mint_blocks(1).await.expect("create a devnet block");
    let block = *blocks.start();
    stack
        .start_blocks(blocks.clone(), &fast_settings())
        .await
        .expect("start the block");
    let statuses = stack
        .wait_for(
            blocks.clone(),
            SETTLE_TIMEOUT,
            |status| {
                status.stage == Stage::Settlement
                    && status
                        .waiting_for
                        .as_deref()
                        .is_some_and(|text| text.contains("exceeds the cap"))
            },
            |_| false,
        )
        .await
        .expect("the block waits on the fee cap");
    println!("waiting for: {:?}", statuses[&block].waiting_for);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        stack.core_transactions().await.expect("scan L1").is_empty(),
        "an update was sent above the fee cap"
    );
    let status = stack.status(block).await.expect("status of the block");
    assert!(
        status.l1_attempts.is_empty(),
        "L1 attempts above the cap: {:?}",
        status.l1_attempts
    );

    stack.worker.set_env(
        "MADARA_ORCHESTRATOR_ETHEREUM_L2_STATE_UPDATE_MAX_FEE_WEI",
        &10_u128.pow(18).to_string(),
    );
    stack
        .worker
        .restart()
        .expect("restart the worker with a higher cap");
    stack
        .wait_until_settled(blocks.clone(), SETTLE_TIMEOUT)
        .await
        .expect("the block settles under the raised cap");
    let audit = stack.audit(blocks.clone()).await.expect("read the history");
    println!(
        "reliability: fee above the cap: 1 run, 1 fault injected, {} blocks settled, {} duplicates",
        audit.settled_order().len(),
        audit.duplicates()
    );
    audit.assert_exactly_once_in_order(blocks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn l1_reorg_dropping_update_resends_once() {
    // Ten confirmations leave about ten seconds between inclusion and confirmation for the
    // reorg, with anvil mining a block every second.
    let stack = start_stack(StackOptions {
        confirmations: 10,
        ..options("l1-reorg")
    })
    .await;
    let blocks = stack.mint_blocks(1).await.expect("create a devnet block");
    let block = *blocks.start();
    let chain = stack.options.chain.clone();
    orchestrator_starter::ops::ensure_sequencer(&stack.client, &chain, 1)
        .await
        .expect("start the sequencer");
    orchestrator_starter::ops::set_paused(&stack.client, &chain, true)
        .await
        .expect("pause settlement");
    stack
        .start_blocks(blocks.clone(), &fast_settings())
        .await
        .expect("start the block");
    stack
        .wait_for(
            blocks.clone(),
            SETTLE_TIMEOUT,
            |status| status.stage == Stage::WaitingForSettlementTurn,
            |_| false,
        )
        .await
        .expect("the block is proven and waits for its turn");

    // The snapshot contains the registered fact but not the update.
    let snapshot = anvil_rpc(&stack.anvil, "evm_snapshot", no_params())
        .await
        .expect("evm_snapshot");
    orchestrator_starter::ops::set_paused(&stack.client, &chain, false)
        .await
        .expect("resume settlement");
    let statuses = stack
        .wait_for(
            blocks.clone(),
            SETTLE_TIMEOUT,
            |status| !status.l1_attempts.is_empty(),
            |_| false,
        )
        .await
        .expect("the update is sent");
    let dropped = statuses[&block].l1_attempts[0].tx_hash.clone();
    let deadline = Instant::now() + Duration::from_secs(30);
    while stack.core_transactions().await.expect("scan L1").is_empty() {
        assert!(
            Instant::now() < deadline,
            "update {dropped} not mined within 30 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = stack.status(block).await.expect("status of the block");
    assert_eq!(
        status.stage,
        Stage::Settlement,
        "the update must not be confirmed before the reorg"
    );
    let reverted = anvil_rpc(&stack.anvil, "evm_revert", serde_json::json!([snapshot]))
        .await
        .expect("evm_revert");
    assert_eq!(
        reverted,
        serde_json::json!(true),
        "evm_revert found the snapshot"
    );
    assert!(
        stack.core_transactions().await.expect("scan L1").is_empty(),
        "the reorg left the update on L1"
    );

    stack
        .wait_until_settled(blocks.clone(), SETTLE_TIMEOUT)
        .await
        .expect("the block settles again after the reorg");
    let audit = stack.audit(blocks.clone()).await.expect("read the history");
    let final_hash = format!("{:#x}", audit.transactions[0].tx_hash);
    println!(
        "reliability: L1 reorg: 1 run, 1 fault injected, update {dropped} dropped, {final_hash} \
         settled, {} blocks settled, {} duplicates",
        audit.settled_order().len(),
        audit.duplicates()
    );
    audit.assert_exactly_once_in_order(blocks);
}

/// Storage slot of `storedStateRoot` in contracts/src/StarknetCoreLocal.sol: after `owner`,
/// `programHash`, `aggregatorProgramHash`, `configHash` and the two mappings.
const STATE_ROOT_SLOT: &str = "0x6";

/// Proves three new blocks, stops interval mining on anvil, and lets all three send their
/// updates, which then wait in the pool together. Returns the blocks and their statuses.
async fn send_three_unmined(
    stack: &Stack,
) -> (
    std::ops::RangeInclusive<u64>,
    BTreeMap<u64, orchestrator_workflows::types::BlockStatus>,
) {
    let blocks = stack.mint_blocks(3).await.expect("create devnet blocks");
    let chain = stack.options.chain.clone();
    orchestrator_starter::ops::ensure_sequencer(&stack.client, &chain, 3)
        .await
        .expect("start the sequencer");
    orchestrator_starter::ops::set_paused(&stack.client, &chain, true)
        .await
        .expect("pause settlement");
    stack
        .start_blocks(blocks.clone(), &fast_settings())
        .await
        .expect("start the blocks");
    stack
        .wait_for(
            blocks.clone(),
            SETTLE_TIMEOUT,
            |status| status.stage == Stage::WaitingForSettlementTurn,
            |_| false,
        )
        .await
        .expect("the blocks are proven and wait for their turn");

    anvil_rpc(&stack.anvil, "evm_setIntervalMining", serde_json::json!([0]))
        .await
        .expect("stop interval mining");
    orchestrator_starter::ops::set_paused(&stack.client, &chain, false)
        .await
        .expect("resume settlement");
    let statuses = stack
        .wait_for(
            blocks.clone(),
            SETTLE_TIMEOUT,
            |status| !status.l1_attempts.is_empty(),
            |_| false,
        )
        .await
        .expect("every block sends its update");
    (blocks, statuses)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reverted_update_requeues_later_blocks() {
    let stack = start_stack(options("requeue")).await;
    let (blocks, _) = send_three_unmined(&stack).await;
    let first = *blocks.start();
    let later = first + 1..=*blocks.end();
    let chain = stack.options.chain.clone();

    // A wrong stored state root makes the first update revert once mined. The later updates
    // then revert on the previous-block check.
    let core = format!("{:#x}", stack.contracts.core_contract);
    let root = anvil_rpc(
        &stack.anvil,
        "eth_getStorageAt",
        serde_json::json!([core, STATE_ROOT_SLOT, "latest"]),
    )
    .await
    .expect("read the stored state root");
    let wrong_root = format!("0x{:064x}", 0xdead_u64);
    anvil_rpc(
        &stack.anvil,
        "anvil_setStorageAt",
        serde_json::json!([core, STATE_ROOT_SLOT, wrong_root]),
    )
    .await
    .expect("overwrite the stored state root");
    anvil_rpc(&stack.anvil, "evm_mine", no_params())
        .await
        .expect("mine the updates");
    anvil_rpc(&stack.anvil, "evm_setIntervalMining", serde_json::json!([1]))
        .await
        .expect("restart interval mining");

    let statuses = stack
        .wait_for(
            blocks.clone(),
            SETTLE_TIMEOUT,
            |status| {
                if status.block_number == first {
                    status.stage == Stage::Failed
                } else {
                    status.stage == Stage::WaitingForSettlementTurn && status.l1_attempts.len() == 1
                }
            },
            |block| block == first,
        )
        .await
        .expect("the first block fails and the later ones wait");
    for block in later.clone() {
        let waiting_for = statuses[&block].waiting_for.clone().unwrap_or_default();
        assert!(
            waiting_for.contains("INVALID_PREV_BLOCK_NUMBER"),
            "wait reason of block {block}: {waiting_for}"
        );
    }
    let sequencer = orchestrator_starter::ops::sequencer_status(&stack.client, &chain)
        .await
        .expect("read the sequencer");
    assert_eq!(
        sequencer.requeued,
        later.clone().collect::<Vec<_>>(),
        "requeued blocks in the sequencer: {sequencer:?}"
    );

    anvil_rpc(
        &stack.anvil,
        "anvil_setStorageAt",
        serde_json::json!([core, STATE_ROOT_SLOT, root]),
    )
    .await
    .expect("restore the stored state root");
    orchestrator_starter::ops::retry_block(&stack.client, &chain, first, &fast_settings())
        .await
        .expect("retry the first block");
    stack
        .wait_until_settled(blocks.clone(), SETTLE_TIMEOUT)
        .await
        .expect("every block settles after the retry of the first");

    let audit = stack.audit(blocks.clone()).await.expect("read the history");
    for tx in &audit.transactions {
        println!(
            "  L1 block {:>4}  {}  L2 block {:>3}  {}",
            tx.l1_block,
            tx.tx_hash,
            tx.l2_block,
            if tx.succeeded { "ok" } else { "reverted" }
        );
    }
    let reverted: Vec<u64> = audit
        .transactions
        .iter()
        .filter(|tx| !tx.succeeded)
        .map(|tx| tx.l2_block)
        .collect();
    assert_eq!(
        reverted,
        blocks.clone().collect::<Vec<_>>(),
        "L2 blocks of the reverted updates"
    );
    assert_eq!(
        audit.settled_order(),
        blocks.clone().collect::<Vec<_>>(),
        "L2 blocks of the successful updates, in L1 order"
    );
    for block in later {
        let status = stack.status(block).await.expect("status of a later block");
        assert_eq!(
            status.l1_attempts.len(),
            2,
            "L1 transactions of block {block}: {:?}",
            status.l1_attempts
        );
    }
    println!(
        "reliability: requeue: 1 run, 1 fault injected, {} updates reverted, {} blocks settled, \
         1 retry",
        reverted.len(),
        audit.settled_order().len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_update_refills_its_nonce() {
    let stack = start_stack(options("nonce-gap")).await;
    let (blocks, sent) = send_three_unmined(&stack).await;
    let first = *blocks.start();
    let dropped = sent[&first].l1_attempts[0].clone();

    // anvil drops the updates queued behind the first one with it. Each block then sends again
    // at its own nonce, so no nonce is skipped and no update moves behind another.
    anvil_rpc(
        &stack.anvil,
        "anvil_dropTransaction",
        serde_json::json!([dropped.tx_hash]),
    )
    .await
    .expect("drop the first update from the pool");
    anvil_rpc(&stack.anvil, "evm_setIntervalMining", serde_json::json!([1]))
        .await
        .expect("restart interval mining");
    stack
        .wait_until_settled(blocks.clone(), SETTLE_TIMEOUT)
        .await
        .expect("every block settles after the drop");

    let first_status = stack.status(first).await.expect("status of the first block");
    let nonces: Vec<u64> = first_status.l1_attempts.iter().map(|attempt| attempt.nonce).collect();
    assert_eq!(
        nonces,
        vec![dropped.nonce, dropped.nonce],
        "nonces of the first block's transactions"
    );
    for block in blocks.clone() {
        let status = stack.status(block).await.expect("status of a block");
        let sent_nonce = sent[&block].l1_attempts[0].nonce;
        for attempt in &status.l1_attempts {
            assert_eq!(
                attempt.nonce, sent_nonce,
                "nonce of {} in block {block}",
                attempt.tx_hash
            );
        }
    }
    let audit = stack.audit(blocks.clone()).await.expect("read the history");
    println!(
        "reliability: nonce gap: 1 run, 1 fault injected, update {} dropped, {} blocks settled, \
         {} duplicates",
        dropped.tx_hash,
        audit.settled_order().len(),
        audit.duplicates()
    );
    audit.assert_exactly_once_in_order(blocks);
}

/// Worker environment that passes every start-up check, with Temporal at `temporal_address`.
fn valid_worker_env(
    temporal_address: &str,
    work_dir: &std::path::Path,
) -> BTreeMap<String, String> {
    [
        ("HOME", work_dir.display().to_string()),
        ("TEMPORAL_ADDRESS", temporal_address.to_string()),
        ("ORCHESTRATOR_CHAIN_ID", "bad-config".to_string()),
        (
            "MADARA_ORCHESTRATOR_MADARA_RPC_URL",
            "http://127.0.0.1:9/rpc".to_string(),
        ),
        (
            "ORCHESTRATOR_ARTIFACT_STORE",
            format!("file://{}", work_dir.display()),
        ),
        (
            "MADARA_ORCHESTRATOR_ATLANTIC_SERVICE_URL",
            "http://127.0.0.1:9".to_string(),
        ),
        (
            "MADARA_ORCHESTRATOR_ATLANTIC_API_KEY",
            "bad-config-key".to_string(),
        ),
        (
            "MADARA_ORCHESTRATOR_ETHEREUM_SETTLEMENT_RPC_URL",
            "http://127.0.0.1:9".to_string(),
        ),
        (
            "MADARA_ORCHESTRATOR_L1_CORE_CONTRACT_ADDRESS",
            "0x5FbDB2315678afecb367f032d93F642f64180aa3".to_string(),
        ),
        (
            "ORCHESTRATOR_FACT_REGISTRY_ADDRESS",
            "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512".to_string(),
        ),
        (
            "MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY",
            "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80".to_string(),
        ),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_string(), value))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_worker_config_exits_before_polling() {
    let binary = worker_binary();
    let work_dir = tempfile::tempdir().expect("create a temporary directory");
    // A listener standing in for Temporal: the worker must exit before it connects.
    let temporal = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    temporal
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let temporal_address = temporal.local_addr().expect("listener address").to_string();

    // Each case: the variable, its bad value, text the message must contain, and text it
    // must not contain.
    let bad_key = "0x5ec2e7-not-a-key";
    let cases = [
        (
            "MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY",
            bad_key,
            "MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY",
            Some("5ec2e7-not-a-key"),
        ),
        (
            "MADARA_ORCHESTRATOR_ETHEREUM_SETTLEMENT_RPC_URL",
            "not a url",
            "\"not a url\"",
            None,
        ),
        (
            "MADARA_ORCHESTRATOR_MADARA_RPC_URL",
            "127.0.0.1:5050/rpc",
            "\"127.0.0.1:5050/rpc\"",
            None,
        ),
        (
            "MADARA_ORCHESTRATOR_ATLANTIC_SERVICE_URL",
            "http://[::1",
            "\"http://[::1\"",
            None,
        ),
        (
            "MADARA_ORCHESTRATOR_L1_CORE_CONTRACT_ADDRESS",
            "0x1234",
            "\"0x1234\"",
            None,
        ),
        (
            "MADARA_ORCHESTRATOR_ATLANTIC_API_KEY",
            "   ",
            "MADARA_ORCHESTRATOR_ATLANTIC_API_KEY",
            None,
        ),
    ];
    let (status, output) = WorkerProcess::run_to_exit(
        &binary,
        &valid_worker_env("127.0.0.1:9", work_dir.path()),
        Duration::from_secs(30),
    )
    .expect("run the worker with a valid configuration and no Temporal server");
    assert!(
        !status.success(),
        "worker without Temporal exited with {status}"
    );
    assert!(
        output.contains("failed to connect to Temporal"),
        "a valid configuration reaches the Temporal connection: {output}"
    );

    for (variable, value, expected, hidden) in cases {
        let mut env = valid_worker_env(&temporal_address, work_dir.path());
        env.insert(variable.to_string(), value.to_string());
        let (status, output) = WorkerProcess::run_to_exit(&binary, &env, Duration::from_secs(30))
            .unwrap_or_else(|error| panic!("run the worker with a bad {variable}: {error:#}"));
        println!("{variable}={value:?}: {status}: {}", output.trim());
        assert_eq!(status.code(), Some(1), "exit code with a bad {variable}");
        assert!(
            output.contains(expected),
            "message for a bad {variable} names {expected}: {output}"
        );
        if let Some(hidden) = hidden {
            assert!(
                !output.contains(hidden),
                "message for a bad {variable} shows the value: {output}"
            );
        }
        assert!(
            !output.contains("worker started"),
            "worker started with a bad {variable}: {output}"
        );
        assert!(
            temporal.accept().is_err(),
            "worker connected to Temporal with a bad {variable}"
        );
    }
    println!(
        "reliability: bad worker configuration: {} runs, {} faults injected, 0 blocks settled, 0 duplicates",
        cases.len() + 1,
        cases.len()
    );
}

/// Recognisable secrets of the secrets test. The L1 key is a valid secp256k1 key.
const SECRET_L1_KEY: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";
const SECRET_PROVER_KEY: &str = "prover-api-secret-9f3b7c1d";

/// Runs the project's `temporal` CLI against `address` and returns its standard output.
fn temporal_cli(address: &str, args: &[&str]) -> String {
    let output = std::process::Command::new(orchestrator_tests::temporal_bin())
        .args(args)
        .args(["--address", address, "--namespace", "default"])
        .output()
        .expect("run the temporal CLI");
    assert!(
        output.status.success(),
        "temporal {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Collects every `(workflowId, runId)` pair in `temporal workflow list -o json` output.
fn workflow_runs(list: &serde_json::Value, runs: &mut Vec<(String, String)>) {
    match list {
        serde_json::Value::Object(object) => {
            if let (Some(id), Some(run)) = (
                object.get("workflowId").and_then(|v| v.as_str()),
                object.get("runId").and_then(|v| v.as_str()),
            ) {
                runs.push((id.to_string(), run.to_string()));
            }
            object.values().for_each(|value| workflow_runs(value, runs));
        }
        serde_json::Value::Array(items) => {
            items.iter().for_each(|value| workflow_runs(value, runs))
        }
        _ => {}
    }
}

/// Decodes standard base64, skipping padding; returns `None` on other characters.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut bits = 0_u32;
    let mut count = 0;
    let mut bytes = Vec::new();
    for byte in text.bytes().filter(|byte| *byte != b'=') {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(value);
        count += 6;
        if count >= 8 {
            count -= 8;
            bytes.push((bits >> count) as u8);
        }
    }
    Some(bytes)
}

/// Appends the decoded text of every base64 `data` field in `value` to `decoded`.
fn decoded_payloads(value: &serde_json::Value, decoded: &mut String) {
    match value {
        serde_json::Value::Object(object) => {
            for (key, value) in object {
                if key == "data"
                    && let Some(bytes) = value.as_str().and_then(decode_base64)
                {
                    decoded.push_str(&String::from_utf8_lossy(&bytes));
                    decoded.push('\n');
                }
                decoded_payloads(value, decoded);
            }
        }
        serde_json::Value::Array(items) => items
            .iter()
            .for_each(|value| decoded_payloads(value, decoded)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_stay_out_of_histories_and_logs() {
    let stack = start_stack(StackOptions {
        l1_key: Some(SECRET_L1_KEY.to_string()),
        prover_api_key: SECRET_PROVER_KEY.to_string(),
        ..options("secrets")
    })
    .await;
    let blocks = settle_new_blocks(&stack, 2).await;

    let address = stack.temporal.address();
    let list = temporal_cli(&address, &["workflow", "list", "--output", "json"]);
    let mut runs = Vec::new();
    for line in list.lines().filter(|line| !line.trim().is_empty()) {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(line) {
            workflow_runs(&value, &mut runs);
        }
    }
    if runs.is_empty()
        && let Ok(value) = serde_json::from_str::<serde_json::Value>(&list)
    {
        workflow_runs(&value, &mut runs);
    }
    runs.sort();
    runs.dedup();
    // The sequencer and one workflow per block.
    assert!(
        runs.len() > blocks.clone().count(),
        "workflow runs listed: {runs:?}"
    );

    let mut exported = list.clone();
    for (workflow_id, run_id) in &runs {
        let history = temporal_cli(
            &address,
            &[
                "workflow",
                "show",
                "-w",
                workflow_id,
                "-r",
                run_id,
                "--output",
                "json",
            ],
        );
        let raw = temporal_cli(
            &address,
            &[
                "workflow",
                "show",
                "-w",
                workflow_id,
                "-r",
                run_id,
                "--output",
                "json",
                "--no-json-shorthand-payloads",
            ],
        );
        let raw_json: serde_json::Value = serde_json::from_str(&raw).expect("history is JSON");
        let mut decoded = String::new();
        decoded_payloads(&raw_json, &mut decoded);
        assert!(!decoded.is_empty(), "no payload of {workflow_id} decoded");
        exported.push_str(&history);
        exported.push_str(&decoded);
    }
    let worker_log = std::fs::read_to_string(stack.worker.log_path()).expect("read the worker log");
    assert!(
        worker_log.contains("worker started"),
        "worker log: {worker_log}"
    );

    let secrets = [
        ("L1 private key", SECRET_L1_KEY.to_string()),
        ("L1 private key", SECRET_L1_KEY.to_uppercase()),
        ("prover API key", SECRET_PROVER_KEY.to_string()),
    ];
    for (name, secret) in &secrets {
        assert!(
            !exported.contains(secret.as_str()),
            "the {name} appears in the workflow histories"
        );
        assert!(
            !worker_log.contains(secret.as_str()),
            "the {name} appears in the worker log"
        );
    }
    println!(
        "reliability: secrets: 1 run, {} histories and {} bytes of worker log searched, {} \
         blocks settled, 0 secrets found",
        runs.len(),
        worker_log.len(),
        blocks.count()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_checks_root_and_hash() {
    let stack = start_stack(options("verify")).await;
    let blocks = settle_new_blocks(&stack, 1).await;
    let block = *blocks.start();

    let status = stack.status(block).await.expect("status of the block");
    let snos = status
        .progress
        .snos
        .expect("the settled block has a SNOS output");
    let store = ArtifactStore::from_url(&stack.artifact_store).expect("open the artifact store");
    let bytes = store
        .get(&snos.program_output)
        .await
        .expect("read the program output");
    let text = String::from_utf8(bytes).expect("program output is text");
    let output = ProgramOutput::parse(&text).expect("valid stored program output");
    let key = L1PrivateKey::parse(
        &hex::encode(stack.anvil.keys()[0].to_bytes()),
        "anvil account 0",
    )
    .expect("anvil key 0 is valid");
    let client = SettlementClient::new(
        SettlementConfig {
            rpc_url: stack.anvil.endpoint_url(),
            core_contract: stack.contracts.core_contract,
            sidecar_kind: SidecarKind::Eip4844,
            fees: FeePolicy::default(),
        },
        key,
    );
    assert_eq!(
        client
            .verify(&output)
            .await
            .expect("verify the settled output"),
        Verification::Settled,
        "verification of the settled output"
    );

    // The same block number with another block hash or state root is not the settled state.
    // Devnet's state roots are all zero, so the word to change is the one whose change moves
    // the accessor, not the first word with the same value.
    let changed: [(&str, fn(&ProgramOutput) -> U256); 2] = [
        ("new block hash", ProgramOutput::new_block_hash),
        ("new state root", ProgramOutput::new_state_root),
    ];
    for (field, accessor) in changed {
        let value = accessor(&output);
        let words = output.words().to_vec();
        let altered_at = |index: usize| {
            let mut altered = words.clone();
            altered[index] = value + U256::from(1);
            altered
        };
        let index = (0..words.len())
            .find(|&index| {
                words[index] == value
                    && ProgramOutput::from_words(altered_at(index))
                        .is_ok_and(|altered| accessor(&altered) != value)
            })
            .unwrap_or_else(|| panic!("{field} not found in the program output"));
        let words = altered_at(index);
        let altered = ProgramOutput::from_words(words).expect("altered output stays valid");
        assert_eq!(
            altered.new_block_number(),
            block,
            "block number of the altered output"
        );
        let verification = client
            .verify(&altered)
            .await
            .expect("verify the altered output");
        assert!(
            matches!(verification, Verification::Mismatch { .. }),
            "verification with another {field}: {verification:?}"
        );
    }
    println!(
        "reliability: verification: 1 run, 2 altered outputs rejected, 1 blocks settled, 0 duplicates"
    );
}

/// STARK field modulus, one above the largest felt.
const STARK_MODULUS_HEX: &str = "0x800000000000011000000000000000000000000000000000000000000000001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_state_updates_fail_without_side_effects() {
    let stack = start_stack(options("bad-input")).await;
    let blocks = stack.mint_blocks(2).await.expect("create devnet blocks");

    // Each case: what the node's starknet_getStateUpdate response gets, how, and the text the
    // block's error must contain.
    let missing_diff: ResponseRewrite = Arc::new(|mut response: serde_json::Value| {
        if let Some(result) = response
            .get_mut("result")
            .and_then(|result| result.as_object_mut())
        {
            result.remove("state_diff");
        }
        response
    });
    let felt_at_modulus: ResponseRewrite = Arc::new(|mut response: serde_json::Value| {
        let value =
            response.pointer_mut("/result/state_diff/storage_diffs/0/storage_entries/0/value");
        if let Some(value) = value {
            *value = serde_json::Value::String(STARK_MODULUS_HEX.to_string());
        }
        response
    });
    let cases = [
        (
            *blocks.start(),
            "a response without state_diff",
            missing_diff,
            "state_diff",
        ),
        (
            *blocks.end(),
            "a storage value at the field modulus",
            felt_at_modulus,
            STARK_MODULUS_HEX,
        ),
    ];

    let settings = fast_settings();
    for (block, description, rewrite, expected) in cases {
        stack
            .devnet_proxy
            .set_rewrite("starknet_getStateUpdate", rewrite);
        stack
            .start_blocks(block..=block, &settings)
            .await
            .expect("start the block");
        let statuses = stack
            .wait_for(
                block..=block,
                SETTLE_TIMEOUT,
                |status| status.stage == Stage::Failed,
                |_| true,
            )
            .await
            .unwrap_or_else(|error| {
                panic!("block {block} with {description} does not fail: {error:#}")
            });
        stack.devnet_proxy.clear_rewrite();
        let status = &statuses[&block];
        let error = status.last_error.clone().unwrap_or_default();
        println!("block {block} with {description}: {error}");
        assert_eq!(
            status.failed_stage,
            Some(Stage::DataAvailability),
            "failed stage with {description}"
        );
        assert!(
            error.contains(expected),
            "error with {description} names {expected}: {error}"
        );
        assert!(status.progress.snos.is_none(), "SNOS ran on {description}");
    }

    let audit = stack.audit(blocks.clone()).await.expect("read the history");
    assert!(
        audit.transactions.is_empty(),
        "updates sent for malformed blocks: {:#?}",
        audit.transactions
    );
    for block in blocks.clone() {
        assert_eq!(
            audit.posts[&block], 0,
            "prover POSTs of malformed block {block}"
        );
    }
    println!(
        "reliability: malformed state updates: 1 run, {} faults injected, 0 blocks settled, 0 \
         duplicates, 0 side effects",
        stack.devnet_proxy.injected()
    );
}
