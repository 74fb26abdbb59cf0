// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IFactRegistry} from "./FactRegistry.sol";

/// @title Starknet core contract for local chains.
/// @notice Accepts the same `updateStateKzgDA(uint256[], bytes[])` call as the Starknet core
/// contract (StarkWare_Starknet_2024_9) and applies the same checks to the Starknet OS program
/// output (0.13.2+ layout): field range, config hash, state-transition fact in the registry,
/// one KZG point evaluation per blob, and chaining from the stored block number, block hash and
/// state root. It is deployed directly instead of behind a proxy, and it neither escrows L1->L2
/// message fees nor checks that L1->L2 messages were sent: their segment is parsed and emitted.
contract StarknetCoreLocal {
    // Offsets into the Starknet OS program output header.
    uint256 internal constant PREV_STATE_ROOT_OFFSET = 0;
    uint256 internal constant NEW_STATE_ROOT_OFFSET = 1;
    uint256 internal constant PREV_BLOCK_NUMBER_OFFSET = 2;
    uint256 internal constant NEW_BLOCK_NUMBER_OFFSET = 3;
    uint256 internal constant PREV_BLOCK_HASH_OFFSET = 4;
    uint256 internal constant NEW_BLOCK_HASH_OFFSET = 5;
    uint256 internal constant OS_PROGRAM_HASH_OFFSET = 6;
    uint256 internal constant CONFIG_HASH_OFFSET = 7;
    uint256 internal constant USE_KZG_DA_OFFSET = 8;
    uint256 internal constant FULL_OUTPUT_OFFSET = 9;
    uint256 internal constant HEADER_SIZE = 10;

    // Offsets into the KZG segment that follows the header: x0, n_blobs, then per blob the
    // commitment as (low, high) 192-bit limbs, then per blob y as (low, high) 128-bit limbs.
    uint256 internal constant KZG_X0_OFFSET = 0;
    uint256 internal constant KZG_N_BLOBS_OFFSET = 1;
    uint256 internal constant KZG_COMMITMENTS_OFFSET = 2;

    // Message layouts: L2->L1 is (from, to, payload_size, payload...) and L1->L2 is
    // (from, to, nonce, selector, payload_size, payload...).
    uint256 internal constant MESSAGE_TO_L1_PAYLOAD_SIZE_OFFSET = 2;
    uint256 internal constant MESSAGE_TO_L2_PAYLOAD_SIZE_OFFSET = 4;
    uint256 internal constant MAX_SEGMENT_SIZE = 2 ** 30;

    /// @notice Previous block number that the Starknet OS writes for the first block of a chain.
    uint256 public constant GENESIS_PREV_BLOCK_NUMBER =
        0x800000000000011000000000000000000000000000000000000000000000000;
    /// @notice Prime of the Starknet field: every program output word must be below it.
    uint256 public constant STARKNET_FIELD_PRIME =
        0x800000000000011000000000000000000000000000000000000000000000001;

    // EIP-4844 point evaluation precompile and the two words it returns on success.
    address internal constant POINT_EVALUATION_PRECOMPILE = address(0x0a);
    uint256 internal constant FIELD_ELEMENTS_PER_BLOB = 4096;
    uint256 internal constant BLS_MODULUS =
        52435875175126190479447740508185965837690552500527637822603658699938581184513;
    uint256 internal constant KZG_PROOF_LENGTH = 48;
    bytes1 internal constant VERSIONED_HASH_VERSION_KZG = 0x01;

    /// @notice Registry that must contain the state-transition fact of every update.
    IFactRegistry public immutable verifier;

    /// @notice Account allowed to change the program hashes, the config hash and the operators.
    address public owner;
    /// @notice Hash of the Starknet OS program. The fact is bound to it when the output's OS
    /// program hash word is zero (the OS ran without the aggregator).
    uint256 public programHash;
    /// @notice Hash of the aggregator program. The fact is bound to it when the output's OS
    /// program hash word is non-zero, and that word must then equal `programHash`.
    uint256 public aggregatorProgramHash;
    /// @notice Starknet OS config hash that every program output must carry.
    uint256 public configHash;
    /// @notice Accounts allowed to call `updateStateKzgDA`.
    mapping(address => bool) public isOperator;
    /// @notice Number of times each L2->L1 message hash was sent and not yet consumed.
    mapping(bytes32 => uint256) public l2ToL1Messages;

    uint256 internal storedStateRoot;
    int256 internal storedBlockNumber;
    uint256 internal storedBlockHash;

    /// @notice Emitted after every state update with the new state.
    event LogStateUpdate(uint256 globalRoot, int256 blockNumber, uint256 blockHash);
    /// @notice Emitted with keccak256 of the program output that an update was proven with.
    event LogStateTransitionFact(bytes32 stateTransitionFact);
    /// @notice Emitted for each L2->L1 message in an applied program output.
    event LogMessageToL1(uint256 indexed fromAddress, address indexed toAddress, uint256[] payload);
    /// @notice Emitted for each L1->L2 message in an applied program output.
    event ConsumedMessageToL2(
        address indexed fromAddress,
        uint256 indexed toAddress,
        uint256 indexed selector,
        uint256[] payload,
        uint256 nonce
    );
    event ProgramHashChanged(address indexed changedBy, uint256 oldProgramHash, uint256 newProgramHash);
    event AggregatorProgramHashChanged(
        address indexed changedBy, uint256 oldAggregatorProgramHash, uint256 newAggregatorProgramHash
    );
    event ConfigHashChanged(address indexed changedBy, uint256 oldConfigHash, uint256 newConfigHash);
    event OperatorRegistered(address operator);
    event OperatorUnregistered(address operator);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    modifier onlyOwner() {
        require(msg.sender == owner, "ONLY_OWNER");
        _;
    }

    modifier onlyOperator() {
        require(isOperator[msg.sender], "ONLY_OPERATOR");
        _;
    }

    /// @param verifier_ Fact registry that the state-transition facts are checked in.
    /// @param programHash_ Starknet OS program hash.
    /// @param aggregatorProgramHash_ Aggregator program hash, or zero if no aggregator is used.
    /// @param configHash_ Starknet OS config hash.
    /// @param initialStateRoot State root before the first update.
    /// @param initialBlockNumber Last settled block number, or -1 when nothing is settled.
    /// @param initialBlockHash Hash of the last settled block, or zero when nothing is settled.
    constructor(
        IFactRegistry verifier_,
        uint256 programHash_,
        uint256 aggregatorProgramHash_,
        uint256 configHash_,
        uint256 initialStateRoot,
        int256 initialBlockNumber,
        uint256 initialBlockHash
    ) {
        require(address(verifier_) != address(0), "INVALID_VERIFIER");
        require(initialBlockNumber >= -1, "INVALID_INITIAL_BLOCK_NUMBER");
        verifier = verifier_;
        owner = msg.sender;
        isOperator[msg.sender] = true;
        programHash = programHash_;
        aggregatorProgramHash = aggregatorProgramHash_;
        configHash = configHash_;
        storedStateRoot = initialStateRoot;
        storedBlockNumber = initialBlockNumber;
        storedBlockHash = initialBlockHash;
        emit OwnershipTransferred(address(0), msg.sender);
        emit OperatorRegistered(msg.sender);
    }

    /// @notice Returns the state root of the last settled block.
    function stateRoot() external view returns (uint256) {
        return storedStateRoot;
    }

    /// @notice Returns the last settled block number, or -1 when nothing is settled.
    function stateBlockNumber() external view returns (int256) {
        return storedBlockNumber;
    }

    /// @notice Returns the hash of the last settled block.
    function stateBlockHash() external view returns (uint256) {
        return storedBlockHash;
    }

    /// @notice Replaces the Starknet OS program hash.
    function setProgramHash(uint256 newProgramHash) external onlyOwner {
        emit ProgramHashChanged(msg.sender, programHash, newProgramHash);
        programHash = newProgramHash;
    }

    /// @notice Replaces the aggregator program hash.
    function setAggregatorProgramHash(uint256 newAggregatorProgramHash) external onlyOwner {
        emit AggregatorProgramHashChanged(msg.sender, aggregatorProgramHash, newAggregatorProgramHash);
        aggregatorProgramHash = newAggregatorProgramHash;
    }

    /// @notice Replaces the config hash that program outputs must carry.
    function setConfigHash(uint256 newConfigHash) external onlyOwner {
        emit ConfigHashChanged(msg.sender, configHash, newConfigHash);
        configHash = newConfigHash;
    }

    /// @notice Allows `operator` to call `updateStateKzgDA`.
    function registerOperator(address operator) external onlyOwner {
        isOperator[operator] = true;
        emit OperatorRegistered(operator);
    }

    /// @notice Revokes the right of `operator` to call `updateStateKzgDA`.
    function unregisterOperator(address operator) external onlyOwner {
        isOperator[operator] = false;
        emit OperatorUnregistered(operator);
    }

    /// @notice Hands the owner role to `newOwner`.
    function transferOwnership(address newOwner) external onlyOwner {
        require(newOwner != address(0), "INVALID_OWNER");
        emit OwnershipTransferred(owner, newOwner);
        owner = newOwner;
    }

    /// @notice Applies a Starknet OS program output whose state diff was posted in the blobs of
    /// this transaction.
    /// @param programOutput The program output words, header first.
    /// @param kzgProofs One 48-byte KZG proof per blob, opening the blob at the output's x0.
    function updateStateKzgDA(uint256[] calldata programOutput, bytes[] calldata kzgProofs)
        external
        onlyOperator
    {
        require(programOutput.length > HEADER_SIZE, "STARKNET_OUTPUT_TOO_SHORT");
        checkPrevBlockNumber(programOutput);
        require(programOutput[USE_KZG_DA_OFFSET] == 1, "UNEXPECTED_KZG_DA_FLAG");
        verifyKzgProofs(programOutput[HEADER_SIZE:], kzgProofs);

        checkFieldRange(programOutput);
        require(programOutput[CONFIG_HASH_OFFSET] == configHash, "INVALID_CONFIG_HASH");
        require(programOutput[FULL_OUTPUT_OFFSET] == 0, "FULL_OUTPUT_NOT_SUPPORTED");
        checkStateTransitionFact(programOutput);

        applyState(programOutput);
        uint256 messagesEnd = processMessages(programOutput);
        require(messagesEnd == programOutput.length, "STARKNET_OUTPUT_TOO_LONG");

        emit LogStateUpdate(storedStateRoot, storedBlockNumber, storedBlockHash);
    }

    function checkPrevBlockNumber(uint256[] calldata programOutput) internal view {
        uint256 expected = storedBlockNumber == -1
            ? GENESIS_PREV_BLOCK_NUMBER
            : uint256(storedBlockNumber);
        require(programOutput[PREV_BLOCK_NUMBER_OFFSET] == expected, "INVALID_PREV_BLOCK_NUMBER");
    }

    function checkFieldRange(uint256[] calldata programOutput) internal pure {
        for (uint256 i = 0; i < programOutput.length; i++) {
            require(programOutput[i] < STARKNET_FIELD_PRIME, "PROGRAM_OUTPUT_VALUE_OUT_OF_RANGE");
        }
    }

    /// @dev The fact is keccak256(programHash ‖ keccak256(programOutput)), which is what a
    /// prover registers for a one-page output: the page hash is the fact-tree root.
    function checkStateTransitionFact(uint256[] calldata programOutput) internal {
        uint256 factProgramHash = programHash;
        uint256 osProgramHash = programOutput[OS_PROGRAM_HASH_OFFSET];
        if (osProgramHash != 0) {
            require(osProgramHash == programHash, "AGGREGATOR_MODE_INVALID_OS_PROGRAM_HASH");
            factProgramHash = aggregatorProgramHash;
        }
        bytes32 stateTransitionFact = keccak256(abi.encodePacked(programOutput));
        bytes32 fact = keccak256(abi.encodePacked(factProgramHash, stateTransitionFact));
        require(verifier.isValid(fact), "NO_STATE_TRANSITION_PROOF");
        emit LogStateTransitionFact(stateTransitionFact);
    }

    function applyState(uint256[] calldata programOutput) internal {
        int256 newBlockNumber = int256(programOutput[NEW_BLOCK_NUMBER_OFFSET]);
        require(newBlockNumber > storedBlockNumber, "INVALID_NEW_BLOCK_NUMBER");
        require(programOutput[PREV_BLOCK_HASH_OFFSET] == storedBlockHash, "INVALID_PREV_BLOCK_HASH");
        require(programOutput[PREV_STATE_ROOT_OFFSET] == storedStateRoot, "INVALID_PREVIOUS_ROOT");
        storedBlockNumber = newBlockNumber;
        storedBlockHash = programOutput[NEW_BLOCK_HASH_OFFSET];
        storedStateRoot = programOutput[NEW_STATE_ROOT_OFFSET];
    }

    /// @dev Checks each blob of this transaction against the commitment and evaluation y that
    /// the program output states for it, at the output's point x0.
    function verifyKzgProofs(uint256[] calldata kzgSegment, bytes[] calldata kzgProofs) internal view {
        require(kzgSegment.length >= 2, "KZG_SEGMENT_TOO_SHORT");
        uint256 nBlobs = kzgSegment[KZG_N_BLOBS_OFFSET];
        require(kzgProofs.length == nBlobs, "INVALID_NUMBER_OF_KZG_PROOFS");
        uint256 evaluationsOffset = KZG_COMMITMENTS_OFFSET + 2 * nBlobs;
        require(kzgSegment.length >= evaluationsOffset + 2 * nBlobs, "KZG_SEGMENT_TOO_SHORT");

        bytes32 x0 = bytes32(kzgSegment[KZG_X0_OFFSET]);
        for (uint256 i = 0; i < nBlobs; i++) {
            bytes32 versionedHash = blobhash(i);
            require(versionedHash != 0, "INVALID_BLOB_INDEX");
            require(versionedHash[0] == VERSIONED_HASH_VERSION_KZG, "UNEXPECTED_BLOB_HASH_VERSION");
            require(kzgProofs[i].length == KZG_PROOF_LENGTH, "INVALID_KZG_PROOF_SIZE");

            bytes memory input = abi.encodePacked(
                versionedHash,
                x0,
                evaluationOf(kzgSegment, evaluationsOffset + 2 * i),
                commitmentOf(kzgSegment, KZG_COMMITMENTS_OFFSET + 2 * i),
                kzgProofs[i]
            );
            (bool ok, bytes memory output) = POINT_EVALUATION_PRECOMPILE.staticcall(input);
            require(ok, "POINT_EVALUATION_PRECOMPILE_CALL_FAILED");
            require(output.length == 64, "UNEXPECTED_POINT_EVALUATION_PRECOMPILE_OUTPUT");
            (uint256 fieldElements, uint256 modulus) = abi.decode(output, (uint256, uint256));
            require(
                fieldElements == FIELD_ELEMENTS_PER_BLOB && modulus == BLS_MODULUS,
                "UNEXPECTED_POINT_EVALUATION_PRECOMPILE_OUTPUT"
            );
        }
    }

    /// @dev Joins the (low, high) 192-bit limbs at `offset` into the 48-byte commitment.
    function commitmentOf(uint256[] calldata kzgSegment, uint256 offset)
        internal
        pure
        returns (bytes memory)
    {
        uint256 low = kzgSegment[offset];
        uint256 high = kzgSegment[offset + 1];
        require(low <= type(uint192).max, "INVALID_KZG_COMMITMENT");
        require(high <= type(uint192).max, "INVALID_KZG_COMMITMENT");
        return abi.encodePacked(uint192(high), uint192(low));
    }

    /// @dev Joins the (low, high) 128-bit limbs at `offset` into the 32-byte evaluation y.
    function evaluationOf(uint256[] calldata kzgSegment, uint256 offset)
        internal
        pure
        returns (bytes32)
    {
        uint256 low = kzgSegment[offset];
        uint256 high = kzgSegment[offset + 1];
        require(low <= type(uint128).max, "INVALID_Y_VALUE");
        require(high <= type(uint128).max, "INVALID_Y_VALUE");
        return bytes32((high << 128) | low);
    }

    /// @dev Walks the L2->L1 and then the L1->L2 message segments that follow the KZG segment
    /// and returns the offset just past them.
    function processMessages(uint256[] calldata programOutput) internal returns (uint256) {
        uint256 nBlobs = programOutput[HEADER_SIZE + KZG_N_BLOBS_OFFSET];
        uint256 offset = HEADER_SIZE + KZG_COMMITMENTS_OFFSET + 4 * nBlobs;
        require(offset < programOutput.length, "STARKNET_OUTPUT_TOO_SHORT");
        offset += processMessageSegment(true, programOutput[offset:]);
        require(offset < programOutput.length, "STARKNET_OUTPUT_TOO_SHORT");
        offset += processMessageSegment(false, programOutput[offset:]);
        return offset;
    }

    /// @dev Reads one segment, `[n_words, messages...]`, and returns its length in words.
    function processMessageSegment(bool toL1, uint256[] calldata segment) internal returns (uint256) {
        uint256 segmentSize = segment[0];
        require(segmentSize < MAX_SEGMENT_SIZE, "INVALID_MESSAGE_SEGMENT_SIZE");
        uint256 segmentEnd = 1 + segmentSize;
        uint256 payloadSizeOffset =
            toL1 ? MESSAGE_TO_L1_PAYLOAD_SIZE_OFFSET : MESSAGE_TO_L2_PAYLOAD_SIZE_OFFSET;

        uint256 offset = 1;
        while (offset < segmentEnd) {
            uint256 payloadSizeIndex = offset + payloadSizeOffset;
            require(payloadSizeIndex < segment.length, "MESSAGE_TOO_SHORT");
            uint256 payloadSize = segment[payloadSizeIndex];
            require(payloadSize < MAX_SEGMENT_SIZE, "INVALID_PAYLOAD_LENGTH");
            uint256 messageEnd = payloadSizeIndex + 1 + payloadSize;
            require(messageEnd <= segment.length, "TRUNCATED_MESSAGE_PAYLOAD");

            uint256[] calldata message = segment[offset:messageEnd];
            uint256[] memory payload = message[payloadSizeOffset + 1:];
            if (toL1) {
                l2ToL1Messages[keccak256(abi.encodePacked(message))] += 1;
                emit LogMessageToL1(message[0], address(uint160(message[1])), payload);
            } else {
                emit ConsumedMessageToL2(
                    address(uint160(message[0])), message[1], message[3], payload, message[2]
                );
            }
            offset = messageEnd;
        }
        require(offset == segmentEnd, "INVALID_MESSAGE_SEGMENT_SIZE");
        return offset;
    }
}
