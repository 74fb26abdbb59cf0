//! Fact registry calls on L1: `isValid(bytes32)` to check a fact before settling, and
//! `registerFact(bytes32)` for the local prover's stand-in registry.

use std::path::Path;
use std::str::FromStr;

use alloy::network::{EthereumWallet, ReceiptResponse};
use alloy::primitives::{Address, B256};
use alloy::providers::ProviderBuilder;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol;
use tracing::{debug, info};
use url::Url;

use super::error::FactRegistryError;

sol! {
    /// Fact registry interface of SHARP's GPS verifier and of the mock registries.
    #[sol(rpc)]
    interface IFactRegistry {
        /// Marks a fact as valid.
        function registerFact(bytes32 fact) external;
        /// Returns whether the fact is registered.
        function isValid(bytes32 fact) external view returns (bool);
    }
}

/// Returns whether `fact` is registered on the fact registry at `registry`.
///
/// # Errors
/// [`FactRegistryError::Rpc`] (retryable) when the RPC fails, [`FactRegistryError::NoContract`]
/// when nothing is deployed at `registry`, and [`FactRegistryError::Contract`] on a revert.
pub async fn is_fact_registered(
    rpc_url: &Url,
    registry: Address,
    fact: B256,
) -> Result<bool, FactRegistryError> {
    let provider = ProviderBuilder::new().connect_http(rpc_url.clone());
    let valid = IFactRegistry::new(registry, &provider)
        .isValid(fact)
        .call()
        .await
        .map_err(|error| classify_contract_error(registry, error))?;
    debug!(%registry, %fact, valid, "checked fact registration");
    Ok(valid)
}

/// Registers `fact` with `registerFact` unless it is already valid, and waits for the receipt.
/// Returns the transaction hash, or `None` when the fact was already registered.
///
/// # Errors
/// As [`is_fact_registered`], plus [`FactRegistryError::Reverted`] when the transaction reverts.
pub async fn register_fact(
    rpc_url: &Url,
    signer: PrivateKeySigner,
    registry: Address,
    fact: B256,
) -> Result<Option<B256>, FactRegistryError> {
    if is_fact_registered(rpc_url, registry, fact).await? {
        return Ok(None);
    }

    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(rpc_url.clone());
    let receipt = IFactRegistry::new(registry, &provider)
        .registerFact(fact)
        .send()
        .await
        .map_err(|error| classify_contract_error(registry, error))?
        .get_receipt()
        .await
        .map_err(|error| FactRegistryError::Rpc {
            registry,
            message: error.to_string(),
        })?;

    let tx_hash = receipt.transaction_hash();
    if !receipt.status() {
        return Err(FactRegistryError::Reverted {
            registry,
            fact,
            tx_hash,
        });
    }
    info!(%registry, %fact, %tx_hash, "registered fact");
    Ok(Some(tx_hash))
}

/// Reads an L1 private key (hex, with or without `0x`) from a file.
///
/// # Errors
/// [`FactRegistryError::InvalidPrivateKey`] when the file is unreadable or not a key. The
/// message names the file but never its contents.
pub fn read_private_key_file(path: &Path) -> Result<PrivateKeySigner, FactRegistryError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|_| FactRegistryError::InvalidPrivateKey {
        origin: origin.clone(),
    })?;
    PrivateKeySigner::from_str(text.trim())
        .map_err(|_| FactRegistryError::InvalidPrivateKey { origin })
}

fn classify_contract_error(registry: Address, error: alloy::contract::Error) -> FactRegistryError {
    match error {
        alloy::contract::Error::ZeroData(..) => FactRegistryError::NoContract { registry },
        alloy::contract::Error::TransportError(error) if !error.is_error_resp() => {
            FactRegistryError::Rpc {
                registry,
                message: error.to_string(),
            }
        }
        alloy::contract::Error::PendingTransactionError(error) => FactRegistryError::Rpc {
            registry,
            message: error.to_string(),
        },
        error => FactRegistryError::Contract {
            registry,
            message: error.to_string(),
        },
    }
}
