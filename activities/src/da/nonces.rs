//! Nonces that the pre-0.13.3 encoding publishes for contracts whose nonce did not change.

use std::collections::{BTreeMap, HashMap};

use starknet_types_core::felt::Felt;

use super::error::DaError;
use super::felt::{parse_decimal, parse_hex};

/// Nonces of contracts whose nonce did not change, which the legacy encoding still publishes.
///
/// The lookup is synchronous: list the contracts with
/// [`contracts_needing_nonce`](super::encode::contracts_needing_nonce), read their
/// nonces (`starknet_getNonce` at the block of the diff), then encode.
pub trait NonceSource {
    /// Returns the nonce of `contract`, or `None` when it is unknown.
    fn nonce(&self, contract: &Felt) -> Option<Felt>;
}

impl NonceSource for BTreeMap<Felt, Felt> {
    fn nonce(&self, contract: &Felt) -> Option<Felt> {
        self.get(contract).copied()
    }
}

impl NonceSource for HashMap<Felt, Felt> {
    fn nonce(&self, contract: &Felt) -> Option<Felt> {
        self.get(contract).copied()
    }
}

/// A [`NonceSource`] without any nonce, for the 0.13.3+ encoding, which never reads one.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoNonces;

impl NonceSource for NoNonces {
    fn nonce(&self, _contract: &Felt) -> Option<Felt> {
        None
    }
}

/// Parses recorded `starknet_getNonce` results: a JSON array of `{"address", "nonce"}`, where
/// `address` is decimal (or `0x` hex) and `nonce` is hex with or without `0x`.
pub fn parse_nonce_answers(json: &str) -> Result<BTreeMap<Felt, Felt>, DaError> {
    #[derive(serde::Deserialize)]
    struct Answer {
        address: String,
        nonce: String,
    }
    let answers: Vec<Answer> = super::state_update::parse_json("nonce list", json)?;
    let mut nonces = BTreeMap::new();
    for (index, answer) in answers.iter().enumerate() {
        let address = if answer.address.starts_with("0x") {
            parse_hex(&answer.address)
        } else {
            parse_decimal(&answer.address)
        }
        .map_err(|reason| DaError::InvalidFelt {
            field: format!("[{index}].address of the nonce list"),
            value: answer.address.clone(),
            reason,
        })?;
        let nonce = parse_hex(&answer.nonce).map_err(|reason| DaError::InvalidFelt {
            field: format!("[{index}].nonce of the nonce list"),
            value: answer.nonce.clone(),
            reason,
        })?;
        nonces.insert(address, nonce);
    }
    Ok(nonces)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn felt(value: u64) -> Felt {
        Felt::from(value)
    }

    #[test]
    fn nonce_answers_parse_decimal_addresses() {
        let json = r#"[{"nonce": "1f", "address": "255"}, {"nonce": "0x2", "address": "0x10"}]"#;
        let nonces = parse_nonce_answers(json).unwrap();
        assert_eq!(nonces.get(&felt(255)), Some(&felt(0x1f)));
        assert_eq!(nonces.get(&felt(16)), Some(&felt(2)));
    }

    #[test]
    fn nonce_answers_name_bad_field() {
        let json = r#"[{"nonce": "1", "address": "12x"}]"#;
        let error = parse_nonce_answers(json).unwrap_err().to_string();
        assert!(error.contains("[0].address"), "{error}");
        assert!(error.contains("12x"), "{error}");
        let missing = parse_nonce_answers(r#"[{"address": "1"}]"#)
            .unwrap_err()
            .to_string();
        assert!(missing.contains("nonce"), "{missing}");
    }
}
