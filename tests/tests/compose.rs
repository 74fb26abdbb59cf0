//! Checks of `docker-compose.temporal.yml` and the `Dockerfile` as files: services, health
//! checks, volumes, start order and the worker's settings. Docker itself is not run.

use orchestrator_tests::workspace_root;
use serde_norway::Value;

fn compose() -> Value {
    let path = workspace_root().join("docker-compose.temporal.yml");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()));
    serde_norway::from_str(&text)
        .unwrap_or_else(|e| panic!("invalid YAML in {}: {e}", path.display()))
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    let service = &compose["services"][name];
    assert!(
        service.is_mapping(),
        "service {name} missing from docker-compose.temporal.yml"
    );
    service
}

/// Reads every Rust source file under `dir`, concatenated.
fn sources_under(dir: &std::path::Path) -> String {
    let mut text = String::new();
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("failed to list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            text.push_str(&sources_under(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            text.push_str(&std::fs::read_to_string(&path).expect("read source file"));
        }
    }
    text
}

#[test]
fn compose_has_expected_services() {
    let compose = compose();
    let services = compose["services"]
        .as_mapping()
        .expect("services is a mapping");
    let mut names: Vec<&str> = services.keys().filter_map(Value::as_str).collect();
    names.sort();
    assert_eq!(names, ["postgresql", "temporal", "temporal-ui", "worker"]);
}

#[test]
fn every_service_has_health_check() {
    let compose = compose();
    for (name, service) in compose["services"]
        .as_mapping()
        .expect("services is a mapping")
    {
        let test = &service["healthcheck"]["test"];
        let name = name.as_str().unwrap_or("?");
        let command = match test {
            Value::Sequence(words) => words
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
            Value::String(command) => command.clone(),
            _ => panic!("service {name} has no healthcheck.test"),
        };
        assert!(
            command.starts_with("CMD"),
            "healthcheck of {name} is not a CMD or CMD-SHELL test: {command}"
        );
        assert!(
            command.len() > "CMD-SHELL".len() + 2,
            "healthcheck of {name} is empty"
        );
        assert!(
            service["healthcheck"]["retries"]
                .as_u64()
                .is_some_and(|r| r > 0),
            "{name} sets no retries"
        );
    }
}

#[test]
fn named_volumes_are_declared_and_mounted() {
    let compose = compose();
    let declared = compose["volumes"].as_mapping().expect("top-level volumes");
    for (service_name, volume, target) in [
        ("postgresql", "postgresql-data", "/var/lib/postgresql/data"),
        (
            "worker",
            "orchestrator-artifacts",
            "/var/lib/orchestrator/artifacts",
        ),
    ] {
        assert!(
            declared.contains_key(volume),
            "volume {volume} is not declared at the top level"
        );
        let mounts: Vec<&str> = service(&compose, service_name)["volumes"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{service_name} mounts no volumes"))
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let expected = format!("{volume}:{target}");
        assert!(
            mounts.contains(&expected.as_str()),
            "{service_name} does not mount {expected}: {mounts:?}"
        );
    }
}

#[test]
fn services_start_after_dependencies_are_healthy() {
    let compose = compose();
    for (name, dependency) in [
        ("worker", "temporal"),
        ("temporal-ui", "temporal"),
        ("temporal", "postgresql"),
    ] {
        let condition = &service(&compose, name)["depends_on"][dependency]["condition"];
        assert_eq!(
            condition.as_str(),
            Some("service_healthy"),
            "{name} must wait until {dependency} is healthy"
        );
    }
}

#[test]
fn worker_settings_and_secrets() {
    let compose = compose();
    let worker = service(&compose, "worker");
    let environment = worker["environment"]
        .as_mapping()
        .expect("worker environment is a mapping");
    let value = |key: &str| {
        environment
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("worker environment lacks {key}"))
            .to_string()
    };
    for required in [
        "TEMPORAL_ADDRESS",
        "ORCHESTRATOR_CHAIN_ID",
        "MADARA_ORCHESTRATOR_MADARA_RPC_URL",
        "MADARA_ORCHESTRATOR_ETHEREUM_SETTLEMENT_RPC_URL",
        "MADARA_ORCHESTRATOR_ATLANTIC_SERVICE_URL",
        "MADARA_ORCHESTRATOR_L1_CORE_CONTRACT_ADDRESS",
        "ORCHESTRATOR_FACT_REGISTRY_ADDRESS",
        "ORCHESTRATOR_ARTIFACT_STORE",
    ] {
        assert!(
            !value(required).is_empty(),
            "worker setting {required} is empty"
        );
    }
    assert_eq!(value("TEMPORAL_ADDRESS"), "temporal:7233");

    // Keys come from secret files, never from plain values.
    let secrets: Vec<&str> = worker["secrets"]
        .as_sequence()
        .expect("worker secrets")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for (variable, secret) in [
        (
            "MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY_FILE",
            "l1_private_key",
        ),
        (
            "MADARA_ORCHESTRATOR_ATLANTIC_API_KEY_FILE",
            "atlantic_api_key",
        ),
    ] {
        assert_eq!(value(variable), format!("/run/secrets/{secret}"));
        assert!(
            secrets.contains(&secret),
            "worker does not mount secret {secret}"
        );
        assert!(
            compose["secrets"][secret]["file"].is_string(),
            "secret {secret} has no file"
        );
    }
    for plain in [
        "MADARA_ORCHESTRATOR_ETHEREUM_PRIVATE_KEY",
        "MADARA_ORCHESTRATOR_ATLANTIC_API_KEY",
    ] {
        assert!(
            !environment.contains_key(plain),
            "worker sets the key {plain} as a plain value"
        );
    }
}

#[test]
fn worker_variables_exist_in_code() {
    let compose = compose();
    let environment = service(&compose, "worker")["environment"]
        .as_mapping()
        .expect("worker environment");
    let root = workspace_root();
    let code =
        sources_under(&root.join("worker/src")) + &sources_under(&root.join("activities/src"));
    for key in environment.keys().filter_map(Value::as_str) {
        if key.starts_with("ORCHESTRATOR_") || key.starts_with("MADARA_ORCHESTRATOR_") {
            assert!(
                code.contains(&format!("\"{key}\"")),
                "worker variable {key} is read nowhere in worker/ or activities/"
            );
        }
    }
}

#[test]
fn worker_image_builds_both_binaries() {
    let compose = compose();
    let build = &service(&compose, "worker")["build"];
    let dockerfile = build["dockerfile"]
        .as_str()
        .expect("worker build names a Dockerfile");
    let context = build["context"]
        .as_str()
        .expect("worker build names a context");
    let path = workspace_root().join(context).join(dockerfile);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("failed to read {}: {e}", path.display()));
    for binary in ["orchestrator-worker", "orchestrator"] {
        assert!(
            text.contains(&format!("--bin {binary} "))
                || text.contains(&format!("--bin {binary}\n")),
            "{dockerfile} does not build {binary}"
        );
    }
    assert!(
        text.contains("/usr/local/bin/temporal"),
        "{dockerfile} lacks the Temporal CLI the health check runs"
    );
}
