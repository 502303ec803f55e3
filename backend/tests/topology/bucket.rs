//! The static-bucket deploy: `deploy/upload-bucket.sh` against a real S3-compatible server
//! (moto in server mode, started by `deploy/s3-local.sh`), then the objects as a browser
//! would fetch them.

use crate::harness::{fake_dist, free_port, repo_root, s3_local, skip, S3Local, TestDir};
use std::process::Command;

const BUCKET: &str = "chat-spa";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[tokio::test]
async fn the_bundle_lands_in_the_bucket_with_its_types_and_cache_headers() {
    // Arrange: a local S3 and a bundle.
    let dir = TestDir::new("bucket");
    let dist = fake_dist(dir.path());
    std::fs::create_dir_all(dist.dir.join(".stage")).unwrap();
    std::fs::write(dist.dir.join(".stage/scratch.txt"), "build scratch").unwrap();
    let runtime_config = dir.path().join("bucket-config.json");
    std::fs::write(
        &runtime_config,
        "{\"api_base\": \"http://127.0.0.1:8088/api\"}\n",
    )
    .unwrap();
    let port = free_port();
    let s3_dir = dir.path().join("s3");
    let started = s3_local(&s3_dir, port, "start");
    if !started.status.success() {
        skip(
            "bucket upload",
            &format!(
                "no local S3 server (python3 with moto, or PyPI to install it): {}",
                String::from_utf8_lossy(&started.stderr)
            ),
        );
        return;
    }
    let _s3 = S3Local { dir: s3_dir, port };
    let endpoint = format!("http://127.0.0.1:{port}");

    // Act: upload, creating the bucket and making it publicly readable.
    let upload = Command::new("bash")
        .arg(repo_root().join("deploy/upload-bucket.sh"))
        .arg(&dist.dir)
        .arg("--put")
        .arg(format!("config.json={}", runtime_config.display()))
        .env("S3_ENDPOINT", &endpoint)
        .env("S3_BUCKET", BUCKET)
        .env("AWS_ACCESS_KEY_ID", "chat-test")
        .env("AWS_SECRET_ACCESS_KEY", "chat-test-secret")
        .env("AWS_REGION", "us-east-1")
        .env("S3_CREATE_BUCKET", "1")
        .env("S3_PUBLIC_READ", "1")
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&upload.stdout).into_owned();
    assert!(
        upload.status.success(),
        "upload failed:\n{log}\n{}",
        String::from_utf8_lossy(&upload.stderr)
    );
    let keys: Vec<&str> = log
        .lines()
        .filter(|l| l.contains('\t'))
        .filter_map(|l| l.split('\t').next())
        .collect();
    assert_eq!(
        keys.last(),
        Some(&"index.html"),
        "index.html goes up last:\n{log}"
    );

    // Assert: anonymous GETs (path-style, and virtual-host style as a browser at the
    // bucket's own origin) return each file with its type and cache policy.
    let client = reqwest::Client::new();
    let cases = [
        ("index.html", "text/html; charset=utf-8", "no-cache"),
        (dist.wasm, "application/wasm", IMMUTABLE),
        (dist.js, "text/javascript; charset=utf-8", IMMUTABLE),
        (dist.css, "text/css; charset=utf-8", IMMUTABLE),
        ("config.json", "application/json", "no-cache"),
    ];
    for (key, content_type, cache_control) in cases {
        for (url, host) in [
            (format!("{endpoint}/{BUCKET}/{key}"), None),
            (
                format!("{endpoint}/{key}"),
                Some(format!("{BUCKET}.localhost:{port}")),
            ),
        ] {
            let mut request = client.get(&url);
            if let Some(host) = &host {
                request = request.header("Host", host);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status().as_u16(), 200, "{url} (Host {host:?})");
            let headers = response.headers().clone();
            assert_eq!(headers["content-type"], content_type, "{key}");
            assert_eq!(headers["cache-control"], cache_control, "{key}");
            // A file with a .gz sibling is stored as those bytes, marked gzip (a bucket
            // cannot negotiate); the others as they are.
            let gz_sibling = dist.dir.join(format!("{key}.gz"));
            let encoding = headers
                .get("content-encoding")
                .map(|v| v.to_str().unwrap().to_owned());
            let body = response.bytes().await.unwrap();
            let expected = if key == "config.json" {
                std::fs::read(&runtime_config).unwrap()
            } else if gz_sibling.is_file() {
                assert_eq!(encoding.as_deref(), Some("gzip"), "{key}");
                let mut decoded = Vec::new();
                std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(body.as_ref()),
                    &mut decoded,
                )
                .unwrap();
                assert_eq!(decoded, std::fs::read(dist.dir.join(key)).unwrap(), "{key}");
                std::fs::read(&gz_sibling).unwrap()
            } else {
                assert_eq!(encoding, None, "{key}");
                std::fs::read(dist.dir.join(key)).unwrap()
            };
            assert_eq!(body.as_ref(), expected, "{key}: content");
        }
    }
    // Build scratch and pre-compressed siblings stay out of the bucket.
    for key in [".stage/scratch.txt", &format!("{}.gz", dist.css)] {
        let response = client
            .get(format!("{endpoint}/{BUCKET}/{key}"))
            .send()
            .await
            .unwrap();
        assert!(!response.status().is_success(), "{key} was uploaded");
    }
}
