//! Argument handling and connection errors of the block subcommands, run as a process.

use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_orchestrator"))
        .args(args)
        // Port 1 on loopback refuses connections at once.
        .env("TEMPORAL_ADDRESS", "127.0.0.1:1")
        .output()
        .expect("failed to start the orchestrator binary")
}

#[test]
fn start_rejects_wait_with_no_wait() {
    let output = run(&["start", "1..2", "--wait", "--no-wait"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--no-wait"), "unexpected error: {stderr}");
}

#[test]
fn status_rejects_reversed_range() {
    let output = run(&["status", "5..2", "--json"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("the end is below the start"),
        "unexpected error: {stderr}"
    );
}

#[test]
fn status_names_unreachable_server() {
    let output = run(&["status", "1", "--json"]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("failed to connect to Temporal at"),
        "unexpected error: {stderr}"
    );
    assert!(
        stderr.contains("TEMPORAL_ADDRESS"),
        "error lacks the fix: {stderr}"
    );
}
