//! `orchestrator snos …` subcommands.

use orchestrator_activities::prover::compute_fact_info_from_zip;
use orchestrator_activities::snos::{DaInput, InProcessConfig, InProcessRunner, SnosJob, SnosRunner};
use starknet_types_core::felt::Felt;
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
            // The hash depends on the program only: a run on a one-felt diff yields its PIE.
            let job = SnosJob {
                chain_id: "program-hash".to_string(),
                block_number: 1,
                block_hash: Felt::ONE,
                prev_block_hash: Felt::ZERO,
                prev_state_root: Felt::ZERO,
                new_state_root: Felt::ONE,
                da: DaInput::from_felts(1, vec![Felt::ONE])?,
            };
            let output = runner.run(&job).await?;
            let info = compute_fact_info_from_zip(&output.pie_zip)?;
            println!("{:#x}", info.program_hash);
            Ok(())
        }
    }
}
