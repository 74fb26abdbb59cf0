//! Artifact store on S3, against a local `moto_server` started on a free port of 127.0.0.1.
//!
//! The test sets fake `AWS_*` credentials for this process, so it lives alone in this test
//! binary. It is skipped, with a message, only when moto is not installed.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use orchestrator_activities::store::{ArtifactStore, StoreError, artifact_key};

/// A moto S3 server, killed on drop.
struct MotoServer {
    child: Child,
    port: u16,
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port on 127.0.0.1")
}

/// Starts moto with `moto_server` or `python3 -m moto.server`; `None` when neither exists.
fn start_moto() -> Option<MotoServer> {
    let port = free_port();
    let port_text = port.to_string();
    let launchers: [(&str, Vec<&str>); 2] = [
        ("moto_server", vec!["-H", "127.0.0.1", "-p", &port_text]),
        (
            "python3",
            vec!["-m", "moto.server", "-H", "127.0.0.1", "-p", &port_text],
        ),
    ];
    for (program, args) in launchers {
        let Ok(mut child) = Command::new(program)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
        else {
            continue;
        };
        // Up to 30 s for the server to listen; an exit means this launcher lacks moto.
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        for _ in 0..300 {
            if let Ok(Some(_status)) = child.try_wait() {
                break;
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(100)).is_ok() {
                return Some(MotoServer { child, port });
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    None
}

#[tokio::test]
async fn s3_store_against_moto() {
    let Some(moto) = start_moto() else {
        println!(
            "skipping s3_store_against_moto: moto is not installed (pip install 'moto[server]')"
        );
        return;
    };
    // SAFETY: this is the only test in this binary, and no other thread reads the environment
    // while it is set.
    unsafe {
        std::env::set_var("AWS_ACCESS_KEY_ID", "testing");
        std::env::set_var("AWS_SECRET_ACCESS_KEY", "testing");
    }
    let endpoint = format!("http://127.0.0.1:{}", moto.port);

    // moto accepts unsigned requests, so a plain PUT creates the bucket.
    let response = reqwest::Client::new()
        .put(format!("{endpoint}/artifacts"))
        .send()
        .await
        .expect("bucket creation request");
    assert!(
        response.status().is_success(),
        "bucket creation: {}",
        response.status()
    );

    let url = format!(
        "s3://artifacts/orchestrator/test?endpoint={endpoint}&region=us-east-1&allow_http=true"
    );
    let store = ArtifactStore::from_url(&url).expect("S3 store opens");
    assert_eq!(store.location(), "s3://artifacts/orchestrator/test");
    let key = artifact_key("SN_SEPOLIA", 12, "cairo_pie.zip");

    // Write, check, read.
    assert!(!store.exists(&key).await.expect("exists works"));
    let artifact = store.put(&key, vec![7u8; 1000]).await.expect("put works");
    assert_eq!(artifact.size, 1000);
    assert!(store.exists(&key).await.expect("exists works"));
    assert_eq!(
        store.get(&artifact).await.expect("get works"),
        vec![7u8; 1000]
    );

    // The object sits under the URL's prefix.
    let bucket_root = ArtifactStore::from_url(&format!(
        "s3://artifacts?endpoint={endpoint}&region=us-east-1&allow_http=true"
    ))
    .expect("S3 store without prefix opens");
    assert!(
        bucket_root
            .exists("orchestrator/test/SN_SEPOLIA/000000000012/cairo_pie.zip")
            .await
            .expect("exists works"),
        "object is not under the prefix"
    );

    // The same content again is accepted and gives the same reference.
    let again = store.put(&key, vec![7u8; 1000]).await.expect("second put");
    assert_eq!(again, artifact);

    // New content of the same size replaces it, and the old reference no longer verifies.
    let replaced = store.put(&key, vec![8u8; 1000]).await.expect("third put");
    let error = store
        .get(&artifact)
        .await
        .expect_err("old reference is stale");
    assert!(matches!(error, StoreError::HashMismatch { .. }), "{error}");
    assert_eq!(
        store.get(&replaced).await.expect("new content"),
        vec![8u8; 1000]
    );

    // A missing object is NotFound, not a backend error.
    let mut absent = replaced.clone();
    absent.key = artifact_key("SN_SEPOLIA", 13, "cairo_pie.zip");
    let error = store.get(&absent).await.expect_err("nothing stored");
    assert!(matches!(error, StoreError::NotFound { .. }), "{error}");

    // A bucket that does not exist is a backend error, which is retried.
    let missing_bucket = ArtifactStore::from_url(&format!(
        "s3://no-such-bucket?endpoint={endpoint}&region=us-east-1&allow_http=true"
    ))
    .expect("URL is valid");
    let error = missing_bucket
        .put("k", b"x".to_vec())
        .await
        .expect_err("bucket is missing");
    assert!(matches!(error, StoreError::Backend { .. }), "{error}");
    assert!(error.is_retryable());
}
