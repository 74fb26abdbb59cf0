//! KZG computations that a state update needs: commitments, the opening of each blob at the
//! program output's x0, and the blob transaction sidecar. The KZG work itself is done by
//! [`crate::da::kzg`], and this module converts between its types and alloy's.

use alloy::eips::eip4844::{Blob, BlobTransactionSidecar};
use alloy::eips::eip7594::{BlobTransactionSidecarEip7594, BlobTransactionSidecarVariant};
use alloy::primitives::B256;

use super::error::BlobError;
use crate::da::{self, DaError, kzg as da_kzg};

pub use alloy::eips::eip4844::Bytes48;

/// Kind of blob proofs in the transaction sidecar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SidecarKind {
    /// One EIP-4844 blob proof per blob: the only kind nodes accept before Fusaka (Osaka).
    #[default]
    Eip4844,
    /// EIP-7594 (PeerDAS) cell proofs, 128 per blob: required by nodes from Fusaka (Osaka) on.
    Eip7594,
}

/// Commitment of one blob and its opening at x0.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlobOpening {
    /// KZG commitment of the blob.
    pub commitment: Bytes48,
    /// KZG proof that the blob polynomial takes the value `evaluation` at x0.
    pub proof: Bytes48,
    /// Value of the blob polynomial at x0.
    pub evaluation: B256,
}

fn invalid_blob(index: usize) -> impl Fn(DaError) -> BlobError {
    move |error| BlobError::InvalidBlob {
        index,
        reason: error.to_string(),
    }
}

fn kzg_failed(index: usize) -> impl Fn(DaError) -> BlobError {
    move |error| BlobError::Kzg {
        index,
        message: error.to_string(),
    }
}

/// Converts to the DA library's blob, which checks that every element is below the BLS12-381
/// scalar modulus.
fn to_da_blob(blob: &Blob, index: usize) -> Result<da::Blob, BlobError> {
    da::Blob::from_bytes(blob.as_slice()).map_err(invalid_blob(index))
}

/// Parses a blob given as 262144 hex characters, with or without `0x` and surrounding
/// whitespace. `index` is the 1-based blob position used in errors.
pub fn parse_blob_hex(text: &str, index: usize) -> Result<Blob, BlobError> {
    let blob = da::Blob::from_hex(text).map_err(invalid_blob(index))?;
    Blob::try_from(blob.as_bytes()).map_err(|_| BlobError::InvalidBlob {
        index,
        reason: format!(
            "{} bytes instead of {}",
            blob.as_bytes().len(),
            da::blob::BYTES_PER_BLOB
        ),
    })
}

/// Computes the commitment of `blob` and opens it at `x0`. `index` is the 1-based blob
/// position used in errors.
pub fn open_blob(blob: &Blob, x0: B256, index: usize) -> Result<BlobOpening, BlobError> {
    let blob = to_da_blob(blob, index)?;
    let commitment = da_kzg::commitment(&blob).map_err(kzg_failed(index))?;
    let opening = da_kzg::point_proof(&blob, &x0.0).map_err(kzg_failed(index))?;
    Ok(BlobOpening {
        commitment: Bytes48::from(commitment),
        proof: Bytes48::from(opening.proof),
        evaluation: B256::from(opening.y),
    })
}

/// Builds the transaction sidecar for `blobs` with the given commitments (in blob order).
pub fn build_sidecar(
    blobs: Vec<Blob>,
    commitments: Vec<Bytes48>,
    kind: SidecarKind,
) -> Result<BlobTransactionSidecarVariant, BlobError> {
    let mut proofs = Vec::new();
    for (position, (blob, commitment)) in blobs.iter().zip(&commitments).enumerate() {
        let index = position + 1;
        let blob = to_da_blob(blob, index)?;
        match kind {
            SidecarKind::Eip4844 => {
                let proof = da_kzg::blob_proof(&blob, &commitment.0).map_err(kzg_failed(index))?;
                proofs.push(Bytes48::from(proof));
            }
            SidecarKind::Eip7594 => {
                let cell_proofs = da_kzg::cell_proofs(&blob).map_err(kzg_failed(index))?;
                proofs.extend(cell_proofs.into_iter().map(Bytes48::from));
            }
        }
    }
    Ok(match kind {
        SidecarKind::Eip4844 => BlobTransactionSidecar::new(blobs, commitments, proofs).into(),
        SidecarKind::Eip7594 => {
            BlobTransactionSidecarEip7594::new(blobs, commitments, proofs).into()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::eips::eip4844::BYTES_PER_BLOB;

    fn test_blob(seed: u8) -> Blob {
        let mut bytes = [0u8; BYTES_PER_BLOB];
        for (index, element) in bytes.chunks_mut(32).enumerate() {
            element[31] = seed;
            element[30] = (index % 251) as u8;
        }
        Blob::from(bytes)
    }

    fn sidecar_of(kind: SidecarKind) -> BlobTransactionSidecarVariant {
        let blobs = vec![test_blob(1), test_blob(2)];
        let commitments = blobs
            .iter()
            .enumerate()
            .map(|(index, blob)| {
                open_blob(blob, B256::ZERO, index + 1)
                    .expect("opening")
                    .commitment
            })
            .collect();
        build_sidecar(blobs, commitments, kind).expect("sidecar")
    }

    #[test]
    fn blob_proof_sidecar_validates() {
        let sidecar = sidecar_of(SidecarKind::Eip4844);
        let hashes: Vec<B256> = sidecar.versioned_hashes().collect();
        assert!(sidecar.is_eip4844());
        sidecar
            .validate(&hashes, da_kzg::settings())
            .expect("blob proofs verify");
    }

    #[test]
    fn cell_proof_sidecar_validates() {
        let sidecar = sidecar_of(SidecarKind::Eip7594);
        let hashes: Vec<B256> = sidecar.versioned_hashes().collect();
        let cell_proofs = sidecar
            .as_eip7594()
            .expect("cell proof sidecar")
            .cell_proofs
            .len();
        assert_eq!(cell_proofs, 2 * 128);
        sidecar
            .validate(&hashes, da_kzg::settings())
            .expect("cell proofs verify");
    }

    #[test]
    fn opening_verifies_at_point() {
        let blob = test_blob(3);
        let x0 = B256::from(alloy::primitives::U256::from(12_345));
        let opening = open_blob(&blob, x0, 1).expect("opening");
        let verified = da_kzg::verify_point_proof(
            &opening.commitment.0,
            &x0.0,
            &opening.evaluation.0,
            &opening.proof.0,
        )
        .expect("verification runs");
        assert!(verified, "proof at x0 verifies against the commitment");
    }

    #[test]
    fn parse_blob_hex_rejects_short_input() {
        let error = parse_blob_hex("0x00ff", 2).expect_err("short blob");
        assert!(error.to_string().contains("blob 2"), "{error}");
        assert!(error.to_string().contains("got 4"), "{error}");
    }

    #[test]
    fn open_blob_rejects_element_above_modulus() {
        let mut bytes = [0u8; BYTES_PER_BLOB];
        bytes[32..64].fill(0xff);
        let error = open_blob(&Blob::from(bytes), B256::ZERO, 3).expect_err("element >= modulus");
        assert!(
            matches!(error, BlobError::InvalidBlob { index: 3, .. }),
            "{error}"
        );
    }
}
