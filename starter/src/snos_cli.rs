//! `orchestrator snos …` subcommands.

use orchestrator_activities::snos::{InProcessConfig, InProcessRunner};
use std::path::PathBuf;

/// Subcommands of `orchestrator snos`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the program hash (bootloader hash chain) of the in-process SNOS program as `0x`
    /// hex: the `--program-hash` the local core contract binds facts to.
    ProgramHash {
        /// Compiled Cairo 0 program; without it, the embedded stand-in.
        #[arg(long, env = "ORCHESTRATOR_SNOS_PROGRAM")]
        program: Option<PathBuf>,
    },
}

/// Runs one `orchestrator snos` subcommand.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::ProgramHash { program } => {
            let runner = InProcessRunner::new(InProcessConfig { program_path: program, ..InProcessConfig::default() })?;
            let program_hash = runner.program_hash().await?;
            println!("{program_hash:#x}");
            Ok(())
        }
    }
}
