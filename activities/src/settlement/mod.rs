//! Settlement of Starknet program outputs on Ethereum: the `updateStateKzgDA` call with its
//! blobs, sent, replaced, confirmed and verified against the Starknet core contract.
//!
//! The flow for one program output:
//! 1. [`StateUpdate::prepare`] opens every blob at the output's x0, checks the commitments and
//!    evaluations the output states, and builds the calldata and the sidecar.
//! 2. [`SettlementClient::send_update`] signs and sends it at a nonce the caller records;
//!    [`SettlementClient::replace`] re-sends at that nonce with every fee cap at least doubled.
//!    A caller that can crash between the two steps uses [`SettlementClient::sign_update`],
//!    records the hash and nonce, then calls [`SettlementClient::broadcast`]. Its retry calls
//!    [`SettlementClient::resume`] with the record, so it never signs at a second nonce.
//! 3. [`SettlementClient::check_confirmation`] follows the transaction until it is confirmed,
//!    reverted or dropped, and [`SettlementClient::verify`] compares the contract's state with
//!    the output.
//!
//! [`contracts`] deploys the local fact registry and core contract that local chains settle on.

mod calldata;
mod client;
mod confirmation;
pub mod contracts;
mod error;
mod fees;
mod key;
mod kzg;
mod program_output;

pub use calldata::{
    StateUpdate, UPDATE_STATE_KZG_DA_SELECTOR, compute_kzg_proofs, decode_update_state_calldata,
    encode_update_state_calldata,
};
pub use client::{
    CORE_CONTRACT_ENV, DISABLE_PEERDAS_ENV, RPC_URL_ENV, ResumeOutcome, ResumeStep, SendOutcome,
    SentTx, SettlementClient, SettlementConfig, SignOutcome, SignedUpdate,
};
pub use confirmation::{Confirmation, ConfirmedTx, Verification};
pub use contracts::CoreState;
pub use error::{BlobError, SettlementError, decode_revert_reason};
pub use fees::{
    DEFAULT_MAX_FEE_WEI, DEFAULT_MAX_PRIORITY_FEE_PER_GAS, FeeCapExceeded, FeePolicy,
    MAX_FEE_WEI_ENV, TxFees, check_fee_cap,
};
pub use key::{KeyError, L1PrivateKey, PRIVATE_KEY_ENV, PRIVATE_KEY_FILE_ENV};
pub use kzg::{BlobOpening, Bytes48, SidecarKind, open_blob, parse_blob_hex};
pub use program_output::{
    GENESIS_PREV_BLOCK_NUMBER, MAX_BLOBS_PER_UPDATE, ProgramOutput, ProgramOutputError,
    STARKNET_FIELD_PRIME,
};
