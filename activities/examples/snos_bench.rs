//! Prints the memory and time of repeated in-process SNOS runs of the embedded stand-in, to
//! check that runs do not leak. It prints the resident set size (VmRSS of /proc/self/status)
//! before the first run, after a warm-up run, and after the measured runs. Growth past the
//! warm-up should stay under 10 %.
//!
//! Run with `cargo run -p orchestrator-activities --example snos_bench [RUNS]` (default 200
//! runs). Each run is one Sepolia-sized job: the 5120 compressed DA felts of 1000 Sepolia
//! blocks in two blobs, read from `$ORCHESTRATOR_FIXTURES` or `shared/fixtures` next to the
//! workspace root. Linux only, because it reads /proc.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use orchestrator_activities::da::felt::parse_felt_json_array;
use orchestrator_activities::snos::{
    DaInput, InProcessConfig, InProcessRunner, SnosJob, SnosRunOutput,
};
use starknet_types_core::felt::Felt;

const DEFAULT_RUNS: usize = 200;
const DA_FIXTURE: &str = "da-v2/9662264/stateless_compressed_state_update.json";

fn fixture(relative: &str) -> anyhow::Result<String> {
    let dir = match std::env::var_os("ORCHESTRATOR_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
    };
    let path = dir.join(relative);
    std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))
}

/// Returns the resident set size of this process in KiB.
fn rss_kib() -> anyhow::Result<u64> {
    let status = std::fs::read_to_string("/proc/self/status").context("cannot read /proc")?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .context("no VmRSS line in /proc/self/status")?;
    line.split_whitespace()
        .nth(1)
        .context("empty VmRSS line")?
        .parse()
        .context("VmRSS is not a number")
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() -> anyhow::Result<()> {
    let runs = match std::env::args().nth(1) {
        Some(text) => text.parse().context("RUNS must be a positive integer")?,
        None => DEFAULT_RUNS,
    };
    let rss_start = rss_kib()?;

    let felts = parse_felt_json_array(&fixture(DA_FIXTURE)?, "compressed DA felts")?;
    let job = SnosJob {
        chain_id: "SN_SEPOLIA".into(),
        block_number: 9_662_264,
        block_hash: Felt::from(0xb10cu32),
        prev_block_hash: Felt::from(0xb10bu32),
        prev_state_root: Felt::from(1u8),
        new_state_root: Felt::from(2u8),
        da: DaInput::from_felts(9_662_264, felts)?,
    };
    let runner = InProcessRunner::new(InProcessConfig::default())?;

    // The first run loads the KZG trusted setup and warms the allocator.
    let warm_up: SnosRunOutput = runner.run_blocking(&job)?;
    let rss_warm = rss_kib()?;

    let started = Instant::now();
    for _ in 0..runs {
        let output = runner.run_blocking(&job)?;
        anyhow::ensure!(
            output.program_output == warm_up.program_output,
            "a run produced another program output"
        );
    }
    let elapsed = started.elapsed();
    let rss_end = rss_kib()?;

    let growth = (rss_end as f64 - rss_warm as f64) / rss_warm as f64 * 100.0;
    println!(
        "job: {} DA felts, {} blobs, {} Cairo steps, PIE {} bytes",
        job.da.felts.len(),
        job.da.blobs.len(),
        warm_up.step_count,
        warm_up.pie_zip.len()
    );
    println!("RSS before the first run: {:.1} MiB", mib(rss_start));
    println!("RSS after the warm-up run: {:.1} MiB", mib(rss_warm));
    println!("RSS after {runs} runs: {:.1} MiB", mib(rss_end));
    println!("RSS growth over the runs: {growth:+.1} % (target: under 10 %)");
    println!(
        "time per run: {:.1} ms",
        elapsed.as_secs_f64() * 1e3 / runs.max(1) as f64
    );
    Ok(())
}
