//! Data-availability tests against blocks recorded from Starknet and Ethereum.

mod common;
mod kzg;
mod legacy;
mod malformed;
mod round_trip;
mod segment;
mod settlement;
mod v2;
