//! Subcommands that drive block workflows: setup, start, status, retry, pause, resume.

use anyhow::Context;
use orchestrator_starter::ops::{self, StartOutcome};
use orchestrator_starter::status;
use orchestrator_starter::wait::{self, Display, WaitOutcome};
use orchestrator_workflows::types::{BlockProgress, PipelineSettings, Stage, block_workflow_id};
use std::io::IsTerminal;
use std::path::PathBuf;
use temporalio_client::WorkflowCountOptions;

/// Options shared by the block subcommands.
#[derive(Debug, clap::Args)]
pub struct ChainArgs {
    /// Chain id of the appchain; part of every workflow id.
    #[arg(long, env = "ORCHESTRATOR_CHAIN_ID", default_value = "devnet")]
    pub chain_id: String,
}

/// `orchestrator start`.
#[derive(Debug, clap::Args)]
pub struct StartArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Block number or inclusive range, for example `7` or `1..5`.
    pub blocks: String,
    /// JSON file with pipeline settings (retry policies, poll intervals, deadlines); missing
    /// fields keep their defaults.
    #[arg(long, env = "ORCHESTRATOR_PIPELINE_SETTINGS")]
    pub settings: Option<PathBuf>,
    /// Maximum settlement transactions sent and not yet confirmed.
    #[arg(long, env = "ORCHESTRATOR_MAX_IN_FLIGHT", default_value_t = 4)]
    pub max_in_flight: u32,
    /// Wait until every block is settled, showing progress. The default when stdout is a
    /// terminal; Ctrl-C stops waiting and leaves the workflows running.
    #[arg(long, conflicts_with = "no_wait")]
    pub wait: bool,
    /// Return as soon as the blocks are started. The default when stdout is not a terminal.
    #[arg(long)]
    pub no_wait: bool,
}

/// `orchestrator status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Block number or inclusive range; without it, a summary of the chain.
    pub blocks: Option<String>,
    /// Print JSON instead of a table: for blocks, one array with an object per block.
    #[arg(long)]
    pub json: bool,
}

/// `orchestrator retry`.
#[derive(Debug, clap::Args)]
pub struct RetryArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// Failed block to re-run from its failed stage.
    pub block: u64,
    /// JSON file with pipeline settings for the new run.
    #[arg(long, env = "ORCHESTRATOR_PIPELINE_SETTINGS")]
    pub settings: Option<PathBuf>,
}

/// Reads pipeline settings from a JSON file, or the defaults.
pub fn load_settings(path: Option<&PathBuf>) -> anyhow::Result<PipelineSettings> {
    let Some(path) = path else {
        return Ok(PipelineSettings::default());
    };
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read pipeline settings {}", path.display()))?;
    let mut value = serde_json::to_value(PipelineSettings::default())?;
    let overrides: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("invalid JSON in pipeline settings {}", path.display()))?;
    merge(&mut value, overrides);
    serde_json::from_value(value).with_context(|| {
        format!(
            "invalid pipeline settings in {}; see PipelineSettings in the README",
            path.display()
        )
    })
}

fn merge(base: &mut serde_json::Value, overrides: serde_json::Value) {
    match (base, overrides) {
        (serde_json::Value::Object(base), serde_json::Value::Object(overrides)) => {
            for (key, value) in overrides {
                merge(base.entry(key).or_insert(serde_json::Value::Null), value);
            }
        }
        (base, value) => *base = value,
    }
}

/// Creates the search attributes.
pub async fn setup() -> anyhow::Result<()> {
    let client = ops::connect().await?;
    let created = ops::setup_search_attributes(&client).await?;
    if created.is_empty() {
        println!("search attributes already exist: ChainId, BlockNumber, PipelineStage");
    } else {
        println!("created search attributes: {}", created.join(", "));
    }
    Ok(())
}

/// Starts block workflows for a range, never twice for the same block, then waits for them to
/// settle when asked to or when stdout is a terminal.
pub async fn start(args: StartArgs) -> anyhow::Result<()> {
    let range = ops::parse_block_range(&args.blocks)?;
    let settings = load_settings(args.settings.as_ref())?;
    let client = ops::connect().await?;
    let chain = &args.chain.chain_id;
    ops::ensure_sequencer(&client, chain, args.max_in_flight).await?;
    let (mut started, mut running, mut done) = (0, 0, 0);
    for block in range.clone() {
        match ops::start_block(&client, chain, block, &settings, BlockProgress::default()).await? {
            StartOutcome::Started => started += 1,
            StartOutcome::AlreadyRunning => running += 1,
            StartOutcome::AlreadyDone => done += 1,
        }
    }
    println!("chain {chain}: started {started}, already running {running}, already done {done}");

    let terminal = std::io::stdout().is_terminal();
    let wait = args.wait || (terminal && !args.no_wait);
    if !wait {
        return Ok(());
    }
    let display = if terminal && std::io::stderr().is_terminal() {
        Display::Bar
    } else {
        Display::Lines
    };
    let (first, last) = (*range.start(), *range.end());
    if wait::wait_for_settlement(&client, chain, range, display).await? == WaitOutcome::Interrupted
    {
        eprintln!(
            "stopped waiting; the block workflows keep running. \
             `orchestrator status {first}..{last}` shows where they are"
        );
        std::process::exit(INTERRUPTED_EXIT_CODE);
    }
    Ok(())
}

/// Exit code after Ctrl-C, as shells report a process stopped by SIGINT.
const INTERRUPTED_EXIT_CODE: i32 = 130;

/// Prints block status as a table or JSON.
///
/// Every block gets a row, even one that cannot be read; the command then fails after
/// printing, so scripts notice.
pub async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let range = args.blocks.as_deref().map(ops::parse_block_range).transpose()?;
    let client = ops::connect().await?;
    let chain = &args.chain.chain_id;
    let Some(range) = range else {
        return chain_summary(&client, chain, args.json).await;
    };
    let rows = status::collect_rows(&client, chain, range).await;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        let width = console::Term::stdout()
            .size_checked()
            .map(|(_rows, columns)| usize::from(columns));
        print!("{}", status::render_table(&rows, width));
    }
    let unreadable: Vec<String> = rows
        .iter()
        .filter(|row| row.error.is_some())
        .map(|row| row.block_number.to_string())
        .collect();
    if !unreadable.is_empty() {
        anyhow::bail!(
            "failed to read the status of block(s) {}; their LAST ERROR column says why and what to do",
            unreadable.join(", ")
        );
    }
    Ok(())
}

async fn chain_summary(
    client: &temporalio_client::Client,
    chain: &str,
    json: bool,
) -> anyhow::Result<()> {
    let mut counts = Vec::new();
    for stage in [
        Stage::Pending,
        Stage::DataAvailability,
        Stage::Snos,
        Stage::Proving,
        Stage::WaitingForSettlementTurn,
        Stage::Settlement,
        Stage::Settled,
        Stage::Failed,
    ] {
        let query = format!(
            "WorkflowType = 'BlockWorkflow' AND ChainId = '{chain}' AND PipelineStage = '{}'",
            stage.as_str()
        );
        let count = client
            .count_workflows(query, WorkflowCountOptions::default())
            .await
            .context("failed to count block workflows")?
            .count();
        counts.push((stage.as_str(), count));
    }
    let sequencer = ops::sequencer_status(client, chain).await.ok();
    let follower = orchestrator_starter::follow::follower_status(client, chain).await.ok();
    if json {
        let counts: serde_json::Map<String, serde_json::Value> = counts
            .iter()
            .map(|(stage, count)| (stage.to_string(), serde_json::json!(count)))
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({
                    "chain_id": chain,
                    "blocks_by_stage": counts,
                    "sequencer": sequencer,
                    "follower": follower,
                })
            )?
        );
        return Ok(());
    }
    println!("chain {chain}");
    for (stage, count) in counts {
        println!("  {stage:<26} {count}");
    }
    match sequencer {
        Some(s) => println!(
            "settlement: next block {}, last settled {}, in flight {:?}, waiting {:?}{}",
            s.next_block.map_or("-".to_string(), |b| b.to_string()),
            s.last_settled.map_or("-".to_string(), |b| b.to_string()),
            s.in_flight,
            s.ready,
            if s.paused {
                ", PAUSED (orchestrator resume)"
            } else {
                ""
            }
        ),
        None => println!("settlement: sequencer not running; `orchestrator start` starts it"),
    }
    match follower {
        Some(status) => println!("{}", crate::follow_cli::describe(&status)),
        None => println!("follower: not running; `orchestrator follow` starts it"),
    }
    Ok(())
}

/// Re-runs a failed block from its failed stage and prints which runs changed.
pub async fn retry(args: RetryArgs) -> anyhow::Result<()> {
    let settings = load_settings(args.settings.as_ref())?;
    let client = ops::connect().await?;
    let chain = &args.chain.chain_id;
    let retried = ops::retry_block_run(&client, chain, args.block, &settings).await?;
    let failed = &retried.failed;
    let kept: Vec<&str> = [
        failed.progress.da.as_ref().map(|_| "DataAvailability"),
        failed.progress.snos.as_ref().map(|_| "Snos"),
        failed.progress.proof.as_ref().map(|_| "Proving"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let workflow_id = block_workflow_id(chain, args.block);
    println!(
        "block {}: workflow {workflow_id} run {} started from {}, replacing failed run {}",
        args.block,
        retried.new_run_id.as_deref().unwrap_or("(unknown)"),
        failed.failed_stage.map_or("the start", |s| s.as_str()),
        retried.failed_run_id.as_deref().unwrap_or("(unknown)"),
    );
    println!(
        "  failed with: {}",
        failed
            .last_error
            .as_deref()
            .unwrap_or("(no error recorded)")
    );
    println!(
        "  kept outputs of: {}",
        if kept.is_empty() {
            "nothing".to_string()
        } else {
            kept.join(", ")
        }
    );
    Ok(())
}

/// Pauses or resumes settlement of a chain and prints the sequencer's state before and after.
pub async fn set_paused(chain: ChainArgs, paused: bool) -> anyhow::Result<()> {
    let client = ops::connect().await?;
    let chain_id = &chain.chain_id;
    let change = ops::change_paused(&client, chain_id, paused).await?;
    let state = |paused: bool| if paused { "paused" } else { "running" };
    let before = change
        .before
        .as_ref()
        .map_or("unknown", |s| state(s.paused));
    let after = change.after.as_ref().map_or("unknown", |s| state(s.paused));
    println!(
        "settlement sequencer {} (run {}) of chain {chain_id}: {before} -> {after}",
        change.workflow_id,
        change.run_id.as_deref().unwrap_or("(unknown)")
    );
    if change.before.as_ref().is_some_and(|s| s.paused == paused) {
        println!("  it was already {}; nothing changed", state(paused));
    }
    match &change.after {
        Some(status) => println!(
            "  next block to send {}, last settled {}, in flight {:?}, waiting for a turn {:?}",
            status.next_block.map_or("-".to_string(), |b| b.to_string()),
            status
                .last_settled
                .map_or("-".to_string(), |b| b.to_string()),
            status.in_flight,
            status.ready
        ),
        None => println!(
            "  the signal was sent, but the sequencer's status query did not confirm it within 5 s; \
             check that an orchestrator-worker is running, then run `orchestrator status`"
        ),
    }
    if paused {
        println!(
            "  no new L1 transactions until `orchestrator resume`; transactions already sent still confirm"
        );
    }
    Ok(())
}
