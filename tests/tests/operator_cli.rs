//! The operator CLI's status rows, wait, retry and pause on a real Temporal dev server, with
//! test activities over a fake chain.

use orchestrator_starter::ops;
use orchestrator_starter::status::collect_rows;
use orchestrator_starter::wait::{Display, WaitOutcome, wait_for_settlement};
use orchestrator_tests::fake::{FakeActivities, FakeWorld};
use orchestrator_tests::{spawn_worker, start_dev_server};
use orchestrator_workflows::types::{BlockProgress, PipelineSettings};
use temporalio_client::Client;

/// Settings with short intervals so the blocks finish in seconds.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_cli_on_dev_server() {
    let env = start_dev_server().await;
    let client = env.client().clone();
    let world = FakeWorld::default();
    let worker = spawn_worker(
        client.clone(),
        FakeActivities {
            world: world.clone(),
        },
    );

    let chain = "cli";
    world.with_chain(chain, |c| {
        c.settled = Some(0);
        c.fail_snos.insert(2);
    });
    ops::ensure_sequencer(&client, chain, 1)
        .await
        .expect("start sequencer");
    for block in 1..=2 {
        ops::start_block(
            &client,
            chain,
            block,
            &fast_settings(),
            BlockProgress::default(),
        )
        .await
        .expect("start block");
    }

    wait_stops_on_failed_block(&client, chain).await;
    status_rows_of_settled_failed_and_missing(&client, chain).await;
    retry_starts_new_run(&client, &world, chain).await;
    pause_and_resume_report_change(&client, chain).await;

    drop(worker);
    env.shutdown().await.expect("stop the dev server");
}

async fn wait_stops_on_failed_block(client: &Client, chain: &str) {
    let error = wait_for_settlement(client, chain, 1..=2, Display::Lines)
        .await
        .expect_err("a failed block ends the wait with an error");
    let message = format!("{error:#}");
    assert!(
        message.contains("block 2"),
        "error does not name block 2: {message}"
    );
    assert!(
        message.contains("injected test failure"),
        "error lacks the cause: {message}"
    );
    assert!(
        message.contains("orchestrator retry 2"),
        "error lacks the fix: {message}"
    );

    let outcome = wait_for_settlement(client, chain, 1..=1, Display::Lines)
        .await
        .expect("block 1 settles");
    assert_eq!(outcome, WaitOutcome::Settled);
}

async fn status_rows_of_settled_failed_and_missing(client: &Client, chain: &str) {
    let rows = collect_rows(client, chain, 1..=3).await;
    assert_eq!(rows.len(), 3);

    let settled = &rows[0];
    assert_eq!(settled.error, None);
    assert_eq!(settled.stage.as_deref(), Some("Settled"));
    assert_eq!(settled.attempts, Some(1));
    assert_eq!(settled.last_error, None);
    assert!(
        settled.age_secs.is_some(),
        "settled block has no age: {settled:?}"
    );
    assert!(
        settled.run_id.is_some(),
        "settled block has no run id: {settled:?}"
    );
    let note = settled.note.as_deref().unwrap_or_default();
    assert_eq!(note, format!("L1 tx 0x{:064x}", 1));

    let failed = &rows[1];
    assert_eq!(failed.error, None);
    assert_eq!(failed.stage.as_deref(), Some("Failed"));
    // SNOS fails with a non-retryable error, so its one attempt is the last.
    assert_eq!(failed.attempts, Some(1));
    let last_error = failed.last_error.as_deref().unwrap_or_default();
    assert!(
        last_error.starts_with("Snos: "),
        "last error does not name the stage: {last_error}"
    );
    assert!(
        last_error.contains("injected test failure"),
        "unexpected last error: {last_error}"
    );

    let missing = &rows[2];
    assert_eq!(missing.stage, None);
    assert_eq!(missing.run_id, None);
    let error = missing.error.as_deref().unwrap_or_default();
    assert!(
        error.contains("orchestrator start 3"),
        "missing block's error lacks the fix: {error}"
    );

    // `status --json` prints exactly this array.
    let json = serde_json::to_value(&rows).expect("rows serialize");
    let array = json.as_array().expect("JSON array");
    assert_eq!(array.len(), 3);
    assert_eq!(array[0]["block_number"], 1);
    assert_eq!(array[0]["stage"], "Settled");
    assert_eq!(array[1]["status"]["failed_stage"], "Snos");
    assert!(array[2]["status"].is_null());
}

async fn retry_starts_new_run(client: &Client, world: &FakeWorld, chain: &str) {
    world.with_chain(chain, |c| c.fail_snos.clear());
    let retried = ops::retry_block_run(client, chain, 2, &fast_settings())
        .await
        .expect("retry block 2");
    let failed_run = retried.failed_run_id.expect("failed run id");
    let new_run = retried.new_run_id.expect("new run id");
    assert_ne!(failed_run, new_run);
    assert!(
        retried.failed.progress.da.is_some(),
        "retry should keep the DA output"
    );

    let outcome = wait_for_settlement(client, chain, 1..=2, Display::Lines)
        .await
        .expect("blocks 1 and 2 settle");
    assert_eq!(outcome, WaitOutcome::Settled);
    let rows = collect_rows(client, chain, 2..=2).await;
    assert_eq!(rows[0].run_id.as_deref(), Some(new_run.as_str()));
    assert_eq!(rows[0].stage.as_deref(), Some("Settled"));
}

async fn pause_and_resume_report_change(client: &Client, chain: &str) {
    let paused = ops::change_paused(client, chain, true)
        .await
        .expect("pause");
    assert_eq!(paused.workflow_id, format!("settlement-{chain}"));
    assert!(paused.run_id.is_some());
    assert_eq!(paused.before.as_ref().map(|s| s.paused), Some(false));
    assert_eq!(paused.after.as_ref().map(|s| s.paused), Some(true));

    let again = ops::change_paused(client, chain, true)
        .await
        .expect("pause again");
    assert_eq!(again.before.as_ref().map(|s| s.paused), Some(true));

    let resumed = ops::change_paused(client, chain, false)
        .await
        .expect("resume");
    assert_eq!(resumed.before.as_ref().map(|s| s.paused), Some(true));
    assert_eq!(resumed.after.as_ref().map(|s| s.paused), Some(false));

    let error = ops::change_paused(client, "no-such-chain", true)
        .await
        .expect_err("no sequencer");
    let message = format!("{error:#}");
    assert!(
        message.contains("no settlement sequencer"),
        "unexpected error: {message}"
    );
    assert!(
        message.contains("orchestrator start"),
        "error lacks the fix: {message}"
    );
}
