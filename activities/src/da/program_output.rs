//! The Starknet OS program output, read as far as settlement needs it, and the check that
//! blobs match the KZG commitments and evaluations in it.
//!
//! Layout from Starknet 0.13.2 on (OS and aggregator):
//! `[prev_state_root, new_state_root, prev_block_number, new_block_number, prev_block_hash,
//! new_block_hash, os_program_hash, config_hash, use_kzg_da, full_output]`, then, when
//! `use_kzg_da = 1`, `[x0, n_blobs, commitments (low, high) × n, y values (low, high) × n]`,
//! then `n_l2_to_l1_words, messages…, n_l1_to_l2_words, messages…`.
//!
//! Layout of Starknet 0.13.1 (one blob): `[prev_state_root, new_state_root, block_number,
//! block_hash, config_hash, use_kzg_da, commitment_low, commitment_high, x0, y_low, y_high]`
//! then the messages; the Starknet core contract of that version reads this five-word KZG
//! segment at offset 6.
//!
//! A commitment is two 192-bit limbs: its 48 bytes are the high limb's 24 bytes followed by the
//! low limb's. A y value is two 128-bit limbs, `y = high * 2^128 + low`.

use starknet_types_core::felt::Felt;

use super::blob::Blob;
use super::error::DaError;
use super::field::{felt_to_scalar, scalar_to_be_bytes};
use super::kzg::{self, G1Bytes};
use super::version::parse_starknet_version;

/// Layout of a program output, which depends on the Starknet version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputLayout {
    /// Starknet 0.13.1: six header words and one blob.
    V0_13_1,
    /// Starknet 0.13.2 and later: ten header words and up to `n_blobs` blobs.
    V0_13_2,
}

impl OutputLayout {
    /// Returns the layout of outputs of the OS of Starknet `version`.
    pub fn for_starknet_version(version: &str) -> Result<Self, DaError> {
        if parse_starknet_version(version)? < [0, 13, 2, 0] {
            Ok(Self::V0_13_1)
        } else {
            Ok(Self::V0_13_2)
        }
    }
}

/// The KZG data availability commitments in a program output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KzgCommitments {
    /// Evaluation point shared by all blobs.
    pub x0: Felt,
    /// One 48-byte commitment per blob.
    pub commitments: Vec<G1Bytes>,
    /// One big-endian evaluation `P_i(x0)` per blob.
    pub y_values: Vec<[u8; 32]>,
}

/// The fields of a program output that settlement reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramOutput {
    /// Layout the output was read with.
    pub layout: OutputLayout,
    /// State root before the range.
    pub prev_state_root: Felt,
    /// State root after the range.
    pub new_state_root: Felt,
    /// Last block before the range; absent in 0.13.1 outputs.
    pub prev_block_number: Option<Felt>,
    /// Last block of the range.
    pub new_block_number: Felt,
    /// Hash of the last block before the range; absent in 0.13.1 outputs.
    pub prev_block_hash: Option<Felt>,
    /// Hash of the last block of the range.
    pub new_block_hash: Felt,
    /// Hash of the OS program; absent in 0.13.1 outputs.
    pub os_program_hash: Option<Felt>,
    /// Hash of the Starknet OS config.
    pub config_hash: Felt,
    /// Whether the full state diff is in the output; absent in 0.13.1 outputs.
    pub full_output: Option<bool>,
    /// KZG commitments, present when `use_kzg_da = 1`.
    pub kzg: Option<KzgCommitments>,
    /// The L2 → L1 message words.
    pub messages_to_l1: Vec<Felt>,
    /// The L1 → L2 message words.
    pub messages_to_l2: Vec<Felt>,
}

/// Cursor over the output words with range checks and error positions.
struct Words<'a> {
    felts: &'a [Felt],
}

impl Words<'_> {
    fn get(&self, index: usize) -> Result<Felt, DaError> {
        self.felts
            .get(index)
            .copied()
            .ok_or(DaError::ProgramOutputTooShort {
                expected: index + 1,
                actual: self.felts.len(),
            })
    }

    fn flag(&self, index: usize, field: &'static str) -> Result<bool, DaError> {
        let value = self.get(index)?;
        match u8::try_from(value) {
            Ok(0) => Ok(false),
            Ok(1) => Ok(true),
            _ => Err(invalid(index, field, value, "expected 0 or 1")),
        }
    }

    fn count(&self, index: usize, field: &'static str) -> Result<usize, DaError> {
        let value = self.get(index)?;
        usize::try_from(value)
            .ok()
            .filter(|count| *count <= self.felts.len())
            .ok_or_else(|| invalid(index, field, value, "count exceeds the output length"))
    }

    /// Reads the 48-byte commitment from limbs `(low, high)` at `index`.
    fn commitment(&self, index: usize) -> Result<G1Bytes, DaError> {
        let low = self.limb(index, "commitment low limb", 24)?;
        let high = self.limb(index + 1, "commitment high limb", 24)?;
        let mut bytes = [0u8; 48];
        bytes[..24].copy_from_slice(&high);
        bytes[24..].copy_from_slice(&low);
        Ok(bytes)
    }

    /// Reads the 32-byte y value from limbs `(low, high)` at `index`.
    fn y_value(&self, index: usize) -> Result<[u8; 32], DaError> {
        let low = self.limb(index, "y low limb", 16)?;
        let high = self.limb(index + 1, "y high limb", 16)?;
        let mut bytes = [0u8; 32];
        bytes[..16].copy_from_slice(&high);
        bytes[16..].copy_from_slice(&low);
        Ok(bytes)
    }

    /// Returns the low `width` bytes of the word, which must have no higher bits set.
    fn limb(&self, index: usize, field: &'static str, width: usize) -> Result<Vec<u8>, DaError> {
        let value = self.get(index)?;
        let bytes = value.to_bytes_be();
        if bytes[..32 - width].iter().any(|byte| *byte != 0) {
            let reason = format!("does not fit in {} bits", 8 * width);
            return Err(invalid(index, field, value, &reason));
        }
        Ok(bytes[32 - width..].to_vec())
    }

    /// Reads a length-prefixed message section at `index`; returns it and the next index.
    fn section(&self, index: usize, field: &'static str) -> Result<(Vec<Felt>, usize), DaError> {
        let length = self.count(index, field)?;
        let end = index + 1 + length;
        if end > self.felts.len() {
            return Err(DaError::ProgramOutputTooShort {
                expected: end,
                actual: self.felts.len(),
            });
        }
        Ok((self.felts[index + 1..end].to_vec(), end))
    }
}

fn invalid(index: usize, field: &'static str, value: Felt, reason: &str) -> DaError {
    DaError::InvalidProgramOutput {
        index,
        field,
        value,
        reason: reason.to_owned(),
    }
}

impl ProgramOutput {
    /// Reads `felts` with `layout`.
    ///
    /// # Errors
    /// [`DaError::ProgramOutputTooShort`] when the output ends early, and
    /// [`DaError::InvalidProgramOutput`] naming the word that is out of range for its field.
    pub fn parse(felts: &[Felt], layout: OutputLayout) -> Result<Self, DaError> {
        let words = Words { felts };
        match layout {
            OutputLayout::V0_13_2 => Self::parse_v0_13_2(&words),
            OutputLayout::V0_13_1 => Self::parse_v0_13_1(&words),
        }
    }

    fn parse_v0_13_2(words: &Words<'_>) -> Result<Self, DaError> {
        let use_kzg_da = words.flag(8, "use_kzg_da")?;
        let mut next = 10;
        let kzg = if use_kzg_da {
            let n_blobs = words.count(11, "n_blobs")?;
            let commitments = (0..n_blobs)
                .map(|blob| words.commitment(12 + 2 * blob))
                .collect::<Result<_, _>>()?;
            let y_values = (0..n_blobs)
                .map(|blob| words.y_value(12 + 2 * n_blobs + 2 * blob))
                .collect::<Result<_, _>>()?;
            next = 12 + 4 * n_blobs;
            Some(KzgCommitments {
                x0: words.get(10)?,
                commitments,
                y_values,
            })
        } else {
            None
        };
        let (messages_to_l1, next) = words.section(next, "n_l2_to_l1_words")?;
        let (messages_to_l2, _) = words.section(next, "n_l1_to_l2_words")?;
        Ok(Self {
            layout: OutputLayout::V0_13_2,
            prev_state_root: words.get(0)?,
            new_state_root: words.get(1)?,
            prev_block_number: Some(words.get(2)?),
            new_block_number: words.get(3)?,
            prev_block_hash: Some(words.get(4)?),
            new_block_hash: words.get(5)?,
            os_program_hash: Some(words.get(6)?),
            config_hash: words.get(7)?,
            full_output: Some(words.flag(9, "full_output")?),
            kzg,
            messages_to_l1,
            messages_to_l2,
        })
    }

    fn parse_v0_13_1(words: &Words<'_>) -> Result<Self, DaError> {
        let use_kzg_da = words.flag(5, "use_kzg_da")?;
        let (kzg, next) = if use_kzg_da {
            let kzg = KzgCommitments {
                x0: words.get(8)?,
                commitments: vec![words.commitment(6)?],
                y_values: vec![words.y_value(9)?],
            };
            (Some(kzg), 11)
        } else {
            (None, 6)
        };
        let (messages_to_l1, next) = words.section(next, "n_l2_to_l1_words")?;
        let (messages_to_l2, _) = words.section(next, "n_l1_to_l2_words")?;
        Ok(Self {
            layout: OutputLayout::V0_13_1,
            prev_state_root: words.get(0)?,
            new_state_root: words.get(1)?,
            prev_block_number: None,
            new_block_number: words.get(2)?,
            prev_block_hash: None,
            new_block_hash: words.get(3)?,
            os_program_hash: None,
            config_hash: words.get(4)?,
            full_output: None,
            kzg,
            messages_to_l1,
            messages_to_l2,
        })
    }

    /// Returns the last block number of the range as an integer.
    pub fn new_block_number_u64(&self) -> Result<u64, DaError> {
        let index = match self.layout {
            OutputLayout::V0_13_1 => 2,
            OutputLayout::V0_13_2 => 3,
        };
        u64::try_from(self.new_block_number).map_err(|_| {
            invalid(
                index,
                "new_block_number",
                self.new_block_number,
                "does not fit in 64 bits",
            )
        })
    }
}

/// Checks, before broadcasting, that `blobs` are the ones the program output commits to: for
/// each blob, its polynomial at x0 equals the output's y and its KZG commitment equals the
/// output's commitment.
///
/// # Errors
/// [`DaError::NoKzgInOutput`], [`DaError::BlobCountMismatch`], and
/// [`DaError::EvaluationMismatch`] or [`DaError::CommitmentMismatch`] naming the blob index
/// and both values.
pub fn check_blobs(output: &ProgramOutput, blobs: &[Blob]) -> Result<(), DaError> {
    let kzg_data = output.kzg.as_ref().ok_or(DaError::NoKzgInOutput)?;
    if kzg_data.commitments.len() != blobs.len() {
        return Err(DaError::BlobCountMismatch {
            expected: kzg_data.commitments.len(),
            actual: blobs.len(),
        });
    }
    let x0 = felt_to_scalar(&kzg_data.x0);
    for (blob_index, blob) in blobs.iter().enumerate() {
        let y = scalar_to_be_bytes(&blob.evaluate(&x0));
        if y != kzg_data.y_values[blob_index] {
            return Err(DaError::EvaluationMismatch {
                blob_index,
                expected: format!("0x{}", hex::encode(kzg_data.y_values[blob_index])),
                actual: format!("0x{}", hex::encode(y)),
            });
        }
        let commitment = kzg::commitment(blob)?;
        if commitment != kzg_data.commitments[blob_index] {
            return Err(DaError::CommitmentMismatch {
                blob_index,
                expected: format!("0x{}", hex::encode(kzg_data.commitments[blob_index])),
                actual: format!("0x{}", hex::encode(commitment)),
            });
        }
    }
    Ok(())
}
