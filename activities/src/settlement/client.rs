//! Exactly-once primitives for settling a program output on the Starknet core contract: read
//! the stored state, send or replace the blob transaction at a known nonce, follow it to
//! confirmation, and verify the result.
//!
//! Each primitive is one step a durable workflow can record. The nonce is the idempotency key,
//! because only one transaction per nonce can be mined. A retried send at the same nonce
//! returns the same hash when the fees are unchanged. While the first transaction is pending, a
//! retry with other fees replaces it or is rejected as underpriced, depending on the node's
//! replacement rule. Once a transaction with that nonce is mined, a retry fails with
//! [`SettlementError::NonceConsumed`].

use alloy::consensus::{
    SignableTransaction, TxEip4844, TxEip4844Variant, TxEip4844WithSidecar, TxEnvelope,
};
use alloy::eips::{BlockId, BlockNumberOrTag, Encodable2718};
use alloy::network::{TransactionBuilder, TxSignerSync};
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, RootProvider};
use alloy::rpc::types::TransactionRequest;
use alloy::transports::{RpcError, TransportError};
use serde::{Deserialize, Serialize};
use tracing::{debug, info, instrument, warn};
use url::Url;

use super::calldata::StateUpdate;
use super::contracts::{
    CoreState, StarknetCoreLocal, block_number_from_contract, contract_error, read_core_state,
};
use super::error::{SettlementError, revert_reason_of};
use super::fees::{FeeCapExceeded, FeePolicy, TxFees, check_fee_cap};
use super::key::L1PrivateKey;
use super::kzg::SidecarKind;
use super::program_output::ProgramOutput;

/// Environment variable with the Ethereum JSON-RPC URL.
pub const RPC_URL_ENV: &str = "MADARA_ORCHESTRATOR_ETHEREUM_SETTLEMENT_RPC_URL";
/// Environment variable with the core contract address.
pub const CORE_CONTRACT_ENV: &str = "MADARA_ORCHESTRATOR_L1_CORE_CONTRACT_ADDRESS";
/// Environment variable that selects EIP-4844 blob proofs (`true`) over EIP-7594 cell proofs.
pub const DISABLE_PEERDAS_ENV: &str = "MADARA_ORCHESTRATOR_ETHEREUM_DISABLE_PEERDAS";

/// Settlement client settings.
#[derive(Clone, Debug)]
pub struct SettlementConfig {
    /// Ethereum JSON-RPC endpoint.
    pub rpc_url: Url,
    /// Starknet core contract.
    pub core_contract: Address,
    /// Kind of blob proofs in the sidecar that [`StateUpdate::prepare`] should build.
    pub sidecar_kind: SidecarKind,
    /// Fee caps and budget.
    pub fees: FeePolicy,
}

/// A state update transaction accepted by the node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentTx {
    /// Transaction hash.
    pub tx_hash: B256,
    /// Nonce it was signed with.
    pub nonce: u64,
    /// Gas limit and fee caps it was signed with.
    pub fees: TxFees,
}

/// Result of [`SettlementClient::send_update`] and [`SettlementClient::replace`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SendOutcome {
    /// The node accepted the transaction.
    Sent(SentTx),
    /// The contract already stores this block or a later one; nothing was sent.
    AlreadySettled {
        /// Block number stored in the contract.
        settled_block_number: u64,
    },
    /// The fee caps exceed the budget; nothing was signed. Retry when fees fall or raise the
    /// budget.
    FeeCapExceeded(FeeCapExceeded),
}

/// Ethereum settlement client bound to one core contract and one signing key.
#[derive(Clone, Debug)]
pub struct SettlementClient {
    pub(super) provider: RootProvider,
    pub(super) config: SettlementConfig,
    key: L1PrivateKey,
}

impl SettlementClient {
    /// Creates a client. No request is made until a method is called.
    pub fn new(config: SettlementConfig, key: L1PrivateKey) -> Self {
        let provider = RootProvider::new_http(config.rpc_url.clone());
        Self {
            provider,
            config,
            key,
        }
    }

    /// Returns the settings.
    pub fn config(&self) -> &SettlementConfig {
        &self.config
    }

    /// Returns the address that signs state updates.
    pub fn sender(&self) -> Address {
        self.key.address()
    }

    /// Returns the underlying JSON-RPC provider.
    pub fn provider(&self) -> &RootProvider {
        &self.provider
    }

    /// Returns the sender's next nonce, counting transactions still in the pool.
    pub async fn pending_nonce(&self) -> Result<u64, SettlementError> {
        self.provider
            .get_transaction_count(self.sender())
            .pending()
            .await
            .map_err(SettlementError::rpc("eth_getTransactionCount"))
    }

    /// Reads the block number, state root and block hash stored in the core contract, all at
    /// the same L1 block.
    pub async fn read_state(&self) -> Result<CoreState, SettlementError> {
        read_core_state(&self.provider, self.config.core_contract).await
    }

    /// Returns true if the contract stores `block_number` or a later block.
    pub async fn is_settled(&self, block_number: u64) -> Result<bool, SettlementError> {
        Ok(self
            .settled_block_number()
            .await?
            .is_some_and(|settled| settled >= block_number))
    }

    /// Signs and sends the state update at `nonce`, or at the sender's pending nonce when
    /// `None`.
    ///
    /// Sends nothing if the contract already stores the output's new block or a later one, and
    /// signs nothing if the fee caps exceed [`FeePolicy::max_total_fee_wei`]. With no fixed gas
    /// limit, gas estimation runs the update against the latest state first and returns
    /// [`SettlementError::WouldRevert`] with the contract's reason if it would fail.
    ///
    /// # Errors
    /// [`SettlementError::NonceConsumed`] when a mined transaction already uses the nonce: the
    /// caller should check whether it was this update's. [`SettlementError::ReplacementUnderpriced`]
    /// when another transaction with this nonce is pending.
    #[instrument(skip_all, fields(block_number = update.program_output().new_block_number()))]
    pub async fn send_update(
        &self,
        update: &StateUpdate,
        nonce: Option<u64>,
    ) -> Result<SendOutcome, SettlementError> {
        if let Some(outcome) = self.already_settled(update.program_output()).await? {
            return Ok(outcome);
        }
        let fees = self.estimate_fees(update).await?;
        if let Err(exceeded) = check_fee_cap(&fees, self.config.fees.max_total_fee_wei) {
            warn!(
                max_total_fee_wei = exceeded.max_total_fee_wei,
                cap_wei = exceeded.cap_wei,
                "state update fee cap exceeded, not signing"
            );
            return Ok(SendOutcome::FeeCapExceeded(exceeded));
        }
        let nonce = match nonce {
            Some(nonce) => nonce,
            None => self.pending_nonce().await?,
        };
        let sent = self.sign_and_send(update, nonce, fees).await?;
        Ok(SendOutcome::Sent(sent))
    }

    /// Sends the state update again at `previous.nonce`, with each of the three fee caps at
    /// least twice the previous one (more if current fees call for it), so that nodes replace
    /// the pending transaction.
    ///
    /// Like [`Self::send_update`], it sends nothing when the block is already settled and
    /// signs nothing above the fee budget.
    #[instrument(skip_all, fields(block_number = update.program_output().new_block_number(), tx_hash = %previous.tx_hash))]
    pub async fn replace(
        &self,
        update: &StateUpdate,
        previous: &SentTx,
    ) -> Result<SendOutcome, SettlementError> {
        if let Some(outcome) = self.already_settled(update.program_output()).await? {
            return Ok(outcome);
        }
        let fresh = self.estimate_fees(update).await?;
        let fees = previous.fees.replacement(&fresh);
        if let Err(exceeded) = check_fee_cap(&fees, self.config.fees.max_total_fee_wei) {
            warn!(
                max_total_fee_wei = exceeded.max_total_fee_wei,
                cap_wei = exceeded.cap_wei,
                "state update replacement fee cap exceeded, not signing"
            );
            return Ok(SendOutcome::FeeCapExceeded(exceeded));
        }
        let sent = self.sign_and_send(update, previous.nonce, fees).await?;
        Ok(SendOutcome::Sent(sent))
    }

    async fn settled_block_number(&self) -> Result<Option<u64>, SettlementError> {
        let core = StarknetCoreLocal::new(self.config.core_contract, &self.provider);
        let block_number = core
            .stateBlockNumber()
            .call()
            .await
            .map_err(contract_error)?;
        block_number_from_contract(self.config.core_contract, block_number)
    }

    async fn already_settled(
        &self,
        output: &ProgramOutput,
    ) -> Result<Option<SendOutcome>, SettlementError> {
        let Some(settled) = self.settled_block_number().await? else {
            return Ok(None);
        };
        if settled < output.new_block_number() {
            return Ok(None);
        }
        info!(
            settled_block_number = settled,
            "block already settled, not sending"
        );
        Ok(Some(SendOutcome::AlreadySettled {
            settled_block_number: settled,
        }))
    }

    /// Reads the next block's base fees and, unless the policy fixes it, estimates the gas
    /// limit with a 20 % margin.
    async fn estimate_fees(&self, update: &StateUpdate) -> Result<TxFees, SettlementError> {
        let history = self
            .provider
            .get_fee_history(1, BlockNumberOrTag::Latest, &[])
            .await
            .map_err(SettlementError::rpc("eth_feeHistory"))?;
        let base_fee = history
            .next_block_base_fee()
            .ok_or(SettlementError::MissingFeeData {
                field: "baseFeePerGas",
            })?;
        let blob_base_fee = history
            .next_block_blob_base_fee()
            .filter(|fee| *fee > 0)
            .ok_or(SettlementError::MissingFeeData {
                field: "baseFeePerBlobGas",
            })?;

        let policy = &self.config.fees;
        let n_blobs = update.program_output().n_blobs();
        let mut fees = TxFees::from_base_fees(
            base_fee,
            blob_base_fee,
            policy.max_priority_fee_per_gas,
            policy.gas_limit.unwrap_or_default(),
            n_blobs,
        );
        if policy.gas_limit.is_none() {
            let request = self.call_request(update, fees.max_fee_per_blob_gas);
            // Estimate on the latest block: a pending transaction of this sender (the one
            // being replaced) would make the estimate on the pending block revert.
            let estimate = self
                .provider
                .estimate_gas(request)
                .block(BlockId::latest())
                .await
                .map_err(|error| match revert_reason_of(&error) {
                    Some(reason) => SettlementError::WouldRevert {
                        block_number: update.program_output().new_block_number(),
                        reason,
                    },
                    None => SettlementError::Rpc {
                        method: "eth_estimateGas",
                        source: error,
                    },
                })?;
            fees.gas_limit = estimate.saturating_add(estimate / 5);
        }
        debug!(?fees, base_fee, blob_base_fee, "state update fees");
        Ok(fees)
    }

    fn call_request(&self, update: &StateUpdate, max_fee_per_blob_gas: u128) -> TransactionRequest {
        let mut request = TransactionRequest::default()
            .with_from(self.sender())
            .with_to(self.config.core_contract)
            .with_input(update.calldata().clone());
        request.blob_versioned_hashes = Some(update.blob_versioned_hashes().to_vec());
        request.max_fee_per_blob_gas = Some(max_fee_per_blob_gas);
        request
    }

    async fn sign_and_send(
        &self,
        update: &StateUpdate,
        nonce: u64,
        fees: TxFees,
    ) -> Result<SentTx, SettlementError> {
        let chain_id = self
            .provider
            .get_chain_id()
            .await
            .map_err(SettlementError::rpc("eth_chainId"))?;
        let tx = TxEip4844 {
            chain_id,
            nonce,
            gas_limit: fees.gas_limit,
            max_fee_per_gas: fees.max_fee_per_gas,
            max_priority_fee_per_gas: fees.max_priority_fee_per_gas,
            to: self.config.core_contract,
            value: U256::ZERO,
            access_list: Default::default(),
            blob_versioned_hashes: update.blob_versioned_hashes().to_vec(),
            max_fee_per_blob_gas: fees.max_fee_per_blob_gas,
            input: update.calldata().clone(),
        };
        let mut tx = TxEip4844Variant::TxEip4844WithSidecar(
            TxEip4844WithSidecar::from_tx_and_sidecar(tx, update.sidecar().clone()),
        );
        let signature = self.key.signer().sign_transaction_sync(&mut tx)?;
        let signed = tx.into_signed(signature);
        let tx_hash = *signed.hash();
        let raw = TxEnvelope::Eip4844(signed).encoded_2718();

        match self.provider.send_raw_transaction(&raw).await {
            Ok(_) => {}
            Err(error) => self.classify_send_error(error, nonce)?,
        }
        info!(%tx_hash, nonce, max_total_fee_wei = fees.max_total_fee(), "state update sent");
        Ok(SentTx {
            tx_hash,
            nonce,
            fees,
        })
    }

    /// Maps a rejected `eth_sendRawTransaction` to an error, or to `Ok` when the node already
    /// has this exact transaction.
    fn classify_send_error(
        &self,
        error: TransportError,
        nonce: u64,
    ) -> Result<(), SettlementError> {
        let RpcError::ErrorResp(payload) = &error else {
            return Err(SettlementError::Rpc {
                method: "eth_sendRawTransaction",
                source: error,
            });
        };
        let message = payload.message.to_string();
        let lowercase = message.to_ascii_lowercase();
        if lowercase.contains("already known") || lowercase.contains("already imported") {
            debug!(nonce, "node already has this transaction");
            return Ok(());
        }
        if lowercase.contains("nonce too low") {
            return Err(SettlementError::NonceConsumed {
                sender: self.sender(),
                nonce,
            });
        }
        if lowercase.contains("underpriced") {
            return Err(SettlementError::ReplacementUnderpriced { nonce, message });
        }
        if lowercase.contains("insufficient funds") {
            return Err(SettlementError::InsufficientFunds {
                sender: self.sender(),
                message,
            });
        }
        Err(SettlementError::TransactionRejected { nonce, message })
    }
}
