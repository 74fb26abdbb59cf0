//! Load generator: signed account transactions sent through a Starknet node, so that the node
//! makes blocks with real state diffs (balances, nonces, a deployed contract).
//!
//! Transactions are INVOKE v3 from one account, signed with starknet-rs. Each one waits for its
//! receipt before the next is sent, so on starknet-devnet (one block per transaction) every
//! transaction makes one block. On other nodes several may share a block.

use anyhow::{Context, bail};
use serde::Deserialize;
use starknet::accounts::{Account, ConnectedAccount, ExecutionEncoding, SingleOwnerAccount};
use starknet::contract::{ContractFactory, UdcSelector};
use starknet::core::types::{
    BlockId, BlockTag, Call, ExecutionResult, Felt, StarknetError, TransactionReceiptWithBlockInfo,
};
use starknet::core::utils::get_selector_from_name;
use starknet::providers::jsonrpc::{HttpTransport, JsonRpcClient};
use starknet::providers::{Provider, ProviderError};
use starknet::signers::{LocalWallet, SigningKey};
use std::fmt;
use std::time::{Duration, Instant};
use url::Url;

/// STRK, the fee token of Starknet, at the address it has on every public network and on
/// starknet-devnet 0.10.
pub const STRK_ADDRESS: &str = "0x04718f5a0fc34cc1af16a1cdee98ffb20c31f5cd61d6ab07201858f4287c938d";

/// Address of the Cairo 1 Universal Deployer Contract.
const NEW_UDC_ADDRESS: &str = "0x02ceed65a4bd731034c01113685c831b01c15d7d432f71afb1cf1634b53a2125";

/// Maximum wait for one transaction's receipt.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(60);

/// Account that signs the load transactions.
///
/// `Debug` shows the address only: the private key never reaches logs or output.
#[derive(Clone)]
pub struct LoadAccount {
    /// Account contract address.
    pub address: Felt,
    private_key: Felt,
}

impl LoadAccount {
    /// Creates an account from its address and private key.
    pub fn new(address: Felt, private_key: Felt) -> Self {
        Self { address, private_key }
    }
}

impl fmt::Debug for LoadAccount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadAccount")
            .field("address", &format_args!("{:#x}", self.address))
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// Transactions to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadPlan {
    /// STRK transfers, each to a different recipient.
    pub transfers: u64,
    /// Contract deployments through the Universal Deployer Contract. Each deploys a new
    /// instance of the signing account's own class, which every node already has declared.
    pub deployments: u64,
}

impl LoadPlan {
    /// Number of transactions the plan sends.
    pub fn transaction_count(&self) -> u64 {
        self.transfers + self.deployments
    }
}

/// Kind of a load transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoadKind {
    /// STRK transfer.
    Transfer,
    /// Contract deployment.
    Deployment,
}

impl fmt::Display for LoadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LoadKind::Transfer => "transfer",
            LoadKind::Deployment => "deployment",
        })
    }
}

/// A transaction the load generator sent and the node included in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentLoad {
    /// Kind of transaction.
    pub kind: LoadKind,
    /// Transaction hash.
    pub tx_hash: Felt,
    /// Block that includes it.
    pub block_number: u64,
    /// Recipient of a transfer, or address of the deployed contract.
    pub target: Felt,
}

#[derive(Deserialize)]
struct PredeployedAccount {
    address: Felt,
    private_key: Felt,
}

/// Reads the accounts starknet-devnet predeploys, with `devnet_getPredeployedAccounts`.
pub async fn devnet_accounts(rpc_url: &Url) -> anyhow::Result<Vec<LoadAccount>> {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": 1,
        "method": "devnet_getPredeployedAccounts",
        "params": {},
    });
    let http = reqwest::Client::new();
    let response: serde_json::Value = http
        .post(rpc_url.clone())
        .json(&body)
        .send()
        .await
        .with_context(|| format!("failed to reach the Starknet node at {rpc_url}"))?
        .json()
        .await
        .context("the response to devnet_getPredeployedAccounts is not JSON")?;
    if let Some(error) = response.get("error") {
        bail!(
            "the node at {rpc_url} rejected devnet_getPredeployedAccounts ({error}); it is not \
             starknet-devnet, so pass --account-address and set ORCHESTRATOR_LOAD_PRIVATE_KEY"
        );
    }
    let accounts: Vec<PredeployedAccount> = serde_json::from_value(response["result"].clone())
        .context("the response to devnet_getPredeployedAccounts has no list of accounts")?;
    Ok(accounts
        .into_iter()
        .map(|account| LoadAccount::new(account.address, account.private_key))
        .collect())
}

/// Sends the plan's transactions from `account` through the node at `rpc_url`, one at a time,
/// and calls `on_sent` after each is included in a block.
///
/// Transfers go first, then deployments. A reverted transaction stops the load with its
/// revert reason.
pub async fn send_load(
    rpc_url: &Url,
    account: &LoadAccount,
    plan: LoadPlan,
    mut on_sent: impl FnMut(&SentLoad),
) -> anyhow::Result<Vec<SentLoad>> {
    let provider = JsonRpcClient::new(HttpTransport::new(rpc_url.clone()));
    let chain_id = provider
        .chain_id()
        .await
        .with_context(|| format!("failed to read the chain id from {rpc_url}"))?;
    let signing_key = SigningKey::from_secret_scalar(account.private_key);
    let public_key = signing_key.verifying_key().scalar();
    let mut signer_account = SingleOwnerAccount::new(
        provider,
        LocalWallet::from(signing_key),
        account.address,
        chain_id,
        ExecutionEncoding::New,
    );
    signer_account.set_block_id(BlockId::Tag(BlockTag::PreConfirmed));

    let strk = Felt::from_hex(STRK_ADDRESS).expect("valid constant");
    let transfer = get_selector_from_name("transfer").expect("valid selector name");
    let mut sent = Vec::with_capacity(plan.transaction_count() as usize);

    for index in 1..=plan.transfers {
        // One recipient per transfer, so every transfer writes its own balance slot.
        let recipient = Felt::from(0x10_0000_u64 + index);
        let amount = Felt::from(index * 1_000);
        let call = Call {
            to: strk,
            selector: transfer,
            calldata: vec![recipient, amount, Felt::ZERO],
        };
        let result = signer_account
            .execute_v3(vec![call])
            .send()
            .await
            .with_context(|| format!("transfer {index} of {} failed to send", plan.transfers))?;
        let block_number = wait_for_receipt(signer_account.provider(), result.transaction_hash).await?;
        let load = SentLoad {
            kind: LoadKind::Transfer,
            tx_hash: result.transaction_hash,
            block_number,
            target: recipient,
        };
        on_sent(&load);
        sent.push(load);
    }

    if plan.deployments > 0 {
        let class_hash = signer_account
            .provider()
            .get_class_hash_at(BlockId::Tag(BlockTag::PreConfirmed), account.address)
            .await
            .with_context(|| format!("failed to read the class of account {:#x}", account.address))?;
        let udc = deployer(signer_account.provider()).await?;
        let factory = ContractFactory::new_with_udc(class_hash, &signer_account, udc);
        for index in 1..=plan.deployments {
            // The account's nonce differs on every run, so the deployed address is new each time.
            let salt = signer_account
                .get_nonce()
                .await
                .with_context(|| format!("failed to read the nonce of account {:#x}", account.address))?;
            let deployment = factory.deploy_v3(vec![public_key], salt, true);
            let target = deployment.deployed_address();
            let result = deployment
                .send()
                .await
                .with_context(|| format!("deployment {index} of {} failed to send", plan.deployments))?;
            let block_number = wait_for_receipt(signer_account.provider(), result.transaction_hash).await?;
            let load = SentLoad {
                kind: LoadKind::Deployment,
                tx_hash: result.transaction_hash,
                block_number,
                target,
            };
            on_sent(&load);
            sent.push(load);
        }
    }
    Ok(sent)
}

/// Picks the Cairo 1 Universal Deployer Contract when the node has it, else the legacy one.
async fn deployer(provider: &JsonRpcClient<HttpTransport>) -> anyhow::Result<UdcSelector> {
    let address = Felt::from_hex(NEW_UDC_ADDRESS).expect("valid constant");
    match provider.get_class_hash_at(BlockId::Tag(BlockTag::PreConfirmed), address).await {
        Ok(_) => Ok(UdcSelector::New),
        Err(ProviderError::StarknetError(StarknetError::ContractNotFound)) => Ok(UdcSelector::Legacy),
        Err(error) => Err(error).context("failed to look up the Universal Deployer Contract"),
    }
}

/// Polls the node until the transaction has a receipt, and returns the number of its block.
async fn wait_for_receipt(provider: &JsonRpcClient<HttpTransport>, tx_hash: Felt) -> anyhow::Result<u64> {
    let deadline = Instant::now() + RECEIPT_TIMEOUT;
    loop {
        match provider.get_transaction_receipt(tx_hash).await {
            Ok(TransactionReceiptWithBlockInfo { receipt, block }) => {
                if let ExecutionResult::Reverted { reason } = receipt.execution_result() {
                    bail!("transaction {tx_hash:#x} reverted in block {}: {reason}", block.block_number());
                }
                if !block.is_pre_confirmed() {
                    return Ok(block.block_number());
                }
            }
            Err(ProviderError::StarknetError(StarknetError::TransactionHashNotFound)) => {}
            Err(error) => {
                return Err(error).with_context(|| format!("failed to read the receipt of {tx_hash:#x}"));
            }
        }
        if Instant::now() > deadline {
            bail!("transaction {tx_hash:#x} is not in a final block after {RECEIPT_TIMEOUT:?}; check the node's block production");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
