// Stand-in for the Starknet OS (SNOS), run by the orchestrator's in-process SNOS runner.
//
// This program is NOT the Starknet OS. It executes no transactions and checks no state
// transition: the state roots and block hashes it outputs are copied from its input unchecked.
// The real OS re-executes the block against storage proofs read from a full node, which the
// local setup does not have. The stand-in only produces a Cairo PIE whose program output has
// the Starknet OS 0.13.2+ layout, so that proving, fact registration and settlement can run
// end to end:
//
//   [0] prev_state_root      [1] new_state_root
//   [2] prev_block_number    [3] new_block_number      (prev = new - 1, as felts)
//   [4] prev_block_hash      [5] new_block_hash
//   [6] os_program_hash      [7] starknet_os_config_hash
//   [8] use_kzg_da = 1       [9] full_output = 0
//   [10] x0                  [11] n_blobs
//   then n_blobs KZG commitments as (low, high) 192-bit limbs,
//   then n_blobs evaluations y_i = P_i(x0) as (low, high) 128-bit limbs,
//   then 0 (no L2 -> L1 message words) and 0 (no L1 -> L2 message words).
//
// The evaluation point is bound to the published data:
//
//   x0 = poseidon_hash_many(da_felts ++ [c_0.low, c_0.high, c_1.low, c_1.high, ...])
//
// with the Poseidon builtin (the sponge of `poseidon_hash_many`, padded with 1). Every felt is
// below the Stark prime, which is below the BLS12-381 scalar modulus, so x0 is a valid KZG
// evaluation point without reduction. Cairo cannot evaluate the blob polynomials over the
// BLS12-381 field cheaply, so the caller computes the commitments and the y values and passes
// them in; this program recomputes x0 and rejects an input whose x0 differs.
//
// Input: one flat felt array `program_input["snos_input"]`, written to a new memory segment by
// the hint in `main`: the fields of `StandinInput`, then the DA felts, then the commitment
// limbs, then the y limbs.
//
// Recompile with scripts/compile-cairo.sh after editing.

%builtins output range_check poseidon

from starkware.cairo.common.builtin_poseidon.poseidon import poseidon_hash_many
from starkware.cairo.common.cairo_builtins import PoseidonBuiltin
from starkware.cairo.common.math import assert_le_felt, assert_nn, unsigned_div_rem
from starkware.cairo.common.memcpy import memcpy

// Felts per EIP-4844 blob.
const FIELD_ELEMENTS_PER_BLOB = 4096;
// Largest value of a 192-bit commitment limb.
const COMMITMENT_LIMB_MAX = 2 ** 192 - 1;
// Words of the output header, up to and including n_blobs.
const HEADER_WORDS = 12;

// Fixed-size head of the input array.
struct StandinInput {
    prev_state_root: felt,
    new_state_root: felt,
    block_number: felt,
    prev_block_hash: felt,
    block_hash: felt,
    os_program_hash: felt,
    config_hash: felt,
    // Evaluation point the caller used for the y values; must equal the recomputed hash.
    x0: felt,
    n_da_felts: felt,
    n_blobs: felt,
}

func main{output_ptr: felt*, range_check_ptr, poseidon_ptr: PoseidonBuiltin*}() {
    alloc_locals;
    local input: StandinInput*;
    local input_len: felt;
    %{
        snos_input = program_input["snos_input"]
        ids.input = segments.gen_arg(snos_input)
        ids.input_len = len(snos_input)
    %}

    local n_da_felts = input.n_da_felts;
    local n_blobs = input.n_blobs;
    local da_felts: felt* = cast(input, felt*) + StandinInput.SIZE;
    local commitments: felt* = da_felts + n_da_felts;
    local y_values: felt* = commitments + 2 * n_blobs;

    with_attr error_message("snos_input has {input_len} felts, the header announces another size") {
        assert input_len = StandinInput.SIZE + n_da_felts + 4 * n_blobs;
    }

    // One blob per started chunk of 4096 felts, and no blob without felts.
    let (blobs_needed, _) = unsigned_div_rem(
        n_da_felts + FIELD_ELEMENTS_PER_BLOB - 1, FIELD_ELEMENTS_PER_BLOB
    );
    with_attr error_message("n_blobs is {n_blobs} but the DA felts need {blobs_needed} blobs") {
        assert n_blobs = blobs_needed;
    }

    check_limbs(n_blobs=n_blobs, commitments=commitments, y_values=y_values);

    // The DA felts and the commitment limbs are adjacent in the input, so one hash covers both.
    let (local x0) = poseidon_hash_many(n=n_da_felts + 2 * n_blobs, elements=da_felts);
    local expected_x0 = input.x0;
    with_attr error_message("x0 is {x0} but the input was evaluated at {expected_x0}") {
        assert x0 = expected_x0;
    }

    assert output_ptr[0] = input.prev_state_root;
    assert output_ptr[1] = input.new_state_root;
    assert output_ptr[2] = input.block_number - 1;
    assert output_ptr[3] = input.block_number;
    assert output_ptr[4] = input.prev_block_hash;
    assert output_ptr[5] = input.block_hash;
    assert output_ptr[6] = input.os_program_hash;
    assert output_ptr[7] = input.config_hash;
    assert output_ptr[8] = 1;  // use_kzg_da
    assert output_ptr[9] = 0;  // full_output
    assert output_ptr[10] = x0;
    assert output_ptr[11] = n_blobs;

    // Commitments and y values are adjacent in the input too.
    memcpy(dst=output_ptr + HEADER_WORDS, src=commitments, len=4 * n_blobs);
    let messages = output_ptr + HEADER_WORDS + 4 * n_blobs;
    assert messages[0] = 0;  // L2 -> L1 message words
    assert messages[1] = 0;  // L1 -> L2 message words

    let output_ptr = messages + 2;
    return ();
}

// Checks that each commitment limb fits in 192 bits and each y limb in 128 bits.
func check_limbs{range_check_ptr}(n_blobs: felt, commitments: felt*, y_values: felt*) {
    if (n_blobs == 0) {
        return ();
    }
    with_attr error_message("a KZG commitment limb exceeds 192 bits") {
        assert_le_felt(commitments[0], COMMITMENT_LIMB_MAX);
        assert_le_felt(commitments[1], COMMITMENT_LIMB_MAX);
    }
    with_attr error_message("a y limb exceeds 128 bits") {
        assert_nn(y_values[0]);
        assert_nn(y_values[1]);
    }
    return check_limbs(n_blobs=n_blobs - 1, commitments=commitments + 2, y_values=y_values + 2);
}
