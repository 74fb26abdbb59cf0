//! `orchestrator l1 …` subcommands.

/// Subcommands of `orchestrator l1`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Placeholder until the subcommands land.
    #[command(hide = true)]
    Unimplemented,
}

/// Runs one `orchestrator l1` subcommand.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Unimplemented => anyhow::bail!("not implemented yet"),
    }
}
