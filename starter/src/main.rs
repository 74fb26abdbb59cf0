//! `orchestrator`: the operator CLI of the appchain orchestrator.

mod da_cli;
mod l1_cli;
mod pie_cli;
mod prover_cli;
mod settle_cli;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "orchestrator", version, about = "Drive a Starknet appchain to settlement on Temporal")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
        Command::Da(command) => da_cli::run(command).await,
        Command::Settle(command) => settle_cli::run(command).await,
        Command::Pie(command) => pie_cli::run(command).await,
        Command::Prover(command) => prover_cli::run(command).await,
        Command::L1(command) => l1_cli::run(command).await,
    }
}
