//! Strict text forms of Starknet felts: hex and decimal parsing that rejects values at or
//! above the field modulus instead of reducing them, and the serde adapters built on it.

use num_bigint::BigUint;
use starknet_types_core::felt::Felt;

use super::error::DaError;

/// Parses a hex felt, with or without `0x`, of at most 64 digits, below the field modulus.
///
/// The error is a sentence naming the problem; callers add the field name.
pub fn parse_hex(text: &str) -> Result<Felt, String> {
    let digits = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))
        .unwrap_or(text);
    if digits.is_empty() {
        return Err("no hex digits".to_owned());
    }
    if let Some(bad) = digits.chars().find(|c| !c.is_ascii_hexdigit()) {
        return Err(format!("`{bad}` is not a hex digit"));
    }
    let significant = digits.trim_start_matches('0');
    if significant.len() > 64 {
        return Err("more than 256 bits".to_owned());
    }
    let padded = format!("{significant:0>64}");
    let mut bytes = [0u8; 32];
    hex::decode_to_slice(&padded, &mut bytes).map_err(|error| error.to_string())?;
    felt_from_be_bytes(&bytes)
        .ok_or_else(|| "not below the Starknet field modulus 2^251 + 17 * 2^192 + 1".to_owned())
}

/// Parses a decimal felt below the field modulus.
pub fn parse_decimal(text: &str) -> Result<Felt, String> {
    if text.is_empty() {
        return Err("no decimal digits".to_owned());
    }
    if let Some(bad) = text.chars().find(|c| !c.is_ascii_digit()) {
        return Err(format!("`{bad}` is not a decimal digit"));
    }
    let value: BigUint = text.parse().map_err(|error| format!("{error}"))?;
    if value > Felt::MAX.to_biguint() {
        return Err("not below the Starknet field modulus 2^251 + 17 * 2^192 + 1".to_owned());
    }
    Ok(Felt::from(value))
}

/// Converts 32 big-endian bytes to a felt, or `None` when the value is not below the modulus.
pub fn felt_from_be_bytes(bytes: &[u8; 32]) -> Option<Felt> {
    // Big-endian byte strings of equal length compare like the numbers they encode.
    if bytes > &Felt::MAX.to_bytes_be() {
        return None;
    }
    Some(Felt::from_bytes_be(bytes))
}

/// Parses one felt per line, decimal or `0x` hex; blank lines are skipped.
pub fn parse_felt_lines(text: &str, document: &str) -> Result<Vec<Felt>, DaError> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(index, line)| {
            let line = line.trim();
            let parsed = if line.starts_with("0x") {
                parse_hex(line)
            } else {
                parse_decimal(line)
            };
            parsed.map_err(|reason| DaError::InvalidFelt {
                field: format!("line {} of the {document}", index + 1),
                value: line.to_owned(),
                reason,
            })
        })
        .collect()
}

/// Parses a JSON array of `0x` hex felts.
pub fn parse_felt_json_array(json: &str, document: &'static str) -> Result<Vec<Felt>, DaError> {
    #[derive(serde::Deserialize)]
    #[serde(transparent)]
    struct Felts(#[serde(with = "hex_string_vec")] Vec<Felt>);
    let felts: Felts = super::state_update::parse_json(document, json)?;
    Ok(felts.0)
}

/// Serde adapter for a felt written as a `0x` hex string.
pub mod hex_string {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _};
    use starknet_types_core::felt::Felt;

    /// Writes the felt as lowercase `0x` hex without leading zeros.
    pub fn serialize<S: Serializer>(felt: &Felt, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{felt:#x}"))
    }

    /// Reads a hex felt, rejecting non-hex text and values at or above the modulus.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Felt, D::Error> {
        let text = String::deserialize(deserializer)?;
        super::parse_hex(&text)
            .map_err(|reason| D::Error::custom(format!("felt `{text}`: {reason}")))
    }
}

/// Serde adapter for a list of felts written as `0x` hex strings.
pub mod hex_string_vec {
    use serde::{Deserialize, Deserializer, Serializer, de::Error as _, ser::SerializeSeq};
    use starknet_types_core::felt::Felt;

    /// Writes each felt as lowercase `0x` hex.
    pub fn serialize<S: Serializer>(felts: &[Felt], serializer: S) -> Result<S::Ok, S::Error> {
        let mut sequence = serializer.serialize_seq(Some(felts.len()))?;
        for felt in felts {
            sequence.serialize_element(&format!("{felt:#x}"))?;
        }
        sequence.end()
    }

    /// Reads a list of hex felts; the error names the index of the rejected one.
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Felt>, D::Error> {
        let texts = Vec::<String>::deserialize(deserializer)?;
        texts
            .iter()
            .enumerate()
            .map(|(index, text)| {
                super::parse_hex(text).map_err(|reason| {
                    D::Error::custom(format!("element {index}, felt `{text}`: {reason}"))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_hex_accepts_prefix_and_leading_zeros() {
        assert_eq!(parse_hex("0x1f"), Ok(Felt::from(31u8)));
        assert_eq!(parse_hex("1f"), Ok(Felt::from(31u8)));
        assert_eq!(parse_hex(&format!("0x{}1", "0".repeat(70))), Ok(Felt::ONE));
    }

    #[test]
    fn parse_hex_accepts_max_felt() {
        let max = "0x800000000000011000000000000000000000000000000000000000000000000";
        assert_eq!(parse_hex(max), Ok(Felt::MAX));
    }

    #[test]
    fn parse_hex_rejects_modulus() {
        let modulus = "0x800000000000011000000000000000000000000000000000000000000000001";
        let error = parse_hex(modulus).unwrap_err();
        assert!(error.contains("modulus"), "{error}");
    }

    #[test]
    fn parse_hex_rejects_non_hex() {
        assert!(parse_hex("0xzz").unwrap_err().contains("`z`"));
        assert!(parse_hex("0x").unwrap_err().contains("no hex digits"));
        assert!(
            parse_hex(&format!("0x1{}", "0".repeat(64)))
                .unwrap_err()
                .contains("256 bits")
        );
    }

    #[test]
    fn parse_decimal_checks_range() {
        assert_eq!(parse_decimal("218402"), Ok(Felt::from(218402u32)));
        let modulus = (Felt::MAX.to_biguint() + 1u8).to_string();
        assert!(parse_decimal(&modulus).unwrap_err().contains("modulus"));
        assert!(parse_decimal("12a").unwrap_err().contains("`a`"));
        assert!(parse_decimal("").is_err());
    }
}
