//! Conversions between Starknet felts, 32-byte words and BLS12-381 scalars.
//!
//! Every Starknet felt (below 2^252) is a valid BLS12-381 scalar (modulus about 2^254.9), so
//! felts map to scalars without reduction. The reverse direction is checked.

use ark_bls12_381::Fr;
use ark_ff::{BigInt, BigInteger, PrimeField};
use starknet_types_core::felt::Felt;

/// Returns the scalar with the same integer value as `felt`.
pub fn felt_to_scalar(felt: &Felt) -> Fr {
    // A felt's four big-endian digits are the scalar's limbs in reverse order.
    let mut limbs = felt.to_be_digits();
    limbs.reverse();
    Fr::from_bigint(BigInt::new(limbs)).unwrap_or_else(|| {
        unreachable!("a felt is below 2^252, under the BLS12-381 scalar modulus")
    })
}

/// Returns the felt with the same value as `scalar`, or `None` when it is not below the
/// Starknet modulus.
pub fn scalar_to_felt(scalar: &Fr) -> Option<Felt> {
    super::felt::felt_from_be_bytes(&scalar_to_be_bytes(scalar))
}

/// Reads a big-endian 32-byte word as a scalar, or `None` when it is not below the modulus.
pub fn scalar_from_be_bytes(bytes: &[u8; 32]) -> Option<Fr> {
    let mut limbs = [0u64; 4];
    for (index, chunk) in bytes.rchunks_exact(8).enumerate() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        limbs[index] = u64::from_be_bytes(word);
    }
    Fr::from_bigint(BigInt::new(limbs))
}

/// Writes `scalar` as a big-endian 32-byte word.
pub fn scalar_to_be_bytes(scalar: &Fr) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&scalar.into_bigint().to_bytes_be());
    bytes
}

/// Formats `scalar` as `0x` and 64 hex digits.
pub fn scalar_to_hex(scalar: &Fr) -> String {
    format!("0x{}", hex::encode(scalar_to_be_bytes(scalar)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn felt_scalar_round_trip() {
        for felt in [Felt::ZERO, Felt::ONE, Felt::from(u128::MAX), Felt::MAX] {
            let scalar = felt_to_scalar(&felt);
            assert_eq!(scalar_to_be_bytes(&scalar), felt.to_bytes_be());
            assert_eq!(scalar_to_felt(&scalar), Some(felt));
        }
    }

    #[test]
    fn scalar_above_stark_modulus_is_not_felt() {
        let scalar = felt_to_scalar(&Felt::MAX) + Fr::from(1u8);
        assert_eq!(scalar_to_felt(&scalar), None);
    }

    #[test]
    fn bls_modulus_bytes_are_rejected() {
        let modulus = Fr::MODULUS.to_bytes_be();
        let bytes: [u8; 32] = modulus.try_into().unwrap();
        assert_eq!(scalar_from_be_bytes(&bytes), None);
        let mut below = bytes;
        below[31] -= 1;
        assert_eq!(scalar_from_be_bytes(&below), Some(-Fr::from(1u8)));
    }
}
