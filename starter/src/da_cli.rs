//! `orchestrator da …` subcommands: state diff to blobs, blob to felts, KZG data of a blob.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use orchestrator_activities::da::nonces::parse_nonce_answers;
use orchestrator_activities::da::state_update::parse_state_updates;
use orchestrator_activities::da::{
    Blob, DEFAULT_MAX_BLOBS, DaLayout, Encoding, blob_to_felts, felts_to_blobs, field, kzg, squash,
    state_diff_to_felts,
};

/// Subcommands of `orchestrator da`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Encode a state update into blob files DIR/1.hex, DIR/2.hex, ….
    ///
    /// Prints the number of felts published and the number of blobs.
    Encode(EncodeArgs),
    /// Print the 4096 felts of a blob (padding included), one 0x hex felt per line.
    Decode(DecodeArgs),
    /// Print the KZG commitment, blob proof and versioned hash of a blob, and with --x0 the
    /// proof and value at that point, one `name 0x…` pair per line.
    Kzg(KzgArgs),
}

/// State diff encoding selected on the command line.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum EncodingArg {
    /// Starknet before 0.13.3; needs --nonces for contracts without a nonce change.
    Legacy,
    /// Starknet 0.13.3 and later, followed by stateless compression.
    V2,
}

/// Arguments of `orchestrator da encode`.
#[derive(Debug, clap::Args)]
pub struct EncodeArgs {
    /// `starknet_getStateUpdate` result, or a JSON array of them, which are merged with last
    /// write wins (writes that restore the pre-range value are kept: no node is read).
    #[arg(long, value_name = "FILE")]
    state_update: PathBuf,
    /// Recorded `starknet_getNonce` results for the legacy encoding: a JSON array of
    /// {"address": decimal, "nonce": hex}.
    #[arg(long, value_name = "FILE")]
    nonces: Option<PathBuf>,
    /// State diff encoding.
    #[arg(long, value_enum)]
    encoding: EncodingArg,
    /// Skip stateless compression of the v2 encoding (the legacy encoding is never compressed).
    #[arg(long)]
    no_stateless: bool,
    /// Maximum number of blobs; more is an error.
    #[arg(long, value_name = "COUNT", default_value_t = DEFAULT_MAX_BLOBS)]
    max_blobs: usize,
    /// Directory for the blob files (created if missing; existing N.hex files are overwritten).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Arguments of `orchestrator da decode`.
#[derive(Debug, clap::Args)]
pub struct DecodeArgs {
    /// Blob file: 262144 hex characters.
    #[arg(long, value_name = "FILE")]
    blob: PathBuf,
}

/// Arguments of `orchestrator da kzg`.
#[derive(Debug, clap::Args)]
pub struct KzgArgs {
    /// Blob file: 262144 hex characters.
    #[arg(long, value_name = "FILE")]
    blob: PathBuf,
    /// Evaluation point, hex below the BLS12-381 scalar modulus (e.g. x0 of a program output).
    #[arg(long, value_name = "HEX")]
    x0: Option<String>,
}

/// Runs one `orchestrator da` subcommand.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Encode(args) => encode(&args),
        Command::Decode(args) => decode(&args),
        // Loading the trusted setup and computing proofs take seconds of CPU.
        Command::Kzg(args) => tokio::task::spawn_blocking(move || kzg_data(&args)).await?,
    }
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("failed to read {}", path.display()))
}

fn read_blob(path: &Path) -> anyhow::Result<Blob> {
    Blob::from_hex(&read_text(path)?)
        .with_context(|| format!("invalid blob file {}", path.display()))
}

fn encode(args: &EncodeArgs) -> anyhow::Result<()> {
    let updates = parse_state_updates(&read_text(&args.state_update)?)
        .with_context(|| format!("invalid state update file {}", args.state_update.display()))?;
    let update = squash::merge(&updates)?;
    let nonces = match &args.nonces {
        Some(path) => parse_nonce_answers(&read_text(path)?)
            .with_context(|| format!("invalid nonce file {}", path.display()))?,
        None => BTreeMap::new(),
    };
    let layout = match args.encoding {
        EncodingArg::Legacy => DaLayout {
            encoding: Encoding::Legacy,
            stateful_compression: false,
            stateless_compression: false,
        },
        EncodingArg::V2 => DaLayout {
            encoding: Encoding::V2,
            stateful_compression: false,
            stateless_compression: !args.no_stateless,
        },
    };

    let felts = state_diff_to_felts(&update.state_diff, layout, &nonces)?;
    let blobs = felts_to_blobs(&felts, args.max_blobs)?;

    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("failed to create {}", args.out.display()))?;
    for (index, blob) in blobs.iter().enumerate() {
        let path = args.out.join(format!("{}.hex", index + 1));
        std::fs::write(&path, blob.to_hex())
            .with_context(|| format!("failed to write {}", path.display()))?;
    }
    println!("felts {}", felts.len());
    println!("blobs {}", blobs.len());
    Ok(())
}

fn decode(args: &DecodeArgs) -> anyhow::Result<()> {
    let felts = blob_to_felts(&read_blob(&args.blob)?)?;
    let mut stdout = std::io::stdout().lock();
    for felt in felts {
        match writeln!(stdout, "{felt:#x}") {
            Ok(()) => {}
            // A reader such as `head` closing the pipe early is not a failure.
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

fn kzg_data(args: &KzgArgs) -> anyhow::Result<()> {
    let blob = read_blob(&args.blob)?;
    let point = args.x0.as_deref().map(parse_point).transpose()?;

    let commitment = kzg::commitment(&blob)?;
    let blob_proof = kzg::blob_proof(&blob, &commitment)?;
    println!("commitment 0x{}", hex::encode(commitment));
    println!("blob_proof 0x{}", hex::encode(blob_proof));
    println!(
        "versioned_hash 0x{}",
        hex::encode(kzg::versioned_hash(&commitment))
    );
    if let Some(point) = point {
        let proof = kzg::point_proof(&blob, &point)?;
        println!("point_proof 0x{}", hex::encode(proof.proof));
        println!("y 0x{}", hex::encode(proof.y));
    }
    Ok(())
}

/// Parses an evaluation point: at most 64 hex digits, below the BLS12-381 scalar modulus.
fn parse_point(text: &str) -> anyhow::Result<[u8; 32]> {
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix("0x").unwrap_or(trimmed);
    anyhow::ensure!(
        !digits.is_empty() && digits.len() <= 64,
        "invalid --x0 `{text}`: expected 1 to 64 hex digits"
    );
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(format!("{digits:0>64}"), &mut bytes)
        .with_context(|| format!("invalid --x0 `{text}`: not hex"))?;
    anyhow::ensure!(
        field::scalar_from_be_bytes(&bytes).is_some(),
        "invalid --x0 `{text}`: not below the BLS12-381 scalar field modulus"
    );
    Ok(bytes)
}
