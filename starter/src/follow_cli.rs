//! `orchestrator follow`: start the chain's block follower, show its position, pause or resume
//! it.

use crate::temporal_cli::{ChainArgs, load_settings};
use orchestrator_starter::follow::{self, FollowerStart};
use orchestrator_starter::ops;
use orchestrator_workflows::types::{FollowerInput, FollowerStatus, follower_workflow_id};
use std::path::PathBuf;

/// `orchestrator follow`.
#[derive(Debug, clap::Args)]
pub struct FollowArgs {
    #[command(flatten)]
    pub chain: ChainArgs,
    /// First block to start; by default the block after the last one settled on L1.
    #[arg(long)]
    pub from: Option<u64>,
    /// Last block to start; the follower finishes after starting it. By default it follows the
    /// node forever.
    #[arg(long)]
    pub to: Option<u64>,
    /// Maximum blocks started and not yet settled on L1.
    #[arg(long, env = "ORCHESTRATOR_FOLLOW_WINDOW", default_value_t = 32)]
    pub window: u64,
    /// Seconds between two polls of the node.
    #[arg(
        long,
        env = "ORCHESTRATOR_FOLLOW_POLL_INTERVAL_SECS",
        default_value_t = 5
    )]
    pub poll_interval_secs: u64,
    /// JSON file with pipeline settings for the blocks the follower starts.
    #[arg(long, env = "ORCHESTRATOR_PIPELINE_SETTINGS")]
    pub settings: Option<PathBuf>,
    /// Maximum settlement transactions sent and not yet confirmed, used if the chain's
    /// settlement sequencer is not running yet.
    #[arg(long, env = "ORCHESTRATOR_MAX_IN_FLIGHT", default_value_t = 4)]
    pub max_in_flight: u32,
    /// Pause the running follower instead of starting one: it starts no more blocks.
    #[arg(long, conflicts_with_all = ["resume", "show"])]
    pub pause: bool,
    /// Resume a paused follower, or one stopped by a chain mismatch (it checks again).
    #[arg(long, conflicts_with = "show")]
    pub resume: bool,
    /// Only print the follower's position.
    #[arg(long)]
    pub show: bool,
}

/// Runs `orchestrator follow`.
pub async fn run(args: FollowArgs) -> anyhow::Result<()> {
    let client = ops::connect().await?;
    let chain_id = args.chain.chain_id.clone();
    if args.pause || args.resume {
        follow::set_follower_paused(&client, &chain_id, args.pause).await?;
        println!(
            "sent {} to {}",
            if args.pause { "pause" } else { "resume" },
            follower_workflow_id(&chain_id)
        );
        return show(&client, &chain_id).await;
    }
    if args.show {
        return show(&client, &chain_id).await;
    }
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        anyhow::bail!("--from {from} is above --to {to}; give a range with from <= to");
    }
    let settings = load_settings(args.settings.as_ref())?;
    ops::ensure_sequencer(&client, &chain_id, args.max_in_flight).await?;
    let input = FollowerInput {
        chain_id: chain_id.clone(),
        settings,
        next_block: args.from,
        last_block: args.to,
        window: args.window.max(1),
        poll_interval_secs: args.poll_interval_secs.max(1),
        paused: false,
        parent: None,
        started_before: 0,
    };
    match follow::start_follower(&client, input).await? {
        FollowerStart::Started => println!(
            "started {}: polls the node every {} s, at most {} blocks unsettled",
            follower_workflow_id(&chain_id),
            args.poll_interval_secs.max(1),
            args.window.max(1)
        ),
        FollowerStart::AlreadyRunning => println!(
            "{} is already running and keeps its settings; use --pause/--resume, or \
             terminate it in the Web UI to start one with other settings",
            follower_workflow_id(&chain_id)
        ),
    }
    Ok(())
}

async fn show(client: &temporalio_client::Client, chain_id: &str) -> anyhow::Result<()> {
    // A signal just sent may not be applied yet: give the worker a moment.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let status = follow::follower_status(client, chain_id).await?;
    println!("{}", describe(&status));
    Ok(())
}

/// Formats the follower's position as one line, for `follow` and `status`.
pub fn describe(status: &FollowerStatus) -> String {
    let number = |value: Option<u64>| value.map_or_else(|| "-".to_string(), |v| v.to_string());
    let state = match (&status.stopped, status.paused) {
        (Some(reason), _) => format!("STOPPED: {reason}"),
        (None, true) => "paused".to_string(),
        (None, false) => "following".to_string(),
    };
    format!(
        "follower of {}: {state}; next block {}, node at {}, settled on L1 {}, lag {} blocks, \
         {} blocks started",
        status.chain_id,
        number(status.next_block),
        number(status.l2_latest),
        number(status.l1_settled),
        number(status.lag),
        status.started
    )
}
