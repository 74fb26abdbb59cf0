//! `orchestrator l1 …` subcommands: deploy the local L1 contracts and read their state.

use std::path::PathBuf;

use alloy::primitives::{Address, U256};
use alloy::providers::RootProvider;
use anyhow::Context;
use orchestrator_activities::settlement::contracts::{
    CoreContractParams, InitialState, deploy_contracts, read_core_config, read_core_state,
};
use orchestrator_activities::settlement::{CORE_CONTRACT_ENV, L1PrivateKey, RPC_URL_ENV};
use url::Url;

/// Subcommands of `orchestrator l1`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Deploy a fact registry and a Starknet core contract bound to it, and print their
    /// addresses as JSON: {"fact_registry": "0x…", "core_contract": "0x…"}.
    ///
    /// The registry accepts facts from any account, so use it on local chains only. The
    /// deployer becomes the core contract's owner and operator.
    Deploy(DeployArgs),
    /// Print the state and configuration stored in a core contract.
    State(StateArgs),
}

/// Arguments of `orchestrator l1 deploy`.
#[derive(Debug, clap::Args)]
pub struct DeployArgs {
    /// Ethereum JSON-RPC URL.
    #[arg(long, env = RPC_URL_ENV, value_name = "URL")]
    rpc_url: Url,
    /// File with the deployer's private key as hex. Without it, the key is read from
    /// MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY or the file named by
    /// MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY_FILE.
    #[arg(long, value_name = "FILE")]
    private_key_file: Option<PathBuf>,
    /// Starknet OS program hash (hex).
    #[arg(long, value_name = "HEX", value_parser = parse_hex_u256)]
    program_hash: U256,
    /// Aggregator program hash (hex); facts of outputs with a non-zero OS program hash word
    /// are bound to it.
    #[arg(long, value_name = "HEX", value_parser = parse_hex_u256, default_value = "0x0")]
    aggregator_program_hash: U256,
    /// Starknet OS config hash (hex) that every program output must carry.
    #[arg(long, value_name = "HEX", value_parser = parse_hex_u256, default_value = "0x0")]
    config_hash: U256,
    /// State before the first update, as BLOCK_NUMBER,STATE_ROOT,BLOCK_HASH (root and hash in
    /// hex). Default: nothing settled, so the first update must start at block 0.
    #[arg(long, value_name = "BLOCK_NUMBER,STATE_ROOT,BLOCK_HASH", value_parser = parse_initial_state)]
    initial_state: Option<InitialState>,
}

/// Arguments of `orchestrator l1 state`.
#[derive(Debug, clap::Args)]
pub struct StateArgs {
    /// Ethereum JSON-RPC URL.
    #[arg(long, env = RPC_URL_ENV, value_name = "URL")]
    rpc_url: Url,
    /// Core contract address.
    #[arg(long, env = CORE_CONTRACT_ENV, value_name = "ADDRESS")]
    core_contract: Address,
    /// Print JSON instead of text.
    #[arg(long)]
    json: bool,
}

/// Runs one `orchestrator l1` subcommand.
pub async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Deploy(args) => deploy(args).await,
        Command::State(args) => print_state(args).await,
    }
}

async fn deploy(args: DeployArgs) -> anyhow::Result<()> {
    let key = match &args.private_key_file {
        Some(path) => L1PrivateKey::from_file(path)?,
        None => L1PrivateKey::from_env()?,
    };
    let params = CoreContractParams {
        program_hash: args.program_hash,
        aggregator_program_hash: args.aggregator_program_hash,
        config_hash: args.config_hash,
        initial_state: args.initial_state.unwrap_or_default(),
    };
    let deployed = deploy_contracts(args.rpc_url.clone(), &key, &params)
        .await
        .with_context(|| format!("deployment through {} failed", args.rpc_url))?;
    println!("{}", serde_json::to_string(&deployed)?);
    Ok(())
}

async fn print_state(args: StateArgs) -> anyhow::Result<()> {
    let provider = RootProvider::new_http(args.rpc_url.clone());
    let state = read_core_state(&provider, args.core_contract)
        .await
        .with_context(|| {
            format!(
                "cannot read the state of core contract {}",
                args.core_contract
            )
        })?;
    let config = read_core_config(&provider, args.core_contract)
        .await
        .with_context(|| {
            format!(
                "cannot read the configuration of core contract {}",
                args.core_contract
            )
        })?;

    if args.json {
        let json = serde_json::json!({ "state": state, "config": config });
        println!("{json}");
        return Ok(());
    }
    let block_number = state
        .block_number
        .map_or_else(|| "none (nothing settled)".to_owned(), |n| n.to_string());
    println!("block number             {block_number}");
    println!("state root               {:#x}", state.state_root);
    println!("block hash               {:#x}", state.block_hash);
    println!("program hash             {:#x}", config.program_hash);
    println!(
        "aggregator program hash  {:#x}",
        config.aggregator_program_hash
    );
    println!("config hash              {:#x}", config.config_hash);
    println!("fact registry            {}", config.verifier);
    println!("owner                    {}", config.owner);
    Ok(())
}

/// Parses a hex number, with or without `0x`.
fn parse_hex_u256(value: &str) -> Result<U256, String> {
    let digits = value.strip_prefix("0x").unwrap_or(value);
    U256::from_str_radix(digits, 16)
        .map_err(|_| format!("{value:?} is not a hex number below 2^256"))
}

/// Parses `BLOCK_NUMBER,STATE_ROOT,BLOCK_HASH`.
fn parse_initial_state(value: &str) -> Result<InitialState, String> {
    let parts: Vec<&str> = value.split(',').map(str::trim).collect();
    let [block_number, state_root, block_hash] = parts.as_slice() else {
        return Err(format!(
            "{value:?} is not BLOCK_NUMBER,STATE_ROOT,BLOCK_HASH"
        ));
    };
    let block_number = block_number
        .parse::<u64>()
        .map_err(|_| format!("block number {block_number:?} is not a decimal number"))?;
    Ok(InitialState {
        block_number: Some(block_number),
        state_root: parse_hex_u256(state_root)?,
        block_hash: parse_hex_u256(block_hash)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_state_parses_triple() {
        let state = parse_initial_state("7,0x1a,ff").expect("valid triple");
        assert_eq!(state.block_number, Some(7));
        assert_eq!(state.state_root, U256::from(0x1a));
        assert_eq!(state.block_hash, U256::from(0xff));
    }

    #[test]
    fn initial_state_rejects_two_parts() {
        let error = parse_initial_state("7,0x1a").expect_err("two parts");
        assert!(
            error.contains("BLOCK_NUMBER,STATE_ROOT,BLOCK_HASH"),
            "{error}"
        );
    }

    #[test]
    fn hex_parser_rejects_decimal_garbage() {
        assert!(parse_hex_u256("0xzz").is_err());
        assert_eq!(parse_hex_u256("10"), Ok(U256::from(16)));
    }
}
