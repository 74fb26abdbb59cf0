//! `orchestrator-worker`: polls Temporal for block workflows and runs their activities.
//!
//! It connects with the SDK's standard `TEMPORAL_*` settings, registers `BlockWorkflow`, the
//! settlement sequencer and the real pipeline activities, and rejects a bad configuration
//! (URLs, keys, addresses) before it polls for any work.

mod config;

use clap::Parser;
use orchestrator_activities::pipeline::PipelineActivitiesImpl;
use orchestrator_workflows::{BlockWorkflow, ChainFollower, SettlementSequencer};
use temporalio_client::{Client, ClientOptions, Connection, envconfig::LoadClientConfigProfileOptions};
use orchestrator_worker::telemetry::Telemetry;
use temporalio_sdk::runtime::RuntimeOptions;
use temporalio_sdk::{Runtime, Worker, WorkerOptions};
use tracing::{error, info};

#[tokio::main]
async fn main() {
    let args = config::WorkerArgs::parse();
    let telemetry = match Telemetry::init(&args.telemetry).await {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("error: {error}");
            std::process::exit(1);
        }
    };
    if let Err(error) = telemetry.install_subscriber() {
        eprintln!("error: {error}");
        std::process::exit(1);
    }
    if let Some(address) = telemetry.prometheus_address() {
        info!(%address, "serving Prometheus metrics at /metrics");
    }
    let result = run(args, &telemetry).await;
    if let Err(error) = telemetry.shutdown().await {
        error!("{error}");
    }
    if let Err(error) = result {
        error!("worker stopped: {error:#}");
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

async fn run(args: config::WorkerArgs, telemetry: &Telemetry) -> anyhow::Result<()> {
    let task_queue = args.task_queue.clone();
    let pipeline = args.into_pipeline_config()?;
    let chain_id = pipeline.chain_id.clone();
    let activities = PipelineActivitiesImpl::new(pipeline)?;

    let (connection_options, client_options) =
        ClientOptions::load_from_config(LoadClientConfigProfileOptions::default())
            .map_err(|e| anyhow::anyhow!("invalid Temporal client settings: {e}"))?;
    let address = connection_options.target.to_string();
    let connection = Connection::connect(connection_options).await.map_err(|e| {
        anyhow::anyhow!("failed to connect to Temporal at {address}: {e}; start it or set TEMPORAL_ADDRESS")
    })?;
    let client = Client::new(connection, client_options)?;

    let runtime_options = RuntimeOptions::builder()
        .telemetry_options(telemetry.temporal_options()?)
        .build()
        .map_err(anyhow::Error::msg)?;
    let runtime = Runtime::from_current_tokio(runtime_options)?;
    let options = WorkerOptions::new(task_queue.clone())
        .register_workflow::<BlockWorkflow>()?
        .register_workflow::<SettlementSequencer>()?
        .register_workflow::<ChainFollower>()?
        .register_activities(activities)
        .build();
    let mut worker = Worker::new(&runtime, client, options)?;
    let shutdown = worker.shutdown_handle();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            info!("shutting down: finishing the tasks in progress");
            shutdown();
        }
    });
    info!(%address, %task_queue, %chain_id, "worker started");
    worker.run().await?;
    info!("worker stopped");
    Ok(())
}
