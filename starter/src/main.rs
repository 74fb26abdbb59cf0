//! `orchestrator`: the operator CLI of the appchain orchestrator.

mod da_cli;
mod fee_cap_cli;
mod follow_cli;
mod l1_cli;
mod load_cli;
mod pie_cli;
mod prover_cli;
mod settle_cli;
mod snos_cli;
mod temporal_cli;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "orchestrator", version, about = "Drive a Starknet appchain to settlement on Temporal")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the search attributes the workflows use (idempotent).
    Setup,
    /// Start block workflows; a running or completed block is not started again.
    Start(temporal_cli::StartArgs),
    /// Raise the L1 fee cap of blocks waiting for fees to drop.
    FeeCap(fee_cap_cli::FeeCapArgs),
    /// Start the chain's block follower, which starts a workflow for every new block.
    Follow(follow_cli::FollowArgs),
    /// Send signed transactions through a Starknet node, so it makes blocks with state diffs.
    Load(load_cli::LoadArgs),
    /// Show where blocks are: a table per block, or a chain summary.
    Status(temporal_cli::StatusArgs),
    /// Re-run a failed block from its failed stage, keeping finished stages.
    Retry(temporal_cli::RetryArgs),
    /// Pause settlement of a chain: no new L1 transactions are sent.
    Pause(temporal_cli::ChainArgs),
    /// Resume settlement of a chain.
    Resume(temporal_cli::ChainArgs),
    /// Encode state diffs into blobs and compute KZG data.
    #[command(subcommand)]
    Da(da_cli::Command),
    /// Build settlement calldata.
    #[command(subcommand)]
    Settle(settle_cli::Command),
    /// Read facts and program outputs from Cairo PIEs.
    #[command(subcommand)]
    Pie(pie_cli::Command),
    /// Run the local Atlantic-compatible prover.
    #[command(subcommand)]
    Prover(prover_cli::Command),
    /// Inspect the SNOS program.
    #[command(subcommand)]
    Snos(snos_cli::Command),
    /// Deploy and read the L1 contracts.
    #[command(subcommand)]
    L1(l1_cli::Command),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Setup => temporal_cli::setup().await,
        Command::Start(args) => temporal_cli::start(args).await,
        Command::Follow(args) => follow_cli::run(args).await,
        Command::FeeCap(args) => fee_cap_cli::run(args).await,
        Command::Load(args) => load_cli::run(args).await,
        Command::Status(args) => temporal_cli::status(args).await,
        Command::Retry(args) => temporal_cli::retry(args).await,
        Command::Pause(chain) => temporal_cli::set_paused(chain, true).await,
        Command::Resume(chain) => temporal_cli::set_paused(chain, false).await,
        Command::Da(command) => da_cli::run(command).await,
        Command::Settle(command) => settle_cli::run(command).await,
        Command::Pie(command) => pie_cli::run(command).await,
        Command::Prover(command) => prover_cli::run(command).await,
        Command::L1(command) => l1_cli::run(command).await,
        Command::Snos(command) => snos_cli::run(command).await,
    }
}
