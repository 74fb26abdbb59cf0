//! Custom search attributes that let the Web UI and `temporal workflow list` find blocks.
//!
//! They must exist on the namespace before a workflow sets them: `orchestrator setup` and the
//! dev stack script create them.

use crate::types::Stage;
use temporalio_common::search_attributes::{SearchAttributeKey, SearchAttributeUpdate};

/// Chain id of the block (Keyword).
pub const CHAIN_ID: SearchAttributeKey<String> = SearchAttributeKey::keyword("ChainId");
/// L2 block number (Int).
pub const BLOCK_NUMBER: SearchAttributeKey<i64> = SearchAttributeKey::int("BlockNumber");
/// Current pipeline stage (Keyword), one of [`Stage::as_str`].
pub const PIPELINE_STAGE: SearchAttributeKey<String> = SearchAttributeKey::keyword("PipelineStage");

/// Every custom search attribute with its Temporal type name, for registration.
pub const ALL: [(&str, &str); 3] =
    [("ChainId", "Keyword"), ("BlockNumber", "Int"), ("PipelineStage", "Keyword")];

/// Update that sets `PipelineStage` to the given stage.
pub fn stage_update(stage: Stage) -> SearchAttributeUpdate {
    PIPELINE_STAGE.value_set(stage.as_str().to_string())
}
