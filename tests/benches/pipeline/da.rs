//! Time of the blob transform (felts as polynomial coefficients to evaluations: an NTT over
//! the BLS12-381 scalar field) against the c-kzg commitment of the same blob, through the DA
//! library.

use orchestrator_activities::da::{blob, kzg};
use serde::Serialize;
use starknet_types_core::felt::Felt;
use std::time::{Duration, Instant};

/// Runs of each step; the fastest one counts.
const RUNS: usize = 20;

/// Per-blob timings, in milliseconds.
#[derive(Debug, Clone, Serialize)]
pub struct DaFigures {
    /// Felts to one blob, fastest of [`RUNS`].
    pub ntt_ms: f64,
    /// c-kzg commitment of that blob, fastest of [`RUNS`].
    pub commitment_ms: f64,
    /// `ntt_ms / commitment_ms`.
    pub ntt_over_commitment: f64,
}

fn fastest(mut step: impl FnMut()) -> Duration {
    (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            step();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Returns one blob's worth of pseudo-random felts: 32 bytes of splitmix64 output per felt,
/// reduced modulo the Starknet prime.
fn full_width_felts() -> Vec<Felt> {
    let mut state: u64 = 0x5eed;
    let mut next = move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    (0..blob::BLOB_LEN)
        .map(|_| {
            let mut bytes = [0u8; 32];
            for chunk in bytes.chunks_exact_mut(8) {
                chunk.copy_from_slice(&next().to_be_bytes());
            }
            Felt::from_bytes_be(&bytes)
        })
        .collect()
}

/// Measures the transform and the commitment of one full blob.
pub fn measure() -> anyhow::Result<DaFigures> {
    let felts = full_width_felts();
    kzg::settings();
    let mut blobs = blob::felts_to_blobs(&felts, 1)?;
    let one_blob = blobs.remove(0);
    let mut failure = None;
    let transform = fastest(|| {
        if let Err(error) = blob::felts_to_blobs(&felts, 1) {
            failure = Some(error);
        }
    });
    let commitment = fastest(|| {
        if let Err(error) = kzg::commitment(&one_blob) {
            failure = Some(error);
        }
    });
    if let Some(error) = failure {
        return Err(error.into());
    }
    Ok(DaFigures {
        ntt_ms: transform.as_secs_f64() * 1e3,
        commitment_ms: commitment.as_secs_f64() * 1e3,
        ntt_over_commitment: transform.as_secs_f64() / commitment.as_secs_f64(),
    })
}
