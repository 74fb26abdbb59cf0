//! Bindings of the local L1 contracts (`contracts/src/*.sol`, compiled into
//! `contracts/out/*.json` by `scripts/compile-contracts.sh`), their deployment, and the
//! state-transition fact that the core contract checks.

use alloy::eips::BlockId;
use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, I256, U256, keccak256};
use alloy::providers::{Provider, ProviderBuilder};
use serde::{Deserialize, Serialize};
use url::Url;

use super::error::SettlementError;
use super::key::L1PrivateKey;
use super::program_output::ProgramOutput;

alloy::sol!(
    #[sol(rpc)]
    #[allow(missing_docs)]
    FactRegistry,
    "../contracts/out/FactRegistry.json"
);

alloy::sol!(
    #[sol(rpc)]
    #[allow(missing_docs, clippy::too_many_arguments)]
    StarknetCoreLocal,
    "../contracts/out/StarknetCoreLocal.json"
);

/// State stored in the core contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreState {
    /// Last settled Starknet block, or `None` when nothing is settled (the contract stores -1).
    pub block_number: Option<u64>,
    /// State root after that block.
    pub state_root: U256,
    /// Hash of that block.
    pub block_hash: U256,
}

/// Starknet state the core contract starts from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InitialState {
    /// Last settled block, or `None` when nothing is settled yet (the contract stores -1).
    pub block_number: Option<u64>,
    /// State root after that block (zero when nothing is settled).
    pub state_root: U256,
    /// Hash of that block (zero when nothing is settled).
    pub block_hash: U256,
}

/// Constructor arguments of the core contract.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreContractParams {
    /// Starknet OS program hash.
    pub program_hash: U256,
    /// Aggregator program hash; zero when outputs come from the OS directly.
    pub aggregator_program_hash: U256,
    /// Starknet OS config hash that every program output must carry.
    pub config_hash: U256,
    /// State before the first update.
    pub initial_state: InitialState,
}

/// Addresses of a freshly deployed pair of contracts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedContracts {
    /// The [`FactRegistry`] contract.
    pub fact_registry: Address,
    /// The [`StarknetCoreLocal`] contract, bound to `fact_registry`.
    pub core_contract: Address,
}

/// Deploys a [`FactRegistry`] and a [`StarknetCoreLocal`] that checks facts in it. The
/// deployer becomes the core contract's owner and first operator.
pub async fn deploy_contracts(
    rpc_url: Url,
    key: &L1PrivateKey,
    params: &CoreContractParams,
) -> Result<DeployedContracts, SettlementError> {
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(key.signer().clone()))
        .connect_http(rpc_url);

    let registry = FactRegistry::deploy(&provider).await.map_err(|source| {
        SettlementError::ContractTransaction {
            call: "deploy FactRegistry",
            source: Box::new(source),
        }
    })?;
    let initial_block_number = match params.initial_state.block_number {
        // Every u64 is below 2^255, so it is a non-negative int256 as is.
        Some(number) => I256::from_raw(U256::from(number)),
        None => I256::MINUS_ONE,
    };
    let core = StarknetCoreLocal::deploy(
        &provider,
        *registry.address(),
        params.program_hash,
        params.aggregator_program_hash,
        params.config_hash,
        params.initial_state.state_root,
        initial_block_number,
        params.initial_state.block_hash,
    )
    .await
    .map_err(|source| SettlementError::ContractTransaction {
        call: "deploy StarknetCoreLocal",
        source: Box::new(source),
    })?;

    Ok(DeployedContracts {
        fact_registry: *registry.address(),
        core_contract: *core.address(),
    })
}

/// Registers `fact` in the [`FactRegistry`] at `registry` and waits for the receipt.
pub async fn register_fact(
    rpc_url: Url,
    key: &L1PrivateKey,
    registry: Address,
    fact: B256,
) -> Result<B256, SettlementError> {
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(key.signer().clone()))
        .connect_http(rpc_url);
    let receipt = FactRegistry::new(registry, &provider)
        .registerFact(fact)
        .send()
        .await
        .map_err(|source| SettlementError::ContractTransaction {
            call: "registerFact",
            source: Box::new(source),
        })?
        .get_receipt()
        .await
        .map_err(|error| SettlementError::ContractTransaction {
            call: "registerFact",
            source: Box::new(alloy::contract::Error::PendingTransactionError(error)),
        })?;
    if !receipt.status() {
        return Err(SettlementError::CallReverted {
            call: "registerFact",
            tx_hash: receipt.transaction_hash,
        });
    }
    Ok(receipt.transaction_hash)
}

/// Computes the fact the core contract looks up for `output`:
/// `keccak256(program_hash ‖ keccak256(output words))`, each value as a 32-byte big-endian
/// word. This equals the fact a prover registers for a one-page output, because the
/// fact-tree root of a single page is the page's hash.
///
/// `program_hash` is the OS program hash when the output's OS program hash word is zero, and
/// the aggregator program hash otherwise; see [`fact_program_hash`].
pub fn state_transition_fact(program_hash: U256, output: &ProgramOutput) -> B256 {
    let output_hash = keccak256(words_to_bytes(output.words()));
    let mut preimage = [0u8; 64];
    preimage[..32].copy_from_slice(&program_hash.to_be_bytes::<32>());
    preimage[32..].copy_from_slice(output_hash.as_slice());
    keccak256(preimage)
}

/// Chooses the program hash the core contract binds the fact of `output` to: the aggregator's
/// when the output's OS program hash word is non-zero, the OS's otherwise.
pub fn fact_program_hash(
    program_hash: U256,
    aggregator_program_hash: U256,
    output: &ProgramOutput,
) -> U256 {
    if output.os_program_hash().is_zero() {
        program_hash
    } else {
        aggregator_program_hash
    }
}

fn words_to_bytes(words: &[U256]) -> Vec<u8> {
    words
        .iter()
        .flat_map(|word| word.to_be_bytes::<32>())
        .collect()
}

/// Configuration stored in a deployed core contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoreContractConfig {
    /// Starknet OS program hash.
    pub program_hash: U256,
    /// Aggregator program hash.
    pub aggregator_program_hash: U256,
    /// Starknet OS config hash.
    pub config_hash: U256,
    /// Fact registry the contract checks facts in.
    pub verifier: Address,
    /// Account allowed to change the configuration.
    pub owner: Address,
}

/// Reads the configuration of the core contract at `core_contract`.
pub async fn read_core_config<P: Provider>(
    provider: &P,
    core_contract: Address,
) -> Result<CoreContractConfig, SettlementError> {
    let core = StarknetCoreLocal::new(core_contract, provider);
    Ok(CoreContractConfig {
        program_hash: core.programHash().call().await.map_err(contract_error)?,
        aggregator_program_hash: core
            .aggregatorProgramHash()
            .call()
            .await
            .map_err(contract_error)?,
        config_hash: core.configHash().call().await.map_err(contract_error)?,
        verifier: core.verifier().call().await.map_err(contract_error)?,
        owner: core.owner().call().await.map_err(contract_error)?,
    })
}

/// Reads the block number, state root and block hash stored in the core contract at
/// `core_contract`, all at the same L1 block.
///
/// The three getters are separate calls. Pinning them to the head's number is not enough on
/// every node: anvil serves calls at its head from the state it is mining into, so while it
/// mines the next block one call can see a later update than another. A read is therefore kept
/// only when the head did not move during it and a second read agrees; once the head has moved,
/// the state at the old head is final and read again.
pub async fn read_core_state<P: Provider>(
    provider: &P,
    core_contract: Address,
) -> Result<CoreState, SettlementError> {
    const MAX_READS: usize = 8;
    for _ in 0..MAX_READS {
        let head = head_number(provider).await?;
        let first = read_core_state_at(provider, core_contract, head).await?;
        if head_number(provider).await? != head {
            return read_core_state_at(provider, core_contract, head).await;
        }
        let second = read_core_state_at(provider, core_contract, head).await?;
        if head_number(provider).await? != head {
            return read_core_state_at(provider, core_contract, head).await;
        }
        if first == second {
            return Ok(first);
        }
    }
    Err(SettlementError::UnstableRead {
        contract: core_contract,
        reads: MAX_READS,
    })
}

async fn head_number<P: Provider>(provider: &P) -> Result<u64, SettlementError> {
    provider
        .get_block_number()
        .await
        .map_err(SettlementError::rpc("eth_blockNumber"))
}

/// Reads the core contract's stored state at L1 block `at`.
async fn read_core_state_at<P: Provider>(
    provider: &P,
    core_contract: Address,
    at: u64,
) -> Result<CoreState, SettlementError> {
    let at = BlockId::number(at);
    let core = StarknetCoreLocal::new(core_contract, provider);
    let block_number = core
        .stateBlockNumber()
        .block(at)
        .call()
        .await
        .map_err(contract_error)?;
    let state_root = core
        .stateRoot()
        .block(at)
        .call()
        .await
        .map_err(contract_error)?;
    let block_hash = core
        .stateBlockHash()
        .block(at)
        .call()
        .await
        .map_err(contract_error)?;
    Ok(CoreState {
        block_number: block_number_from_contract(core_contract, block_number)?,
        state_root,
        block_hash,
    })
}

/// Converts the contract's `int256` block number, where -1 means nothing is settled.
pub(crate) fn block_number_from_contract(
    core_contract: Address,
    value: I256,
) -> Result<Option<u64>, SettlementError> {
    if value == I256::MINUS_ONE {
        return Ok(None);
    }
    u64::try_from(value)
        .map(Some)
        .map_err(|_| SettlementError::InvalidContractState {
            contract: core_contract,
            field: "stateBlockNumber",
            value: value.to_string(),
        })
}

/// Maps a failed view call to [`SettlementError::Rpc`].
pub(crate) fn contract_error(error: alloy::contract::Error) -> SettlementError {
    match error {
        alloy::contract::Error::TransportError(source) => SettlementError::Rpc {
            method: "eth_call",
            source,
        },
        other => SettlementError::Rpc {
            method: "eth_call",
            source: alloy::transports::RpcError::local_usage(other),
        },
    }
}
