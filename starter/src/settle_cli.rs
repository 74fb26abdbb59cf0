//! `orchestrator settle …` subcommands: the Ethereum settlement call of a program output.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use orchestrator_activities::settlement::{
    ProgramOutput, compute_kzg_proofs, encode_update_state_calldata, parse_blob_hex,
};

/// Subcommands of `orchestrator settle`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Print the `updateStateKzgDA(uint256[],bytes[])` calldata of a program output as 0x hex.
    ///
    /// The KZG proofs are computed at the output's x0. Every blob must have the commitment and
    /// evaluation the output states for it.
    Calldata(CalldataArgs),
}

/// Arguments of `orchestrator settle calldata`.
#[derive(Debug, clap::Args)]
pub struct CalldataArgs {
    /// Starknet OS program output: one felt per line, decimal or 0x hex.
    #[arg(long, value_name = "FILE")]
    program_output: PathBuf,
    /// Directory with the output's blobs as 1.hex, 2.hex, … (262144 hex characters each).
    #[arg(long, value_name = "DIR")]
    blobs: PathBuf,
}

/// Runs one `orchestrator settle` subcommand.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Calldata(args) => print_calldata(&args),
    }
}

fn print_calldata(args: &CalldataArgs) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(&args.program_output)
        .with_context(|| format!("cannot read {}", args.program_output.display()))?;
    let output = ProgramOutput::parse(&text)
        .with_context(|| format!("invalid program output {}", args.program_output.display()))?;
    let blobs = read_blobs(&args.blobs, output.n_blobs())?;
    let proofs = compute_kzg_proofs(&output, &blobs)?;
    println!("{}", encode_update_state_calldata(&output, &proofs));
    Ok(())
}

/// Reads `DIR/1.hex` to `DIR/<count>.hex`, and rejects a directory that has more.
fn read_blobs(dir: &Path, count: usize) -> anyhow::Result<Vec<alloy::eips::eip4844::Blob>> {
    let mut blobs = Vec::with_capacity(count);
    for index in 1..=count {
        let path = dir.join(format!("{index}.hex"));
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read blob {} (blob count in the program output: {count})",
                path.display()
            )
        })?;
        blobs.push(parse_blob_hex(&text, index).with_context(|| path.display().to_string())?);
    }
    let extra = dir.join(format!("{}.hex", count + 1));
    if extra.exists() {
        bail!(
            "{} exists, but the program output has only {count} blobs. Pass the blob directory \
             of this output.",
            extra.display()
        );
    }
    Ok(blobs)
}
