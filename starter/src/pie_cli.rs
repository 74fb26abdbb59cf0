//! `orchestrator pie …` subcommands: facts, program outputs and step counts of Cairo PIEs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use orchestrator_activities::prover::fact::{BOOTLOADER_VERSION, compute_program_hash_chain};
use orchestrator_activities::prover::pie::read_execution_resources;
use orchestrator_activities::prover::{CairoPie, compute_fact_info};

/// Subcommands of `orchestrator pie`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the fact of a PIE (keccak of the program hash and the output Merkle root) as 0x hex.
    Fact {
        /// Cairo PIE zip.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print the program output (the output builtin segment), one 0x hex felt per line.
    Output {
        /// Cairo PIE zip.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print the number of Cairo steps of the run.
    StepCount {
        /// Cairo PIE zip.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
    /// Print the program hash (Pedersen hash chain, bootloader version 0) as 0x hex.
    ProgramHash {
        /// Cairo PIE zip.
        #[arg(value_name = "FILE")]
        file: PathBuf,
    },
}

/// Runs one `orchestrator pie` subcommand.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Fact { file } => {
            let pie = read_pie(&file)?;
            let info = compute_fact_info(&pie)
                .with_context(|| format!("failed to compute the fact of {}", file.display()))?;
            println!("{}", info.fact);
        }
        Command::Output { file } => {
            let pie = read_pie(&file)?;
            let output = pie.program_output().with_context(|| {
                format!("failed to read the program output of {}", file.display())
            })?;
            for felt in output {
                println!("{}", felt.to_hex_string());
            }
        }
        Command::StepCount { file } => {
            let bytes = std::fs::read(&file)
                .with_context(|| format!("failed to read Cairo PIE file {}", file.display()))?;
            let resources = read_execution_resources(&bytes)
                .with_context(|| format!("invalid Cairo PIE {}", file.display()))?;
            println!("{}", resources.n_steps);
        }
        Command::ProgramHash { file } => {
            let pie = read_pie(&file)?;
            let program_hash = compute_program_hash_chain(&pie.program, BOOTLOADER_VERSION);
            println!("{}", program_hash.to_fixed_hex_string());
        }
    }
    Ok(())
}

fn read_pie(file: &Path) -> anyhow::Result<CairoPie> {
    CairoPie::read(file).with_context(|| format!("failed to load Cairo PIE {}", file.display()))
}
