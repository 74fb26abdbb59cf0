//! `orchestrator da` subcommands run as a process against recorded fixtures.

use std::path::PathBuf;
use std::process::{Command, Output};

fn fixtures_dir() -> PathBuf {
    match std::env::var_os("ORCHESTRATOR_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
    }
}

fn fixture(relative: &str) -> String {
    fixtures_dir().join(relative).to_string_lossy().into_owned()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orchestrator"))
        .args(args)
        .output()
        .expect("failed to start the orchestrator binary")
}

fn stdout_of(args: &[&str]) -> String {
    let output = run(args);
    assert!(
        output.status.success(),
        "orchestrator {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("stdout is UTF-8")
}

/// A fresh output directory, removed when dropped.
struct OutDir(PathBuf);

impl OutDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("da-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }

    fn path(&self) -> &str {
        self.0.to_str().expect("temp path is UTF-8")
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.0.join(name)).expect("blob file written")
    }
}

impl Drop for OutDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fixture_hex(relative: &str) -> String {
    std::fs::read_to_string(fixture(relative))
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn encode_v2_writes_fixture_blobs() {
    let out = OutDir::new("v2");
    let state_update = fixture("da-v2/9662264/stateful_compressed_state_update.json");
    let stdout = stdout_of(&[
        "da",
        "encode",
        "--state-update",
        &state_update,
        "--encoding",
        "v2",
        "--out",
        out.path(),
    ]);
    assert_eq!(stdout, "felts 5120\nblobs 2\n");
    for index in 1..=2 {
        let written = out.read(&format!("{index}.hex"));
        assert_eq!(written.len(), 262_144, "blob {index} length");
        assert!(
            written == fixture_hex(&format!("da-v2/9662264/blobs/{index}.txt")),
            "blob {index}"
        );
    }
}

#[test]
fn encode_v2_without_stateless_prints_raw_length() {
    let out = OutDir::new("raw");
    let state_update = fixture("da-v2/9662264/stateful_compressed_state_update.json");
    let stdout = stdout_of(&[
        "da",
        "encode",
        "--state-update",
        &state_update,
        "--encoding",
        "v2",
        "--no-stateless",
        "--out",
        out.path(),
    ]);
    assert_eq!(stdout, "felts 6401\nblobs 2\n");
}

#[test]
fn encode_legacy_writes_posted_blob() {
    let out = OutDir::new("legacy");
    let stdout = stdout_of(&[
        "da",
        "encode",
        "--state-update",
        &fixture("da-legacy/671070/state_update.json"),
        "--nonces",
        &fixture("da-legacy/671070/nonces.json"),
        "--encoding",
        "legacy",
        "--out",
        out.path(),
    ]);
    assert_eq!(stdout, "felts 1993\nblobs 1\n");
    assert!(
        out.read("1.hex") == fixture_hex("da-legacy/671070/blob.hex"),
        "blob differs"
    );
}

#[test]
fn encode_legacy_without_nonces_fails() {
    let out = OutDir::new("no-nonces");
    let output = run(&[
        "da",
        "encode",
        "--state-update",
        &fixture("da-legacy/671070/state_update.json"),
        "--encoding",
        "legacy",
        "--out",
        out.path(),
    ]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("missing nonce for contract 0x"), "{stderr}");
}

#[test]
fn decode_prints_all_felts() {
    let stdout = stdout_of(&["da", "decode", "--blob", &fixture("da-legacy/178/blob.hex")]);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 4096);
    assert_eq!(lines[0], "0x5", "contract count of block 178");
    assert!(
        lines[27..].iter().all(|line| *line == "0x0"),
        "padding after 27 felts"
    );
}

#[test]
fn kzg_prints_commitment_proof_and_hash() {
    let stdout = stdout_of(&["da", "kzg", "--blob", &fixture("kzg/20462788/blob.hex")]);
    let expected = format!(
        "commitment {}\nblob_proof {}\nversioned_hash {}\n",
        fixture_hex("kzg/20462788/commitment.hex"),
        fixture_hex("kzg/20462788/blob_proof.hex"),
        "0x0115122ec8a4d044d4ace9c4bc2d36364d4c8d0ed5da8c49d5f2ec104f855eee",
    );
    assert_eq!(stdout, expected);
}

#[test]
fn kzg_with_x0_prints_point_proof_and_y() {
    let x0 = fixture_hex("kzg/630872/x0.hex");
    let stdout = stdout_of(&[
        "da",
        "kzg",
        "--blob",
        &fixture("kzg/630872/blob.hex"),
        "--x0",
        &x0,
    ]);
    let names: Vec<&str> = stdout
        .lines()
        .filter_map(|line| line.split(' ').next())
        .collect();
    assert_eq!(
        names,
        [
            "commitment",
            "blob_proof",
            "versioned_hash",
            "point_proof",
            "y"
        ]
    );
    assert!(
        stdout.ends_with("y 0x6566495cc11710abda13aa0f6571d7d92955d75df7ec82c002d5235ed3f199c1\n"),
        "{stdout}"
    );
}

#[test]
fn kzg_rejects_bad_x0() {
    let output = run(&[
        "da",
        "kzg",
        "--blob",
        &fixture("kzg/630872/blob.hex"),
        "--x0",
        "0xzz",
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid --x0 `0xzz`"));
}
