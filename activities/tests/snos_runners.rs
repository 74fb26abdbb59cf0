//! SNOS runners against real block data: the embedded stand-in run in process with cairo-vm,
//! the external command runner with small shell scripts, and the PIE output reader on recorded
//! PIEs.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use orchestrator_activities::da::encode::encode_legacy;
use orchestrator_activities::da::felt::parse_felt_json_array;
use orchestrator_activities::da::kzg;
use orchestrator_activities::da::nonces::parse_nonce_answers;
use orchestrator_activities::da::program_output::{OutputLayout, ProgramOutput, check_blobs};
use orchestrator_activities::da::state_update::parse_state_update;
use orchestrator_activities::prover::compute_fact_info_from_zip;
use orchestrator_activities::snos::standin::{self, StandinSettings};
use orchestrator_activities::snos::{
    ConfiguredRunner, DaInput, ExternalConfig, ExternalRunner, InProcessConfig, InProcessRunner,
    PIE_ARTIFACT, PROGRAM_OUTPUT_ARTIFACT, SnosError, SnosJob, SnosRunner, SnosRunnerConfig,
    format_program_output, read_pie, store_run_output,
};
use orchestrator_activities::store::{ArtifactStore, artifact_key};
use starknet_types_core::felt::Felt;

/// Returns the golden fixture directory: `ORCHESTRATOR_FIXTURES`, or `shared/fixtures` next to
/// the workspace root.
fn fixtures_dir() -> PathBuf {
    match std::env::var_os("ORCHESTRATOR_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
    }
}

fn read_fixture(relative: &str) -> Vec<u8> {
    let path = fixtures_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read fixture {}: {error}; set ORCHESTRATOR_FIXTURES",
            path.display()
        )
    })
}

fn read_fixture_text(relative: &str) -> String {
    String::from_utf8(read_fixture(relative)).expect("fixture is UTF-8")
}

fn felt(hex: &str) -> Felt {
    Felt::from_hex(hex).expect("valid hex felt")
}

/// Job for Madara devnet block 178: its state diff in the pre-0.13.3 encoding (27 felts, one
/// blob) and the roots and hash of its state update.
fn block_178_job() -> SnosJob {
    let update = parse_state_update(&read_fixture_text("da-legacy/178/state_update.json"))
        .expect("state update of block 178 parses");
    let nonces = parse_nonce_answers(&read_fixture_text("da-legacy/178/nonces.json"))
        .expect("nonces of block 178 parse");
    let felts = encode_legacy(&update.state_diff, &nonces).expect("block 178 encodes");
    assert_eq!(felts.len(), 27, "encoded length of block 178");

    SnosJob {
        chain_id: "MADARA_DEVNET".into(),
        block_number: 178,
        block_hash: felt("0x385bbbcaada37fbd2be407d02479a86faf632294161451159433f1687afa80a"),
        prev_block_hash: felt("0x1234"),
        prev_state_root: felt("0x39cc0b3f01d1b4b06a57f1e77d0be8093b9be560380a5b88bc2fefd9932d129"),
        new_state_root: felt("0x249a0f2b937b67ec50021fe7520937d3b8f94564e6d1f935d3b009bbbc45645"),
        da: DaInput::from_felts(178, felts).expect("one blob"),
    }
}

/// Job whose DA is the 5120 compressed felts of 1000 Sepolia blocks: two blobs.
fn two_blob_job() -> SnosJob {
    let felts = parse_felt_json_array(
        &read_fixture_text("da-v2/9662264/stateless_compressed_state_update.json"),
        "stateless_compressed_state_update.json",
    )
    .expect("compressed felts parse");
    SnosJob {
        chain_id: "SN_SEPOLIA".into(),
        block_number: 9662264,
        block_hash: felt("0xabc"),
        prev_block_hash: felt("0xabb"),
        prev_state_root: felt("0x1"),
        new_state_root: felt("0x2"),
        da: DaInput::from_felts(9662264, felts).expect("two blobs"),
    }
}

fn standin_runner() -> InProcessRunner {
    InProcessRunner::new(InProcessConfig::default()).expect("embedded program loads")
}

/// Runs `job` with the stand-in and checks the output against the job and its blobs.
async fn run_and_check_standin(job: &SnosJob) -> Vec<u8> {
    let run = standin_runner()
        .run(job)
        .await
        .expect("stand-in run succeeds");
    let block = job.block_number;

    let kzg_data = standin::kzg_inputs(block, &job.da).expect("KZG inputs");
    let expected = standin::expected_output(job, &StandinSettings::default(), &kzg_data);
    assert_eq!(
        run.program_output, expected,
        "block {block}: program output"
    );
    assert!(run.step_count > 0, "block {block}: step count is zero");

    let output = ProgramOutput::parse(&run.program_output, OutputLayout::V0_13_2)
        .expect("output has the 0.13.2 layout");
    assert_eq!(output.new_block_number_u64().ok(), Some(block));
    assert_eq!(
        output.prev_block_number,
        Some(Felt::from(block) - Felt::ONE)
    );
    assert_eq!(output.new_state_root, job.new_state_root);
    assert_eq!(output.prev_state_root, job.prev_state_root);
    assert_eq!(output.new_block_hash, job.block_hash);
    assert_eq!(output.full_output, Some(false));
    assert!(
        output.messages_to_l1.is_empty(),
        "block {block}: L2 to L1 messages"
    );
    assert!(
        output.messages_to_l2.is_empty(),
        "block {block}: L1 to L2 messages"
    );
    check_blobs(&output, &job.da.blobs)
        .unwrap_or_else(|error| panic!("block {block}: blobs do not match the output: {error}"));

    // x0 read from the output is a valid evaluation point, and c-kzg agrees with the y values.
    let kzg_output = output.kzg.as_ref().expect("output has KZG data");
    assert_eq!(
        kzg_output.x0, kzg_data.x0,
        "block {block}: x0 of Cairo and Rust"
    );
    for (index, blob) in job.da.blobs.iter().enumerate() {
        let proof = kzg::point_proof(blob, &kzg_output.x0.to_bytes_be())
            .unwrap_or_else(|error| panic!("block {block}: blob {index}: {error}"));
        assert_eq!(
            proof.y, kzg_output.y_values[index],
            "block {block}: y of blob {index}"
        );
    }

    run.pie_zip
}

#[tokio::test]
async fn standin_pie_matches_block_178_blob() {
    let job = block_178_job();
    let pie_zip = run_and_check_standin(&job).await;

    let summary = read_pie(&pie_zip).expect("PIE reads back");
    assert_eq!(summary.program_output.len(), 12 + 4 + 2);
    let fact = compute_fact_info_from_zip(&pie_zip).expect("fact of the stand-in PIE");
    assert_eq!(fact.program_output, summary.program_output);
}

#[tokio::test]
async fn standin_pie_matches_two_blobs() {
    let job = two_blob_job();
    assert_eq!(job.da.blobs.len(), 2);
    run_and_check_standin(&job).await;
}

/// Every felt is below the BLS12-381 scalar modulus, so x0 needs no reduction: c-kzg accepts
/// the largest felt as an evaluation point.
#[test]
fn max_felt_is_valid_evaluation_point() {
    let job = block_178_job();
    let proof = kzg::point_proof(&job.da.blobs[0], &Felt::MAX.to_bytes_be())
        .expect("the largest felt is a valid point");
    let commitment = kzg::commitment(&job.da.blobs[0]).expect("commitment");
    let verified = kzg::verify_point_proof(
        &commitment,
        &Felt::MAX.to_bytes_be(),
        &proof.y,
        &proof.proof,
    )
    .expect("verification runs");
    assert!(verified, "proof at the largest felt does not verify");
}

#[tokio::test]
async fn standin_accepts_empty_da() {
    let mut job = block_178_job();
    job.da = DaInput::default();
    let run = standin_runner()
        .run(&job)
        .await
        .expect("run without DA succeeds");
    let output =
        ProgramOutput::parse(&run.program_output, OutputLayout::V0_13_2).expect("output parses");
    let kzg_output = output.kzg.expect("output has a KZG section");
    assert!(kzg_output.commitments.is_empty());
    assert_eq!(run.program_output[11], Felt::ZERO, "n_blobs");
}

#[tokio::test]
async fn standin_run_round_trips_through_store() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let url = format!("file://{}", directory.path().display());
    let store = ArtifactStore::from_url(&url).expect("local store opens");
    let job = block_178_job();
    let run = standin_runner()
        .run(&job)
        .await
        .expect("stand-in run succeeds");

    let stored = store_run_output(&store, &job.chain_id, job.block_number, &run)
        .await
        .expect("outputs are stored");
    assert_eq!(
        stored.pie.key,
        artifact_key("MADARA_DEVNET", 178, PIE_ARTIFACT)
    );
    assert_eq!(stored.pie.key, "MADARA_DEVNET/000000000178/cairo_pie.zip");
    assert_eq!(stored.step_count, run.step_count);

    let pie_zip = store.get(&stored.pie).await.expect("PIE reads back");
    assert_eq!(pie_zip, run.pie_zip);
    let summary = read_pie(&pie_zip).expect("stored PIE is a PIE");
    assert_eq!(summary.program_output, run.program_output);
    assert_eq!(summary.step_count, run.step_count);

    assert_eq!(
        stored.program_output.key,
        artifact_key("MADARA_DEVNET", 178, PROGRAM_OUTPUT_ARTIFACT)
    );
    let text = store
        .get(&stored.program_output)
        .await
        .expect("output reads back");
    assert_eq!(
        String::from_utf8(text).expect("output is text"),
        format_program_output(&run.program_output)
    );

    // A retried activity stores the same run again and gets the same references.
    let again = store_run_output(&store, &job.chain_id, job.block_number, &run)
        .await
        .expect("outputs are stored again");
    assert_eq!(again, stored);
}

#[tokio::test]
async fn standin_rejects_wrong_x0() {
    let job = block_178_job();
    let mut kzg_data = standin::kzg_inputs(job.block_number, &job.da).expect("KZG inputs");
    kzg_data.x0 += Felt::ONE;
    let input = standin::encode_input(&job, &StandinSettings::default(), &kzg_data);

    let error = standin_runner()
        .run_input(job.block_number, input)
        .expect_err("a wrong x0 fails the run");
    assert!(matches!(error, SnosError::CairoExecution { .. }), "{error}");
    assert!(!error.is_retryable(), "Cairo failures are permanent");
    assert!(error.to_string().contains("x0 is"), "message: {error}");
}

#[tokio::test]
async fn standin_rejects_wrong_blob_count() {
    let job = block_178_job();
    let mut kzg_data = standin::kzg_inputs(job.block_number, &job.da).expect("KZG inputs");
    kzg_data.commitments.push(kzg_data.commitments[0]);
    kzg_data.y_values.push(kzg_data.y_values[0]);
    let input = standin::encode_input(&job, &StandinSettings::default(), &kzg_data);

    let error = standin_runner()
        .run_input(job.block_number, input)
        .expect_err("two blobs for 27 felts fail the run");
    assert!(
        error.to_string().contains("n_blobs is 2"),
        "message: {error}"
    );
}

#[tokio::test]
async fn in_process_rejects_mismatched_blobs() {
    let mut job = block_178_job();
    job.da.felts[0] += Felt::ONE;
    let error = standin_runner()
        .run(&job)
        .await
        .expect_err("blobs differ from felts");
    assert!(matches!(error, SnosError::InvalidJob { .. }), "{error}");
    assert!(error.to_string().contains("blob 0"), "message: {error}");
}

#[tokio::test]
async fn layout_without_poseidon_fails_permanently() {
    let runner = InProcessRunner::new(InProcessConfig {
        layout: "small".into(),
        ..InProcessConfig::default()
    })
    .expect("small is a layout");
    let error = runner
        .run(&block_178_job())
        .await
        .expect_err("small has no Poseidon builtin");
    assert!(matches!(error, SnosError::CairoExecution { .. }), "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn configured_runner_defaults_to_standin() {
    let runner = ConfiguredRunner::new(SnosRunnerConfig::default()).expect("default config");
    assert!(matches!(runner, ConfiguredRunner::InProcess(_)));
    let run = runner
        .run(&block_178_job())
        .await
        .expect("default runner runs");
    assert_eq!(run.program_output[3], Felt::from(178u16));
}

/// The real SNOS PIE of Starknet Sepolia block 924016 (0.13.2+ layout, `use_kzg_da = 0`,
/// `full_output = 1`).
#[test]
fn sepolia_pie_output_golden() {
    let summary = read_pie(&read_fixture("pie/sepolia_924016.zip")).expect("recorded PIE reads");
    let output = &summary.program_output;
    assert_eq!(output.len(), 23);
    let expected = [
        "0x20efa82154be618e8cbc035a2f473055e470e6de3c2a911d01ef6275bc1f6b7",
        "0x567daecc73e5c189e97982a98e9fcd11bf6cc85e11e07951525dd704503a145",
        "0xe196f",
        "0xe1970",
        "0x278ee9a9e0b64ec2dbcdd8d4229403cd08d48c9aab4ae40a4f104a63101dd16",
        "0x4a9c322974a0c77a5a873545e460fcf44b5be0a6f70ec6c5f89d19b7514e632",
        "0x0",
        "0x1b9900f77ff5923183a7795fcfbb54ed76917bc1ddd4160cc77fa96e36cf8c5",
        "0x0",
        "0x1",
        "0x0",
        "0x0",
        "0x1",
        "0x1",
        "0x0",
        "0x0",
        "0x0",
        "0x0",
        "0x1",
        "0xe1966",
        "0x0",
        "0x7ff9f9b0936ce9f618ffcf0391ac30da54119de73a01b07af0548fdbd360ad8",
        "0x0",
    ];
    for (index, word) in expected.iter().enumerate() {
        assert_eq!(output[index], felt(word), "output word {index}");
    }
    assert_eq!(output[3], Felt::from(924016u32), "new_block_number");
    assert_eq!(summary.step_count, 15135);
}

#[test]
fn fibonacci_pie_output_reads() {
    let summary = read_pie(&read_fixture("pie/fibonacci.zip")).expect("recorded PIE reads");
    assert!(!summary.program_output.is_empty());
}

// External runner.

/// Writes an executable shell script into `directory`.
fn write_script(directory: &Path, name: &str, body: &str) -> PathBuf {
    let path = directory.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("script written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
        .expect("script made executable");
    path
}

fn external_runner(program: PathBuf, timeout: Duration) -> ExternalRunner {
    ExternalRunner::new(ExternalConfig {
        program,
        args: vec![
            "--block".into(),
            "{block}".into(),
            "--rpc-url={rpc_url}".into(),
            "--output".into(),
            "{output}".into(),
        ],
        rpc_url: "http://127.0.0.1:9/rpc".into(),
        timeout,
        work_dir: None,
    })
    .expect("valid external config")
}

fn sepolia_job() -> SnosJob {
    SnosJob {
        chain_id: "SN_SEPOLIA".into(),
        block_number: 924016,
        block_hash: Felt::ZERO,
        prev_block_hash: Felt::ZERO,
        prev_state_root: Felt::ZERO,
        new_state_root: Felt::ZERO,
        da: DaInput::default(),
    }
}

#[tokio::test]
async fn external_command_writes_pie() {
    let scripts = tempfile::tempdir().expect("temporary directory");
    let fixture = fixtures_dir().join("pie/sepolia_924016.zip");
    let script = write_script(
        scripts.path(),
        "prove_block",
        &format!(
            r#"[ "$1" = --block ] && [ "$2" = 924016 ] || {{ echo "bad block args: $1 $2" >&2; exit 2; }}
[ "$3" = --rpc-url=http://127.0.0.1:9/rpc ] || {{ echo "bad rpc arg: $3" >&2; exit 2; }}
cp '{}' "$5""#,
            fixture.display()
        ),
    );

    let run = external_runner(script, Duration::from_secs(60))
        .run(&sepolia_job())
        .await
        .expect("command succeeds");
    let expected = read_pie(&read_fixture("pie/sepolia_924016.zip")).expect("fixture reads");
    assert_eq!(run.program_output, expected.program_output);
    assert_eq!(run.step_count, expected.step_count);
    assert_eq!(run.pie_zip, read_fixture("pie/sepolia_924016.zip"));
}

#[tokio::test]
async fn external_command_for_other_block_is_rejected() {
    let scripts = tempfile::tempdir().expect("temporary directory");
    let fixture = fixtures_dir().join("pie/sepolia_924016.zip");
    let script = write_script(
        scripts.path(),
        "prove_block",
        &format!("cp '{}' \"$5\"", fixture.display()),
    );
    let mut job = sepolia_job();
    job.block_number = 924017;

    let error = external_runner(script, Duration::from_secs(60))
        .run(&job)
        .await
        .expect_err("the PIE is for block 924016");
    assert!(matches!(error, SnosError::BlockMismatch { .. }), "{error}");
    assert!(error.to_string().contains("924016"), "message: {error}");
}

#[tokio::test]
async fn external_failure_keeps_stderr() {
    let scripts = tempfile::tempdir().expect("temporary directory");
    let script = write_script(
        scripts.path(),
        "prove_block",
        "echo 'starknet_getStorageProof failed: connection refused' >&2\nexit 3",
    );

    let error = external_runner(script, Duration::from_secs(60))
        .run(&sepolia_job())
        .await
        .expect_err("command exits with 3");
    let SnosError::CommandFailed {
        status,
        stderr_tail,
        ..
    } = &error
    else {
        panic!("expected CommandFailed, got {error}");
    };
    assert!(status.contains('3'), "status: {status}");
    assert!(
        stderr_tail.contains("connection refused"),
        "stderr: {stderr_tail}"
    );
    assert!(
        error.is_retryable(),
        "a failed command may succeed on retry"
    );
    assert!(
        !error.to_string().contains("127.0.0.1:9"),
        "RPC URL in message: {error}"
    );
}

#[tokio::test]
async fn external_stderr_keeps_last_bytes() {
    let scripts = tempfile::tempdir().expect("temporary directory");
    let script = write_script(
        scripts.path(),
        "prove_block",
        "i=0\nwhile [ $i -lt 2000 ]; do echo \"line $i\" >&2; i=$((i+1)); done\nexit 1",
    );

    let error = external_runner(script, Duration::from_secs(60))
        .run(&sepolia_job())
        .await
        .expect_err("command exits with 1");
    let SnosError::CommandFailed { stderr_tail, .. } = &error else {
        panic!("expected CommandFailed, got {error}");
    };
    assert!(stderr_tail.ends_with("line 1999\n"), "tail: {stderr_tail}");
    assert!(
        !stderr_tail.contains("line 0\n"),
        "the head of stderr was kept"
    );
    assert!(stderr_tail.len() <= 4096 + "…".len());
}

#[tokio::test]
async fn external_timeout_kills_process_group() {
    let scripts = tempfile::tempdir().expect("temporary directory");
    let pid_file = scripts.path().join("sleep.pid");
    let script = write_script(
        scripts.path(),
        "prove_block",
        &format!(
            "echo 'fetching block' >&2\nsleep 600 &\necho $! > '{}'\nwait",
            pid_file.display()
        ),
    );

    let error = external_runner(script, Duration::from_millis(500))
        .run(&sepolia_job())
        .await
        .expect_err("command outlives its timeout");
    let SnosError::CommandTimedOut { stderr_tail, .. } = &error else {
        panic!("expected CommandTimedOut, got {error}");
    };
    assert!(
        stderr_tail.contains("fetching block"),
        "stderr: {stderr_tail}"
    );
    assert!(error.is_retryable());

    // The grandchild `sleep` was in the command's process group, so it is dead: gone, or a
    // zombie until init reaps it.
    assert_process_dead(&pid_file);
}

/// Asserts that the process whose id `pid_file` contains is gone or a zombie. SIGKILL takes
/// effect asynchronously, so the state is polled for up to 5 s.
fn assert_process_dead(pid_file: &Path) {
    let pid = std::fs::read_to_string(pid_file).expect("script wrote the pid");
    let stat_path = format!("/proc/{}/stat", pid.trim());
    let mut stat = None;
    for _ in 0..100 {
        stat = std::fs::read_to_string(&stat_path).ok();
        let state = stat
            .as_deref()
            .and_then(|stat| stat.rsplit(')').next())
            .and_then(|rest| rest.split_whitespace().next());
        if matches!(state, None | Some("Z") | Some("X")) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("process {} is still running: {stat:?}", pid.trim());
}

#[tokio::test]
async fn cancelled_run_kills_process_group() {
    let scripts = tempfile::tempdir().expect("temporary directory");
    let pid_file = scripts.path().join("sleep.pid");
    let started_file = scripts.path().join("started");
    let script = write_script(
        scripts.path(),
        "prove_block",
        &format!(
            "sleep 600 &\necho $! > '{}'\ntouch '{}'\nwait",
            pid_file.display(),
            started_file.display()
        ),
    );
    let runner = external_runner(script, Duration::from_secs(600));
    let job = sepolia_job();

    // Drop the run, as a cancelled activity does, once the script has started its child.
    let mut run = Box::pin(runner.run(&job));
    loop {
        tokio::select! {
            result = &mut run => panic!("the run ended on its own: {result:?}"),
            () = tokio::time::sleep(Duration::from_millis(50)) => {
                if started_file.exists() {
                    break;
                }
            }
        }
    }
    drop(run);

    assert_process_dead(&pid_file);
}

#[tokio::test]
async fn external_garbage_output_is_invalid_pie() {
    let scripts = tempfile::tempdir().expect("temporary directory");
    let script = write_script(scripts.path(), "prove_block", "echo garbage > \"$5\"");

    let error = external_runner(script, Duration::from_secs(60))
        .run(&sepolia_job())
        .await
        .expect_err("output is not a zip");
    assert!(matches!(error, SnosError::InvalidPie { .. }), "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn external_zip_without_pie_entries_is_invalid() {
    let scripts = tempfile::tempdir().expect("temporary directory");
    let mut zip_bytes = Vec::new();
    {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(&mut zip_bytes));
        writer
            .start_file("readme.txt", zip::write::SimpleFileOptions::default())
            .expect("zip entry");
        std::io::Write::write_all(&mut writer, b"not a PIE").expect("zip write");
        writer.finish().expect("zip finish");
    }
    let zip_path = scripts.path().join("other.zip");
    std::fs::write(&zip_path, zip_bytes).expect("zip written");
    let script = write_script(
        scripts.path(),
        "prove_block",
        &format!("cp '{}' \"$5\"", zip_path.display()),
    );

    let error = external_runner(script, Duration::from_secs(60))
        .run(&sepolia_job())
        .await
        .expect_err("zip has no PIE entries");
    assert!(matches!(error, SnosError::InvalidPie { .. }), "{error}");
    let message = format!("{:?}", error);
    assert!(message.contains("metadata.json"), "message: {message}");
}

#[tokio::test]
async fn external_success_without_pie_is_reported() {
    let scripts = tempfile::tempdir().expect("temporary directory");
    let script = write_script(scripts.path(), "prove_block", "exit 0");

    let error = external_runner(script, Duration::from_secs(60))
        .run(&sepolia_job())
        .await
        .expect_err("no PIE written");
    assert!(matches!(error, SnosError::MissingPie { .. }), "{error}");
}

#[tokio::test]
async fn external_missing_program_is_permanent() {
    let error = external_runner(
        PathBuf::from("/nonexistent/prove_block"),
        Duration::from_secs(60),
    )
    .run(&sepolia_job())
    .await
    .expect_err("program does not exist");
    assert!(matches!(error, SnosError::Spawn { .. }), "{error}");
    assert!(!error.is_retryable());
}

#[test]
fn external_config_rejects_unknown_placeholder() {
    let error = ExternalRunner::new(ExternalConfig {
        program: PathBuf::from("prove_block"),
        args: vec!["{blok}".into(), "{output}".into()],
        rpc_url: String::new(),
        timeout: Duration::from_secs(1),
        work_dir: None,
    })
    .expect_err("typo in placeholder");
    assert!(error.to_string().contains("{blok}"), "message: {error}");
}

#[test]
fn external_config_requires_output() {
    let error = ExternalRunner::new(ExternalConfig {
        program: PathBuf::from("prove_block"),
        args: vec!["{block}".into()],
        rpc_url: String::new(),
        timeout: Duration::from_secs(1),
        work_dir: None,
    })
    .expect_err("no output argument");
    assert!(error.to_string().contains("{output}"), "message: {error}");
}

#[test]
fn external_config_debug_hides_rpc_url() {
    let config = ExternalConfig {
        program: PathBuf::from("prove_block"),
        args: vec!["{output}".into()],
        rpc_url: "https://rpc.example/v2/secret-key".into(),
        timeout: Duration::from_secs(1),
        work_dir: None,
    };
    assert!(!format!("{config:?}").contains("secret-key"));
}
