//! SNOS stage: runs the Starknet OS (or a stand-in for it) for a block, producing the Cairo
//! PIE to prove, its program output and its step count.
//!
//! Two runners implement [`SnosRunner`]; [`SnosRunnerConfig`] picks one:
//! - [`ExternalRunner`] runs an operator-provided command, such as a `prove_block` binary that
//!   executes the real Starknet OS against a full node with storage proofs, and reads the PIE
//!   it writes.
//! - [`InProcessRunner`] runs a compiled Cairo 0 program with cairo-vm. By default that is the
//!   embedded stand-in ([`standin`]), which is **not** the Starknet OS: it proves nothing about
//!   the state transition and only produces an output with the OS layout whose KZG section
//!   matches the block's blobs. It exists because the real OS needs a full node serving storage
//!   proofs, which local and test chains do not have.
//!
//! [`store_run_output`] writes a run's PIE and program output to the artifact store.
//!
//! Errors carry their retry classification, see [`SnosError::is_retryable`].

mod error;
pub mod external;
pub mod in_process;
pub mod standin;

use std::future::Future;

use orchestrator_workflows::types::SnosOutput;
use starknet_types_core::felt::Felt;

use crate::da::{Blob, DEFAULT_MAX_BLOBS, felts_to_blobs};
use crate::prover::{CairoPie, PieError};
use crate::store::{ArtifactStore, artifact_key};

pub use error::SnosError;
pub use external::{ExternalConfig, ExternalRunner};
pub use in_process::{InProcessConfig, InProcessRunner};

/// Artifact name of the PIE zip.
pub const PIE_ARTIFACT: &str = "cairo_pie.zip";
/// Artifact name of the program output: one `0x` felt per line.
pub const PROGRAM_OUTPUT_ARTIFACT: &str = "program_output.txt";

/// The data a block publishes: the DA felts and the blobs carrying them.
#[derive(Clone, Debug, Default)]
pub struct DaInput {
    /// Felts published for the block, before padding.
    pub felts: Vec<Felt>,
    /// Blobs made from `felts` by [`felts_to_blobs`].
    pub blobs: Vec<Blob>,
}

impl DaInput {
    /// Builds the blobs of `felts`.
    ///
    /// # Errors
    /// [`SnosError::InvalidJob`] when the felts need more than six blobs.
    pub fn from_felts(block_number: u64, felts: Vec<Felt>) -> Result<Self, SnosError> {
        let blobs =
            felts_to_blobs(&felts, DEFAULT_MAX_BLOBS).map_err(|error| SnosError::InvalidJob {
                block_number,
                reason: error.to_string(),
            })?;
        Ok(Self { felts, blobs })
    }

    /// Checks that the blobs are exactly the blobs of the felts.
    ///
    /// # Errors
    /// [`SnosError::InvalidJob`] naming the first blob that differs.
    pub fn check(&self, block_number: u64) -> Result<(), SnosError> {
        let invalid = |reason: String| SnosError::InvalidJob {
            block_number,
            reason,
        };
        let expected =
            felts_to_blobs(&self.felts, usize::MAX).map_err(|error| invalid(error.to_string()))?;
        if expected.len() != self.blobs.len() {
            return Err(invalid(format!(
                "{} DA felts need {} blobs but the job has {}",
                self.felts.len(),
                expected.len(),
                self.blobs.len()
            )));
        }
        if let Some(index) = (0..expected.len()).find(|&index| expected[index] != self.blobs[index])
        {
            return Err(invalid(format!(
                "blob {index} is not the blob of the DA felts"
            )));
        }
        Ok(())
    }
}

/// Input of a SNOS run for one block.
#[derive(Clone, Debug)]
pub struct SnosJob {
    /// Chain id, for logs and the `{chain_id}` placeholder.
    pub chain_id: String,
    /// Block number.
    pub block_number: u64,
    /// Hash of the block.
    pub block_hash: Felt,
    /// Hash of the previous block.
    pub prev_block_hash: Felt,
    /// State root before the block.
    pub prev_state_root: Felt,
    /// State root after the block.
    pub new_state_root: Felt,
    /// Published data of the block. The external runner does not read it: its command fetches
    /// the block itself.
    pub da: DaInput,
}

/// Result of a SNOS run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SnosRunOutput {
    /// The Cairo PIE zip.
    pub pie_zip: Vec<u8>,
    /// The program output: the cells of the output builtin segment.
    pub program_output: Vec<Felt>,
    /// Cairo steps of the run.
    pub step_count: u64,
}

/// Runs the SNOS stage of one block.
pub trait SnosRunner: Send + Sync {
    /// Runs `job` and returns the PIE with its program output and step count.
    ///
    /// # Errors
    /// See [`SnosError`] for which failures are retryable.
    fn run(&self, job: &SnosJob) -> impl Future<Output = Result<SnosRunOutput, SnosError>> + Send;
}

/// Which runner to use.
#[derive(Clone, Debug)]
pub enum SnosRunnerConfig {
    /// Run an operator-provided command.
    External(ExternalConfig),
    /// Run a Cairo program in this process.
    InProcess(InProcessConfig),
}

impl Default for SnosRunnerConfig {
    /// Selects the in-process runner with the embedded stand-in program.
    fn default() -> Self {
        Self::InProcess(InProcessConfig::default())
    }
}

/// The runner [`SnosRunnerConfig`] selects.
#[derive(Clone, Debug)]
pub enum ConfiguredRunner {
    /// See [`ExternalRunner`].
    External(ExternalRunner),
    /// See [`InProcessRunner`].
    InProcess(InProcessRunner),
}

impl ConfiguredRunner {
    /// Builds the runner `config` selects.
    ///
    /// # Errors
    /// The configuration errors of [`ExternalRunner::new`] and [`InProcessRunner::new`].
    pub fn new(config: SnosRunnerConfig) -> Result<Self, SnosError> {
        match config {
            SnosRunnerConfig::External(config) => ExternalRunner::new(config).map(Self::External),
            SnosRunnerConfig::InProcess(config) => {
                InProcessRunner::new(config).map(Self::InProcess)
            }
        }
    }
}

impl SnosRunner for ConfiguredRunner {
    async fn run(&self, job: &SnosJob) -> Result<SnosRunOutput, SnosError> {
        match self {
            Self::External(runner) => runner.run(job).await,
            Self::InProcess(runner) => runner.run(job).await,
        }
    }
}

/// Program output and step count of a PIE.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PieSummary {
    /// The cells of the output builtin segment.
    pub program_output: Vec<Felt>,
    /// Cairo steps recorded in `execution_resources.json`.
    pub step_count: u64,
}

/// Reads a PIE zip, checking that it has every PIE entry, and returns its program output and
/// step count.
///
/// # Errors
/// The [`PieError`] of the reader: not a zip, a missing or invalid entry, or no output
/// segment.
pub fn read_pie(pie_zip: &[u8]) -> Result<PieSummary, PieError> {
    let pie = CairoPie::from_zip_bytes(pie_zip)?;
    Ok(PieSummary {
        program_output: pie.program_output()?,
        step_count: pie.execution_resources.n_steps,
    })
}

/// Formats a program output as the text of the program output artifact: one `0x` felt per line.
pub fn format_program_output(output: &[Felt]) -> String {
    let mut text = String::with_capacity(output.len() * 66);
    for felt in output {
        text.push_str(&format!("{felt:#x}\n"));
    }
    text
}

/// Stores the PIE and the program output of `output` under the block's keys
/// ([`PIE_ARTIFACT`], [`PROGRAM_OUTPUT_ARTIFACT`]).
///
/// # Idempotency
/// Storing the same run again writes nothing (see [`ArtifactStore::put`]).
///
/// # Errors
/// [`SnosError::Store`].
pub async fn store_run_output(
    store: &ArtifactStore,
    chain_id: &str,
    block_number: u64,
    output: &SnosRunOutput,
) -> Result<SnosOutput, SnosError> {
    let pie = store
        .put(
            &artifact_key(chain_id, block_number, PIE_ARTIFACT),
            output.pie_zip.clone(),
        )
        .await?;
    let program_output = store
        .put(
            &artifact_key(chain_id, block_number, PROGRAM_OUTPUT_ARTIFACT),
            format_program_output(&output.program_output).into_bytes(),
        )
        .await?;
    Ok(SnosOutput {
        pie,
        program_output,
        step_count: output.step_count,
    })
}
