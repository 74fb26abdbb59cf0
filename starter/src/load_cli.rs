//! `orchestrator load`: send signed transactions through a Starknet node so it makes blocks with
//! real state diffs.

use anyhow::Context;
use orchestrator_starter::load::{self, LoadAccount, LoadPlan};
use starknet::core::types::Felt;
use url::Url;

/// `orchestrator load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// Starknet node JSON-RPC URL.
    #[arg(long, env = "MADARA_ORCHESTRATOR_MADARA_RPC_URL", default_value = "http://127.0.0.1:5050/rpc")]
    pub rpc_url: Url,
    /// STRK transfers to send.
    #[arg(long, default_value_t = 10)]
    pub transfers: u64,
    /// Contract deployments to send, after the transfers.
    #[arg(long, default_value_t = 1)]
    pub deployments: u64,
    /// Signing account. By default the first account starknet-devnet predeploys; with this
    /// option the private key comes from ORCHESTRATOR_LOAD_PRIVATE_KEY.
    #[arg(long)]
    pub account_address: Option<String>,
}

/// Runs `orchestrator load`.
pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    let account = match &args.account_address {
        Some(address) => {
            let address = Felt::from_hex(address)
                .with_context(|| format!("invalid --account-address {address:?}: expected a 0x felt"))?;
            let key = std::env::var("ORCHESTRATOR_LOAD_PRIVATE_KEY")
                .context("ORCHESTRATOR_LOAD_PRIVATE_KEY is not set; set it to the account's private key")?;
            // The key itself stays out of the message.
            let key = Felt::from_hex(key.trim())
                .map_err(|_| anyhow::anyhow!("ORCHESTRATOR_LOAD_PRIVATE_KEY is not a 0x hex felt"))?;
            LoadAccount::new(address, key)
        }
        None => load::devnet_accounts(&args.rpc_url)
            .await?
            .into_iter()
            .next()
            .context("starknet-devnet reported no predeployed accounts; start it with --accounts 1 or more")?,
    };
    let plan = LoadPlan { transfers: args.transfers, deployments: args.deployments };
    println!(
        "sending {} transactions from {:#x} through {}",
        plan.transaction_count(),
        account.address,
        args.rpc_url
    );
    let sent = load::send_load(&args.rpc_url, &account, plan, |load| {
        println!(
            "  block {:>5}  {:<10}  {:#x}  {:#x}",
            load.block_number, load.kind, load.tx_hash, load.target
        );
    })
    .await?;
    if let (Some(first), Some(last)) = (sent.first(), sent.last()) {
        println!("sent {} transactions in blocks {}..={}", sent.len(), first.block_number, last.block_number);
    }
    Ok(())
}
