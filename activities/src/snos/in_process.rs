//! In-process SNOS runner: runs a compiled Cairo 0 program with cairo-vm and writes its PIE.
//!
//! # Program input
//! cairo-vm's Rust hint processor cannot run the Python of a `%{ … %}` hint, so the
//! `program_input` dictionary of `cairo-run` does not exist. It looks hints up by their exact
//! code text in [`BuiltinHintProcessor`] and lets callers register extra ones with
//! [`BuiltinHintProcessor::add_hint`]. This runner registers [`INPUT_HINT_CODE`], the stand-in's
//! only custom hint. Before the run, the runner places the job's flat input (see
//! [`standin::encode_input`]) in the execution scope as [`INPUT_SCOPE_VARIABLE`]. The hint
//! copies it into a new memory segment, then stores the segment pointer and the length in the
//! program's `input` and `input_len` locals, as `segments.gen_arg` does in Python.
//!
//! NOTE: the hint text is Python meant to do the same under `cairo-run --program_input`, but
//! only this Rust implementation of it is tested.
//!
//! The run is CPU-bound and uses `Rc`-based VM types, so it happens on a blocking thread.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use cairo_vm::Felt252;
use cairo_vm::cairo_run::{CairoRunConfig, cairo_run_program_with_initial_scope};
use cairo_vm::hint_processor::builtin_hint_processor::builtin_hint_processor_definition::{
    BuiltinHintProcessor, HintFunc,
};
use cairo_vm::hint_processor::builtin_hint_processor::hint_utils::insert_value_from_var_name;
use cairo_vm::hint_processor::hint_processor_definition::HintReference;
use cairo_vm::serde::deserialize_program::ApTracking;
use cairo_vm::types::exec_scope::ExecutionScopes;
use cairo_vm::types::layout_name::LayoutName;
use cairo_vm::types::program::Program;
use cairo_vm::types::relocatable::MaybeRelocatable;
use cairo_vm::vm::errors::hint_errors::HintError;
use cairo_vm::vm::vm_core::VirtualMachine;
use serde::de::IntoDeserializer;
use starknet_types_core::felt::Felt;

use super::error::SnosError;
use super::standin::{
    self, INPUT_HINT_CODE, INPUT_SCOPE_VARIABLE, STANDIN_PROGRAM_JSON, StandinSettings,
};
use super::{SnosJob, SnosRunOutput, SnosRunner, read_pie};

/// Default Cairo layout, the one the Starknet OS runs with.
pub const DEFAULT_LAYOUT: &str = "all_cairo";

/// Settings of the in-process runner.
#[derive(Clone, Debug)]
pub struct InProcessConfig {
    /// Compiled Cairo 0 program JSON; `None` runs the embedded stand-in.
    pub program_path: Option<PathBuf>,
    /// Cairo layout name, such as `all_cairo` or `starknet_with_keccak`.
    pub layout: String,
    /// Per-chain words of the stand-in's output.
    pub standin: StandinSettings,
    /// Directory for the temporary PIE file; `None` uses the system temporary directory.
    pub work_dir: Option<PathBuf>,
}

impl Default for InProcessConfig {
    fn default() -> Self {
        Self {
            program_path: None,
            layout: DEFAULT_LAYOUT.to_owned(),
            standin: StandinSettings::default(),
            work_dir: None,
        }
    }
}

/// Runs SNOS jobs in this process with cairo-vm.
#[derive(Clone, Debug)]
pub struct InProcessRunner {
    program: Arc<Program>,
    layout: LayoutName,
    standin: StandinSettings,
    work_dir: Option<PathBuf>,
}

impl InProcessRunner {
    /// Loads the program and checks the layout.
    ///
    /// # Errors
    /// [`SnosError::Io`] when the program file cannot be read, [`SnosError::InvalidProgram`]
    /// when it does not parse, and [`SnosError::InvalidConfig`] for an unknown layout or the
    /// `dynamic` layout, which needs parameters this runner does not take.
    pub fn new(config: InProcessConfig) -> Result<Self, SnosError> {
        let program = match &config.program_path {
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|source| SnosError::Io {
                    operation: "read",
                    path: path.clone(),
                    source,
                })?;
                load_program(&bytes)?
            }
            None => load_program(STANDIN_PROGRAM_JSON)?,
        };
        Ok(Self {
            program: Arc::new(program),
            layout: parse_layout(&config.layout)?,
            standin: config.standin,
            work_dir: config.work_dir,
        })
    }

    /// Runs `job` on the current thread: computes the KZG inputs, runs the program, writes the
    /// PIE and reads it back. [`SnosRunner::run`] calls this on a blocking thread.
    ///
    /// # Errors
    /// [`SnosError::InvalidJob`] when the blobs do not carry the DA felts,
    /// [`SnosError::CairoExecution`] when the VM fails, [`SnosError::Da`], [`SnosError::Io`]
    /// and [`SnosError::InvalidPie`].
    pub fn run_blocking(&self, job: &SnosJob) -> Result<SnosRunOutput, SnosError> {
        job.da.check(job.block_number)?;
        let kzg_data = standin::kzg_inputs(job.block_number, &job.da)?;
        let input = standin::encode_input(job, &self.standin, &kzg_data);
        self.run_input(job.block_number, input)
    }

    /// Runs the program on a prepared flat input (the `snos_input` array its input hint
    /// loads), writes the PIE and reads it back. This is the entry point for programs whose
    /// input is not the stand-in's; it blocks the current thread.
    ///
    /// # Errors
    /// [`SnosError::CairoExecution`] when the VM fails, [`SnosError::Io`] and
    /// [`SnosError::InvalidPie`].
    pub fn run_input(
        &self,
        block_number: u64,
        input: Vec<Felt>,
    ) -> Result<SnosRunOutput, SnosError> {
        let base = self.work_dir.clone().unwrap_or_else(std::env::temp_dir);
        let work_dir = tempfile::Builder::new()
            .prefix("snos-")
            .tempdir_in(&base)
            .map_err(|source| SnosError::Io {
                operation: "create",
                path: base.clone(),
                source,
            })?;
        let pie_path = work_dir.path().join("cairo_pie.zip");
        self.execute(block_number, input, &pie_path)?;

        let pie_zip = std::fs::read(&pie_path).map_err(|source| SnosError::Io {
            operation: "read",
            path: pie_path.clone(),
            source,
        })?;
        let summary = read_pie(&pie_zip).map_err(|source| SnosError::InvalidPie {
            block_number,
            source,
        })?;
        Ok(SnosRunOutput {
            pie_zip,
            program_output: summary.program_output,
            step_count: summary.step_count,
        })
    }

    /// Runs the program on `input` and writes the PIE zip to `pie_path`.
    fn execute(
        &self,
        block_number: u64,
        input: Vec<Felt>,
        pie_path: &Path,
    ) -> Result<(), SnosError> {
        let cairo_error = |message: String| SnosError::CairoExecution {
            block_number,
            message,
        };

        let mut hint_processor = BuiltinHintProcessor::new_empty();
        hint_processor.add_hint(
            INPUT_HINT_CODE.to_owned(),
            Rc::new(HintFunc(Box::new(load_input_hint))),
        );
        let mut scopes = ExecutionScopes::new();
        let input: Vec<Felt252> = input.iter().map(to_vm_felt).collect();
        scopes.insert_value(INPUT_SCOPE_VARIABLE, input);

        let config = CairoRunConfig {
            layout: self.layout,
            ..CairoRunConfig::default()
        };
        let runner = cairo_run_program_with_initial_scope(
            &self.program,
            &config,
            &mut hint_processor,
            scopes,
        )
        .map_err(|error| cairo_error(error.to_string()))?;

        let pie = runner
            .get_cairo_pie()
            .map_err(|error| cairo_error(format!("cannot build the Cairo PIE: {error}")))?;
        pie.write_zip_file(pie_path, false)
            .map_err(|source| SnosError::Io {
                operation: "write",
                path: pie_path.to_path_buf(),
                source,
            })
    }
}

impl SnosRunner for InProcessRunner {
    async fn run(&self, job: &SnosJob) -> Result<SnosRunOutput, SnosError> {
        let runner = self.clone();
        let job = job.clone();
        let block_number = job.block_number;
        tracing::info!(
            chain_id = %job.chain_id,
            block_number,
            layout = %self.layout,
            "starting in-process SNOS run"
        );
        let output = tokio::task::spawn_blocking(move || runner.run_blocking(&job))
            .await
            .map_err(|error| SnosError::CairoExecution {
                block_number,
                message: format!("the run panicked: {error}"),
            })??;
        tracing::info!(
            block_number,
            step_count = output.step_count,
            "in-process SNOS run done"
        );
        Ok(output)
    }
}

/// Implements [`INPUT_HINT_CODE`]: copies the scope's input felts into a new segment and sets
/// `ids.input` and `ids.input_len`.
fn load_input_hint(
    vm: &mut VirtualMachine,
    scopes: &mut ExecutionScopes,
    ids: &HashMap<String, HintReference>,
    ap_tracking: &ApTracking,
    _constants: &HashMap<String, Felt252>,
) -> Result<(), HintError> {
    let input: &Vec<Felt252> = scopes.get_ref(INPUT_SCOPE_VARIABLE)?;
    let data: Vec<MaybeRelocatable> = input.iter().map(MaybeRelocatable::from).collect();
    let length = Felt252::from(data.len());

    let base = vm.add_memory_segment();
    vm.load_data(base, &data).map_err(HintError::Memory)?;
    insert_value_from_var_name("input", base, vm, ids, ap_tracking)?;
    insert_value_from_var_name("input_len", length, vm, ids, ap_tracking)
}

fn load_program(bytes: &[u8]) -> Result<Program, SnosError> {
    Program::from_bytes(bytes, Some("main")).map_err(|error| SnosError::InvalidProgram {
        message: error.to_string(),
    })
}

/// Parses a layout name as cairo-vm spells it.
fn parse_layout(name: &str) -> Result<LayoutName, SnosError> {
    let deserializer: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
        name.into_deserializer();
    let layout =
        serde::Deserialize::deserialize(deserializer).map_err(|_| SnosError::InvalidConfig {
            reason: format!(
                "unknown Cairo layout {name:?}; use a cairo-vm layout such as {DEFAULT_LAYOUT}"
            ),
        })?;
    if layout == LayoutName::dynamic {
        return Err(SnosError::InvalidConfig {
            reason: "the dynamic layout needs layout parameters; use a fixed layout such as \
                     all_cairo"
                .into(),
        });
    }
    Ok(layout)
}

/// Converts a felt to cairo-vm's felt type, which comes from another starknet-types-core
/// major version.
fn to_vm_felt(felt: &Felt) -> Felt252 {
    Felt252::from_bytes_be(&felt.to_bytes_be())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_names_parse() {
        assert_eq!(parse_layout("all_cairo").ok(), Some(LayoutName::all_cairo));
        assert_eq!(
            parse_layout("starknet_with_keccak").ok(),
            Some(LayoutName::starknet_with_keccak)
        );
    }

    #[test]
    fn unknown_layout_is_rejected() {
        let error = parse_layout("all_cairoo").unwrap_err();
        assert!(error.to_string().contains("all_cairoo"), "message: {error}");
        assert!(!error.is_retryable());
    }

    #[test]
    fn dynamic_layout_is_rejected() {
        assert!(parse_layout("dynamic").is_err());
    }

    #[test]
    fn embedded_program_loads() {
        assert!(load_program(STANDIN_PROGRAM_JSON).is_ok());
    }

    #[test]
    fn felt_conversion_keeps_value() {
        let felt = Felt::MAX;
        assert_eq!(to_vm_felt(&felt).to_bytes_be(), felt.to_bytes_be());
    }
}

impl InProcessRunner {
    /// Computes the program hash (bootloader hash chain) of the loaded program, which the
    /// facts of its PIEs bind to and which the core contract is deployed with. The hash depends
    /// on the program only, so one run on a one-felt diff yields it.
    pub async fn program_hash(&self) -> anyhow::Result<Felt> {
        let job = SnosJob {
            chain_id: "program-hash".to_string(),
            block_number: 1,
            block_hash: Felt::ONE,
            prev_block_hash: Felt::ZERO,
            prev_state_root: Felt::ZERO,
            new_state_root: Felt::ONE,
            da: super::DaInput::from_felts(1, vec![Felt::ONE])?,
        };
        let output = self.run(&job).await?;
        let info = crate::prover::compute_fact_info_from_zip(&output.pie_zip)?;
        Ok(info.program_hash)
    }
}
