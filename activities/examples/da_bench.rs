//! Prints timings of the DA pipeline: the blob transform against a c-kzg commitment of the
//! same blob, and encoding plus compression of 1000 Sepolia blocks.
//!
//! Run with `cargo run --release -p orchestrator-activities --example da_bench` on an otherwise
//! idle machine; debug builds are an order of magnitude slower. Reads the fixtures from
//! `$ORCHESTRATOR_FIXTURES` or `shared/fixtures` next to the workspace root.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use orchestrator_activities::da::felt::parse_felt_json_array;
use orchestrator_activities::da::state_update::{parse_state_update, parse_state_updates};
use orchestrator_activities::da::{DEFAULT_MAX_BLOBS, blob, encode, kzg, ntt, squash, stateless};

const ITERATIONS: usize = 20;

fn fixture(relative: &str) -> anyhow::Result<String> {
    let dir = match std::env::var_os("ORCHESTRATOR_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
    };
    let path = dir.join(relative);
    std::fs::read_to_string(&path).map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))
}

/// Runs `step` `ITERATIONS` times and returns the fastest run.
fn fastest(mut step: impl FnMut()) -> Duration {
    (0..ITERATIONS)
        .map(|_| {
            let start = Instant::now();
            step();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}

fn main() -> anyhow::Result<()> {
    let felts = parse_felt_json_array(
        &fixture("da-v2/9662264/stateless_compressed_state_update.json")?,
        "stateless fixture",
    )?;
    let chunk = &felts[..ntt::FIELD_ELEMENTS_PER_BLOB];
    let one_blob = blob::felts_to_blobs(chunk, 1)?.remove(0);

    let start = Instant::now();
    kzg::settings();
    println!(
        "trusted setup load: {:.0} ms (once per process)",
        millis(start.elapsed())
    );

    let transform = fastest(|| {
        blob::felts_to_blobs(chunk, 1).expect("one chunk fits one blob");
    });
    let inverse = fastest(|| {
        blob::blob_to_felts(&one_blob).expect("blob made from felts");
    });
    let commitment = fastest(|| {
        kzg::commitment(&one_blob).expect("valid blob");
    });
    println!(
        "felts -> blob (NTT, conversions): {:.3} ms",
        millis(transform)
    );
    println!(
        "blob -> felts (inverse NTT):      {:.3} ms",
        millis(inverse)
    );
    println!(
        "c-kzg commitment:                 {:.3} ms",
        millis(commitment)
    );
    println!(
        "NTT / commitment: {:.4} (target at most 0.1)",
        transform.as_secs_f64() / commitment.as_secs_f64()
    );

    let updates = parse_state_updates(&fixture("da-v2/9662264/state_updates.json")?)?;
    let stateful = parse_state_update(&fixture(
        "da-v2/9662264/stateful_compressed_state_update.json",
    )?)?;
    let merge = fastest(|| {
        squash::merge(&updates).expect("non-empty range");
    });
    let mut compressed_len = 0;
    let encode_and_compress = fastest(|| {
        let encoded = encode::encode_v2(&stateful.state_diff).expect("encodable diff");
        compressed_len = stateless::compress(&encoded).expect("short input").len();
    });
    let to_blobs = fastest(|| {
        blob::felts_to_blobs(&felts, DEFAULT_MAX_BLOBS).expect("two blobs");
    });
    println!("1000 blocks: merge {:.2} ms", millis(merge));
    println!(
        "1000 blocks: encode + stateless compression {:.2} ms ({compressed_len} felts)",
        millis(encode_and_compress)
    );
    println!("1000 blocks: felts -> 2 blobs {:.2} ms", millis(to_blobs));
    println!("fastest of {ITERATIONS} runs each");
    Ok(())
}
