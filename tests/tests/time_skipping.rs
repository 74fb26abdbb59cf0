//! A proof that takes a day finishes the workflow without waiting a day, on the Java
//! time-skipping test server.

use orchestrator_starter::ops;
use orchestrator_tests::fake::{FakeActivities, FakeWorld};
use orchestrator_tests::{spawn_worker, temporal_test_server_bin};
use orchestrator_workflows::BlockWorkflow;
use orchestrator_workflows::types::{BlockProgress, PipelineSettings, Stage};
use std::time::{Duration, Instant};
use temporalio_client::{Client, ClientOptions, Connection, ConnectionOptions, WorkflowGetResultOptions};
use temporalio_common::protos::temporal::api::testservice::v1::UnlockTimeSkippingRequest;
use temporalio_sdk_core::ephemeral_server::{EphemeralExe, TestServerConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn day_long_proof_skips_time() {
    let mut server = TestServerConfig::builder()
        .exe(EphemeralExe::ExistingPath(temporal_test_server_bin().display().to_string()))
        .build()
        .start_server()
        .await
        .expect("start the time-skipping test server");
    let target = url::Url::parse(&format!("http://{}", server.target)).expect("server address");
    let connection = Connection::connect(ConnectionOptions::new(target).build()).await.expect("connect");
    let client = Client::new(connection, ClientOptions::new("default").build()).expect("client");
    ops::setup_search_attributes(&client).await.expect("create search attributes");
    client
        .connection()
        .test_service()
        .unlock_time_skipping(temporalio_client::tonic::Request::new(UnlockTimeSkippingRequest {}))
        .await
        .expect("unlock time skipping");

    let chain = "slow-prover";
    let world = FakeWorld::default();
    // 24 polls an hour apart: the prover reports DONE after a day of workflow time.
    world.with_chain(chain, |c| {
        c.settled = Some(0);
        c.prover_polls_needed = 24;
    });
    let worker = spawn_worker(client.clone(), FakeActivities { world: world.clone() });

    let mut settings = PipelineSettings::default();
    settings.proving.poll_interval_secs = 3_600;
    settings.proving.deadline_secs = 48 * 3_600;
    ops::ensure_sequencer(&client, chain, 1).await.expect("start sequencer");
    ops::start_block(&client, chain, 1, &settings, BlockProgress::default()).await.expect("start block");

    let started = Instant::now();
    let handle = client.get_workflow_handle::<BlockWorkflow>(orchestrator_workflows::types::block_workflow_id(chain, 1));
    let status = tokio::time::timeout(Duration::from_secs(120), handle.get_result(WorkflowGetResultOptions::default()))
        .await
        .expect("the workflow finishes within two real minutes")
        .expect("the workflow succeeds");

    assert_eq!(status.stage, Stage::Settled);
    let proving = status.timings.iter().find(|t| t.stage == Stage::Proving).expect("proving timing");
    let proving_ms = proving.finished_ms.expect("proving finished") - proving.started_ms;
    assert!(proving_ms >= 23 * 3_600 * 1_000, "proving took {proving_ms} ms of workflow time");
    println!("a {:.1}-hour proof finished in {:.1?} of real time", proving_ms as f64 / 3.6e6, started.elapsed());

    drop(worker);
    server.shutdown().await.expect("stop the test server");
}
