//! Inverse of stateless compression, for audits and tests.

use num_bigint::BigUint;
use starknet_types_core::felt::Felt;

use super::{
    BUCKET_BITS, BUCKET_INDEX_BOUND, COMPRESSION_VERSION, HEADER_FIELD_BITS, REPEATING_BUCKET,
    elements_per_felt, values_per_felt,
};
use crate::da::error::DaError;

/// Reads compressed felts in order, with the position for error messages.
struct Reader<'a> {
    felts: &'a [Felt],
    position: usize,
}

impl Reader<'_> {
    fn take(&mut self, count: usize, section: &str) -> Result<&[Felt], DaError> {
        let end = self
            .position
            .checked_add(count)
            .filter(|end| *end <= self.felts.len());
        let Some(end) = end else {
            return Err(DaError::InvalidCompressedData {
                index: self.felts.len(),
                reason: format!("input ends inside the {section}, {count} felts were expected"),
            });
        };
        let slice = &self.felts[self.position..end];
        self.position = end;
        Ok(slice)
    }
}

/// Decompresses the output of [`compress`](super::compress).
///
/// # Errors
/// [`DaError::InvalidCompressedData`] naming the position of the first inconsistent felt.
pub fn decompress(compressed: &[Felt]) -> Result<Vec<Felt>, DaError> {
    let mut reader = Reader {
        felts: compressed,
        position: 0,
    };
    let header = unpack_digits(&reader.take(1, "header")?[0], 1 << HEADER_FIELD_BITS, 9);
    if header[0] != COMPRESSION_VERSION {
        return Err(invalid(
            0,
            format!("unsupported compression version {}", header[0]),
        ));
    }
    let data_len = header[1] as usize;
    let bucket_sizes: Vec<usize> = header[2..8].iter().map(|size| *size as usize).collect();
    let n_repeats = header[8] as usize;

    let mut buckets: Vec<Vec<Felt>> = Vec::with_capacity(BUCKET_BITS.len());
    for (bucket, &size) in bucket_sizes.iter().enumerate() {
        let bits = BUCKET_BITS[bucket];
        let per_felt = values_per_felt(bits);
        let packed = reader.take(size.div_ceil(per_felt), "unique values")?;
        let mut values = Vec::with_capacity(size);
        for felt in packed {
            if per_felt == 1 {
                values.push(*felt);
            } else {
                values.extend(unpack_bits(felt, bits, per_felt.min(size - values.len())));
            }
        }
        buckets.push(values);
    }
    let unique: Vec<Felt> = buckets.iter().flatten().copied().collect();

    let pointer_bound = unique.len().max(1) as u64;
    let pointers = unpack_section(&mut reader, n_repeats, pointer_bound, "pointers")?;
    let bucket_indices =
        unpack_section(&mut reader, data_len, BUCKET_INDEX_BOUND, "bucket indices")?;
    if reader.position != compressed.len() {
        return Err(invalid(
            reader.position,
            "unexpected felts after the bucket indices".into(),
        ));
    }

    let mut next_in_bucket = vec![0usize; BUCKET_BITS.len()];
    let mut pointers = pointers.into_iter();
    let mut data = Vec::with_capacity(data_len);
    for (element, &bucket) in bucket_indices.iter().enumerate() {
        let value = if bucket == REPEATING_BUCKET {
            let pointer = pointers.next().ok_or_else(|| {
                invalid(
                    compressed.len(),
                    format!("element {element} repeats, but pointers ran out"),
                )
            })?;
            unique.get(pointer as usize).copied().ok_or_else(|| {
                invalid(
                    compressed.len(),
                    format!("pointer {pointer} is past the unique values"),
                )
            })?
        } else {
            let bucket = bucket as usize;
            let value = buckets
                .get(bucket)
                .and_then(|values| values.get(next_in_bucket[bucket]))
                .copied()
                .ok_or_else(|| {
                    invalid(
                        compressed.len(),
                        format!("bucket {bucket} ran out at element {element}"),
                    )
                })?;
            next_in_bucket[bucket] += 1;
            value
        };
        data.push(value);
    }
    Ok(data)
}

fn invalid(index: usize, reason: String) -> DaError {
    DaError::InvalidCompressedData { index, reason }
}

/// Reads `count` elements below `bound` packed by `pack_with_bound`.
fn unpack_section(
    reader: &mut Reader<'_>,
    count: usize,
    bound: u64,
    section: &str,
) -> Result<Vec<u64>, DaError> {
    let per_felt = elements_per_felt(bound);
    let start = reader.position;
    let packed = reader.take(count.div_ceil(per_felt), section)?;
    let mut elements = Vec::with_capacity(count);
    for (offset, felt) in packed.iter().enumerate() {
        let digits = unpack_digits(felt, bound, per_felt.min(count - elements.len()));
        if let Some(bad) = digits.iter().find(|digit| **digit >= bound) {
            return Err(invalid(
                start + offset,
                format!("{section} element {bad} is not below {bound}"),
            ));
        }
        elements.extend(digits);
    }
    Ok(elements)
}

/// Splits `felt` into `count` digits of base `bound`, least significant first. The last digit
/// takes whatever is left, so an out-of-range remainder shows up as a digit `>= bound`.
fn unpack_digits(felt: &Felt, bound: u64, count: usize) -> Vec<u64> {
    let mut remaining = felt.to_biguint();
    let base = BigUint::from(bound);
    let mut digits = Vec::with_capacity(count);
    for index in 0..count {
        if index + 1 == count {
            digits.push(u64::try_from(&remaining).unwrap_or(u64::MAX));
        } else {
            let digit = &remaining % &base;
            digits.push(u64::try_from(&digit).unwrap_or(u64::MAX));
            remaining /= &base;
        }
    }
    digits
}

/// Splits `felt` into `count` values of `bits` bits, lowest first.
fn unpack_bits(felt: &Felt, bits: usize, count: usize) -> Vec<Felt> {
    let value = felt.to_biguint();
    let mask = (BigUint::from(1u8) << bits) - 1u8;
    (0..count)
        .map(|index| Felt::from((&value >> (index * bits)) & &mask))
        .collect()
}
