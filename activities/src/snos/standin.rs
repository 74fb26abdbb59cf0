//! The embedded Cairo 0 stand-in for the Starknet OS and the input it reads.
//!
//! The program (`cairo/snos_standin.cairo`, compiled into `cairo/snos_standin.json` by
//! `scripts/compile-cairo.sh`) executes no transactions: it copies the roots and hashes it is
//! given into an output with the Starknet OS 0.13.2+ layout, and binds the KZG evaluation
//! point to the published data. See the Cairo file for the layouts.
//!
//! # Evaluation point
//! `x0 = poseidon_hash_many(da_felts ++ [c_0.low, c_0.high, c_1.low, …])`, the Poseidon sponge
//! that Cairo's `poseidon_hash_many` and [`Poseidon::hash_array`] both implement, where
//! `c_i.low` and `c_i.high` are the 24-byte halves of commitment i (low half last in the 48
//! bytes). Rust computes it to evaluate the blobs; the program computes it again and fails on
//! a difference. A felt is below the Stark prime (about 2^251), which is below the BLS12-381
//! scalar modulus (about 2^254.9), so the hash is a valid evaluation point as it is, and no
//! reduction is needed on either side.

use starknet_types_core::felt::Felt;
use starknet_types_core::hash::{Poseidon, StarkHash};

use super::error::SnosError;
use super::{DaInput, SnosJob};
use crate::da::field::{felt_to_scalar, scalar_to_be_bytes};
use crate::da::kzg::{self, G1Bytes};

/// The compiled stand-in program, as `cairo-compile` wrote it.
pub const STANDIN_PROGRAM_JSON: &[u8] = include_bytes!("../../../cairo/snos_standin.json");

/// Code of the program's input hint. The in-process runner implements it; cairo-vm finds a
/// hint implementation by its exact code text, so this must match the compiled program.
pub const INPUT_HINT_CODE: &str = "snos_input = program_input[\"snos_input\"]\n\
ids.input = segments.gen_arg(snos_input)\n\
ids.input_len = len(snos_input)";

/// Name of the execution scope variable the input hint reads: the flat input felts.
pub const INPUT_SCOPE_VARIABLE: &str = "snos_input";

/// Words of the program output before the commitments: ten header words, x0 and n_blobs.
pub const OUTPUT_HEADER_WORDS: usize = 12;

/// KZG data of a block's blobs at the evaluation point derived from the block's DA felts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KzgInputs {
    /// Evaluation point.
    pub x0: Felt,
    /// KZG commitment of each blob.
    pub commitments: Vec<G1Bytes>,
    /// `P_i(x0)` of each blob, big-endian.
    pub y_values: Vec<[u8; 32]>,
}

/// Splits a 48-byte commitment into the (low, high) 192-bit limbs of the program output:
/// the low limb is the last 24 bytes.
pub fn commitment_limbs(commitment: &G1Bytes) -> [Felt; 2] {
    [
        Felt::from_bytes_be_slice(&commitment[24..]),
        Felt::from_bytes_be_slice(&commitment[..24]),
    ]
}

/// Splits a 32-byte big-endian evaluation into (low, high) 128-bit limbs.
pub fn y_limbs(y: &[u8; 32]) -> [Felt; 2] {
    [
        Felt::from_bytes_be_slice(&y[16..]),
        Felt::from_bytes_be_slice(&y[..16]),
    ]
}

/// Computes the evaluation point of DA `felts` committed to by `commitments` (see the module
/// docs for the formula).
pub fn evaluation_point(felts: &[Felt], commitments: &[G1Bytes]) -> Felt {
    let mut preimage = Vec::with_capacity(felts.len() + 2 * commitments.len());
    preimage.extend_from_slice(felts);
    for commitment in commitments {
        preimage.extend(commitment_limbs(commitment));
    }
    Poseidon::hash_array(&preimage)
}

/// Computes the commitments, the evaluation point and the evaluations of `da`'s blobs.
///
/// # Errors
/// [`SnosError::Da`] when c-kzg fails on a blob.
pub fn kzg_inputs(block_number: u64, da: &DaInput) -> Result<KzgInputs, SnosError> {
    let da_error = |source| SnosError::Da {
        block_number,
        source,
    };
    let commitments = da
        .blobs
        .iter()
        .map(kzg::commitment)
        .collect::<Result<Vec<_>, _>>()
        .map_err(da_error)?;
    let x0 = evaluation_point(&da.felts, &commitments);
    let point = felt_to_scalar(&x0);
    let y_values = da
        .blobs
        .iter()
        .map(|blob| scalar_to_be_bytes(&blob.evaluate(&point)))
        .collect();
    Ok(KzgInputs {
        x0,
        commitments,
        y_values,
    })
}

/// Settings of the stand-in that are per chain, not per block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StandinSettings {
    /// Value of the `os_program_hash` output word.
    pub os_program_hash: Felt,
    /// Value of the `starknet_os_config_hash` output word; settlement contracts compare it
    /// with their configured hash.
    pub config_hash: Felt,
}

impl Default for StandinSettings {
    /// Zero for both words.
    fn default() -> Self {
        Self {
            os_program_hash: Felt::ZERO,
            config_hash: Felt::ZERO,
        }
    }
}

/// Builds the flat input array of the stand-in: the `StandinInput` header, the DA felts, the
/// commitment limbs and the y limbs.
pub fn encode_input(job: &SnosJob, settings: &StandinSettings, kzg_data: &KzgInputs) -> Vec<Felt> {
    let da_felts = &job.da.felts;
    let mut input = Vec::with_capacity(10 + da_felts.len() + 4 * kzg_data.commitments.len());
    input.extend([
        job.prev_state_root,
        job.new_state_root,
        Felt::from(job.block_number),
        job.prev_block_hash,
        job.block_hash,
        settings.os_program_hash,
        settings.config_hash,
        kzg_data.x0,
        Felt::from(da_felts.len()),
        Felt::from(kzg_data.commitments.len()),
    ]);
    input.extend_from_slice(da_felts);
    for commitment in &kzg_data.commitments {
        input.extend(commitment_limbs(commitment));
    }
    for y in &kzg_data.y_values {
        input.extend(y_limbs(y));
    }
    input
}

/// Returns the program output the stand-in writes for `job`, for checks.
pub fn expected_output(
    job: &SnosJob,
    settings: &StandinSettings,
    kzg_data: &KzgInputs,
) -> Vec<Felt> {
    let mut output = vec![
        job.prev_state_root,
        job.new_state_root,
        Felt::from(job.block_number) - Felt::ONE,
        Felt::from(job.block_number),
        job.prev_block_hash,
        job.block_hash,
        settings.os_program_hash,
        settings.config_hash,
        Felt::ONE,
        Felt::ZERO,
        kzg_data.x0,
        Felt::from(kzg_data.commitments.len()),
    ];
    for commitment in &kzg_data.commitments {
        output.extend(commitment_limbs(commitment));
    }
    for y in &kzg_data.y_values {
        output.extend(y_limbs(y));
    }
    output.extend([Felt::ZERO, Felt::ZERO]);
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commitment_limbs_put_low_half_first() {
        let mut commitment = [0u8; 48];
        commitment[23] = 7; // last byte of the high half
        commitment[47] = 9; // last byte of the low half
        assert_eq!(
            commitment_limbs(&commitment),
            [Felt::from(9u8), Felt::from(7u8)]
        );
    }

    #[test]
    fn y_limbs_put_low_half_first() {
        let mut y = [0u8; 32];
        y[15] = 3;
        y[31] = 5;
        assert_eq!(y_limbs(&y), [Felt::from(5u8), Felt::from(3u8)]);
    }

    #[test]
    fn embedded_program_has_input_hint() {
        let program: serde_json::Value =
            serde_json::from_slice(STANDIN_PROGRAM_JSON).expect("embedded program is JSON");
        let hints = program["hints"].as_object().expect("program has hints");
        let found = hints
            .values()
            .flat_map(|list| list.as_array().into_iter().flatten())
            .any(|hint| hint["code"].as_str() == Some(INPUT_HINT_CODE));
        assert!(
            found,
            "the compiled program has no hint with INPUT_HINT_CODE"
        );
    }

    #[test]
    fn evaluation_point_hashes_felts_then_limbs() {
        let felts = [Felt::from(1u8), Felt::from(2u8)];
        let mut commitment = [0u8; 48];
        commitment[47] = 4;
        commitment[23] = 3;
        let expected = Poseidon::hash_array(&[
            Felt::from(1u8),
            Felt::from(2u8),
            Felt::from(4u8),
            Felt::from(3u8),
        ]);
        assert_eq!(evaluation_point(&felts, &[commitment]), expected);
    }
}
