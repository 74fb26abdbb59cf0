//! `orchestrator pie …` subcommands.

/// Subcommands of `orchestrator pie`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Placeholder until the subcommands land.
    #[command(hide = true)]
    Unimplemented,
}

/// Runs one `orchestrator pie` subcommand.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Unimplemented => anyhow::bail!("not implemented yet"),
    }
}
