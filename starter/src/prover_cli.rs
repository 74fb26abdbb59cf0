//! `orchestrator prover …` subcommands: run the local Atlantic-compatible prover, and submit
//! PIEs to or poll any Atlantic API.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use alloy::primitives::Address;
use anyhow::Context;
use orchestrator_activities::prover::atlantic::DEFAULT_REQUEST_TIMEOUT;
use orchestrator_activities::prover::local::{
    DEFAULT_IN_PROGRESS_DELAY, DEFAULT_RECEIVED_DELAY, FactRegistrationConfig, LocalProverConfig,
    serve_with_shutdown,
};
use orchestrator_activities::prover::registry::read_private_key_file;
use orchestrator_activities::prover::{ApiKey, AtlanticClient, AtlanticConfig, QueryKey};
use url::Url;

/// Environment variable with the Atlantic API key.
const API_KEY_ENV: &str = "MADARA_ORCHESTRATOR_ATLANTIC_API_KEY";

/// Subcommands of `orchestrator prover`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Run the local Atlantic-compatible prover until Ctrl-C.
    Serve(ServeArgs),
    /// Submit a PIE to an Atlantic API, reusing a live query with the same dedup id, and print
    /// the query id.
    Submit(SubmitArgs),
    /// Print the status of an Atlantic query as JSON.
    Status(StatusArgs),
}

/// Arguments of `orchestrator prover serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:4001")]
    listen: SocketAddr,
    /// L1 JSON-RPC URL where facts are registered with `registerFact(bytes32)`.
    #[arg(long, value_name = "URL", requires_all = ["l1_private_key_file", "fact_registry"])]
    l1_rpc_url: Option<Url>,
    /// File with the hex private key of the L1 account that registers facts.
    #[arg(long, value_name = "FILE", requires = "l1_rpc_url")]
    l1_private_key_file: Option<PathBuf>,
    /// Address of the fact registry contract.
    #[arg(long, value_name = "ADDRESS", requires = "l1_rpc_url")]
    fact_registry: Option<Address>,
    /// Milliseconds a query stays RECEIVED.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_RECEIVED_DELAY.as_millis() as u64)]
    received_delay_ms: u64,
    /// Milliseconds a query stays IN_PROGRESS before it turns DONE.
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_IN_PROGRESS_DELAY.as_millis() as u64)]
    in_progress_delay_ms: u64,
    /// JSON file that keeps queries across restarts. Without it, queries live in memory only.
    #[arg(long, value_name = "FILE")]
    state_file: Option<PathBuf>,
    /// File with the API key that requests must carry. Without it, any request is accepted.
    #[arg(long, value_name = "FILE")]
    api_key_file: Option<PathBuf>,
}

/// Connection arguments shared by the client subcommands.
#[derive(Debug, clap::Args)]
pub struct ApiArgs {
    /// Atlantic API base URL.
    #[arg(
        long,
        value_name = "URL",
        env = "MADARA_ORCHESTRATOR_ATLANTIC_SERVICE_URL",
        default_value = "http://127.0.0.1:4001"
    )]
    url: Url,
    /// File with the API key. Without it, the key comes from MADARA_ORCHESTRATOR_ATLANTIC_API_KEY.
    #[arg(
        long,
        value_name = "FILE",
        env = "MADARA_ORCHESTRATOR_ATLANTIC_API_KEY_FILE"
    )]
    api_key_file: Option<PathBuf>,
    /// Timeout of each HTTP request, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_REQUEST_TIMEOUT.as_secs())]
    timeout_secs: u64,
}

/// Arguments of `orchestrator prover submit`.
#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// Cairo PIE zip to prove.
    #[arg(long, value_name = "FILE")]
    pie: PathBuf,
    /// Id that makes submission idempotent, such as the block workflow id.
    #[arg(long, value_name = "ID")]
    dedup_id: String,
}

/// Arguments of `orchestrator prover status`.
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// Atlantic query id.
    #[arg(value_name = "QUERY_ID")]
    query_id: String,
}

/// Runs one `orchestrator prover` subcommand.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve(args).await,
        Command::Submit(args) => {
            let client = client(&args.api)?;
            let pie = std::fs::read(&args.pie)
                .with_context(|| format!("failed to read Cairo PIE file {}", args.pie.display()))?;
            let submitted = client
                .submit_pie(pie, &QueryKey::new(args.dedup_id))
                .await?;
            println!("{}", submitted.query_id);
            Ok(())
        }
        Command::Status(args) => {
            let query = client(&args.api)?.get_query(&args.query_id).await?;
            println!("{}", serde_json::to_string_pretty(&query)?);
            Ok(())
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let fact_registration = match (
        args.l1_rpc_url,
        args.l1_private_key_file,
        args.fact_registry,
    ) {
        (Some(rpc_url), Some(key_file), Some(registry)) => Some(FactRegistrationConfig {
            rpc_url,
            signer: read_private_key_file(&key_file)?,
            registry,
        }),
        _ => None,
    };
    let api_key = args
        .api_key_file
        .as_deref()
        .map(ApiKey::from_file)
        .transpose()?;
    let config = LocalProverConfig {
        received_delay: Duration::from_millis(args.received_delay_ms),
        in_progress_delay: Duration::from_millis(args.in_progress_delay_ms),
        state_file: args.state_file,
        api_key,
        fact_registration,
        ..LocalProverConfig::default()
    };

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("failed to listen on {}", args.listen))?;
    let shutdown = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(%err, "failed to wait for Ctrl-C; stopping");
        }
    };
    serve_with_shutdown(listener, config, shutdown).await?;
    Ok(())
}

fn client(args: &ApiArgs) -> anyhow::Result<AtlanticClient> {
    let api_key = match &args.api_key_file {
        Some(path) => ApiKey::from_file(path)?,
        None => ApiKey::from_env(API_KEY_ENV)?,
    };
    let mut config = AtlanticConfig::new(args.url.clone(), api_key);
    config.request_timeout = Duration::from_secs(args.timeout_secs);
    Ok(AtlanticClient::new(config)?)
}
