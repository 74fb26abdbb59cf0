// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice Read side of a fact registry, as the Starknet core contract calls it.
interface IFactRegistry {
    /// @notice Returns true once `fact` has been registered.
    function isValid(bytes32 fact) external view returns (bool);
}

/// @title Fact registry for local chains.
/// @notice Stands in for the SHARP/Atlantic verifier on a local L1: any account can register a
/// fact, and the core contract only checks that the fact is present. Never deploy it where a
/// real proof verifier is expected.
contract FactRegistry is IFactRegistry {
    mapping(bytes32 => bool) private registered;

    /// @notice Emitted once per registration, also when the fact was already registered.
    event FactRegistered(bytes32 indexed fact);

    /// @notice Marks `fact` as valid.
    function registerFact(bytes32 fact) external {
        registered[fact] = true;
        emit FactRegistered(fact);
    }

    /// @inheritdoc IFactRegistry
    function isValid(bytes32 fact) external view returns (bool) {
        return registered[fact];
    }
}
