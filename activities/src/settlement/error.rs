//! Errors of the Ethereum settlement client and the decoding of revert data into text.

use alloy::primitives::{Address, B256};
use alloy::sol_types::{Panic, Revert, SolError};
use alloy::transports::{RpcError, TransportError};

use super::key::KeyError;
use super::program_output::ProgramOutputError;

/// Failure of a settlement operation on Ethereum.
///
/// Outcomes a caller acts on in the normal course (the fee cap is exceeded, the block is
/// already settled, a transaction is pending, reverted or dropped) are results, not errors.
#[derive(Debug, thiserror::Error)]
pub enum SettlementError {
    /// An Ethereum JSON-RPC request failed (connection, timeout or an error response).
    #[error("ethereum rpc request {method} failed: {source}")]
    Rpc {
        /// JSON-RPC method that failed.
        method: &'static str,
        /// Transport or node error.
        #[source]
        source: TransportError,
    },
    /// A mined transaction already uses this nonce. The caller must check whether that
    /// transaction was its own update before sending again.
    #[error(
        "nonce {nonce} of {sender} is already used by a mined transaction; check whether an \
         earlier transaction of this update was mined before sending it again"
    )]
    NonceConsumed {
        /// Sending account.
        sender: Address,
        /// Nonce the transaction was signed with.
        nonce: u64,
    },
    /// The node kept the pending transaction at this nonce because the new fees are too low.
    #[error("replacement at nonce {nonce} was rejected as underpriced: {message}")]
    ReplacementUnderpriced {
        /// Nonce of the rejected replacement.
        nonce: u64,
        /// Node error message.
        message: String,
    },
    /// The sending account cannot pay for the transaction.
    #[error("account {sender} has insufficient funds for the state update: {message}")]
    InsufficientFunds {
        /// Sending account.
        sender: Address,
        /// Node error message.
        message: String,
    },
    /// The node rejected the signed transaction for another reason.
    #[error("node rejected the state update transaction with nonce {nonce}: {message}")]
    TransactionRejected {
        /// Nonce of the rejected transaction.
        nonce: u64,
        /// Node error message.
        message: String,
    },
    /// Gas estimation showed that the core contract would revert the update, so nothing was
    /// signed.
    #[error("core contract would revert the update to block {block_number}: {reason}")]
    WouldRevert {
        /// New block number of the program output.
        block_number: u64,
        /// Decoded revert reason.
        reason: String,
    },
    /// The program output cannot be settled as given.
    #[error(transparent)]
    ProgramOutput(#[from] ProgramOutputError),
    /// A blob does not match the program output, or KZG computation failed.
    #[error(transparent)]
    Blob(#[from] BlobError),
    /// The L1 private key could not be loaded.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// A contract returned a value this client cannot represent.
    #[error("core contract {contract} returned an invalid {field}: {value}")]
    InvalidContractState {
        /// Core contract address.
        contract: Address,
        /// Name of the state variable.
        field: &'static str,
        /// Value as returned.
        value: String,
    },
    /// The node returned a receipt or transaction without a field it must have.
    #[error("transaction {tx_hash} has no {field} in the node's response")]
    IncompleteResponse {
        /// Transaction hash.
        tx_hash: B256,
        /// Missing field.
        field: &'static str,
    },
    /// Repeated reads of the core contract at the node's head kept disagreeing, so no
    /// consistent state could be read.
    #[error(
        "core contract {contract} returned different states in {reads} reads at the same L1 \
         block; the node's state at its head keeps changing, retry later"
    )]
    UnstableRead {
        /// Core contract address.
        contract: Address,
        /// Number of reads made.
        reads: usize,
    },
    /// The node's fee history lacks a base fee, so it does not support blob transactions.
    #[error(
        "eth_feeHistory returned no {field}; the L1 node must support blob transactions (Cancun or later)"
    )]
    MissingFeeData {
        /// Missing field of the fee history.
        field: &'static str,
    },
    /// Signing the transaction failed.
    #[error("signing the state update transaction failed: {0}")]
    Signing(#[from] alloy::signers::Error),
    /// Sending a contract deployment or a `registerFact` transaction failed.
    #[error("{call} failed: {source}")]
    ContractTransaction {
        /// Deployment or function, e.g. `deploy StarknetCoreLocal`.
        call: &'static str,
        /// Underlying error, boxed because it is large.
        #[source]
        source: Box<alloy::contract::Error>,
    },
    /// A contract transaction (fact registration, deployment) was mined but reverted.
    #[error("{call} transaction {tx_hash} reverted")]
    CallReverted {
        /// Contract function.
        call: &'static str,
        /// Transaction hash.
        tx_hash: B256,
    },
}

impl SettlementError {
    /// Returns true if the same call may succeed when retried later without any change.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Rpc { source, .. } => is_retryable_rpc_error(source),
            Self::ReplacementUnderpriced { .. }
            | Self::IncompleteResponse { .. }
            | Self::UnstableRead { .. } => true,
            Self::ContractTransaction { source, .. } => match source.as_ref() {
                alloy::contract::Error::TransportError(error) => is_retryable_rpc_error(error),
                alloy::contract::Error::PendingTransactionError(_) => true,
                _ => false,
            },
            Self::NonceConsumed { .. }
            | Self::InsufficientFunds { .. }
            | Self::TransactionRejected { .. }
            | Self::WouldRevert { .. }
            | Self::ProgramOutput(_)
            | Self::Blob(_)
            | Self::Key(_)
            | Self::InvalidContractState { .. }
            | Self::MissingFeeData { .. }
            | Self::Signing(_)
            | Self::CallReverted { .. } => false,
        }
    }

    /// Returns a stable name of the variant, for Temporal failure types and metrics.
    pub fn failure_type(&self) -> &'static str {
        match self {
            Self::Rpc { .. } => "SettlementRpc",
            Self::NonceConsumed { .. } => "SettlementNonceConsumed",
            Self::ReplacementUnderpriced { .. } => "SettlementReplacementUnderpriced",
            Self::InsufficientFunds { .. } => "SettlementInsufficientFunds",
            Self::TransactionRejected { .. } => "SettlementTransactionRejected",
            Self::WouldRevert { .. } => "SettlementWouldRevert",
            Self::ProgramOutput(_) => "SettlementInvalidProgramOutput",
            Self::Blob(_) => "SettlementInvalidBlob",
            Self::Key(_) => "SettlementInvalidKey",
            Self::InvalidContractState { .. } => "SettlementInvalidContractState",
            Self::IncompleteResponse { .. } => "SettlementIncompleteResponse",
            Self::UnstableRead { .. } => "SettlementUnstableRead",
            Self::MissingFeeData { .. } => "SettlementMissingFeeData",
            Self::Signing(_) => "SettlementSigning",
            Self::ContractTransaction { .. } => "SettlementContractTransaction",
            Self::CallReverted { .. } => "SettlementCallReverted",
        }
    }

    pub(crate) fn rpc(method: &'static str) -> impl FnOnce(TransportError) -> Self {
        move |source| Self::Rpc { method, source }
    }
}

/// Returns true for transport failures and for node errors that signal overload. Other error
/// responses are the node's verdict on the request and would repeat.
fn is_retryable_rpc_error(error: &TransportError) -> bool {
    match error {
        RpcError::Transport(kind) => kind.is_retry_err() || !kind.is_http_error(),
        RpcError::ErrorResp(payload) => payload.is_retry_err(),
        RpcError::NullResp => true,
        _ => false,
    }
}

/// Mismatch between a blob and the program output, or a failed KZG computation.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// A blob file or string is not 131072 bytes of hex.
    #[error("blob {index} is invalid: {reason}")]
    InvalidBlob {
        /// 1-based blob position.
        index: usize,
        /// Description of the defect.
        reason: String,
    },
    /// The number of blobs differs from the program output's blob count.
    #[error("program output declares {expected} blobs but {found} were given")]
    CountMismatch {
        /// Blob count in the program output.
        expected: usize,
        /// Number of blobs given.
        found: usize,
    },
    /// The blob's KZG commitment differs from the one in the program output.
    #[error(
        "blob {index}: KZG commitment {computed} differs from the program output's {expected}; \
         the blob is not the one this output commits to"
    )]
    CommitmentMismatch {
        /// 1-based blob position.
        index: usize,
        /// Commitment stated by the program output.
        expected: String,
        /// Commitment computed from the blob.
        computed: String,
    },
    /// The blob's polynomial at x0 differs from the program output's y.
    #[error(
        "blob {index}: evaluation at x0 is {computed} but the program output states {expected}; \
         the blob is not the one this output commits to"
    )]
    EvaluationMismatch {
        /// 1-based blob position.
        index: usize,
        /// y stated by the program output.
        expected: B256,
        /// y computed from the blob.
        computed: B256,
    },
    /// c-kzg rejected its input.
    #[error("KZG computation for blob {index} failed: {message}")]
    Kzg {
        /// 1-based blob position.
        index: usize,
        /// c-kzg error.
        message: String,
    },
}

/// Decodes revert data into text: the message of `Error(string)`, a description of
/// `Panic(uint256)`, printable UTF-8 as is (Vyper reverts), or else the bytes in hex.
pub fn decode_revert_reason(data: &[u8]) -> String {
    if data.is_empty() {
        return "reverted without a reason".to_owned();
    }
    if let Ok(revert) = Revert::abi_decode(data) {
        return revert.reason().to_owned();
    }
    if let Ok(panic) = Panic::abi_decode(data) {
        return panic.to_string();
    }
    match std::str::from_utf8(data) {
        Ok(text) if !text.chars().any(char::is_control) => text.to_owned(),
        _ => format!("reverted with undecoded data 0x{}", hex::encode(data)),
    }
}

/// Returns the revert reason carried by a node error response, if it is a revert.
pub(crate) fn revert_reason_of(error: &TransportError) -> Option<String> {
    let payload = error.as_error_resp()?;
    if let Some(data) = payload.as_revert_data() {
        return Some(decode_revert_reason(&data));
    }
    // Some nodes put the reason in the message only, e.g. "execution reverted: REASON".
    let message: &str = &payload.message;
    message
        .to_ascii_lowercase()
        .contains("revert")
        .then(|| message.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revert_reason_decodes_error_string() {
        let data = Revert::from("INVALID_PREVIOUS_ROOT").abi_encode();
        assert_eq!(decode_revert_reason(&data), "INVALID_PREVIOUS_ROOT");
    }

    #[test]
    fn revert_reason_decodes_panic() {
        let data = Panic {
            code: alloy::primitives::U256::from(0x11),
        }
        .abi_encode();
        let reason = decode_revert_reason(&data);
        assert!(
            reason.contains("overflow"),
            "panic 0x11 decoded as {reason}"
        );
    }

    #[test]
    fn revert_reason_of_empty_data() {
        assert_eq!(decode_revert_reason(&[]), "reverted without a reason");
    }

    #[test]
    fn revert_reason_keeps_unknown_bytes() {
        assert_eq!(
            decode_revert_reason(&[1, 2]),
            "reverted with undecoded data 0x0102"
        );
    }
}
