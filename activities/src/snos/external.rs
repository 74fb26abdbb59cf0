//! External SNOS runner: runs an operator-provided command (for example a `prove_block`-style
//! binary that executes the real Starknet OS against a full node) and reads the PIE it writes.
//!
//! The argument template may contain `{block}`, `{rpc_url}`, `{output}` and `{chain_id}`,
//! which are replaced for each run. `{output}` is the path where the command must write the PIE
//! zip. The command runs in its own process group with no standard input, and on timeout the
//! whole group is killed. The last [`STDERR_TAIL_BYTES`] of its standard error go into the
//! error message as the command wrote them. The runner itself puts neither the substituted
//! arguments nor the RPC URL in errors or logs, because RPC URLs often carry API keys.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use starknet_types_core::felt::Felt;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tokio::task::JoinHandle;

use super::error::SnosError;
use super::{SnosJob, SnosRunOutput, SnosRunner, read_pie};

/// Bytes of standard error kept for error messages.
pub const STDERR_TAIL_BYTES: usize = 4096;

/// Placeholders the argument template may contain.
pub const PLACEHOLDERS: [&str; 4] = ["block", "rpc_url", "output", "chain_id"];

/// Index of `new_block_number` in a Starknet OS 0.13.2+ program output.
const NEW_BLOCK_NUMBER_WORD: usize = 3;

/// How long the output pipes may stay open after the command exits before the runner kills
/// what is left of its process group.
const PIPE_DRAIN_GRACE: Duration = Duration::from_secs(2);

/// Settings of the external runner.
#[derive(Clone)]
pub struct ExternalConfig {
    /// Program to run.
    pub program: PathBuf,
    /// Argument template, one entry per argument.
    pub args: Vec<String>,
    /// RPC URL substituted for `{rpc_url}`.
    pub rpc_url: String,
    /// Time after which the command is killed.
    pub timeout: Duration,
    /// Directory for the per-run output directories; `None` uses the system temporary
    /// directory.
    pub work_dir: Option<PathBuf>,
}

impl std::fmt::Debug for ExternalConfig {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ExternalConfig")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("rpc_url", &"<redacted>")
            .field("timeout", &self.timeout)
            .field("work_dir", &self.work_dir)
            .finish()
    }
}

/// Runs SNOS jobs with an external command.
#[derive(Clone, Debug)]
pub struct ExternalRunner {
    config: ExternalConfig,
}

impl ExternalRunner {
    /// Checks the argument template.
    ///
    /// # Errors
    /// [`SnosError::InvalidConfig`] when a `{name}` placeholder is not one of
    /// [`PLACEHOLDERS`], when no argument contains `{output}`, or when the timeout is zero.
    pub fn new(config: ExternalConfig) -> Result<Self, SnosError> {
        for arg in &config.args {
            if let Some(name) = placeholders(arg).find(|name| !PLACEHOLDERS.contains(name)) {
                return Err(SnosError::InvalidConfig {
                    reason: format!(
                        "unknown placeholder {{{name}}} in the SNOS command arguments; \
                         known: {{block}}, {{rpc_url}}, {{output}}, {{chain_id}}"
                    ),
                });
            }
        }
        if !config.args.iter().any(|arg| arg.contains("{output}")) {
            return Err(SnosError::InvalidConfig {
                reason: "no SNOS command argument contains {output}, so the runner cannot tell \
                         the command where to write the PIE"
                    .into(),
            });
        }
        if config.timeout.is_zero() {
            return Err(SnosError::InvalidConfig {
                reason: "the SNOS command timeout is zero".into(),
            });
        }
        Ok(Self { config })
    }

    fn substitute(&self, job: &SnosJob, output: &Path) -> Vec<String> {
        let block = job.block_number.to_string();
        let output = output.to_string_lossy();
        self.config
            .args
            .iter()
            .map(|arg| {
                arg.replace("{block}", &block)
                    .replace("{rpc_url}", &self.config.rpc_url)
                    .replace("{output}", &output)
                    .replace("{chain_id}", &job.chain_id)
            })
            .collect()
    }

    /// Runs the command and waits for it, killing its process group on timeout.
    async fn execute(&self, job: &SnosJob, pie_path: &Path) -> Result<(), SnosError> {
        let program = &self.config.program;
        let mut child = Command::new(program)
            .args(self.substitute(job, pie_path))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .process_group(0)
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| SnosError::Spawn {
                program: program.clone(),
                source,
            })?;
        let group = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .map(Pid::from_raw);
        // `kill_on_drop` kills only the child when this future is dropped (an activity
        // cancelled mid-run); the guard kills the rest of its group too.
        let mut group_guard = GroupGuard(group);

        let mut stdout = TailBuffer::spawn_reader(child.stdout.take());
        let mut stderr = TailBuffer::spawn_reader(child.stderr.take());

        let status = match tokio::time::timeout(self.config.timeout, child.wait()).await {
            Ok(status) => {
                // The child is reaped, so its process id may be reused by an unrelated group.
                group_guard.0 = None;
                status.map_err(|source| SnosError::Io {
                    operation: "wait for",
                    path: program.clone(),
                    source,
                })?
            }
            Err(_elapsed) => {
                kill_group(group);
                // Reap the child; its exit status is that of the kill.
                let _ = child.kill().await;
                group_guard.0 = None;
                drain_pipes(group, &mut stdout, &mut stderr).await;
                return Err(SnosError::CommandTimedOut {
                    program: program.clone(),
                    block_number: job.block_number,
                    timeout: self.config.timeout,
                    stderr_tail: stderr.tail(),
                });
            }
        };

        drain_pipes(group, &mut stdout, &mut stderr).await;
        tracing::debug!(
            block_number = job.block_number,
            stdout_tail = %stdout.tail(),
            "SNOS command output"
        );

        if !status.success() {
            return Err(SnosError::CommandFailed {
                program: program.clone(),
                block_number: job.block_number,
                status: status.to_string(),
                stderr_tail: stderr.tail(),
            });
        }
        Ok(())
    }
}

impl SnosRunner for ExternalRunner {
    async fn run(&self, job: &SnosJob) -> Result<SnosRunOutput, SnosError> {
        let block_number = job.block_number;
        let base = self
            .config
            .work_dir
            .clone()
            .unwrap_or_else(std::env::temp_dir);
        let work_dir = tempfile::Builder::new()
            .prefix("snos-")
            .tempdir_in(&base)
            .map_err(|source| SnosError::Io {
                operation: "create",
                path: base.clone(),
                source,
            })?;
        let pie_path = work_dir.path().join("cairo_pie.zip");

        tracing::info!(
            chain_id = %job.chain_id,
            block_number,
            program = %self.config.program.display(),
            "starting SNOS command"
        );
        self.execute(job, &pie_path).await?;

        let pie_zip = match tokio::fs::read(&pie_path).await {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(SnosError::MissingPie {
                    program: self.config.program.clone(),
                    block_number,
                    path: pie_path,
                });
            }
            Err(source) => {
                return Err(SnosError::Io {
                    operation: "read",
                    path: pie_path,
                    source,
                });
            }
        };
        let summary = read_pie(&pie_zip).map_err(|source| SnosError::InvalidPie {
            block_number,
            source,
        })?;
        check_block_number(block_number, &summary.program_output)?;

        tracing::info!(
            block_number,
            step_count = summary.step_count,
            "SNOS command done"
        );
        Ok(SnosRunOutput {
            pie_zip,
            program_output: summary.program_output,
            step_count: summary.step_count,
        })
    }
}

/// Checks that the output's `new_block_number` word is the job's block.
fn check_block_number(block_number: u64, output: &[Felt]) -> Result<(), SnosError> {
    match output.get(NEW_BLOCK_NUMBER_WORD) {
        Some(word) if *word == Felt::from(block_number) => Ok(()),
        Some(word) => Err(SnosError::BlockMismatch {
            block_number,
            output_block: word.to_string(),
        }),
        None => Err(SnosError::BlockMismatch {
            block_number,
            output_block: format!("missing (the output has {} words)", output.len()),
        }),
    }
}

/// Sends SIGKILL to a process group; a group that is already gone is not an error.
fn kill_group(group: Option<Pid>) {
    let Some(group) = group else { return };
    if let Err(error) = killpg(group, Signal::SIGKILL)
        && error != nix::errno::Errno::ESRCH
    {
        tracing::warn!(err = %error, "failed to kill the SNOS command's process group");
    }
}

/// Kills a process group when dropped, unless its field was cleared.
struct GroupGuard(Option<Pid>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        kill_group(self.0);
    }
}

/// Waits for both pipes to close. Processes the command left behind may hold them open: after
/// [`PIPE_DRAIN_GRACE`] the group is killed, and after another grace period the readers are
/// abandoned with what they have read.
async fn drain_pipes(group: Option<Pid>, stdout: &mut TailBuffer, stderr: &mut TailBuffer) {
    for attempt in 0..2 {
        let closed = tokio::time::timeout(PIPE_DRAIN_GRACE, async {
            stdout.finish().await;
            stderr.finish().await;
        })
        .await;
        if closed.is_ok() {
            return;
        }
        if attempt == 0 {
            kill_group(group);
        }
    }
    stdout.abandon();
    stderr.abandon();
}

/// Returns the names inside `{…}` in `text` that look like placeholders (lowercase letters
/// and `_`), so that other braces, as in JSON arguments, pass through.
fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{').skip(1).filter_map(|rest| {
        let name = &rest[..rest.find('}')?];
        let is_identifier = !name.is_empty()
            && name
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte == b'_');
        is_identifier.then_some(name)
    })
}

/// The last [`STDERR_TAIL_BYTES`] bytes a pipe delivered, filled by a background task.
struct TailBuffer {
    bytes: Arc<Mutex<TailBytes>>,
    reader: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct TailBytes {
    data: Vec<u8>,
    truncated: bool,
}

impl TailBuffer {
    fn spawn_reader<R: AsyncRead + Unpin + Send + 'static>(pipe: Option<R>) -> Self {
        let bytes = Arc::new(Mutex::new(TailBytes::default()));
        let reader = pipe.map(|mut pipe| {
            let bytes = Arc::clone(&bytes);
            tokio::spawn(async move {
                let mut chunk = [0u8; 8192];
                while let Ok(read) = pipe.read(&mut chunk).await {
                    if read == 0 {
                        break;
                    }
                    let mut tail = bytes
                        .lock()
                        .unwrap_or_else(|poisoned| poisoned.into_inner());
                    tail.data.extend_from_slice(&chunk[..read]);
                    if tail.data.len() > STDERR_TAIL_BYTES {
                        let excess = tail.data.len() - STDERR_TAIL_BYTES;
                        tail.data.drain(..excess);
                        tail.truncated = true;
                    }
                }
            })
        });
        Self { bytes, reader }
    }

    /// Waits until the pipe is closed. Cancel-safe: a later call waits again.
    async fn finish(&mut self) {
        if let Some(reader) = &mut self.reader {
            let _ = reader.await;
            self.reader = None;
        }
    }

    /// Stops reading, keeping what was read.
    fn abandon(&mut self) {
        if let Some(reader) = self.reader.take() {
            reader.abort();
        }
    }

    fn tail(&self) -> String {
        let tail = self
            .bytes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let text = String::from_utf8_lossy(&tail.data);
        if tail.truncated {
            format!("…{text}")
        } else {
            text.into_owned()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_skip_json_braces() {
        let names: Vec<_> = placeholders(r#"--x={"a": 1} {block}/{output}"#).collect();
        assert_eq!(names, ["block", "output"]);
    }

    #[test]
    fn block_word_must_match_job() {
        let mut output = vec![Felt::ZERO; 12];
        output[3] = Felt::from(7u8);
        assert!(check_block_number(7, &output).is_ok());
        let error = check_block_number(8, &output).unwrap_err();
        assert!(matches!(error, SnosError::BlockMismatch { .. }), "{error}");
        assert!(!error.is_retryable());
    }

    #[test]
    fn short_output_is_block_mismatch() {
        let error = check_block_number(8, &[Felt::ONE]).unwrap_err();
        assert!(error.to_string().contains("missing"), "message: {error}");
    }
}
