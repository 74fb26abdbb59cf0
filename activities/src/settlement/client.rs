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
use super::error::{SettlementError, decode_revert_reason, revert_reason_of};
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

/// Receipt details of a successful state update.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfirmedTx {
    /// L1 block that includes the transaction.
    pub block_number: u64,
    /// Hash of that block.
    pub block_hash: B256,
    /// Blocks mined on top of that block.
    pub confirmations: u64,
    /// Gas used.
    pub gas_used: u64,
    /// Blob gas used.
    pub blob_gas_used: u64,
    /// Price paid per gas, in wei.
    pub effective_gas_price: u128,
    /// Price paid per blob gas, in wei.
    pub blob_gas_price: u128,
    /// Total fee paid, `gas_used · effective_gas_price + blob_gas_used · blob_gas_price`, in wei.
    pub total_fee_wei: u128,
}

/// State of a sent transaction, from [`SettlementClient::check_confirmation`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Confirmation {
    /// Not yet included, or included with fewer confirmations than requested.
    Pending {
        /// Including block, if any.
        included_in_block: Option<u64>,
        /// Blocks mined on top of the including block (0 when not included).
        confirmations: u64,
    },
    /// Included, successful, and buried under the requested number of blocks.
    Confirmed(ConfirmedTx),
    /// Included but reverted. The nonce is used up.
    Reverted {
        /// Including block.
        block_number: u64,
        /// Decoded revert reason.
        reason: String,
    },
    /// The node has neither a receipt nor the transaction: it was replaced, evicted from the
    /// pool, or removed by a reorganization. The nonce may be free again.
    Dropped,
}

/// Result of [`SettlementClient::verify`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verification {
    /// The contract stores exactly the output's new block number, state root and block hash.
    Settled,
    /// The contract still stores the output's previous state: the update is not applied yet.
    Pending,
    /// The contract stores a later block, so the update was applied and built upon.
    Superseded {
        /// Block number stored in the contract.
        block_number: u64,
    },
    /// The contract stores a state that is neither the output's previous nor its new state.
    Mismatch {
        /// The output's new state.
        expected: CoreState,
        /// The state stored in the contract.
        found: CoreState,
    },
}

/// Ethereum settlement client bound to one core contract and one signing key.
#[derive(Clone, Debug)]
pub struct SettlementClient {
    provider: RootProvider,
    config: SettlementConfig,
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

    /// Reports whether `tx_hash` is pending, confirmed under at least `confirmations` blocks,
    /// reverted, or dropped. A revert is reported as soon as the receipt exists.
    #[instrument(skip_all, fields(tx_hash = %tx_hash))]
    pub async fn check_confirmation(
        &self,
        tx_hash: B256,
        confirmations: u64,
    ) -> Result<Confirmation, SettlementError> {
        let receipt = self
            .provider
            .get_transaction_receipt(tx_hash)
            .await
            .map_err(SettlementError::rpc("eth_getTransactionReceipt"))?;
        let Some(receipt) = receipt else {
            let transaction = self
                .provider
                .get_transaction_by_hash(tx_hash)
                .await
                .map_err(SettlementError::rpc("eth_getTransactionByHash"))?;
            return Ok(match transaction {
                Some(_) => Confirmation::Pending {
                    included_in_block: None,
                    confirmations: 0,
                },
                None => Confirmation::Dropped,
            });
        };

        let block_number = receipt
            .block_number
            .ok_or(SettlementError::IncompleteResponse {
                tx_hash,
                field: "blockNumber",
            })?;
        if !receipt.status() {
            let reason = self.replay_revert_reason(tx_hash, block_number).await;
            warn!(block_number, %reason, "state update reverted");
            return Ok(Confirmation::Reverted {
                block_number,
                reason,
            });
        }

        let latest = self
            .provider
            .get_block_number()
            .await
            .map_err(SettlementError::rpc("eth_blockNumber"))?;
        let buried = latest.saturating_sub(block_number);
        if buried < confirmations {
            return Ok(Confirmation::Pending {
                included_in_block: Some(block_number),
                confirmations: buried,
            });
        }

        let blob_gas_used = receipt.blob_gas_used.unwrap_or_default();
        let blob_gas_price = receipt.blob_gas_price.unwrap_or_default();
        let total_fee_wei = u128::from(receipt.gas_used)
            .saturating_mul(receipt.effective_gas_price)
            .saturating_add(u128::from(blob_gas_used).saturating_mul(blob_gas_price));
        Ok(Confirmation::Confirmed(ConfirmedTx {
            block_number,
            block_hash: receipt
                .block_hash
                .ok_or(SettlementError::IncompleteResponse {
                    tx_hash,
                    field: "blockHash",
                })?,
            confirmations: buried,
            gas_used: receipt.gas_used,
            blob_gas_used,
            effective_gas_price: receipt.effective_gas_price,
            blob_gas_price,
            total_fee_wei,
        }))
    }

    /// Compares the contract's state with the output's new and previous state.
    pub async fn verify(&self, output: &ProgramOutput) -> Result<Verification, SettlementError> {
        let found = self.read_state().await?;
        let expected = CoreState {
            block_number: Some(output.new_block_number()),
            state_root: output.new_state_root(),
            block_hash: output.new_block_hash(),
        };
        if found == expected {
            return Ok(Verification::Settled);
        }
        let previous = CoreState {
            block_number: output.prev_block_number(),
            state_root: output.prev_state_root(),
            block_hash: output.prev_block_hash(),
        };
        if found == previous {
            return Ok(Verification::Pending);
        }
        if let Some(block_number) = found.block_number
            && block_number > output.new_block_number()
        {
            return Ok(Verification::Superseded { block_number });
        }
        Ok(Verification::Mismatch { expected, found })
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

    /// Replays a reverted transaction with `eth_call` on the state before its block to recover
    /// the revert reason.
    async fn replay_revert_reason(&self, tx_hash: B256, block_number: u64) -> String {
        use alloy::consensus::Transaction as _;

        let transaction = match self.provider.get_transaction_by_hash(tx_hash).await {
            Ok(Some(transaction)) => transaction,
            Ok(None) => return "reason unknown: the node no longer returns the transaction".into(),
            Err(error) => {
                return format!("reason unknown: eth_getTransactionByHash failed: {error}");
            }
        };
        let mut request = TransactionRequest::default()
            .with_from(transaction.inner.signer())
            .with_input(transaction.input().clone())
            .with_gas_limit(transaction.gas_limit());
        if let Some(to) = transaction.to() {
            request = request.with_to(to);
        }
        request.blob_versioned_hashes = transaction.blob_versioned_hashes().map(<[B256]>::to_vec);
        request.max_fee_per_blob_gas = transaction.max_fee_per_blob_gas();

        // NOTE: the replay runs on the parent block's state, so a transaction earlier in the
        // same block that changed the contract can make it succeed or fail differently.
        let parent = BlockId::number(block_number.saturating_sub(1));
        match self.provider.call(request).block(parent).await {
            Ok(_) => "reason unknown: replaying the transaction on the parent block succeeded, \
                      so an earlier transaction in its block changed the outcome"
                .into(),
            Err(error) => match error
                .as_error_resp()
                .and_then(|payload| payload.as_revert_data())
            {
                Some(data) => decode_revert_reason(&data),
                None => revert_reason_of(&error)
                    .unwrap_or_else(|| format!("reason unknown: replay failed: {error}")),
            },
        }
    }
}
