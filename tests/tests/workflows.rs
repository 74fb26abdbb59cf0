//! Workflow logic on a real Temporal dev server, with test activities over a fake chain.

use orchestrator_starter::ops::{self, StartOutcome};
use orchestrator_tests::fake::{FakeActivities, FakeWorld};
use orchestrator_tests::{spawn_worker, start_dev_server};
use orchestrator_workflows::types::{BlockProgress, PipelineSettings, Stage};
use std::time::{Duration, Instant};
use temporalio_client::{Client, WorkflowCountOptions};

/// Settings with short intervals so tests finish in seconds.
fn fast_settings() -> PipelineSettings {
    let mut settings = PipelineSettings::default();
    for stage in [
        &mut settings.data_availability,
        &mut settings.snos,
        &mut settings.proving.activity,
        &mut settings.settlement.activity,
    ] {
        stage.attempt_timeout_secs = 10;
        stage.max_attempts = 3;
        stage.initial_retry_interval_ms = 100;
        stage.max_retry_interval_secs = 1;
    }
    settings.proving.poll_interval_secs = 1;
    settings.settlement.confirm_poll_interval_secs = 1;
    settings
}

async fn wait_for_stage(client: &Client, chain: &str, block: u64, stage: Stage) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(status) = ops::block_status(client, chain, block).await {
            if status.stage == stage {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "block {block} stuck at {:?} (waiting for {stage:?}): {status:?}",
                status.stage
            );
        }
        assert!(Instant::now() < deadline, "block {block} never reported a status");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn count(client: &Client, query: &str) -> u64 {
    client.count_workflows(query, WorkflowCountOptions::default()).await.expect("count workflows").count() as u64
}

async fn start_range(client: &Client, chain: &str, blocks: std::ops::RangeInclusive<u64>) {
    ops::ensure_sequencer(client, chain, 4).await.expect("start sequencer");
    for block in blocks {
        let outcome = ops::start_block(client, chain, block, &fast_settings(), BlockProgress::default())
            .await
            .expect("start block");
        assert_eq!(outcome, StartOutcome::Started);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_on_dev_server() {
    let env = start_dev_server().await;
    let client = env.client().clone();
    let world = FakeWorld::default();
    let _worker = spawn_worker(client.clone(), FakeActivities { world: world.clone() });

    blocks_settle_in_order(&client, &world).await;
    failed_block_holds_back_later_blocks(&client, &world).await;
    proving_deadline_waits_for_operator(&client, &world).await;
    follower_starts_new_blocks_once(&client, &world).await;

    if std::env::var_os("ORCHESTRATOR_RECORD_HISTORIES").is_some() {
        record_histories(&client).await;
    }

    drop(_worker);
    env.shutdown().await.expect("stop the dev server");
}

async fn proving_deadline_waits_for_operator(client: &Client, world: &FakeWorld) {
    use orchestrator_workflows::BlockWorkflow;
    use orchestrator_workflows::types::block_workflow_id;
    use temporalio_client::WorkflowSignalOptions;

    let chain = "slow";
    world.with_chain(chain, |c| {
        c.settled = Some(0);
        c.prover_polls_needed = u32::MAX;
    });
    let mut settings = fast_settings();
    settings.proving.deadline_secs = 2;
    ops::ensure_sequencer(client, chain, 1).await.expect("start sequencer");
    ops::start_block(client, chain, 1, &settings, BlockProgress::default()).await.expect("start block");

    // Past the deadline the block neither fails nor resubmits: it waits for an operator.
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let status = ops::block_status(client, chain, 1).await.expect("status");
        if status.waiting_for.as_deref().is_some_and(|w| w.contains("extend_proving_deadline")) {
            break status;
        }
        assert!(Instant::now() < deadline, "block never reported the proving deadline: {status:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status.stage, Stage::Proving);
    assert_eq!(status.prover_resubmits, 0);
    let deadline = Instant::now() + Duration::from_secs(10);
    while world.with_chain(chain, |c| c.alerts.is_empty()) {
        assert!(Instant::now() < deadline, "the proving deadline raised no alert");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    world.with_chain(chain, |c| {
        let alert = &c.alerts[0];
        assert_eq!((alert.kind.as_str(), alert.block_number), ("proving_deadline", Some(1)));
        assert!(alert.message.contains("extend_proving_deadline"), "{}", alert.message);
    });
    world.with_chain(chain, |c| assert_eq!(c.prover_posts.values().sum::<u32>(), 1));

    // The prover finishes; the operator extends the deadline and the block settles.
    world.with_chain(chain, |c| c.prover_polls_needed = 0);
    let handle = client.get_workflow_handle::<BlockWorkflow>(block_workflow_id(chain, 1));
    handle
        .signal(BlockWorkflow::extend_proving_deadline, 3_600, WorkflowSignalOptions::default())
        .await
        .expect("signal extend_proving_deadline");
    wait_for_stage(client, chain, 1, Stage::Settled).await;
    world.with_chain(chain, |c| assert_eq!(c.prover_posts.values().sum::<u32>(), 1));
}

/// Writes the histories the replay tests read; run once on purpose after a workflow change.
///
/// Histories are stored as binary protobuf (`History` messages): the SDK's JSON form does not
/// parse when serde_json's `arbitrary_precision` feature is on, which the workspace enables.
async fn record_histories(client: &Client) {
    use orchestrator_workflows::types::{block_workflow_id, sequencer_workflow_id};
    use prost::Message;
    use temporalio_common::protos::temporal::api::history::v1::History;

    let dir = orchestrator_tests::workspace_root().join("tests/histories");
    std::fs::create_dir_all(&dir).expect("create tests/histories");
    let ids = [
        ("block-settled.binpb", block_workflow_id("happy", 3)),
        ("block-retried.binpb", block_workflow_id("ordering", 5)),
        ("block-waited.binpb", block_workflow_id("ordering", 7)),
        ("sequencer.binpb", sequencer_workflow_id("ordering")),
    ];
    for (file, workflow_id) in ids {
        let handle = client.get_workflow_handle::<temporalio_client::UntypedWorkflow>(workflow_id);
        let events = handle.fetch_history(Default::default()).into_events().await.expect("history events");
        std::fs::write(dir.join(file), History { events }.encode_to_vec()).expect("write history");
    }
}

async fn blocks_settle_in_order(client: &Client, world: &FakeWorld) {
    let chain = "happy";
    world.with_chain(chain, |c| {
        c.settled = Some(0);
        c.prover_polls_needed = 2;
    });
    start_range(client, chain, 1..=5).await;
    for block in 1..=5 {
        wait_for_stage(client, chain, block, Stage::Settled).await;
    }

    world.with_chain(chain, |c| {
        assert_eq!(c.settlement_order, vec![1, 2, 3, 4, 5]);
        assert!(c.sends.values().all(|&n| n == 1), "a block was sent twice: {:?}", c.sends);
        assert!(c.prover_posts.values().all(|&n| n == 1), "a proof was submitted twice: {:?}", c.prover_posts);
    });
    let status = ops::block_status(client, chain, 3).await.expect("status of block 3");
    assert_eq!(status.l1_attempts.len(), 1);
    assert!(status.progress.settlement.is_some());
    assert!(status.timings.iter().all(|t| t.finished_ms.is_some()));
    assert_heartbeat_timeouts(client, chain, 3).await;

    // A completed block is never run again.
    let again = ops::start_block(client, chain, 2, &fast_settings(), BlockProgress::default())
        .await
        .expect("start block 2 again");
    assert_eq!(again, StartOutcome::AlreadyDone);

    // Search attributes let operators find blocks by number and stage.
    let query = format!("ChainId = '{chain}' AND BlockNumber >= 1 AND PipelineStage = 'Settled'");
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(client, &query).await < 5 {
        assert!(Instant::now() < deadline, "visibility never showed 5 settled blocks for {query}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Checks the heartbeat timeouts a block's history schedules its activities with: DA and SNOS
/// get the settings' value (at most the attempt timeout), the others none.
async fn assert_heartbeat_timeouts(client: &Client, chain: &str, block: u64) {
    use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;

    let workflow_id = orchestrator_workflows::types::block_workflow_id(chain, block);
    let handle = client.get_workflow_handle::<temporalio_client::UntypedWorkflow>(workflow_id);
    let events = handle.fetch_history(Default::default()).into_events().await.expect("history events");
    let settings = fast_settings().data_availability;
    assert_eq!(settings.heartbeat_timeout_secs, 60, "default DA heartbeat timeout");
    // The server caps a heartbeat timeout at the attempt's start-to-close timeout.
    let expected_secs = settings.heartbeat_timeout_secs.min(settings.attempt_timeout_secs) as i64;
    let mut checked = Vec::new();
    for event in &events {
        let Some(Attributes::ActivityTaskScheduledEventAttributes(attributes)) = &event.attributes else {
            continue;
        };
        let name = attributes.activity_type.as_ref().map(|kind| kind.name.clone()).unwrap_or_default();
        let heartbeat_secs = attributes.heartbeat_timeout.as_ref().map_or(0, |timeout| timeout.seconds);
        let expected = if matches!(name.as_str(), "da_encode" | "snos_run") { expected_secs } else { 0 };
        assert_eq!(heartbeat_secs, expected, "heartbeat timeout of {name} in block {block}");
        checked.push(name);
    }
    assert!(checked.iter().any(|name| name == "da_encode"), "no da_encode in {checked:?}");
    assert!(checked.iter().any(|name| name == "snos_run"), "no snos_run in {checked:?}");
}

async fn failed_block_holds_back_later_blocks(client: &Client, world: &FakeWorld) {
    let chain = "ordering";
    world.with_chain(chain, |c| {
        c.settled = Some(0);
        c.fail_snos.insert(5);
    });
    start_range(client, chain, 1..=8).await;

    for block in 1..=4 {
        wait_for_stage(client, chain, block, Stage::Settled).await;
    }
    wait_for_stage(client, chain, 5, Stage::Failed).await;
    for block in 6..=8 {
        wait_for_stage(client, chain, block, Stage::WaitingForSettlementTurn).await;
        let status = ops::block_status(client, chain, block).await.expect("status");
        assert!(status.progress.proof.is_some(), "block {block} should have finished proving");
    }
    let failed = ops::block_status(client, chain, 5).await.expect("status of block 5");
    assert_eq!(failed.failed_stage, Some(Stage::Snos));
    let error = failed.last_error.expect("block 5 records its error");
    assert!(error.contains("injected test failure"), "unexpected error: {error}");
    world.with_chain(chain, |c| assert_eq!(c.settlement_order, vec![1, 2, 3, 4]));

    // Retry keeps the DA output of the failed run and settles 5–8 in order.
    world.with_chain(chain, |c| c.fail_snos.clear());
    let before = ops::retry_block(client, chain, 5, &fast_settings()).await.expect("retry block 5");
    assert!(before.progress.da.is_some());
    for block in 5..=8 {
        wait_for_stage(client, chain, block, Stage::Settled).await;
    }
    world.with_chain(chain, |c| {
        assert_eq!(c.settlement_order, (1..=8).collect::<Vec<_>>());
        assert!(c.sends.values().all(|&n| n == 1), "a block was sent twice: {:?}", c.sends);
    });
}

async fn follower_starts_new_blocks_once(client: &Client, world: &FakeWorld) {
    use orchestrator_starter::follow::{self, FollowerStart};
    use orchestrator_workflows::ChainFollower;
    use orchestrator_workflows::types::{FollowerInput, FollowerStatus, follower_workflow_id};

    let chain = "follow";
    world.with_chain(chain, |c| {
        c.settled = Some(0);
        c.grow_l2(0..=4, 1);
    });
    ops::ensure_sequencer(client, chain, 2).await.expect("start sequencer");
    let input = FollowerInput {
        chain_id: chain.to_string(),
        settings: fast_settings(),
        next_block: None,
        last_block: None,
        window: 3,
        poll_interval_secs: 1,
        paused: false,
        parent: None,
        started_before: 0,
    };
    assert_eq!(
        follow::start_follower(client, input.clone()).await.expect("start follower"),
        FollowerStart::Started
    );

    async fn wait_follower(
        client: &Client,
        chain: &str,
        what: &str,
        done: impl Fn(&FollowerStatus) -> bool,
    ) -> FollowerStatus {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(status) = follow::follower_status(client, chain).await
                && done(&status)
            {
                return status;
            }
            assert!(Instant::now() < deadline, "follower never reached: {what}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // Blocks 1–4 exist after the settled block 0: all are started and settle.
    for block in 1..=4 {
        wait_for_stage(client, chain, block, Stage::Settled).await;
    }
    // New blocks on the node are picked up.
    world.with_chain(chain, |c| c.grow_l2(5..=6, 1));
    for block in 5..=6 {
        wait_for_stage(client, chain, block, Stage::Settled).await;
    }
    // The lag is measured at each poll, so it reaches 0 once a poll finds block 6 settled.
    let status = wait_follower(client, chain, "next block 7 with no lag", |s| {
        s.next_block == Some(7) && s.lag == Some(0)
    })
    .await;
    assert_eq!(status.started, 6);

    // Starting it again attaches to the running follower: nothing is started twice.
    assert_eq!(
        follow::start_follower(client, input).await.expect("start follower again"),
        FollowerStart::AlreadyRunning
    );
    world.with_chain(chain, |c| {
        assert_eq!(c.settlement_order, (1..=6).collect::<Vec<_>>());
        assert!(c.prover_posts.values().all(|&n| n == 1), "a block ran twice: {:?}", c.prover_posts);
    });
    let runs = count(client, &format!("WorkflowType = 'BlockWorkflow' AND ChainId = '{chain}'")).await;
    assert!(runs <= 6, "{runs} block workflow runs for 6 blocks");

    // The node's chain changes under the follower: block 7's parent is not block 6.
    world.with_chain(chain, |c| {
        c.l2_blocks.retain(|&n, _| n <= 5);
        c.grow_l2(6..=8, 2);
    });
    let stopped = wait_follower(client, chain, "a stop", |s| s.stopped.is_some()).await;
    let reason = stopped.stopped.expect("stop reason");
    assert!(reason.contains("L2 reorg"), "{reason}");
    assert!(reason.contains("block 7"), "{reason}");
    assert_eq!(stopped.next_block, Some(7), "no block past the mismatch is started");
    world.with_chain(chain, |c| {
        assert!(c.alerts.iter().any(|a| a.kind == "l2_reorg"), "no reorg alert: {:?}", c.alerts)
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        ops::block_status(client, chain, 7).await.is_err(),
        "block 7 was started after the reorg"
    );
    client
        .get_workflow_handle::<ChainFollower>(follower_workflow_id(chain))
        .terminate(Default::default())
        .await
        .expect("terminate the follower");
}
