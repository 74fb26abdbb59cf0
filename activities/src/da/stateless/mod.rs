//! Stateless compression (Starknet 0.13.3+) of the encoded state diff, and its inverse.
//!
//! Each felt is sorted into the smallest bucket its bit length fits: 252, 125, 83, 62, 31 or 15
//! bits. A value seen before in its bucket becomes a pointer into the list of unique values.
//! The output is `[header, unique values, pointers, bucket indices]`:
//! - header: `version (0), data length, six bucket sizes, pointer count`, packed with base 2^20;
//! - unique values: the 252-bit bucket as is, each smaller bucket with `251 / bits` values per
//!   felt, value `j` at bit offset `j * bits`;
//! - pointers: positions in the unique list (buckets concatenated in the order above), packed
//!   with base `max(n_unique, 1)`;
//! - bucket indices: one per input felt, 0 to 5 for the buckets above and 6 for a pointer,
//!   packed with base 7.
//!
//! Packing with base `b` puts `251 / bitlen(b - 1)` elements in a felt as `sum e_i * b^i`.

mod compress;
mod decompress;

pub use compress::compress;
pub use decompress::decompress;

use starknet_types_core::felt::Felt;

/// Version word of the compression format.
const COMPRESSION_VERSION: u64 = 0;

/// Bit widths of the buckets, in output order.
const BUCKET_BITS: [usize; 6] = [252, 125, 83, 62, 31, 15];

/// Bucket index that marks a repeated value.
const REPEATING_BUCKET: u64 = 6;

/// Base of the per-element bucket indices.
const BUCKET_INDEX_BOUND: u64 = 7;

/// Bits per header field.
const HEADER_FIELD_BITS: usize = 20;

/// Exclusive upper bound of the input length (a header field).
pub const MAX_COMPRESSION_INPUT: usize = 1 << HEADER_FIELD_BITS;

/// Bits usable in one felt when packing several values.
const PACKING_BITS: usize = 251;

/// Returns the index of the smallest bucket that `value` fits in.
fn bucket_of(value: &Felt) -> usize {
    let bits = value.bits();
    (0..BUCKET_BITS.len())
        .rev()
        .find(|&bucket| bits <= BUCKET_BITS[bucket])
        .unwrap_or(0)
}

/// Returns how many values of `bits` bits fit in one felt of the unique-value section.
fn values_per_felt(bits: usize) -> usize {
    if bits >= PACKING_BITS {
        1
    } else {
        PACKING_BITS / bits
    }
}

/// Returns how many elements below `bound` one felt holds.
fn elements_per_felt(bound: u64) -> usize {
    // A bound of 1 needs zero bits per element; the format then packs 251 per felt.
    let bits = (u64::BITS - (bound - 1).leading_zeros()) as usize;
    PACKING_BITS.checked_div(bits).unwrap_or(PACKING_BITS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_goes_to_smallest_bucket() {
        assert_eq!(bucket_of(&Felt::ZERO), 5);
        assert_eq!(bucket_of(&Felt::from(0x7fffu64)), 5);
        assert_eq!(bucket_of(&Felt::from(0x8000u64)), 4);
        assert_eq!(bucket_of(&Felt::MAX), 0);
    }

    #[test]
    fn packing_density() {
        assert_eq!(elements_per_felt(7), 83);
        assert_eq!(elements_per_felt(1), 251);
        assert_eq!(elements_per_felt(2), 251);
        assert_eq!(values_per_felt(125), 2);
        assert_eq!(values_per_felt(15), 16);
        assert_eq!(values_per_felt(252), 1);
    }

    #[test]
    fn round_trip_small_inputs() {
        let inputs: Vec<Vec<Felt>> = vec![
            vec![],
            vec![Felt::ZERO],
            vec![Felt::MAX, Felt::MAX, Felt::ONE, Felt::ONE, Felt::ZERO],
            (0u64..2000)
                .map(|i| Felt::from(i % 37) * Felt::TWO.pow(i % 250))
                .collect(),
        ];
        for input in inputs {
            let compressed = compress(&input).unwrap();
            assert_eq!(
                decompress(&compressed).unwrap(),
                input,
                "input of {} felts",
                input.len()
            );
        }
    }
}
