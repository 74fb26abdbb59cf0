//! Fixture access shared by the DA tests.

use std::path::PathBuf;

use orchestrator_activities::da::Blob;

/// Returns the fixture directory: `$ORCHESTRATOR_FIXTURES`, or `shared/fixtures` next to the
/// workspace root.
pub fn fixtures_dir() -> PathBuf {
    match std::env::var_os("ORCHESTRATOR_FIXTURES") {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"),
    }
}

/// Reads a fixture file as text, naming the path on failure.
pub fn read_fixture(relative: &str) -> String {
    let path = fixtures_dir().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "cannot read fixture {}: {error}; set ORCHESTRATOR_FIXTURES",
            path.display()
        )
    })
}

/// Reads a blob fixture (262144 hex characters).
pub fn read_blob(relative: &str) -> Blob {
    Blob::from_hex(&read_fixture(relative)).unwrap_or_else(|error| panic!("{relative}: {error}"))
}
