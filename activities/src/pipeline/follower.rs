//! The `follower_poll` activity's logic: which blocks the follower may start now, and whether
//! the node's chain still matches the blocks settled on L1 and the ones already started.

use super::{settlement_error, source_error};
use crate::settlement::{CoreState, SettlementClient};
use crate::source::{BlockSource, SourceError};
use alloy::primitives::U256;
use orchestrator_workflows::types::{BlockLink, FollowerPoll, FollowerPollInput};
use starknet_types_core::felt::Felt;
use temporalio_sdk::activities::ActivityError;

/// Reads the node's head and the core contract, and returns the next blocks to start.
pub(super) async fn poll(
    source: &BlockSource,
    settlement: &SettlementClient,
    input: &FollowerPollInput,
) -> Result<FollowerPoll, ActivityError> {
    let l2_latest = source.latest_block_number().await.map_err(source_error)?;
    let l1 = settlement.read_state().await.map_err(settlement_error)?;
    let first_block = input
        .next_block
        .unwrap_or_else(|| l1.block_number.map_or(0, |settled| settled + 1));
    let mut poll = FollowerPoll {
        l2_latest,
        l1_settled: l1.block_number,
        first_block,
        blocks: Vec::new(),
        parent: None,
        reorg: None,
    };

    // The node must hold the settled block with the hash stored on L1.
    if let Some(settled) = l1.block_number
        && settled <= l2_latest
    {
        let header = source.block_header(settled).await.map_err(source_error)?;
        if felt_to_u256(header.hash) != l1.block_hash {
            poll.reorg = Some(settled_mismatch(settled, header.hash, &l1));
            return Ok(poll);
        }
    }

    // The hash the first block's parent hash must equal.
    let mut parent = match (&input.parent, first_block.checked_sub(1)) {
        (Some(link), Some(previous)) if link.number == previous => Some(link.clone()),
        (_, Some(previous)) if l1.block_number == Some(previous) => Some(BlockLink {
            number: previous,
            hash: format!("{:#x}", l1.block_hash),
        }),
        (_, Some(previous)) if previous <= l2_latest => {
            let header = source.block_header(previous).await.map_err(source_error)?;
            Some(BlockLink {
                number: previous,
                hash: format!("{:#x}", header.hash),
            })
        }
        _ => None,
    };
    poll.parent = parent.clone();

    let unsettled = match l1.block_number {
        Some(settled) => first_block.saturating_sub(settled + 1),
        None => first_block,
    };
    let room = input.window.max(1).saturating_sub(unsettled);
    if room == 0 || first_block > l2_latest {
        return Ok(poll);
    }
    let mut last = l2_latest.min(first_block + room - 1);
    if let Some(bound) = input.last_block {
        last = last.min(bound);
    }
    for number in first_block..=last {
        let header = match source.block_header(number).await {
            Ok(header) => header,
            // The node reported the block as latest but no longer serves it: poll again later.
            Err(SourceError::BlockNotFound { .. }) => break,
            Err(error) => return Err(source_error(error)),
        };
        if let Some(expected) = &parent {
            let found = format!("{:#x}", header.parent_hash);
            if !same_hash(&expected.hash, &found) {
                poll.reorg = Some(format!(
                    "L2 reorg: block {number} on the node has parent hash {found}, but block {} \
                     was {} when the follower checked it; the node's chain changed, so the \
                     follower stopped before starting block {number}. Check the node, then send \
                     `orchestrator follow --resume` to check again",
                    expected.number, expected.hash
                ));
                break;
            }
        }
        let link = BlockLink {
            number,
            hash: format!("{:#x}", header.hash),
        };
        parent = Some(link.clone());
        poll.blocks.push(link);
    }
    Ok(poll)
}

fn settled_mismatch(settled: u64, node_hash: Felt, l1: &CoreState) -> String {
    format!(
        "L2 reorg: block {settled} on the node has hash {node_hash:#x}, but the core contract on \
         L1 settled it with hash {:#x}; the node's chain differs from the settled one, so the \
         follower stopped. Point the orchestrator at the node of this chain (or restore its \
         history), then send `orchestrator follow --resume` to check again",
        l1.block_hash
    )
}

fn same_hash(a: &str, b: &str) -> bool {
    let parse = |text: &str| U256::from_str_radix(text.trim_start_matches("0x"), 16).ok();
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => a == b,
        _ => a.eq_ignore_ascii_case(b),
    }
}

fn felt_to_u256(felt: Felt) -> U256 {
    U256::from_be_bytes(felt.to_bytes_be())
}

#[cfg(test)]
mod tests {
    use super::same_hash;

    #[test]
    fn hashes_compare_by_value() {
        assert!(same_hash("0x0abc", "0xABC"));
        assert!(!same_hash("0x1", "0x2"));
    }
}
