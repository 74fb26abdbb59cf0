//! Stateless compression.

use std::collections::HashMap;

use starknet_types_core::felt::Felt;

use super::{
    BUCKET_BITS, BUCKET_INDEX_BOUND, COMPRESSION_VERSION, HEADER_FIELD_BITS, MAX_COMPRESSION_INPUT,
    REPEATING_BUCKET, bucket_of, elements_per_felt, values_per_felt,
};
use crate::da::error::DaError;

/// Compresses `data` into the format described in the module documentation.
///
/// # Errors
/// [`DaError::CompressionInputTooLong`] for 2^20 felts or more.
pub fn compress(data: &[Felt]) -> Result<Vec<Felt>, DaError> {
    if data.len() >= MAX_COMPRESSION_INPUT {
        return Err(DaError::CompressionInputTooLong {
            len: data.len(),
            max: MAX_COMPRESSION_INPUT,
        });
    }

    // First pass: unique values per bucket, pointers for repeats, one bucket index per felt.
    let mut positions: Vec<HashMap<Felt, usize>> = vec![HashMap::new(); BUCKET_BITS.len()];
    let mut buckets: Vec<Vec<Felt>> = vec![Vec::new(); BUCKET_BITS.len()];
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    let mut bucket_indices: Vec<u64> = Vec::with_capacity(data.len());
    for value in data {
        let bucket = bucket_of(value);
        if let Some(&position) = positions[bucket].get(value) {
            repeats.push((bucket, position));
            bucket_indices.push(REPEATING_BUCKET);
        } else {
            positions[bucket].insert(*value, buckets[bucket].len());
            buckets[bucket].push(*value);
            bucket_indices.push(bucket as u64);
        }
    }

    let mut header_fields = vec![COMPRESSION_VERSION, data.len() as u64];
    header_fields.extend(buckets.iter().map(|bucket| bucket.len() as u64));
    header_fields.push(repeats.len() as u64);
    let mut output = vec![pack_header(&header_fields)];

    for (bucket, values) in buckets.iter().enumerate() {
        output.extend(pack_bits(values, BUCKET_BITS[bucket]));
    }

    // Pointers index the concatenation of all buckets, in output order.
    let mut offsets = Vec::with_capacity(buckets.len());
    let mut n_unique = 0usize;
    for bucket in &buckets {
        offsets.push(n_unique);
        n_unique += bucket.len();
    }
    let pointers: Vec<u64> = repeats
        .iter()
        .map(|&(bucket, position)| (offsets[bucket] + position) as u64)
        .collect();
    output.extend(pack_with_bound(&pointers, n_unique.max(1) as u64));
    output.extend(pack_with_bound(&bucket_indices, BUCKET_INDEX_BOUND));
    Ok(output)
}

fn pack_header(fields: &[u64]) -> Felt {
    let base = Felt::TWO.pow(HEADER_FIELD_BITS as u32);
    fields.iter().rev().fold(Felt::ZERO, |accumulator, field| {
        accumulator * base + Felt::from(*field)
    })
}

/// Concatenates values of `bits` bits little-endian into felts.
fn pack_bits(values: &[Felt], bits: usize) -> Vec<Felt> {
    let shift = Felt::TWO.pow(bits as u32);
    values
        .chunks(values_per_felt(bits))
        .map(|chunk| {
            chunk.iter().rev().fold(Felt::ZERO, |accumulator, value| {
                accumulator * shift + *value
            })
        })
        .collect()
}

/// Packs elements below `bound` as digits of base `bound`, least significant first.
fn pack_with_bound(elements: &[u64], bound: u64) -> Vec<Felt> {
    let base = Felt::from(bound);
    elements
        .chunks(elements_per_felt(bound))
        .map(|chunk| {
            chunk.iter().rev().fold(Felt::ZERO, |accumulator, element| {
                accumulator * base + Felt::from(*element)
            })
        })
        .collect()
}
