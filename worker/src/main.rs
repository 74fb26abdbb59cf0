//! `orchestrator-worker`: polls Temporal for block workflows and runs their activities.
//!
//! It connects with the SDK's standard `TEMPORAL_*` settings, registers `BlockWorkflow`, the
//! settlement sequencer and the real pipeline activities, and rejects a bad configuration
//! (URLs, keys, addresses) before it polls for any work.

mod config;

use clap::Parser;
use orchestrator_activities::pipeline::PipelineActivitiesImpl;
use orchestrator_workflows::{BlockWorkflow, SettlementSequencer};
use temporalio_client::{Client, ClientOptions, Connection, envconfig::LoadClientConfigProfileOptions};
use temporalio_sdk::{Runtime, Worker, WorkerOptions};
use tracing::{error, info};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = config::WorkerArgs::parse();
    if let Err(error) = run(args).await {
        error!("worker stopped: {error:#}");
        eprintln!("error: {error:#}");
        std::process::exit(1);
    }
}

async fn run(args: config::WorkerArgs) -> anyhow::Result<()> {
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

    let runtime = Runtime::from_current_tokio(Default::default())?;
    let options = WorkerOptions::new(task_queue.clone())
        .register_workflow::<BlockWorkflow>()?
        .register_workflow::<SettlementSequencer>()?
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
