//! Data availability: from Starknet state updates to EIP-4844 blobs, KZG commitments and
//! proofs, and the check of blobs against the OS program output.
//!
//! The pipeline for a range of blocks:
//! 1. [`squash::squash`] merges the per-block updates and drops writes that end equal to the
//!    state before the range (reads through a [`StateReader`]);
//! 2. [`stateful::compress_stateful`] replaces addresses and keys by their aliases
//!    (Starknet 0.13.4+);
//! 3. [`encode_state_diff`] packs the diff into felts, in the pre-0.13.3 or 0.13.3+ layout;
//! 4. [`stateless::compress`] shrinks the felts (0.13.3+);
//! 5. [`blob::felts_to_blobs`] cuts them into blobs, and [`kzg`] commits to them.
//!
//! [`DaLayout::for_starknet_version`] picks the steps for a Starknet version, and
//! [`state_updates_to_blobs`] runs them all. Nothing here performs I/O except through the
//! caller's [`StateReader`]; everything else is a pure function of its input.

pub mod blob;
pub mod encode;
mod error;
pub mod felt;
pub mod field;
pub mod kzg;
pub mod nonces;
pub mod ntt;
pub mod program_output;
pub mod reader;
pub mod segment;
pub mod squash;
pub mod state_update;
pub mod stateful;
pub mod stateless;
pub mod version;

use starknet_types_core::felt::Felt;

pub use blob::{Blob, DEFAULT_MAX_BLOBS, blob_to_felts, felts_to_blobs};
pub use encode::encode_state_diff;
pub use error::DaError;
pub use nonces::{NoNonces, NonceSource};
pub use reader::StateReader;
pub use state_update::{StateDiff, StateUpdate};
pub use version::{DaLayout, Encoding};

/// Encodes a diff that is already squashed (and aliased, for 0.13.4+) into the felts to
/// publish: the encoding of `layout`, then stateless compression when the layout uses it.
pub fn state_diff_to_felts(
    diff: &StateDiff,
    layout: DaLayout,
    nonces: &impl NonceSource,
) -> Result<Vec<Felt>, DaError> {
    let encoded = encode_state_diff(diff, layout.encoding, nonces)?;
    if layout.stateless_compression {
        stateless::compress(&encoded)
    } else {
        Ok(encoded)
    }
}

/// The data to publish for a range of blocks.
#[derive(Clone, Debug)]
pub struct DaPayload {
    /// The squashed (and, with stateful compression, aliased) state update.
    pub state_update: StateUpdate,
    /// The felts to publish, before padding.
    pub felts: Vec<Felt>,
    /// The blobs carrying the felts.
    pub blobs: Vec<Blob>,
}

/// Runs the whole pipeline on the per-block updates of a range, oldest first.
///
/// `reader` reads the state at the block before the range. `nonces` provides the nonces that
/// the legacy encoding needs, read at the last block of the range. Those are the contracts
/// that [`encode::contracts_needing_nonce`] lists for [`squash::merge`] of `updates`. Pass
/// [`NoNonces`] for 0.13.3+.
pub async fn state_updates_to_blobs<R: StateReader>(
    updates: &[StateUpdate],
    layout: DaLayout,
    reader: &R,
    nonces: &impl NonceSource,
    max_blobs: usize,
) -> Result<DaPayload, DaError> {
    let mut state_update = squash::squash(updates, reader).await?;
    if layout.stateful_compression {
        state_update = stateful::compress_stateful(&state_update, reader).await?;
    }
    let felts = state_diff_to_felts(&state_update.state_diff, layout, nonces)?;
    let blobs = felts_to_blobs(&felts, max_blobs)?;
    Ok(DaPayload {
        state_update,
        felts,
        blobs,
    })
}
