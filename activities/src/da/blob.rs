//! EIP-4844 blobs made from felts: chunking, padding, the transform and its inverse.

use ark_bls12_381::Fr;
use starknet_types_core::felt::Felt;

use super::error::DaError;
use super::field::{felt_to_scalar, scalar_from_be_bytes, scalar_to_be_bytes, scalar_to_felt};
use super::ntt::{
    FIELD_ELEMENTS_PER_BLOB, coefficients_to_evaluations, evaluate_polynomial,
    evaluations_to_coefficients,
};

pub use super::ntt::FIELD_ELEMENTS_PER_BLOB as BLOB_LEN;

/// Bytes per blob: 4096 big-endian 32-byte field elements.
pub const BYTES_PER_BLOB: usize = c_kzg::BYTES_PER_BLOB;

/// Default maximum number of blobs per state update: six, the per-block maximum of Cancun.
pub const DEFAULT_MAX_BLOBS: usize = 6;

/// One blob: 4096 evaluations of the polynomial, each below the BLS12-381 scalar modulus.
#[derive(PartialEq, Eq)]
pub struct Blob(Box<c_kzg::Blob>);

impl Clone for Blob {
    fn clone(&self) -> Self {
        let blob = c_kzg::Blob::from_bytes(self.as_bytes())
            .unwrap_or_else(|_| unreachable!("a blob has {BYTES_PER_BLOB} bytes"));
        Self(Box::new(blob))
    }
}

impl std::fmt::Debug for Blob {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Blob(0x{}…)", hex::encode(&self.0[..8]))
    }
}

impl Blob {
    /// Wraps 131072 bytes, checking that every 32-byte element is below the scalar modulus.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, DaError> {
        if bytes.len() != BYTES_PER_BLOB {
            return Err(DaError::InvalidBlob {
                reason: format!("expected {BYTES_PER_BLOB} bytes, got {}", bytes.len()),
            });
        }
        for (index, chunk) in bytes.chunks_exact(32).enumerate() {
            let mut word = [0u8; 32];
            word.copy_from_slice(chunk);
            if scalar_from_be_bytes(&word).is_none() {
                return Err(DaError::BlobElementOutOfRange {
                    index,
                    value: format!("0x{}", hex::encode(word)),
                });
            }
        }
        let blob = c_kzg::Blob::from_bytes(bytes).map_err(|error| DaError::InvalidBlob {
            reason: error.to_string(),
        })?;
        Ok(Self(Box::new(blob)))
    }

    /// Reads 262144 hex characters, with or without `0x`; surrounding whitespace is ignored.
    pub fn from_hex(text: &str) -> Result<Self, DaError> {
        let trimmed = text.trim();
        let digits = trimmed.strip_prefix("0x").unwrap_or(trimmed);
        if digits.len() != 2 * BYTES_PER_BLOB {
            return Err(DaError::InvalidBlob {
                reason: format!(
                    "expected {} hex characters, got {}",
                    2 * BYTES_PER_BLOB,
                    digits.len()
                ),
            });
        }
        let bytes = hex::decode(digits).map_err(|error| DaError::InvalidBlob {
            reason: format!("not hex: {error}"),
        })?;
        Self::from_bytes(&bytes)
    }

    /// Writes the blob as 262144 lowercase hex characters without `0x`.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0[..])
    }

    /// Returns the raw 131072 bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0[..]
    }

    /// Returns the blob in the form c-kzg takes.
    pub(crate) fn as_ckzg(&self) -> &c_kzg::Blob {
        &self.0
    }

    fn from_scalars(evaluations: &[Fr]) -> Self {
        let mut bytes = Vec::with_capacity(BYTES_PER_BLOB);
        for evaluation in evaluations {
            bytes.extend_from_slice(&scalar_to_be_bytes(evaluation));
        }
        let blob = c_kzg::Blob::from_bytes(&bytes)
            .unwrap_or_else(|_| unreachable!("4096 scalars are {BYTES_PER_BLOB} bytes"));
        Self(Box::new(blob))
    }

    /// Returns the 4096 evaluations as scalars (checked on construction).
    fn evaluations(&self) -> Vec<Fr> {
        self.0
            .chunks_exact(32)
            .map(|chunk| {
                let mut word = [0u8; 32];
                word.copy_from_slice(chunk);
                scalar_from_be_bytes(&word)
                    .unwrap_or_else(|| unreachable!("blob elements are checked on construction"))
            })
            .collect()
    }

    /// Returns the 4096 polynomial coefficients as scalars.
    pub fn coefficients(&self) -> Vec<Fr> {
        let mut values = self.evaluations();
        evaluations_to_coefficients(&mut values);
        values
    }

    /// Evaluates the blob's polynomial at `point`.
    pub fn evaluate(&self, point: &Fr) -> Fr {
        evaluate_polynomial(&self.coefficients(), point)
    }
}

/// Returns how many blobs `n_felts` felts need.
pub fn blob_count(n_felts: usize) -> usize {
    n_felts.div_ceil(FIELD_ELEMENTS_PER_BLOB)
}

/// Splits `felts` into 4096-felt chunks, pads the last with zeros and transforms each chunk
/// into a blob. No felt is dropped, and an empty input gives no blobs.
///
/// # Errors
/// [`DaError::TooManyBlobs`] when more than `max_blobs` blobs are needed.
pub fn felts_to_blobs(felts: &[Felt], max_blobs: usize) -> Result<Vec<Blob>, DaError> {
    let blobs = blob_count(felts.len());
    if blobs > max_blobs {
        return Err(DaError::TooManyBlobs {
            felts: felts.len(),
            blobs,
            max: max_blobs,
        });
    }
    let blobs = felts
        .chunks(FIELD_ELEMENTS_PER_BLOB)
        .map(|chunk| {
            let mut values: Vec<Fr> = chunk.iter().map(felt_to_scalar).collect();
            values.resize(FIELD_ELEMENTS_PER_BLOB, Fr::from(0u8));
            coefficients_to_evaluations(&mut values);
            Blob::from_scalars(&values)
        })
        .collect();
    Ok(blobs)
}

/// Recovers the 4096 felts of a blob, padding included.
///
/// # Errors
/// [`DaError::CoefficientNotFelt`] when a coefficient is not below the Starknet modulus, so
/// the blob was not made from felts.
pub fn blob_to_felts(blob: &Blob) -> Result<Vec<Felt>, DaError> {
    blob.coefficients()
        .iter()
        .enumerate()
        .map(|(index, coefficient)| {
            scalar_to_felt(coefficient).ok_or_else(|| DaError::CoefficientNotFelt {
                index,
                value: super::field::scalar_to_hex(coefficient),
            })
        })
        .collect()
}

/// Recovers the felts of several blobs, concatenated in order, padding included.
pub fn blobs_to_felts(blobs: &[Blob]) -> Result<Vec<Felt>, DaError> {
    let mut felts = Vec::with_capacity(blobs.len() * FIELD_ELEMENTS_PER_BLOB);
    for blob in blobs {
        felts.extend(blob_to_felts(blob)?);
    }
    Ok(felts)
}
