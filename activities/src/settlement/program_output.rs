//! The Starknet OS program output (0.13.2+ layout with KZG data availability), as the core
//! contract reads it.
//!
//! | index | word |
//! |---|---|
//! | 0, 1 | previous and new state root |
//! | 2, 3 | previous and new block number |
//! | 4, 5 | previous and new block hash |
//! | 6 | OS program hash (non-zero when an aggregator ran the OS) |
//! | 7 | OS config hash |
//! | 8, 9 | `use_kzg_da` (must be 1), `full_output` |
//! | 10, 11 | x0, the KZG evaluation point, and the blob count n |
//! | 12 .. 12+2n | per blob, the 48-byte commitment as (low, high) 24-byte limbs |
//! | 12+2n .. 12+4n | per blob, y = P(x0) as (low, high) 128-bit limbs |
//! | then | L2→L1 and L1→L2 message segments |

use alloy::primitives::{B256, U256, uint};

use super::kzg::Bytes48;

/// Prime of the Starknet field, 2^251 + 17·2^192 + 1. Every output word is below it.
pub const STARKNET_FIELD_PRIME: U256 =
    uint!(0x800000000000011000000000000000000000000000000000000000000000001_U256);

/// Previous block number that the Starknet OS writes when the output starts at block 0.
pub const GENESIS_PREV_BLOCK_NUMBER: U256 =
    uint!(0x800000000000011000000000000000000000000000000000000000000000000_U256);

const PREV_STATE_ROOT: usize = 0;
const NEW_STATE_ROOT: usize = 1;
const PREV_BLOCK_NUMBER: usize = 2;
const NEW_BLOCK_NUMBER: usize = 3;
const PREV_BLOCK_HASH: usize = 4;
const NEW_BLOCK_HASH: usize = 5;
const OS_PROGRAM_HASH: usize = 6;
const CONFIG_HASH: usize = 7;
const USE_KZG_DA: usize = 8;
/// Index of x0, the point at which every blob polynomial is evaluated.
pub const X0_OFFSET: usize = 10;
/// Index of the blob count.
pub const N_BLOBS_OFFSET: usize = 11;
const COMMITMENTS_OFFSET: usize = 12;

/// Number of blobs a Prague block can carry at most; no state update can need more.
pub const MAX_BLOBS_PER_UPDATE: usize = 9;

/// Program output that does not fit the KZG layout the core contract accepts.
#[derive(Debug, thiserror::Error)]
pub enum ProgramOutputError {
    /// A line is neither a decimal nor a 0x-prefixed hex number below 2^256.
    #[error("program output line {line}: {value:?} is not a decimal or 0x hex number")]
    InvalidNumber {
        /// 1-based line number.
        line: usize,
        /// Text of the line.
        value: String,
    },
    /// A word is not a Starknet field element.
    #[error("program output word {index} is {value:#x}, which is not below the Starknet prime")]
    NotAFelt {
        /// 0-based word index.
        index: usize,
        /// The word.
        value: U256,
    },
    /// The output is shorter than its header and KZG segment.
    #[error("program output has {len} words but its layout needs at least {needed}")]
    TooShort {
        /// Number of words.
        len: usize,
        /// Minimum number of words for the declared blob count.
        needed: usize,
    },
    /// The output was produced without KZG data availability.
    #[error("program output has use_kzg_da = {value}; only KZG (blob) outputs can be settled here")]
    NotKzgDa {
        /// Word 8.
        value: U256,
    },
    /// The blob count is zero or more than a block can carry.
    #[error("program output declares {value} blobs; expected 1 to {MAX_BLOBS_PER_UPDATE}")]
    InvalidBlobCount {
        /// Word 11.
        value: U256,
    },
    /// A commitment or y limb is wider than the layout allows.
    #[error("program output word {index} is {value:#x}, wider than a {bits}-bit limb")]
    LimbTooWide {
        /// 0-based word index.
        index: usize,
        /// The word.
        value: U256,
        /// Limb width.
        bits: usize,
    },
    /// The new block number does not fit in 64 bits.
    #[error("program output new block number {value} does not fit in 64 bits")]
    BlockNumberTooLarge {
        /// Word 3.
        value: U256,
    },
}

/// A validated Starknet OS program output with KZG data availability.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProgramOutput {
    words: Vec<U256>,
    new_block_number: u64,
    n_blobs: usize,
}

impl ProgramOutput {
    /// Parses an output file: one felt per line, decimal or 0x hex. Blank lines are skipped.
    pub fn parse(text: &str) -> Result<Self, ProgramOutputError> {
        let mut words = Vec::new();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let parsed = match line.strip_prefix("0x").or_else(|| line.strip_prefix("0X")) {
                Some(digits) => U256::from_str_radix(digits, 16),
                None => U256::from_str_radix(line, 10),
            };
            let word = parsed.map_err(|_| ProgramOutputError::InvalidNumber {
                line: index + 1,
                value: line.to_owned(),
            })?;
            words.push(word);
        }
        Self::from_words(words)
    }

    /// Validates the layout of the given words.
    pub fn from_words(words: Vec<U256>) -> Result<Self, ProgramOutputError> {
        let header_len = COMMITMENTS_OFFSET;
        if words.len() < header_len {
            return Err(ProgramOutputError::TooShort {
                len: words.len(),
                needed: header_len,
            });
        }
        if let Some((index, value)) = words
            .iter()
            .enumerate()
            .find(|(_, word)| **word >= STARKNET_FIELD_PRIME)
        {
            return Err(ProgramOutputError::NotAFelt {
                index,
                value: *value,
            });
        }
        if words[USE_KZG_DA] != U256::from(1) {
            return Err(ProgramOutputError::NotKzgDa {
                value: words[USE_KZG_DA],
            });
        }

        let n_blobs = usize::try_from(words[N_BLOBS_OFFSET])
            .ok()
            .filter(|n| (1..=MAX_BLOBS_PER_UPDATE).contains(n))
            .ok_or(ProgramOutputError::InvalidBlobCount {
                value: words[N_BLOBS_OFFSET],
            })?;
        // The two message segments need at least their two length words.
        let needed = COMMITMENTS_OFFSET + 4 * n_blobs + 2;
        if words.len() < needed {
            return Err(ProgramOutputError::TooShort {
                len: words.len(),
                needed,
            });
        }
        check_limbs(&words, COMMITMENTS_OFFSET, 2 * n_blobs, 192)?;
        check_limbs(&words, COMMITMENTS_OFFSET + 2 * n_blobs, 2 * n_blobs, 128)?;

        let new_block_number = u64::try_from(words[NEW_BLOCK_NUMBER]).map_err(|_| {
            ProgramOutputError::BlockNumberTooLarge {
                value: words[NEW_BLOCK_NUMBER],
            }
        })?;
        Ok(Self {
            words,
            new_block_number,
            n_blobs,
        })
    }

    /// Returns all words, header first.
    pub fn words(&self) -> &[U256] {
        &self.words
    }

    /// Returns the state root before the first block of the output.
    pub fn prev_state_root(&self) -> U256 {
        self.words[PREV_STATE_ROOT]
    }

    /// Returns the state root after the last block of the output.
    pub fn new_state_root(&self) -> U256 {
        self.words[NEW_STATE_ROOT]
    }

    /// Returns the block number before the first block, or `None` when the output starts at
    /// block 0 (the OS then writes [`GENESIS_PREV_BLOCK_NUMBER`]).
    pub fn prev_block_number(&self) -> Option<u64> {
        let word = self.words[PREV_BLOCK_NUMBER];
        if word == GENESIS_PREV_BLOCK_NUMBER {
            return None;
        }
        u64::try_from(word).ok()
    }

    /// Returns the number of the last block of the output.
    pub fn new_block_number(&self) -> u64 {
        self.new_block_number
    }

    /// Returns the hash of the block before the first block of the output.
    pub fn prev_block_hash(&self) -> U256 {
        self.words[PREV_BLOCK_HASH]
    }

    /// Returns the hash of the last block of the output.
    pub fn new_block_hash(&self) -> U256 {
        self.words[NEW_BLOCK_HASH]
    }

    /// Returns the OS program hash word: zero unless an aggregator ran the OS.
    pub fn os_program_hash(&self) -> U256 {
        self.words[OS_PROGRAM_HASH]
    }

    /// Returns the OS config hash.
    pub fn config_hash(&self) -> U256 {
        self.words[CONFIG_HASH]
    }

    /// Returns x0, the point at which every blob polynomial is evaluated.
    pub fn x0(&self) -> B256 {
        B256::from(self.words[X0_OFFSET])
    }

    /// Returns the number of blobs.
    pub fn n_blobs(&self) -> usize {
        self.n_blobs
    }

    /// Returns the KZG commitment of blob `index` (0-based): the high limb's 24 bytes, then
    /// the low limb's.
    ///
    /// # Panics
    /// If `index >= self.n_blobs()`.
    pub fn commitment(&self, index: usize) -> Bytes48 {
        assert!(index < self.n_blobs, "blob index {index} out of range");
        let low = self.words[COMMITMENTS_OFFSET + 2 * index].to_be_bytes::<32>();
        let high = self.words[COMMITMENTS_OFFSET + 2 * index + 1].to_be_bytes::<32>();
        let mut commitment = [0u8; 48];
        commitment[..24].copy_from_slice(&high[8..]);
        commitment[24..].copy_from_slice(&low[8..]);
        Bytes48::from(commitment)
    }

    /// Returns y = P(x0) of blob `index` (0-based), as `high · 2^128 + low`.
    ///
    /// # Panics
    /// If `index >= self.n_blobs()`.
    pub fn evaluation(&self, index: usize) -> B256 {
        assert!(index < self.n_blobs, "blob index {index} out of range");
        let offset = COMMITMENTS_OFFSET + 2 * self.n_blobs + 2 * index;
        let low = self.words[offset];
        let high = self.words[offset + 1];
        B256::from((high << 128) | low)
    }
}

fn check_limbs(
    words: &[U256],
    start: usize,
    count: usize,
    bits: usize,
) -> Result<(), ProgramOutputError> {
    for (index, value) in words.iter().enumerate().skip(start).take(count) {
        if value.bit_len() > bits {
            return Err(ProgramOutputError::LimbTooWide {
                index,
                value: *value,
                bits,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimal_words() -> Vec<U256> {
        let mut words: Vec<U256> = (0..18).map(U256::from).collect();
        words[USE_KZG_DA] = U256::from(1);
        words[N_BLOBS_OFFSET] = U256::from(1);
        words[16] = U256::ZERO;
        words[17] = U256::ZERO;
        words
    }

    #[test]
    fn parse_accepts_decimal_and_hex() {
        let text = minimal_words()
            .iter()
            .enumerate()
            .map(|(i, w)| {
                if i % 2 == 0 {
                    format!("{w}")
                } else {
                    format!("{w:#x}")
                }
            })
            .collect::<Vec<_>>()
            .join("\n");
        let output = ProgramOutput::parse(&format!("{text}\n\n")).expect("valid output");
        assert_eq!(output.words(), minimal_words().as_slice());
        assert_eq!(output.new_block_number(), 3);
        assert_eq!(output.prev_block_number(), Some(2));
    }

    #[test]
    fn parse_rejects_garbage_line() {
        let error = ProgramOutput::parse("1\nabc\n").expect_err("garbage must fail");
        assert!(
            matches!(error, ProgramOutputError::InvalidNumber { line: 2, .. }),
            "{error}"
        );
    }

    #[test]
    fn from_words_rejects_calldata_da() {
        let mut words = minimal_words();
        words[USE_KZG_DA] = U256::ZERO;
        let error = ProgramOutput::from_words(words).expect_err("use_kzg_da 0 must fail");
        assert!(
            matches!(error, ProgramOutputError::NotKzgDa { .. }),
            "{error}"
        );
    }

    #[test]
    fn from_words_rejects_missing_segments() {
        let mut words = minimal_words();
        words.truncate(17);
        let error = ProgramOutput::from_words(words).expect_err("short output must fail");
        assert!(
            matches!(error, ProgramOutputError::TooShort { needed: 18, .. }),
            "{error}"
        );
    }

    #[test]
    fn from_words_rejects_wide_y_limb() {
        let mut words = minimal_words();
        words[14] = U256::from(1) << 128;
        let error = ProgramOutput::from_words(words).expect_err("wide limb must fail");
        assert!(matches!(
            error,
            ProgramOutputError::LimbTooWide {
                index: 14,
                bits: 128,
                ..
            }
        ));
    }

    #[test]
    fn from_words_rejects_non_felt() {
        let mut words = minimal_words();
        words[0] = STARKNET_FIELD_PRIME;
        let error = ProgramOutput::from_words(words).expect_err("word >= prime must fail");
        assert!(
            matches!(error, ProgramOutputError::NotAFelt { index: 0, .. }),
            "{error}"
        );
    }

    #[test]
    fn genesis_prev_block_number_is_none() {
        let mut words = minimal_words();
        words[PREV_BLOCK_NUMBER] = GENESIS_PREV_BLOCK_NUMBER;
        let output = ProgramOutput::from_words(words).expect("valid output");
        assert_eq!(output.prev_block_number(), None);
    }

    #[test]
    fn commitment_joins_high_then_low() {
        let mut words = minimal_words();
        words[12] = U256::from(0x0102);
        words[13] = U256::from(0x0304);
        let output = ProgramOutput::from_words(words).expect("valid output");
        let commitment = output.commitment(0);
        assert_eq!(&commitment[22..24], &[0x03, 0x04]);
        assert_eq!(&commitment[46..48], &[0x01, 0x02]);
    }
}
