//! Blobs from a prover-supplied data-availability segment.
//!
//! On an L2 settling on Ethereum, the aggregator program returns the DA segment it committed
//! to: a JSON array of hex felts, already encoded, compressed and encrypted (its first felt is
//! the number of DA encryption keys). It goes into blobs as it is.

use starknet_types_core::felt::Felt;

use super::blob::{Blob, felts_to_blobs};
use super::error::DaError;
use super::felt::parse_felt_json_array;

/// Parses a DA segment file: a JSON array of `0x` hex felts.
pub fn parse_da_segment(json: &str) -> Result<Vec<Felt>, DaError> {
    parse_felt_json_array(json, "DA segment")
}

/// Turns a DA segment into blobs: 4096-felt chunks, zero-padded, transformed.
pub fn da_segment_to_blobs(segment: &[Felt], max_blobs: usize) -> Result<Vec<Blob>, DaError> {
    felts_to_blobs(segment, max_blobs)
}
