//! Errors of the data-availability library.

use starknet_types_core::felt::Felt;

/// Any failure while parsing, encoding, compressing or committing to a state diff.
#[derive(Debug, thiserror::Error)]
pub enum DaError {
    /// A JSON document did not match the expected shape; `path` locates the offending field.
    #[error("invalid {document} at `{path}`: {message}")]
    InvalidJson {
        /// Document being parsed, e.g. "state update".
        document: &'static str,
        /// Path of the offending field, e.g. `state_diff.nonces[2].nonce`.
        path: String,
        /// Parser message, naming the missing field or the rejected value.
        message: String,
    },

    /// A felt in a text input (not JSON) was rejected.
    #[error("invalid felt `{value}` in {field}: {reason}")]
    InvalidFelt {
        /// Source of the value, e.g. "line 12 of the program output".
        field: String,
        /// The rejected text.
        value: String,
        /// Reason for the rejection.
        reason: String,
    },

    /// A Starknet version string could not be read as `major.minor.patch[.build]`.
    #[error("invalid Starknet version `{version}`: expected digits separated by dots, e.g. 0.13.3")]
    InvalidStarknetVersion {
        /// The rejected version string.
        version: String,
    },

    /// The pre-0.13.3 encoding needs the nonce of a contract that the diff does not carry.
    #[error(
        "missing nonce for contract {contract:#x}: the legacy encoding needs the nonce of every \
         contract with storage writes or a replaced class; fetch it with starknet_getNonce"
    )]
    MissingNonce {
        /// Contract whose nonce is missing.
        contract: Felt,
    },

    /// A nonce does not fit the 64 bits the DA word reserves for it.
    #[error("nonce {nonce:#x} of contract {contract:#x} does not fit in 64 bits")]
    NonceTooLarge {
        /// Contract that carries the nonce.
        contract: Felt,
        /// The nonce.
        nonce: Felt,
    },

    /// Squashing needs at least one state update.
    #[error("no state updates to squash: pass at least one")]
    NoStateUpdates,

    /// Reading state before the range (storage value, class hash, alias) failed.
    #[error("state read failed while {operation}: {source}")]
    StateRead {
        /// Purpose of the read.
        operation: &'static str,
        /// Error returned by the reader.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// A reader returned a different number of values than requested.
    #[error("state reader returned {actual} values for {expected} requests while {operation}")]
    ReaderLengthMismatch {
        /// Purpose of the read.
        operation: &'static str,
        /// Number of requested values.
        expected: usize,
        /// Number of returned values.
        actual: usize,
    },

    /// An address or storage key at or above 0x80 has no alias in contract 0x2.
    #[error(
        "missing alias for {key:#x}: contract 0x2 has no alias for it before the range and the \
         diff assigns none; the diff and the state reader disagree"
    )]
    MissingAlias {
        /// Address or storage key without alias.
        key: Felt,
    },

    /// The stateless compression header counts up to 2^20 - 1 felts.
    #[error("cannot compress {len} felts: stateless compression takes fewer than {max}")]
    CompressionInputTooLong {
        /// Number of felts passed.
        len: usize,
        /// Exclusive maximum.
        max: usize,
    },

    /// Decompression found data that the stateless compression cannot have written.
    #[error("invalid stateless-compressed data at felt {index}: {reason}")]
    InvalidCompressedData {
        /// Position of the offending felt.
        index: usize,
        /// Problem found.
        reason: String,
    },

    /// The felts need more blobs than allowed.
    #[error("{felts} felts need {blobs} blobs, more than the maximum of {max}")]
    TooManyBlobs {
        /// Number of felts to publish.
        felts: usize,
        /// Blobs they need.
        blobs: usize,
        /// Configured maximum.
        max: usize,
    },

    /// A blob has the wrong size or is not hex.
    #[error("invalid blob: {reason}")]
    InvalidBlob {
        /// Problem found.
        reason: String,
    },

    /// A blob field element is not below the BLS12-381 scalar field modulus.
    #[error("blob field element {index} is {value}, not below the BLS12-381 scalar field modulus")]
    BlobElementOutOfRange {
        /// Index of the element in the blob.
        index: usize,
        /// The element as 0x hex.
        value: String,
    },

    /// A polynomial coefficient recovered from a blob is not a Starknet felt.
    #[error(
        "coefficient {index} of the blob is {value}, not below the Starknet field modulus; the \
         blob was not made from felts"
    )]
    CoefficientNotFelt {
        /// Index of the coefficient.
        index: usize,
        /// The coefficient as 0x hex.
        value: String,
    },

    /// A c-kzg call failed.
    #[error("KZG {operation} failed: {message}")]
    Kzg {
        /// The c-kzg operation.
        operation: &'static str,
        /// c-kzg's message.
        message: String,
    },

    /// A program output is shorter than its layout requires.
    #[error("program output has {actual} felts, its layout needs at least {expected}")]
    ProgramOutputTooShort {
        /// Felts the layout needs.
        expected: usize,
        /// Felts present.
        actual: usize,
    },

    /// A program output word is out of range for its field.
    #[error("program output word {index} ({field}) is {value:#x}: {reason}")]
    InvalidProgramOutput {
        /// Position in the output.
        index: usize,
        /// Field name.
        field: &'static str,
        /// The word.
        value: Felt,
        /// Reason for the rejection.
        reason: String,
    },

    /// The program output does not commit to KZG data availability.
    #[error("program output has use_kzg_da = 0, so it carries no blob commitments to check")]
    NoKzgInOutput,

    /// The program output and the blobs disagree on the number of blobs.
    #[error("program output commits to {expected} blobs but {actual} blobs were given")]
    BlobCountMismatch {
        /// Count in the program output.
        expected: usize,
        /// Blobs given.
        actual: usize,
    },

    /// A blob's evaluation at x0 differs from the program output's y.
    #[error("blob {blob_index}: program output has y = {expected}, the blob evaluates to {actual}")]
    EvaluationMismatch {
        /// Index of the blob.
        blob_index: usize,
        /// y in the program output, 0x hex.
        expected: String,
        /// Evaluation of the blob at x0, 0x hex.
        actual: String,
    },

    /// A blob's KZG commitment differs from the program output's commitment.
    #[error(
        "blob {blob_index}: program output has commitment {expected}, the blob commits to {actual}"
    )]
    CommitmentMismatch {
        /// Index of the blob.
        blob_index: usize,
        /// Commitment in the program output, 0x hex.
        expected: String,
        /// Commitment computed from the blob, 0x hex.
        actual: String,
    },
}

impl DaError {
    /// Returns whether running the same step again may succeed.
    ///
    /// Only state reads (network) are retryable; every other failure is a property of the input.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::StateRead { .. })
    }

    /// Returns a stable name of the variant, for failure types and metrics.
    pub fn failure_type(&self) -> &'static str {
        match self {
            Self::InvalidJson { .. } => "DaInvalidJson",
            Self::InvalidFelt { .. } => "DaInvalidFelt",
            Self::InvalidStarknetVersion { .. } => "DaInvalidStarknetVersion",
            Self::MissingNonce { .. } => "DaMissingNonce",
            Self::NonceTooLarge { .. } => "DaNonceTooLarge",
            Self::NoStateUpdates => "DaNoStateUpdates",
            Self::StateRead { .. } => "DaStateRead",
            Self::ReaderLengthMismatch { .. } => "DaReaderLengthMismatch",
            Self::MissingAlias { .. } => "DaMissingAlias",
            Self::CompressionInputTooLong { .. } => "DaCompressionInputTooLong",
            Self::InvalidCompressedData { .. } => "DaInvalidCompressedData",
            Self::TooManyBlobs { .. } => "DaTooManyBlobs",
            Self::InvalidBlob { .. } => "DaInvalidBlob",
            Self::BlobElementOutOfRange { .. } => "DaBlobElementOutOfRange",
            Self::CoefficientNotFelt { .. } => "DaCoefficientNotFelt",
            Self::Kzg { .. } => "DaKzg",
            Self::ProgramOutputTooShort { .. } => "DaProgramOutputTooShort",
            Self::InvalidProgramOutput { .. } => "DaInvalidProgramOutput",
            Self::NoKzgInOutput => "DaNoKzgInOutput",
            Self::BlobCountMismatch { .. } => "DaBlobCountMismatch",
            Self::EvaluationMismatch { .. } => "DaEvaluationMismatch",
            Self::CommitmentMismatch { .. } => "DaCommitmentMismatch",
        }
    }
}
