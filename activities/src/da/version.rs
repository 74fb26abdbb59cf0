//! Selection of the DA layout from the Starknet version of the blocks.

use super::error::DaError;

/// Packing of contract updates into felts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Starknet before 0.13.3: one word `class_flag << 128 | nonce << 64 | n_updates`, and the
    /// nonce of every touched contract is published.
    Legacy,
    /// Starknet 0.13.3 and later: a shorter word with a flag for update counts below 256, and
    /// only changed nonces are published.
    V2,
}

/// The DA pipeline a Starknet version uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DaLayout {
    /// State diff encoding.
    pub encoding: Encoding,
    /// Whether addresses and keys at or above 0x80 are replaced by their aliases (0.13.4+).
    pub stateful_compression: bool,
    /// Whether the encoded felts go through stateless compression (0.13.3+).
    pub stateless_compression: bool,
}

impl DaLayout {
    /// Returns the layout of blocks produced by Starknet `version`, e.g. `"0.13.2.1"`.
    pub fn for_starknet_version(version: &str) -> Result<Self, DaError> {
        let parsed = parse_starknet_version(version)?;
        let layout = if parsed < [0, 13, 3, 0] {
            Self {
                encoding: Encoding::Legacy,
                stateful_compression: false,
                stateless_compression: false,
            }
        } else {
            Self {
                encoding: Encoding::V2,
                stateful_compression: parsed >= [0, 13, 4, 0],
                stateless_compression: true,
            }
        };
        Ok(layout)
    }
}

/// Parses `major.minor.patch[.build]` into four numbers, missing parts being zero.
pub fn parse_starknet_version(version: &str) -> Result<[u64; 4], DaError> {
    let invalid = || DaError::InvalidStarknetVersion {
        version: version.to_owned(),
    };
    let parts: Vec<&str> = version.trim().split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return Err(invalid());
    }
    let mut parsed = [0u64; 4];
    for (slot, part) in parsed.iter_mut().zip(&parts) {
        if part.is_empty() || !part.bytes().all(|byte| byte.is_ascii_digit()) {
            return Err(invalid());
        }
        *slot = part.parse().map_err(|_| invalid())?;
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_before_0_13_3_is_legacy() {
        let layout = DaLayout::for_starknet_version("0.13.2.1").unwrap();
        assert_eq!(layout.encoding, Encoding::Legacy);
        assert!(!layout.stateless_compression);
        assert!(!layout.stateful_compression);
    }

    #[test]
    fn layout_0_13_3_is_v2_without_aliases() {
        let layout = DaLayout::for_starknet_version("0.13.3").unwrap();
        assert_eq!(layout.encoding, Encoding::V2);
        assert!(layout.stateless_compression);
        assert!(!layout.stateful_compression);
    }

    #[test]
    fn layout_0_14_uses_everything() {
        let layout = DaLayout::for_starknet_version("0.14.1").unwrap();
        assert_eq!(layout.encoding, Encoding::V2);
        assert!(layout.stateless_compression);
        assert!(layout.stateful_compression);
    }

    #[test]
    fn version_rejects_garbage() {
        for bad in ["", "0..1", "v0.13", "0.13.x", "1.2.3.4.5"] {
            let error = parse_starknet_version(bad).unwrap_err();
            assert!(error.to_string().contains(&format!("`{bad}`")), "{error}");
        }
    }
}
