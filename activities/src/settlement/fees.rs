//! Fee caps of a state update transaction and the total-fee budget they must fit in.

use alloy::eips::eip4844::DATA_GAS_PER_BLOB;
use serde::{Deserialize, Serialize};

/// Environment variable with the maximum total fee of one state update, in wei.
pub const MAX_FEE_WEI_ENV: &str = "MADARA_ORCHESTRATOR_ETHEREUM_L2_STATE_UPDATE_MAX_FEE_WEI";
/// Default of [`MAX_FEE_WEI_ENV`]: 0.01 ETH.
pub const DEFAULT_MAX_FEE_WEI: u128 = 10_000_000_000_000_000;
/// Default priority fee per gas: 0.2 gwei.
pub const DEFAULT_MAX_PRIORITY_FEE_PER_GAS: u128 = 200_000_000;

/// Fee settings of state update transactions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeePolicy {
    /// Maximum of `max_fee_per_gas · gas_limit + max_fee_per_blob_gas · blob_gas`, in wei.
    /// A transaction whose caps exceed it is not signed.
    pub max_total_fee_wei: u128,
    /// Priority fee per gas, in wei.
    pub max_priority_fee_per_gas: u128,
    /// Fixed gas limit. `None` estimates it with `eth_estimateGas`, which also rejects an
    /// update the contract would revert before anything is signed.
    pub gas_limit: Option<u64>,
}

impl Default for FeePolicy {
    fn default() -> Self {
        Self {
            max_total_fee_wei: DEFAULT_MAX_FEE_WEI,
            max_priority_fee_per_gas: DEFAULT_MAX_PRIORITY_FEE_PER_GAS,
            gas_limit: None,
        }
    }
}

/// Gas limit and fee caps of one state update transaction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxFees {
    /// Gas limit.
    pub gas_limit: u64,
    /// Cap on base fee plus priority fee per gas, in wei.
    pub max_fee_per_gas: u128,
    /// Priority fee per gas, in wei.
    pub max_priority_fee_per_gas: u128,
    /// Cap on the blob base fee per blob gas, in wei.
    pub max_fee_per_blob_gas: u128,
    /// Blob gas the transaction uses: 131072 per blob.
    pub blob_gas: u64,
}

impl TxFees {
    /// Derives caps from the next block's base fee and blob base fee. Both caps are twice the
    /// current value, so the transaction stays includable through about six full blocks: the
    /// base fee rises by at most 12.5 % per block, the Prague blob base fee by about 8 %.
    pub fn from_base_fees(
        base_fee_per_gas: u128,
        blob_base_fee: u128,
        max_priority_fee_per_gas: u128,
        gas_limit: u64,
        n_blobs: usize,
    ) -> Self {
        Self {
            gas_limit,
            max_fee_per_gas: base_fee_per_gas
                .saturating_mul(2)
                .saturating_add(max_priority_fee_per_gas),
            max_priority_fee_per_gas,
            max_fee_per_blob_gas: blob_base_fee.saturating_mul(2).max(1),
            blob_gas: DATA_GAS_PER_BLOB.saturating_mul(n_blobs as u64),
        }
    }

    /// Returns the most this transaction can cost, in wei.
    pub fn max_total_fee(&self) -> u128 {
        self.max_fee_per_gas
            .saturating_mul(u128::from(self.gas_limit))
            .saturating_add(
                self.max_fee_per_blob_gas
                    .saturating_mul(u128::from(self.blob_gas)),
            )
    }

    /// Returns caps for a same-nonce replacement of a transaction sent with `self`. Each of the
    /// three fee caps is the larger of twice its previous value and the fresh estimate. Geth's
    /// blob pool replaces a pending blob transaction only when all three caps at least double.
    pub fn replacement(&self, fresh: &Self) -> Self {
        let max_priority_fee_per_gas = self
            .max_priority_fee_per_gas
            .saturating_mul(2)
            .max(fresh.max_priority_fee_per_gas);
        Self {
            gas_limit: fresh.gas_limit.max(self.gas_limit),
            max_fee_per_gas: self
                .max_fee_per_gas
                .saturating_mul(2)
                .max(fresh.max_fee_per_gas)
                .max(max_priority_fee_per_gas),
            max_priority_fee_per_gas,
            max_fee_per_blob_gas: self
                .max_fee_per_blob_gas
                .saturating_mul(2)
                .max(fresh.max_fee_per_blob_gas),
            blob_gas: fresh.blob_gas,
        }
    }
}

/// A transaction that was not signed because its caps exceed the fee budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeeCapExceeded {
    /// Caps the transaction would have used.
    pub fees: TxFees,
    /// `fees.max_total_fee()`, in wei.
    pub max_total_fee_wei: u128,
    /// The budget it exceeds, in wei.
    pub cap_wei: u128,
}

/// Returns `Err` with the details when `fees` cost more than `cap_wei` at most.
pub fn check_fee_cap(fees: &TxFees, cap_wei: u128) -> Result<(), FeeCapExceeded> {
    let max_total_fee_wei = fees.max_total_fee();
    if max_total_fee_wei > cap_wei {
        return Err(FeeCapExceeded {
            fees: *fees,
            max_total_fee_wei,
            cap_wei,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_double_base_fees() {
        let fees = TxFees::from_base_fees(10, 3, 2, 100, 2);
        assert_eq!(fees.max_fee_per_gas, 22);
        assert_eq!(fees.max_priority_fee_per_gas, 2);
        assert_eq!(fees.max_fee_per_blob_gas, 6);
        assert_eq!(fees.blob_gas, 2 * 131_072);
        assert_eq!(fees.max_total_fee(), 22 * 100 + 6 * 2 * 131_072);
    }

    #[test]
    fn blob_fee_cap_is_at_least_one_wei() {
        let fees = TxFees::from_base_fees(10, 0, 2, 100, 1);
        assert_eq!(fees.max_fee_per_blob_gas, 1);
    }

    #[test]
    fn replacement_at_least_doubles_every_cap() {
        let previous = TxFees::from_base_fees(10, 3, 2, 100, 1);
        let fresh = TxFees::from_base_fees(1, 1, 1, 90, 1);
        let replacement = previous.replacement(&fresh);
        assert_eq!(replacement.max_fee_per_gas, 2 * previous.max_fee_per_gas);
        assert_eq!(
            replacement.max_priority_fee_per_gas,
            2 * previous.max_priority_fee_per_gas
        );
        assert_eq!(
            replacement.max_fee_per_blob_gas,
            2 * previous.max_fee_per_blob_gas
        );
        assert_eq!(replacement.gas_limit, 100);
    }

    #[test]
    fn replacement_follows_higher_fresh_fees() {
        let previous = TxFees::from_base_fees(10, 3, 2, 100, 1);
        let fresh = TxFees::from_base_fees(1000, 500, 2, 100, 1);
        let replacement = previous.replacement(&fresh);
        assert_eq!(replacement.max_fee_per_gas, fresh.max_fee_per_gas);
        assert_eq!(replacement.max_fee_per_blob_gas, fresh.max_fee_per_blob_gas);
    }

    #[test]
    fn fee_cap_rejects_above_budget() {
        let fees = TxFees::from_base_fees(10, 3, 2, 100, 1);
        assert!(check_fee_cap(&fees, fees.max_total_fee()).is_ok());
        let exceeded = check_fee_cap(&fees, fees.max_total_fee() - 1).expect_err("above cap");
        assert_eq!(exceeded.max_total_fee_wei, fees.max_total_fee());
        assert_eq!(exceeded.cap_wei, fees.max_total_fee() - 1);
    }
}
