//! Errors of the SNOS runners, with their retry classification.

use std::path::PathBuf;
use std::time::Duration;

use crate::da::DaError;
use crate::prover::PieError;
use crate::store::StoreError;

/// Failure of a SNOS run.
///
/// | variant | retryable |
/// |---|---|
/// | [`CairoExecution`](Self::CairoExecution), [`InvalidProgram`](Self::InvalidProgram), [`InvalidConfig`](Self::InvalidConfig), [`InvalidJob`](Self::InvalidJob), [`Da`](Self::Da) | never: the same input fails the same way |
/// | [`InvalidPie`](Self::InvalidPie), [`MissingPie`](Self::MissingPie), [`BlockMismatch`](Self::BlockMismatch) | never: the command is misconfigured or broken |
/// | [`CommandFailed`](Self::CommandFailed), [`CommandTimedOut`](Self::CommandTimedOut) | yes: the usual cause is the RPC node the command reads from |
/// | [`Spawn`](Self::Spawn) | unless the program is missing or not executable |
/// | [`Io`](Self::Io) | yes: local disk trouble |
/// | [`Store`](Self::Store) | as [`StoreError::is_retryable`] |
#[derive(Debug, thiserror::Error)]
pub enum SnosError {
    /// The Cairo VM rejected the run: a failed assertion, an unknown hint, a missing builtin.
    #[error("Cairo execution of block {block_number} failed: {message}")]
    CairoExecution {
        /// Block of the run.
        block_number: u64,
        /// Message of the VM, with the program's error attributes.
        message: String,
    },
    /// The compiled Cairo program cannot be loaded.
    #[error(
        "invalid compiled Cairo program: {message}; recompile it with scripts/compile-cairo.sh"
    )]
    InvalidProgram {
        /// Parser message.
        message: String,
    },
    /// A runner setting is unusable.
    #[error("invalid SNOS runner configuration: {reason}")]
    InvalidConfig {
        /// Reason the setting is invalid.
        reason: String,
    },
    /// The job's data is inconsistent.
    #[error("invalid SNOS job for block {block_number}: {reason}")]
    InvalidJob {
        /// Block of the job.
        block_number: u64,
        /// Inconsistency found.
        reason: String,
    },
    /// KZG commitment or evaluation of the job's blobs failed.
    #[error("KZG data of block {block_number} cannot be computed")]
    Da {
        /// Block of the job.
        block_number: u64,
        /// Underlying error.
        source: DaError,
    },
    /// The external command could not be started.
    #[error("failed to start the SNOS command {program}")]
    Spawn {
        /// Program path.
        program: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// The external command exited unsuccessfully.
    #[error(
        "SNOS command {program} for block {block_number} exited with {status}; stderr ends \
         with:\n{stderr_tail}"
    )]
    CommandFailed {
        /// Program path.
        program: PathBuf,
        /// Block of the run.
        block_number: u64,
        /// Exit status as printed by the OS (`exit status: 3`, `signal: 9 (SIGKILL)`).
        status: String,
        /// Last bytes of the standard error output, lossily decoded.
        stderr_tail: String,
    },
    /// The external command ran past its timeout and was killed.
    #[error(
        "SNOS command {program} for block {block_number} timed out after {timeout:?} and was \
         killed; stderr ends with:\n{stderr_tail}"
    )]
    CommandTimedOut {
        /// Program path.
        program: PathBuf,
        /// Block of the run.
        block_number: u64,
        /// Configured timeout.
        timeout: Duration,
        /// Last bytes of the standard error output, lossily decoded.
        stderr_tail: String,
    },
    /// The external command succeeded but wrote no PIE at the output path.
    #[error(
        "SNOS command {program} for block {block_number} exited successfully but wrote no PIE \
         at {path}; pass {{output}} in its arguments where it takes the PIE path"
    )]
    MissingPie {
        /// Program path.
        program: PathBuf,
        /// Block of the run.
        block_number: u64,
        /// Expected PIE path.
        path: PathBuf,
    },
    /// The PIE is not a valid Cairo PIE zip.
    #[error("the Cairo PIE of block {block_number} is invalid")]
    InvalidPie {
        /// Block of the run.
        block_number: u64,
        /// Reader error.
        source: PieError,
    },
    /// The PIE's program output is for another block.
    #[error(
        "the Cairo PIE written for block {block_number} outputs new block number {output_block}; \
         check the block argument of the SNOS command"
    )]
    BlockMismatch {
        /// Block of the job.
        block_number: u64,
        /// `new_block_number` word of the program output, as written there.
        output_block: String,
    },
    /// A local file operation failed.
    #[error("failed to {operation} {path}")]
    Io {
        /// Operation attempted: `create`, `read`, `write` or `wait for`.
        operation: &'static str,
        /// File or directory.
        path: PathBuf,
        /// Underlying error.
        source: std::io::Error,
    },
    /// Storing or loading an artifact failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl SnosError {
    /// Returns whether running the job again may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::CommandFailed { .. } | Self::CommandTimedOut { .. } | Self::Io { .. } => true,
            Self::Spawn { source, .. } => !matches!(
                source.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
            ),
            Self::Store(error) => error.is_retryable(),
            Self::CairoExecution { .. }
            | Self::InvalidProgram { .. }
            | Self::InvalidConfig { .. }
            | Self::InvalidJob { .. }
            | Self::Da { .. }
            | Self::MissingPie { .. }
            | Self::InvalidPie { .. }
            | Self::BlockMismatch { .. } => false,
        }
    }

    /// Returns a stable name of the error kind, for failure type names and metrics.
    pub fn failure_type(&self) -> &'static str {
        match self {
            Self::CairoExecution { .. } => "SnosCairoExecution",
            Self::InvalidProgram { .. } => "SnosInvalidProgram",
            Self::InvalidConfig { .. } => "SnosInvalidConfig",
            Self::InvalidJob { .. } => "SnosInvalidJob",
            Self::Da { .. } => "SnosDa",
            Self::Spawn { .. } => "SnosSpawn",
            Self::CommandFailed { .. } => "SnosCommandFailed",
            Self::CommandTimedOut { .. } => "SnosCommandTimedOut",
            Self::MissingPie { .. } => "SnosMissingPie",
            Self::InvalidPie { .. } => "SnosInvalidPie",
            Self::BlockMismatch { .. } => "SnosBlockMismatch",
            Self::Io { .. } => "SnosIo",
            Self::Store(error) => error.failure_type(),
        }
    }
}
