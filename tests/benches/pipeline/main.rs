//! Benchmark of the whole pipeline on the local stack: per-block overhead, backlog
//! throughput with 1, 2 and 4 worker processes, worker memory, history size, and the DA
//! transform against the KZG commitment.
//!
//! Run `cargo build --workspace --release --locked` first (the runs start the release
//! `orchestrator-worker`), then `cargo bench --workspace --locked --bench pipeline`; pass
//! flags after `--` (`-- --help` lists them). It prints a table and writes JSON to
//! `docs/benchmarks.json`. Every server listens on 127.0.0.1. docs/benchmarks.md explains
//! the figures.

mod da;
mod measure;
mod stack;

use anyhow::{Context, bail};
use clap::Parser;
use futures::{StreamExt, TryStreamExt};
use measure::{HistorySummary, Summary, measure_histories, rss_mib};
use orchestrator_starter::ops::{self, StartOutcome};
use orchestrator_tests::chains::{Devnet, devnet_bin};
use orchestrator_tests::workspace_root;
use orchestrator_workflows::BlockWorkflow;
use orchestrator_workflows::types::{
    BlockProgress, BlockStatus, PipelineSettings, Stage, block_workflow_id,
};
use serde::Serialize;
use serde_json::json;
use stack::{L1Params, L1Stack, Temporal, WorkerProcess, WorkerSpec};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use temporalio_client::{Client, WorkflowGetResultOptions};

/// Benchmark settings.
#[derive(Debug, Parser)]
#[command(about = "Benchmark the pipeline on the local stack")]
struct Args {
    /// JSON output file; a relative path is taken from the workspace root, because `cargo
    /// bench` runs the benchmark in tests/.
    #[arg(
        long,
        env = "ORCHESTRATOR_BENCH_OUTPUT",
        default_value = "docs/benchmarks.json"
    )]
    output: PathBuf,
    /// Blocks settled one at a time for the overhead figures; 0 skips the run.
    #[arg(long, default_value_t = 50)]
    overhead_blocks: u64,
    /// Blocks settled one at a time with the default (production) pipeline settings; 0 skips
    /// the run.
    #[arg(long, default_value_t = 3)]
    default_settings_blocks: u64,
    /// Blocks started at once in each backlog run; 0 skips the backlog runs.
    #[arg(long, default_value_t = 500)]
    backlog_blocks: u64,
    /// Blocks of the backlog runs with more than one worker; defaults to `--backlog-blocks`.
    #[arg(long)]
    multi_worker_blocks: Option<u64>,
    /// Worker process counts of the backlog runs, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2,4")]
    workers: Vec<usize>,
    /// Values of the sequencer's `max_in_flight` for the backlog runs, comma-separated; each
    /// runs with every worker count.
    #[arg(long, value_delimiter = ',', default_value = "1")]
    max_in_flight: Vec<u32>,
    /// Anvil's interval mining period, in seconds.
    #[arg(long, default_value_t = 1)]
    anvil_block_time_secs: u64,
    /// Whether anvil also mines each transaction at once (`--mixed-mining`).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    mixed_mining: bool,
    /// L1 blocks on top of the including block before a settlement counts as confirmed.
    #[arg(long, default_value_t = 1)]
    confirmations: u64,
    /// Maximum time of one run, in seconds.
    #[arg(long, default_value_t = 3_600)]
    run_timeout_secs: u64,
    /// The `orchestrator-worker` binary; defaults to the one next to this benchmark's folder
    /// in the release target directory.
    #[arg(long, env = "ORCHESTRATOR_WORKER_BIN")]
    worker_bin: Option<PathBuf>,
    /// Folder for logs, the Temporal database and artifacts; kept after the run. Defaults to
    /// a temporary folder that is deleted.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Flag that `cargo bench` passes to every benchmark; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// Pipeline settings of the timed runs: the shortest intervals the settings allow, as in
/// `scripts/local-settings.json` but with 1 s polls.
fn bench_settings() -> PipelineSettings {
    let mut settings = PipelineSettings::default();
    for stage in [
        &mut settings.data_availability,
        &mut settings.snos,
        &mut settings.proving.activity,
        &mut settings.settlement.activity,
    ] {
        stage.initial_retry_interval_ms = 200;
        stage.max_retry_interval_secs = 2;
    }
    settings.proving.poll_interval_secs = 1;
    settings.proving.deadline_secs = 600;
    settings.settlement.confirm_poll_interval_secs = 1;
    settings.settlement.fee_cap_poll_interval_secs = 10;
    settings.settlement.stuck_timeout_secs = 60;
    settings
}

/// Shared parts of every run.
struct Bench {
    args: Args,
    l1: L1Params,
    temporal: Temporal,
    devnet: Devnet,
    worker_bin: PathBuf,
    work_dir: PathBuf,
}

impl Bench {
    fn client(&self) -> &Client {
        self.temporal.env.client()
    }

    /// Starts an L1 stack and `workers` worker processes for chain `chain_id`.
    async fn start_run(
        &self,
        chain_id: &str,
        workers: usize,
    ) -> anyhow::Result<(L1Stack, Vec<WorkerProcess>)> {
        let source = orchestrator_activities::source::BlockSource::new(
            self.devnet.url.clone(),
            Duration::from_secs(10),
        );
        let l1 = L1Stack::start(&self.l1, &source).await?;
        let artifact_store = format!("file://{}", self.work_dir.join("artifacts").display());
        let spec = WorkerSpec {
            binary: &self.worker_bin,
            temporal_address: &self.temporal.address,
            chain_id,
            devnet_url: &self.devnet.url,
            l1: &l1,
            confirmations: self.l1.confirmations,
            artifact_store: &artifact_store,
            log_dir: &self.work_dir,
        };
        let mut processes = Vec::new();
        for index in 0..workers {
            processes.push(WorkerProcess::spawn(&spec, index).await?);
        }
        Ok((l1, processes))
    }

    /// Waits for block `block`'s workflow result, failing when a worker exits or `deadline`
    /// passes.
    async fn wait_for_block(
        &self,
        chain_id: &str,
        block: u64,
        workers: &mut [WorkerProcess],
        deadline: Instant,
    ) -> anyhow::Result<BlockStatus> {
        let handle = self
            .client()
            .get_workflow_handle::<BlockWorkflow>(block_workflow_id(chain_id, block));
        loop {
            let result = tokio::time::timeout(
                Duration::from_secs(5),
                handle.get_result(WorkflowGetResultOptions::default()),
            )
            .await;
            match result {
                Ok(Ok(status)) => return Ok(status),
                Ok(Err(error)) => bail!("block {block} of chain {chain_id} failed: {error}"),
                Err(_) => {
                    for worker in workers.iter_mut() {
                        worker.check_running()?;
                    }
                    if Instant::now() > deadline {
                        bail!(
                            "block {block} of chain {chain_id} did not settle within {} s; \
                             raise --run-timeout-secs or see the worker logs in {}",
                            self.args.run_timeout_secs,
                            self.work_dir.display()
                        );
                    }
                }
            }
        }
    }
}

/// Unix time in milliseconds.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|duration| duration.as_millis() as u64)
        .unwrap_or(0)
}

/// Time from a block's start to its result, split by stage.
#[derive(Debug, Clone, Serialize)]
struct BlockTiming {
    block: u64,
    total_s: f64,
    /// Seconds per part: `start` (start request to the first stage), each stage by name, and
    /// `result` (end of the last stage to the result reaching the client).
    parts: BTreeMap<String, f64>,
}

fn block_timing(
    block: u64,
    started_ms: u64,
    finished_ms: u64,
    status: &BlockStatus,
) -> BlockTiming {
    let mut parts = BTreeMap::new();
    let seconds = |from: u64, to: u64| to.saturating_sub(from) as f64 / 1e3;
    if let Some(first) = status.timings.first() {
        parts.insert("start".to_string(), seconds(started_ms, first.started_ms));
    }
    for timing in &status.timings {
        let end = timing.finished_ms.unwrap_or(finished_ms);
        *parts.entry(timing.stage.as_str().to_string()).or_default() +=
            seconds(timing.started_ms, end);
    }
    if let Some(last) = status.timings.last().and_then(|timing| timing.finished_ms) {
        parts.insert("result".to_string(), seconds(last, finished_ms));
    }
    BlockTiming {
        block,
        total_s: seconds(started_ms, finished_ms),
        parts,
    }
}

/// Figures of a run that settles blocks one at a time.
#[derive(Debug, Clone, Serialize)]
struct SequentialRun {
    chain_id: String,
    blocks: u64,
    total: Summary,
    parts: BTreeMap<String, Summary>,
    history: HistorySummary,
    per_block: Vec<BlockTiming>,
}

/// Starts blocks 1..=`blocks` one after the other, each after the previous one settled.
async fn run_sequential(
    bench: &Bench,
    chain_id: &str,
    blocks: u64,
    settings: &PipelineSettings,
) -> anyhow::Result<SequentialRun> {
    println!("{chain_id}: settling {blocks} blocks one at a time");
    let (l1, mut workers) = bench.start_run(chain_id, 1).await?;
    let deadline = Instant::now() + Duration::from_secs(bench.args.run_timeout_secs);
    ops::ensure_sequencer(bench.client(), chain_id, 1).await?;
    let mut per_block = Vec::new();
    for block in 1..=blocks {
        let started_ms = now_ms();
        let outcome = ops::start_block(
            bench.client(),
            chain_id,
            block,
            settings,
            BlockProgress::default(),
        )
        .await?;
        if outcome != StartOutcome::Started {
            bail!("block {block} of chain {chain_id} was not started: {outcome:?}");
        }
        let status = bench
            .wait_for_block(chain_id, block, &mut workers, deadline)
            .await?;
        let timing = block_timing(block, started_ms, now_ms(), &status);
        println!("  block {block:>3}: {:.2} s", timing.total_s);
        per_block.push(timing);
    }
    drop(workers);
    l1.stop().await;

    let history =
        HistorySummary::of(&measure_histories(bench.client(), chain_id, 1..=blocks).await?);
    let totals: Vec<f64> = per_block.iter().map(|timing| timing.total_s).collect();
    let mut by_part: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for timing in &per_block {
        for (part, seconds) in &timing.parts {
            by_part.entry(part.clone()).or_default().push(*seconds);
        }
    }
    Ok(SequentialRun {
        chain_id: chain_id.to_string(),
        blocks,
        total: Summary::of(&totals),
        parts: by_part
            .iter()
            .map(|(part, values)| (part.clone(), Summary::of(values)))
            .collect(),
        history,
        per_block,
    })
}

/// Worker memory at one point of a backlog run.
#[derive(Debug, Clone, Serialize)]
struct RssSample {
    /// Blocks settled when the sample was taken.
    settled: u64,
    /// RSS of each worker process, in MiB.
    per_worker_mb: Vec<f64>,
}

/// Figures of one backlog run.
#[derive(Debug, Clone, Serialize)]
struct BacklogRun {
    chain_id: String,
    workers: usize,
    max_in_flight: u32,
    blocks: u64,
    /// Seconds to start every workflow.
    start_s: f64,
    /// Seconds from the first start request to the last block's result.
    total_s: f64,
    blocks_per_s: f64,
    rss: Vec<RssSample>,
    history: HistorySummary,
}

fn sample_rss(workers: &[WorkerProcess], settled: u64) -> anyhow::Result<RssSample> {
    let per_worker_mb = workers
        .iter()
        .map(|worker| rss_mib(worker.pid))
        .collect::<anyhow::Result<Vec<f64>>>()?;
    Ok(RssSample {
        settled,
        per_worker_mb,
    })
}

/// Starts blocks 1..=`blocks` at once and waits until all are settled.
async fn run_backlog(
    bench: &Bench,
    blocks: u64,
    workers: usize,
    max_in_flight: u32,
) -> anyhow::Result<BacklogRun> {
    let chain_id = format!("bench-backlog-w{workers}-f{max_in_flight}");
    println!(
        "{chain_id}: {blocks} blocks at once, {workers} worker processes, max_in_flight \
         {max_in_flight}"
    );
    let (l1, mut processes) = bench.start_run(&chain_id, workers).await?;
    let mut rss = vec![sample_rss(&processes, 0)?];
    ops::ensure_sequencer(bench.client(), &chain_id, max_in_flight).await?;
    let settings = bench_settings();
    let first_start = Instant::now();
    let deadline = first_start + Duration::from_secs(bench.args.run_timeout_secs);
    let outcomes: Vec<(u64, StartOutcome)> = futures::stream::iter(1..=blocks)
        .map(|block| {
            let chain_id = &chain_id;
            let settings = &settings;
            async move {
                let outcome = ops::start_block(
                    bench.client(),
                    chain_id,
                    block,
                    settings,
                    BlockProgress::default(),
                )
                .await?;
                Ok::<_, anyhow::Error>((block, outcome))
            }
        })
        .buffer_unordered(16)
        .try_collect()
        .await?;
    if let Some((block, outcome)) = outcomes
        .iter()
        .find(|(_, outcome)| *outcome != StartOutcome::Started)
    {
        bail!("block {block} of chain {chain_id} was not started: {outcome:?}");
    }
    let start_s = first_start.elapsed().as_secs_f64();

    // Settlement is in block order, so the results arrive about in order too.
    for block in 1..=blocks {
        bench
            .wait_for_block(&chain_id, block, &mut processes, deadline)
            .await?;
        if block % 50 == 0 {
            println!(
                "  {block} settled after {:.1} s",
                first_start.elapsed().as_secs_f64()
            );
        }
        if block == 100 || block == blocks {
            rss.push(sample_rss(&processes, block)?);
        }
    }
    let total_s = first_start.elapsed().as_secs_f64();
    drop(processes);
    l1.stop().await;

    let history =
        HistorySummary::of(&measure_histories(bench.client(), &chain_id, 1..=blocks).await?);
    Ok(BacklogRun {
        chain_id,
        workers,
        max_in_flight,
        blocks,
        start_s,
        total_s,
        blocks_per_s: blocks as f64 / total_s,
        rss,
        history,
    })
}

/// Returns the release `orchestrator-worker` next to the folder of this benchmark binary
/// (`target/release/deps/`).
fn default_worker_bin() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe().context("failed to locate the benchmark binary")?;
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .with_context(|| format!("{} has no grandparent folder", exe.display()))?;
    Ok(profile_dir.join("orchestrator-worker"))
}

fn machine() -> serde_json::Value {
    let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|line| line.starts_with("model name"))
                .and_then(|line| line.split_once(':'))
                .map(|(_, model)| model.trim().to_string())
        })
        .unwrap_or_default();
    let memory_total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|info| info.lines().next().map(|line| line.to_string()))
        .unwrap_or_default();
    json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "cpu_model": cpu_model,
        "memory": memory_total,
        "kernel": std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .unwrap_or_default()
            .trim(),
    })
}

/// Returns the commit of the benchmarked source, with `-dirty` when files differ from it.
fn source_commit() -> String {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(workspace_root())
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .and_then(|output| String::from_utf8(output.stdout).ok())
    };
    let Some(commit) = git(&["rev-parse", "HEAD"]) else {
        return "unknown".to_string();
    };
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"])
        .is_some_and(|changes| !changes.trim().is_empty());
    format!("{}{}", commit.trim(), if dirty { "-dirty" } else { "" })
}

fn utc_date() -> String {
    std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|date| date.trim().to_string())
        .unwrap_or_default()
}

fn print_sequential(name: &str, run: &SequentialRun) {
    println!("\n{name}: {} blocks one at a time (seconds)", run.blocks);
    println!(
        "{:<26} {:>7} {:>7} {:>7} {:>7}",
        "part", "p50", "p90", "max", "mean"
    );
    let stage_order = [
        "start",
        Stage::DataAvailability.as_str(),
        Stage::Snos.as_str(),
        Stage::Proving.as_str(),
        Stage::WaitingForSettlementTurn.as_str(),
        Stage::Settlement.as_str(),
        "result",
    ];
    let mut rows: Vec<(&str, &Summary)> = stage_order
        .iter()
        .filter_map(|part| run.parts.get(*part).map(|summary| (*part, summary)))
        .collect();
    rows.push(("total", &run.total));
    for (part, summary) in rows {
        println!(
            "{part:<26} {:>7.3} {:>7.3} {:>7.3} {:>7.3}",
            summary.p50, summary.p90, summary.max, summary.mean
        );
    }
    print_history(&run.history);
}

fn print_history(history: &HistorySummary) {
    println!(
        "history per block: {:.1} events (max {}), {:.0} bytes (max {}), {:.1} timers",
        history.events_mean,
        history.events_max,
        history.bytes_mean,
        history.bytes_max,
        history.timers_mean
    );
    let parts: Vec<String> = history
        .mean_seconds
        .iter()
        .map(|(part, seconds)| format!("{part} {seconds:.3}"))
        .collect();
    println!("mean seconds per block: {}", parts.join(", "));
    let event_types: Vec<String> = history
        .event_types_mean
        .iter()
        .map(|(event_type, events)| {
            let name = event_type.trim_start_matches("EVENT_TYPE_").to_lowercase();
            format!("{name} {events:.1}")
        })
        .collect();
    println!("mean events per block by type: {}", event_types.join(", "));
}

fn print_backlog(runs: &[Result<BacklogRun, String>]) {
    println!("\nbacklog runs");
    println!(
        "{:>7} {:>13} {:>7} {:>9} {:>10}  RSS MiB per worker (settled blocks)",
        "workers", "max_in_flight", "blocks", "seconds", "blocks/s"
    );
    for run in runs {
        match run {
            Ok(run) => {
                let rss: Vec<String> = run
                    .rss
                    .iter()
                    .map(|sample| {
                        let values: Vec<String> = sample
                            .per_worker_mb
                            .iter()
                            .map(|mb| format!("{mb:.0}"))
                            .collect();
                        format!("{} ({})", values.join("/"), sample.settled)
                    })
                    .collect();
                println!(
                    "{:>7} {:>13} {:>7} {:>9.1} {:>10.3}  {}",
                    run.workers,
                    run.max_in_flight,
                    run.blocks,
                    run.total_s,
                    run.blocks_per_s,
                    rss.join(", ")
                );
            }
            Err(error) => println!("failed: {error}"),
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let output = if args.output.is_absolute() {
        args.output.clone()
    } else {
        workspace_root().join(&args.output)
    };
    let worker_bin = match &args.worker_bin {
        Some(path) => path.clone(),
        None => default_worker_bin()?,
    };
    if !worker_bin.exists() {
        bail!(
            "worker binary {} not found; build it with `cargo build --workspace --release \
             --locked` or set ORCHESTRATOR_WORKER_BIN",
            worker_bin.display()
        );
    }
    devnet_bin();

    println!("DA: felts to blob against the KZG commitment");
    let da = da::measure()?;
    println!(
        "  transform {:.3} ms, commitment {:.3} ms, ratio {:.4}",
        da.ntt_ms, da.commitment_ms, da.ntt_over_commitment
    );

    let temp_dir = tempfile::tempdir()?;
    let work_dir = match &args.work_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create {}", dir.display()))?;
            dir.clone()
        }
        None => temp_dir.path().to_path_buf(),
    };
    let temporal = Temporal::start(&work_dir.join("temporal.sqlite")).await?;
    let devnet = Devnet::spawn(42, 0, &work_dir.join("devnet.log")).await?;
    let needed = args
        .overhead_blocks
        .max(args.default_settings_blocks)
        .max(args.backlog_blocks)
        .max(args.multi_worker_blocks.unwrap_or(0));
    let created = Instant::now();
    stack::create_blocks(&devnet, needed).await?;
    println!(
        "devnet: {needed} blocks created in {:.1} s",
        created.elapsed().as_secs_f64()
    );
    let l1 = L1Params {
        block_time_secs: args.anvil_block_time_secs,
        mixed_mining: args.mixed_mining,
        confirmations: args.confirmations,
    };
    let bench = Bench {
        args,
        l1,
        temporal,
        devnet,
        worker_bin,
        work_dir,
    };

    let overhead = if bench.args.overhead_blocks > 0 {
        Some(
            run_sequential(
                &bench,
                "bench-overhead",
                bench.args.overhead_blocks,
                &bench_settings(),
            )
            .await?,
        )
    } else {
        None
    };
    let defaults = if bench.args.default_settings_blocks > 0 {
        Some(
            run_sequential(
                &bench,
                "bench-default-settings",
                bench.args.default_settings_blocks,
                &PipelineSettings::default(),
            )
            .await?,
        )
    } else {
        None
    };

    let mut backlog: Vec<Result<BacklogRun, String>> = Vec::new();
    if bench.args.backlog_blocks > 0 {
        for &max_in_flight in &bench.args.max_in_flight {
            for &workers in &bench.args.workers {
                let blocks = match bench.args.multi_worker_blocks {
                    Some(blocks) if workers > 1 => blocks,
                    _ => bench.args.backlog_blocks,
                };
                if blocks == 0 || workers == 0 {
                    continue;
                }
                let run = run_backlog(&bench, blocks, workers, max_in_flight).await;
                if let Err(error) = &run {
                    eprintln!("backlog run with {workers} workers failed: {error:#}");
                }
                backlog.push(run.map_err(|error| {
                    format!("{workers} workers, max_in_flight {max_in_flight}: {error:#}")
                }));
            }
        }
    }

    if let Some(run) = &overhead {
        print_sequential("overhead, bench settings", run);
    }
    if let Some(run) = &defaults {
        print_sequential("overhead, default settings", run);
    }
    print_backlog(&backlog);
    let first_backlog = backlog.iter().find_map(|run| run.as_ref().ok());
    if let Some(run) = first_backlog {
        print_history(&run.history);
    }
    println!(
        "\nDA per blob: transform {:.3} ms, commitment {:.3} ms, ratio {:.4}",
        da.ntt_ms, da.commitment_ms, da.ntt_over_commitment
    );

    let report = report_json(&bench, overhead.as_ref(), defaults.as_ref(), &backlog, &da);
    if let Some(parent) = output.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(&output, serde_json::to_string_pretty(&report)? + "\n")
        .with_context(|| format!("failed to write {}", output.display()))?;
    println!("wrote {}", output.display());

    drop(bench.devnet);
    bench.temporal.env.shutdown().await?;
    drop(temp_dir);
    Ok(())
}

/// Builds the JSON report. The headline figures come from the overhead run and from the
/// first successful backlog run with one worker.
fn report_json(
    bench: &Bench,
    overhead: Option<&SequentialRun>,
    defaults: Option<&SequentialRun>,
    backlog: &[Result<BacklogRun, String>],
    da: &da::DaFigures,
) -> serde_json::Value {
    let one_worker = backlog
        .iter()
        .filter_map(|run| run.as_ref().ok())
        .find(|run| run.workers == 1);
    let single_rss = |settled: u64| {
        one_worker.and_then(|run| {
            run.rss
                .iter()
                .find(|sample| sample.settled == settled)
                .and_then(|sample| sample.per_worker_mb.first().copied())
        })
    };
    let last = one_worker.map_or(0, |run| run.blocks);
    let rss_after_100 = single_rss(100);
    let rss_after_last = single_rss(last);
    let histories: Vec<&HistorySummary> = overhead
        .map(|run| &run.history)
        .into_iter()
        .chain(
            backlog
                .iter()
                .filter_map(|run| run.as_ref().ok())
                .map(|run| &run.history),
        )
        .collect();
    json!({
        "date": utc_date(),
        "commit": source_commit(),
        "machine": machine(),
        "settings": {
            "pipeline": bench_settings(),
            "l1": bench.l1,
            "local_prover_delays_ms": 0,
            "snos": "in-process SNOS stand-in program (cairo/snos_standin.json)",
            "temporal": "temporal server start-dev, SQLite file, journal_mode=wal, synchronous=normal",
            "worker": "orchestrator-worker release build, one process per worker",
        },
        "overhead_p50_s": overhead.map(|run| run.total.p50),
        "overhead_p90_s": overhead.map(|run| run.total.p90),
        "overhead_max_s": overhead.map(|run| run.total.max),
        "overhead": overhead,
        "default_settings_overhead": defaults,
        "backlog_blocks_per_s": one_worker.map(|run| run.blocks_per_s),
        "backlog": backlog.iter().map(|run| match run {
            Ok(run) => serde_json::to_value(run).unwrap_or_default(),
            Err(error) => json!({ "error": error }),
        }).collect::<Vec<_>>(),
        "rss_mb_at_start": single_rss(0),
        "rss_mb_after_100": rss_after_100,
        "rss_mb_after_500": rss_after_last,
        "rss_last_sample_blocks": last,
        "rss_growth_100_to_last_pct": rss_after_100
            .zip(rss_after_last)
            .map(|(at_100, at_last)| (at_last - at_100) / at_100 * 100.0),
        "history_events_max": histories.iter().map(|h| h.events_max).max(),
        "history_bytes_max": histories.iter().map(|h| h.bytes_max).max(),
        "history_events_mean": histories.first().map(|h| h.events_mean),
        "history_bytes_mean": histories.first().map(|h| h.bytes_mean),
        "ntt_over_commitment": da.ntt_over_commitment,
        "da": da,
    })
}
