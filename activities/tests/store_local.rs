//! Artifact store on a local directory: references, idempotent writes and verification.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use orchestrator_activities::store::{ArtifactRef, ArtifactStore, StoreError, artifact_key};

fn open_store(directory: &Path) -> ArtifactStore {
    ArtifactStore::from_url(&format!("file://{}", directory.display())).expect("local store opens")
}

fn inode(path: &Path) -> u64 {
    std::fs::metadata(path).expect("stored file exists").ino()
}

#[test]
fn artifact_key_pads_block_number() {
    assert_eq!(
        artifact_key("SN_SEPOLIA", 42, "cairo_pie.zip"),
        "SN_SEPOLIA/000000000042/cairo_pie.zip"
    );
    assert_eq!(artifact_key("c", 999_999_999_999, "x"), "c/999999999999/x");
}

#[tokio::test]
async fn put_then_get_round_trips() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = open_store(directory.path());
    let key = artifact_key("chain", 7, "blob_0.bin");

    assert!(!store.exists(&key).await.expect("exists works"));
    let artifact = store.put(&key, b"hello".to_vec()).await.expect("put works");
    assert_eq!(artifact.key, key);
    assert_eq!(artifact.size, 5);
    assert_eq!(
        artifact.sha256,
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    );
    assert!(store.exists(&key).await.expect("exists works"));
    assert_eq!(store.get(&artifact).await.expect("get works"), b"hello");

    // The key maps to a path under the store directory.
    assert!(
        directory
            .path()
            .join("chain/000000000007/blob_0.bin")
            .is_file()
    );
}

#[tokio::test]
async fn put_same_content_does_not_rewrite() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = open_store(directory.path());
    let key = artifact_key("chain", 1, "pie.zip");
    let file = directory.path().join(&key);

    let first = store
        .put(&key, b"content".to_vec())
        .await
        .expect("first put");
    let inode_before = inode(&file);
    let second = store
        .put(&key, b"content".to_vec())
        .await
        .expect("second put");
    assert_eq!(first, second);
    // The local store writes a temporary file and renames it, so a rewrite changes the inode.
    assert_eq!(inode(&file), inode_before, "the object was rewritten");
}

#[tokio::test]
async fn put_different_content_overwrites() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = open_store(directory.path());
    let key = artifact_key("chain", 1, "output.txt");

    let old = store.put(&key, b"aaaa".to_vec()).await.expect("first put");
    let new = store.put(&key, b"bbbb".to_vec()).await.expect("second put");
    assert_ne!(old.sha256, new.sha256);
    assert_eq!(store.get(&new).await.expect("new content"), b"bbbb");

    // The old reference, same size and another hash, no longer verifies.
    let error = store.get(&old).await.expect_err("old reference is stale");
    let StoreError::HashMismatch {
        key: error_key,
        expected,
        actual,
    } = &error
    else {
        panic!("expected HashMismatch, got {error}");
    };
    assert_eq!(error_key, &key);
    assert_eq!(expected, &old.sha256);
    assert_eq!(actual, &new.sha256);
    let message = error.to_string();
    assert!(message.contains(&key), "message: {message}");
    assert!(message.contains(&old.sha256), "message: {message}");
    assert!(message.contains(&new.sha256), "message: {message}");
    assert!(!error.is_retryable(), "hash mismatches are permanent");
}

#[tokio::test]
async fn tampered_file_fails_verification() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = open_store(directory.path());
    let key = artifact_key("chain", 3, "blob.bin");
    let artifact = store.put(&key, vec![1, 2, 3]).await.expect("put");

    std::fs::write(directory.path().join(&key), [1, 2, 4]).expect("tamper");
    let error = store.get(&artifact).await.expect_err("content changed");
    assert!(matches!(error, StoreError::HashMismatch { .. }), "{error}");

    std::fs::write(directory.path().join(&key), [1, 2]).expect("truncate");
    let error = store.get(&artifact).await.expect_err("content truncated");
    assert!(
        matches!(
            error,
            StoreError::SizeMismatch {
                expected: 3,
                actual: 2,
                ..
            }
        ),
        "{error}"
    );
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn missing_artifact_is_not_found() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = open_store(directory.path());
    let artifact = ArtifactRef {
        key: artifact_key("chain", 9, "absent"),
        sha256: "00".repeat(32),
        size: 1,
    };
    let error = store.get(&artifact).await.expect_err("nothing stored");
    assert!(matches!(error, StoreError::NotFound { .. }), "{error}");
    assert!(!error.is_retryable());
}

#[tokio::test]
async fn invalid_keys_are_rejected() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let store = open_store(directory.path());
    for key in ["", "/abs", "trailing/", "a//b", "a/../b", "./a"] {
        let error = store
            .put(key, b"x".to_vec())
            .await
            .expect_err("invalid key accepted");
        assert!(
            matches!(error, StoreError::InvalidKey { .. }),
            "key {key:?}: {error}"
        );
        assert!(!error.is_retryable(), "key {key:?}");
    }
}

#[test]
fn local_store_creates_directory() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let nested = directory.path().join("a/b/c");
    open_store(&nested);
    assert!(nested.is_dir());
}

#[test]
fn unsupported_urls_are_rejected() {
    let cases = [
        ("ftp://host/path", "unsupported scheme"),
        ("not a url", "invalid artifact store URL"),
        ("file:///tmp/x?endpoint=y", "no query parameters"),
        (
            "s3://bucket/prefix?endpoit=http://127.0.0.1:1",
            "unknown query parameter",
        ),
        ("s3://bucket?allow_http=yes", "true or false"),
        ("s3:///prefix", "missing bucket name"),
    ];
    for (url, expected) in cases {
        let error = ArtifactStore::from_url(url).expect_err("URL accepted");
        assert!(
            matches!(error, StoreError::InvalidUrl { .. }),
            "{url}: {error}"
        );
        assert!(
            error.to_string().contains(expected),
            "{url}: message {error}"
        );
    }
}

#[test]
fn s3_url_credentials_are_rejected() {
    let error = ArtifactStore::from_url("s3://AKIAEXAMPLE:topsecret@bucket/prefix")
        .expect_err("credentials in URL");
    let message = error.to_string();
    assert!(message.contains("AWS_ACCESS_KEY_ID"), "message: {message}");
    assert!(
        !message.contains("topsecret"),
        "secret in message: {message}"
    );
    assert!(
        !message.contains("AKIAEXAMPLE"),
        "key id in message: {message}"
    );
}

#[test]
fn backend_errors_are_retryable() {
    let transient = StoreError::Backend {
        operation: "put",
        key: "k".into(),
        source: object_store::Error::Generic {
            store: "S3",
            source: "connection reset".into(),
        },
    };
    assert!(transient.is_retryable());

    let unsupported = StoreError::Backend {
        operation: "put",
        key: "k".into(),
        source: object_store::Error::NotImplemented {
            operation: "put".into(),
            implementer: "test".into(),
        },
    };
    assert!(!unsupported.is_retryable());
}
