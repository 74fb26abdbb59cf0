//! Proving: facts and program outputs of Cairo PIEs, a client of the Atlantic proving API,
//! a local Atlantic-compatible service, and the L1 fact registry check.
//!
//! | error | retryable |
//! |---|---|
//! | [`PieError`], [`FactError`] | never: the same PIE fails the same way |
//! | [`AtlanticError`] | connection errors, timeouts, 429, 5xx, HTML or unparseable bodies |
//! | [`FactRegistryError`] | RPC transport failures only |

pub mod api;
pub mod api_key;
pub mod atlantic;
pub mod error;
pub mod fact;
pub mod local;
pub mod pie;
pub mod registry;

#[cfg(test)]
mod tests;

pub use api_key::ApiKey;
pub use atlantic::{AtlanticClient, AtlanticConfig, QueryKey, SubmittedQuery};
pub use error::{ApiKeyError, AtlanticError, FactError, FactRegistryError, PieError};
pub use fact::{FactInfo, compute_fact_info, compute_fact_info_from_zip};
pub use pie::CairoPie;
pub use registry::is_fact_registered;
