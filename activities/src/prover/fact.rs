//! Facts of Cairo runs, as SHARP and the on-chain fact registries define them: the program
//! hash chain, the fact topology of the output pages, their keccak Merkle root and the fact.
//!
//! The algorithms follow cairo-lang's `compute_program_hash_chain`
//! (`starkware/cairo/bootloaders/hash_program.py`) and `generate_program_fact`
//! (`starkware/cairo/bootloaders/generate_fact.py`, `fact_topology.py`).

use alloy::primitives::{B256, U256, keccak256};
use starknet_types_core::felt::Felt;
use starknet_types_core::hash::{Pedersen, StarkHash};

use super::error::{FactError, PieError};
use super::pie::{CairoPie, OutputBuiltinData, StrippedProgram};

/// Output builtin attribute that carries the fact topology's tree structure.
pub const GPS_FACT_TOPOLOGY: &str = "gps_fact_topology";
/// Bootloader version the program hash chain starts with for plain (non-bootloaded) tasks.
pub const BOOTLOADER_VERSION: u64 = 0;
/// Maximum length of a tree structure, checked by cairo-lang's `get_fact_topology_from_additional_data`.
const MAX_TREE_STRUCTURE_LENGTH: usize = 10;
/// Entries of a tree structure must stay below this bound (cairo-lang checks `< 2**30`).
const MAX_TREE_STRUCTURE_ENTRY: u64 = 1 << 30;

/// Split of the program output into pages, and the Merkle tree shape over the pages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactTopology {
    /// Pairs `(n_pages, n_nodes)`: push `n_pages` page leaves, then merge the top `n_nodes`
    /// stack entries into one node.
    pub tree_structure: Vec<u64>,
    /// Size of each page in felts, page 0 first.
    pub page_sizes: Vec<u64>,
}

/// Everything computed about a PIE's fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FactInfo {
    /// Pedersen hash chain of the program.
    pub program_hash: Felt,
    /// Felts of the output builtin segment.
    pub program_output: Vec<Felt>,
    /// Page layout of the output.
    pub fact_topology: FactTopology,
    /// Merkle root over the output pages.
    pub output_root: B256,
    /// `keccak256(program_hash ‖ output_root)`.
    pub fact: B256,
}

/// Computes the program hash, output, fact topology, output root and fact of a PIE.
///
/// # Errors
/// [`FactError::Pie`] when the program output cannot be read, and [`FactError::InvalidTopology`]
/// when the output builtin's pages or tree structure are inconsistent with the output.
pub fn compute_fact_info(pie: &CairoPie) -> Result<FactInfo, FactError> {
    let program_hash = compute_program_hash_chain(&pie.program, BOOTLOADER_VERSION);
    let program_output = pie.program_output()?;
    let fact_topology =
        fact_topology_from_output_builtin(&pie.output_builtin, program_output.len())?;
    let output_root = compute_output_root(&program_output, &fact_topology)?;
    let fact = compute_fact(program_hash, output_root);
    Ok(FactInfo {
        program_hash,
        program_output,
        fact_topology,
        output_root,
        fact,
    })
}

/// Computes the fact of a PIE given as zip bytes.
///
/// # Errors
/// As [`CairoPie::from_zip_bytes`] and [`compute_fact_info`].
pub fn compute_fact_info_from_zip(bytes: &[u8]) -> Result<FactInfo, FactError> {
    let pie = CairoPie::from_zip_bytes(bytes)?;
    compute_fact_info(&pie)
}

/// Returns `keccak256(program_hash as 32 bytes BE ‖ output_root)`.
pub fn compute_fact(program_hash: Felt, output_root: B256) -> B256 {
    let mut preimage = [0u8; 64];
    preimage[..32].copy_from_slice(&program_hash.to_bytes_be());
    preimage[32..].copy_from_slice(output_root.as_slice());
    keccak256(preimage)
}

/// Computes the Pedersen hash chain of a program: the chain over
/// `[n, bootloader_version, main, n_builtins, builtins…, data…]`, where `n` counts the items
/// after it and each builtin name is read as a big-endian ASCII integer.
pub fn compute_program_hash_chain(program: &StrippedProgram, bootloader_version: u64) -> Felt {
    let mut chain = Vec::with_capacity(4 + program.builtins.len() + program.data.len());
    chain.push(Felt::from(bootloader_version));
    chain.push(Felt::from(program.main));
    chain.push(Felt::from(program.builtins.len() as u64));
    chain.extend(
        program
            .builtins
            .iter()
            .map(|name| Felt::from_bytes_be_slice(name.as_bytes())),
    );
    chain.extend_from_slice(&program.data);
    chain.insert(0, Felt::from(chain.len() as u64));
    compute_hash_chain(&chain)
}

/// Folds from the right: `h(x0, h(x1, … h(x_{n-2}, x_{n-1})))`.
fn compute_hash_chain(items: &[Felt]) -> Felt {
    let Some((last, rest)) = items.split_last() else {
        return Felt::ZERO;
    };
    rest.iter().rev().fold(*last, |accumulator, item| {
        Pedersen::hash(item, &accumulator)
    })
}

/// Builds the fact topology from the output builtin's additional data.
///
/// Without a `gps_fact_topology` attribute the output must be one page and the tree is `[1, 0]`.
///
/// # Errors
/// [`FactError::InvalidTopology`] when the attribute is malformed, when pages are given without
/// it, or when the pages are not contiguous from page 1 up to the end of the output.
pub fn fact_topology_from_output_builtin(
    output_builtin: &OutputBuiltinData,
    output_size: usize,
) -> Result<FactTopology, FactError> {
    let tree_structure = match output_builtin.attributes.get(GPS_FACT_TOPOLOGY) {
        Some(tree_structure) => {
            check_tree_structure(tree_structure)?;
            tree_structure.clone()
        }
        None if output_builtin.pages.is_empty() => vec![1, 0],
        None => {
            return Err(FactError::InvalidTopology(format!(
                "the output declares {} extra pages but no {GPS_FACT_TOPOLOGY} attribute",
                output_builtin.pages.len()
            )));
        }
    };
    let page_sizes = page_sizes_from_pages(output_builtin, output_size as u64)?;
    Ok(FactTopology {
        tree_structure,
        page_sizes,
    })
}

fn check_tree_structure(tree_structure: &[u64]) -> Result<(), FactError> {
    let length = tree_structure.len();
    if length == 0 || !length.is_multiple_of(2) || length > MAX_TREE_STRUCTURE_LENGTH {
        return Err(FactError::InvalidTopology(format!(
            "{GPS_FACT_TOPOLOGY} must have an even length between 2 and \
             {MAX_TREE_STRUCTURE_LENGTH}, got {tree_structure:?}"
        )));
    }
    if tree_structure
        .iter()
        .any(|entry| *entry >= MAX_TREE_STRUCTURE_ENTRY)
    {
        return Err(FactError::InvalidTopology(format!(
            "{GPS_FACT_TOPOLOGY} entries must be below 2^30, got {tree_structure:?}"
        )));
    }
    Ok(())
}

/// Page 0 runs from the start of the output to page 1 (or to the end); pages 1.. must follow
/// each other without gaps and end exactly at the end of the output.
fn page_sizes_from_pages(
    output_builtin: &OutputBuiltinData,
    output_size: u64,
) -> Result<Vec<u64>, FactError> {
    let mut page_sizes = vec![output_size];
    let mut expected_start = None;
    for (position, (page_id, page)) in output_builtin.pages.iter().enumerate() {
        let expected_id = position as u64 + 1;
        if *page_id != expected_id {
            return Err(FactError::InvalidTopology(format!(
                "output page ids must be 1, 2, … without gaps, found page {page_id} where \
                 page {expected_id} was expected"
            )));
        }
        match expected_start {
            None if page.start == 0 || page.start > output_size => {
                return Err(FactError::InvalidTopology(format!(
                    "output page 1 starts at {} but must start inside the output (1..={output_size})",
                    page.start
                )));
            }
            None => page_sizes[0] = page.start,
            Some(start) if page.start != start => {
                return Err(FactError::InvalidTopology(format!(
                    "output page {page_id} starts at {} but the previous page ends at {start}",
                    page.start
                )));
            }
            Some(_) => {}
        }
        if page.size == 0 || page.size > output_size {
            return Err(FactError::InvalidTopology(format!(
                "output page {page_id} has size {} but must have 1..={output_size} felts",
                page.size
            )));
        }
        expected_start = Some(page.start + page.size);
        page_sizes.push(page.size);
    }
    if let Some(end) = expected_start
        && end != output_size
    {
        return Err(FactError::InvalidTopology(format!(
            "output pages end at {end} but the output has {output_size} felts"
        )));
    }
    Ok(page_sizes)
}

struct FactNode {
    hash: B256,
    end_offset: u64,
}

/// Computes the Merkle root over the output pages.
///
/// Each page leaf is the keccak of its felts as 32-byte big-endian words. An inner node is
/// `keccak(child_hash ‖ u256(child_end_offset) ‖ …) + 1`, the `+ 1` telling nodes from leaves.
///
/// # Errors
/// [`FactError::InvalidTopology`] when the tree structure does not consume exactly the pages
/// and felts of the output, or does not reduce to a single root.
pub fn compute_output_root(
    program_output: &[Felt],
    fact_topology: &FactTopology,
) -> Result<B256, FactError> {
    let mut stack: Vec<FactNode> = Vec::new();
    let mut pages = fact_topology.page_sizes.iter();
    let mut offset: u64 = 0;

    for pair in fact_topology.tree_structure.chunks_exact(2) {
        let (n_pages, n_nodes) = (pair[0], pair[1]);

        // Push one leaf per page.
        for _ in 0..n_pages {
            let page_size = *pages.next().ok_or_else(|| {
                FactError::InvalidTopology(format!(
                    "tree structure {:?} uses more pages than the {} in the output",
                    fact_topology.tree_structure,
                    fact_topology.page_sizes.len()
                ))
            })?;
            let end = offset + page_size;
            let page = usize::try_from(offset)
                .ok()
                .zip(usize::try_from(end).ok())
                .and_then(|(start, end)| program_output.get(start..end))
                .ok_or_else(|| {
                    FactError::InvalidTopology(format!(
                        "page sizes {:?} exceed the {} felts of the output",
                        fact_topology.page_sizes,
                        program_output.len()
                    ))
                })?;
            let words: Vec<u8> = page.iter().flat_map(Felt::to_bytes_be).collect();
            stack.push(FactNode {
                hash: keccak256(words),
                end_offset: end,
            });
            offset = end;
        }

        // Merge the top `n_nodes` entries into one inner node.
        if n_nodes == 0 {
            continue;
        }
        let n_nodes = usize::try_from(n_nodes).unwrap_or(usize::MAX);
        if n_nodes > stack.len() {
            return Err(FactError::InvalidTopology(format!(
                "tree structure {:?} merges {n_nodes} nodes but only {} are on the stack",
                fact_topology.tree_structure,
                stack.len()
            )));
        }
        let children = stack.split_off(stack.len() - n_nodes);
        let mut preimage = Vec::with_capacity(64 * children.len());
        for child in &children {
            preimage.extend_from_slice(child.hash.as_slice());
            preimage.extend_from_slice(&U256::from(child.end_offset).to_be_bytes::<32>());
        }
        let hash = U256::from_be_bytes(keccak256(&preimage).0).wrapping_add(U256::from(1));
        let end_offset = children.last().map_or(offset, |child| child.end_offset);
        stack.push(FactNode {
            hash: B256::from(hash.to_be_bytes::<32>()),
            end_offset,
        });
    }

    if pages.next().is_some() {
        return Err(FactError::InvalidTopology(format!(
            "tree structure {:?} leaves some of the {} pages unused",
            fact_topology.tree_structure,
            fact_topology.page_sizes.len()
        )));
    }
    if offset != program_output.len() as u64 {
        return Err(FactError::InvalidTopology(format!(
            "pages cover {offset} felts but the output has {}",
            program_output.len()
        )));
    }
    match stack.as_slice() {
        [root] => Ok(root.hash),
        _ => Err(FactError::InvalidTopology(format!(
            "tree structure {:?} leaves {} nodes instead of one root",
            fact_topology.tree_structure,
            stack.len()
        ))),
    }
}

impl From<PieError> for FactError {
    fn from(source: PieError) -> Self {
        Self::Pie(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::prover::pie::OutputPage;

    #[test]
    fn output_root_matches_cairo_lang_vector() {
        // Output 1..=12 in three pages of four under two levels of inner nodes. The root is
        // the test vector of the Madara orchestrator's fact node module.
        let output: Vec<Felt> = (1u64..=12).map(Felt::from).collect();
        let topology = FactTopology {
            tree_structure: vec![1, 0, 1, 0, 0, 2, 1, 1, 0, 2],
            page_sizes: vec![4, 4, 4],
        };
        let root = compute_output_root(&output, &topology).unwrap();
        let expected: B256 = "0x17f41ba1db11e3a164b23b72b52190fb0da6184b4b80cf74e0882fde7438e47f"
            .parse()
            .unwrap();
        assert_eq!(root, expected);
    }

    #[test]
    fn single_page_root_is_page_keccak() {
        let output = vec![Felt::from(7u8)];
        let topology = FactTopology {
            tree_structure: vec![1, 0],
            page_sizes: vec![1],
        };
        let root = compute_output_root(&output, &topology).unwrap();
        assert_eq!(root, keccak256(Felt::from(7u8).to_bytes_be()));
    }

    #[test]
    fn topology_without_attribute_is_one_page() {
        let topology = fact_topology_from_output_builtin(&OutputBuiltinData::default(), 5).unwrap();
        assert_eq!(topology.tree_structure, vec![1, 0]);
        assert_eq!(topology.page_sizes, vec![5]);
    }

    #[test]
    fn topology_pages_split_output() {
        let mut data = OutputBuiltinData::default();
        data.pages.insert(
            1,
            OutputPage {
                start: 12,
                size: 11,
            },
        );
        data.attributes
            .insert(GPS_FACT_TOPOLOGY.to_owned(), vec![2, 1, 0, 2]);
        let topology = fact_topology_from_output_builtin(&data, 23).unwrap();
        assert_eq!(topology.page_sizes, vec![12, 11]);
    }

    #[test]
    fn topology_pages_with_gap_are_rejected() {
        let mut data = OutputBuiltinData::default();
        data.pages.insert(1, OutputPage { start: 2, size: 3 });
        data.pages.insert(2, OutputPage { start: 6, size: 2 });
        data.attributes
            .insert(GPS_FACT_TOPOLOGY.to_owned(), vec![3, 0]);
        let error = fact_topology_from_output_builtin(&data, 8).unwrap_err();
        assert!(
            error.to_string().contains("page 2 starts at 6"),
            "message: {error}"
        );
    }

    #[test]
    fn topology_pages_short_of_output_are_rejected() {
        let mut data = OutputBuiltinData::default();
        data.pages.insert(1, OutputPage { start: 2, size: 3 });
        data.attributes
            .insert(GPS_FACT_TOPOLOGY.to_owned(), vec![2, 0]);
        assert!(fact_topology_from_output_builtin(&data, 8).is_err());
    }

    #[test]
    fn odd_tree_structure_is_rejected() {
        let mut data = OutputBuiltinData::default();
        data.attributes
            .insert(GPS_FACT_TOPOLOGY.to_owned(), vec![1, 0, 1]);
        assert!(fact_topology_from_output_builtin(&data, 3).is_err());
    }

    #[test]
    fn root_rejects_unused_pages() {
        let output: Vec<Felt> = (1u64..=4).map(Felt::from).collect();
        let topology = FactTopology {
            tree_structure: vec![1, 0],
            page_sizes: vec![2, 2],
        };
        assert!(compute_output_root(&output, &topology).is_err());
    }

    #[test]
    fn hash_chain_of_one_item_is_item() {
        assert_eq!(compute_hash_chain(&[Felt::from(3u8)]), Felt::from(3u8));
    }
}
