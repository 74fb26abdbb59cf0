//! The blob transform: polynomial coefficients to evaluations in EIP-4844 order, and back.
//!
//! A blob contains `P(w^brp(i))` for `i < 4096`, where `P` has the felts as coefficients, `w` is
//! the primitive 4096th root of unity of the BLS12-381 scalar field (a power of the generator
//! 7) and `brp` reverses the 12 bits of the index. Both directions are radix-2 FFTs from
//! `ark-poly`, O(n log n).

use std::sync::OnceLock;

use ark_bls12_381::Fr;
use ark_poly::{EvaluationDomain, Radix2EvaluationDomain};

/// Field elements per blob.
pub const FIELD_ELEMENTS_PER_BLOB: usize = 4096;

/// Primitive 4096th root of unity used by EIP-4844, in decimal.
pub const ROOT_OF_UNITY_DECIMAL: &str =
    "39033254847818212395286706435128746857159659164139250548781411570340225835782";

fn domain() -> &'static Radix2EvaluationDomain<Fr> {
    static DOMAIN: OnceLock<Radix2EvaluationDomain<Fr>> = OnceLock::new();
    DOMAIN.get_or_init(|| {
        Radix2EvaluationDomain::new(FIELD_ELEMENTS_PER_BLOB).unwrap_or_else(|| {
            unreachable!("the BLS12-381 scalar field has 2^32-th roots of unity")
        })
    })
}

/// Returns the generator of the evaluation domain; equals [`ROOT_OF_UNITY_DECIMAL`].
pub fn root_of_unity() -> Fr {
    domain().group_gen()
}

/// Reverses the low 12 bits of `index`.
fn bit_reverse(index: usize) -> usize {
    index.reverse_bits() >> (usize::BITS - FIELD_ELEMENTS_PER_BLOB.trailing_zeros())
}

fn bit_reverse_permute(values: &mut [Fr]) {
    for index in 0..values.len() {
        let reversed = bit_reverse(index);
        if index < reversed {
            values.swap(index, reversed);
        }
    }
}

/// Turns 4096 coefficients into blob evaluations, in bit-reversed order, in place.
///
/// # Panics
/// When `values` does not hold exactly 4096 elements (a programming error).
pub fn coefficients_to_evaluations(values: &mut Vec<Fr>) {
    assert_eq!(
        values.len(),
        FIELD_ELEMENTS_PER_BLOB,
        "a blob has 4096 field elements"
    );
    domain().fft_in_place(values);
    bit_reverse_permute(values);
}

/// Turns blob evaluations (bit-reversed order) back into 4096 coefficients, in place.
///
/// # Panics
/// When `values` does not hold exactly 4096 elements (a programming error).
pub fn evaluations_to_coefficients(values: &mut Vec<Fr>) {
    assert_eq!(
        values.len(),
        FIELD_ELEMENTS_PER_BLOB,
        "a blob has 4096 field elements"
    );
    bit_reverse_permute(values);
    domain().ifft_in_place(values);
}

/// Evaluates the polynomial with `coefficients` at `point` (Horner's rule).
pub fn evaluate_polynomial(coefficients: &[Fr], point: &Fr) -> Fr {
    coefficients
        .iter()
        .rev()
        .fold(Fr::from(0u8), |accumulator, coefficient| {
            accumulator * point + coefficient
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{Field, PrimeField};

    #[test]
    fn domain_root_is_eip_4844_root() {
        let expected = Fr::from_bigint(ROOT_OF_UNITY_DECIMAL.parse().unwrap()).unwrap();
        assert_eq!(root_of_unity(), expected);
        assert_eq!(expected.pow([4096u64]), Fr::from(1u8));
        assert_ne!(expected.pow([2048u64]), Fr::from(1u8));
    }

    #[test]
    fn evaluations_match_horner_at_bit_reversed_points() {
        let coefficients: Vec<Fr> = (0u64..4096).map(|i| Fr::from(i * i + 7)).collect();
        let mut evaluations = coefficients.clone();
        coefficients_to_evaluations(&mut evaluations);
        for index in [0usize, 1, 2, 3, 100, 2047, 4095] {
            let point = root_of_unity().pow([bit_reverse(index) as u64]);
            let expected = evaluate_polynomial(&coefficients, &point);
            assert_eq!(evaluations[index], expected, "evaluation {index}");
        }
    }

    #[test]
    fn inverse_restores_coefficients() {
        let coefficients: Vec<Fr> = (0u64..4096).map(|i| Fr::from(i).pow([5u64])).collect();
        let mut values = coefficients.clone();
        coefficients_to_evaluations(&mut values);
        evaluations_to_coefficients(&mut values);
        assert_eq!(values, coefficients);
    }

    #[test]
    fn bit_reverse_uses_twelve_bits() {
        assert_eq!(bit_reverse(1), 2048);
        assert_eq!(bit_reverse(2048), 1);
        assert_eq!(bit_reverse(4095), 4095);
    }
}
