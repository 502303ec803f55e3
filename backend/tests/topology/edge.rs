//! nginx itself: the rendered config passes `nginx -t`, the bundle is served with the right
//! types, compression, cache and security headers, SPA routes fall back to index.html but
//! missing assets do not, and operators' endpoints stay private.

use crate::client::{Api, PASSWORD};
use crate::harness::{
    fake_dist, nginx_config_test, render_nginx, repo_root, Options, TestDir, Tools, Topology,
};
use base64::Engine;
use reqwest::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE};
use serde_json::json;
use sha2::Digest;
use std::process::Command;

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

#[test]
fn the_rendered_config_passes_nginx_t_and_the_site_file_is_the_same() {
    let Some(tools) = Tools::detect("nginx_t") else {
        return;
    };
    let dir = TestDir::new("nginx_t");
    let dist = fake_dist(dir.path());
    let prefix = dir.path().join("nginx");
    render_nginx(&prefix, 18088, &[18081, 18082, 18083], &dist.dir);
    let (ok, output) = nginx_config_test(&tools.nginx, &prefix);
    assert!(ok, "nginx -t failed:\n{output}");
    assert!(output.contains("test is successful"), "{output}");

    // `render.sh site` (for /etc/nginx/conf.d) prints exactly what the private run includes.
    let site = Command::new("bash")
        .arg(repo_root().join("nginx/render.sh"))
        .arg("site")
        .env("NGINX_LISTEN", "127.0.0.1:18088")
        .env("NGINX_SERVER_NAME", "_")
        .env(
            "NGINX_UPSTREAMS",
            "127.0.0.1:18081,127.0.0.1:18082,127.0.0.1:18083",
        )
        .env("NGINX_DIST", &dist.dir)
        .output()
        .unwrap();
    assert!(
        site.status.success(),
        "{}",
        String::from_utf8_lossy(&site.stderr)
    );
    let included = std::fs::read_to_string(prefix.join("conf/chat.conf")).unwrap();
    assert_eq!(String::from_utf8_lossy(&site.stdout), included);
    for upstream in ["127.0.0.1:18081", "127.0.0.1:18082", "127.0.0.1:18083"] {
        assert!(
            included.contains(&format!("server {upstream} ")),
            "{upstream} missing"
        );
    }
    assert!(
        !included.contains("${"),
        "an unrendered variable is left:\n{included}"
    );

    // A bad upstream address is refused before nginx ever sees it.
    let bad = Command::new("bash")
        .arg(repo_root().join("nginx/render.sh"))
        .arg("site")
        .env("NGINX_UPSTREAMS", "127.0.0.1:1; evil")
        .env("NGINX_DIST", &dist.dir)
        .output()
        .unwrap();
    assert!(!bad.status.success());
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("{} has no {name} header", response.url()))
}

fn assert_security_headers(response: &reqwest::Response, inline_script: &str) {
    let csp = header(response, "content-security-policy");
    let hash = base64::engine::general_purpose::STANDARD
        .encode(sha2::Sha256::digest(inline_script.as_bytes()));
    for needed in [
        "default-src 'self'",
        "'wasm-unsafe-eval'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        &format!("'sha256-{hash}'"),
    ] {
        assert!(csp.contains(needed), "CSP lacks {needed}: {csp}");
    }
    for loose in ["'unsafe-inline'", "'unsafe-eval'", "*", "http:", "https:"] {
        assert!(!csp.contains(loose), "CSP allows {loose}: {csp}");
    }
    assert_eq!(header(response, "x-content-type-options"), "nosniff");
    assert_eq!(header(response, "referrer-policy"), "no-referrer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nginx_serves_the_bundle_with_types_compression_cache_and_security_headers() {
    // Login limit 3 per address per instance, so the forged-header check below needs few
    // (slow, Argon2) attempts even though nginx spreads them over both instances.
    let options = Options {
        extra_env: vec![(
            "CHAT_LOGIN_FAILURES_PER_ADDRESS_PER_MINUTE".into(),
            "3".into(),
        )],
        ..Options::default()
    };
    let Some(topology) = Topology::start("edge_static", options).await else {
        return;
    };
    let dist = &topology.dist;
    let edge = Api::new(&topology.nginx.url());
    let get = |path: String, gzip: bool| {
        let mut request = edge.client.get(edge.url(&path));
        if gzip {
            request = request.header("Accept-Encoding", "gzip");
        }
        request.send()
    };

    // index.html, and SPA routes that fall back to it: HTML, revalidated every time.
    for path in ["/", "/index.html", "/rooms/42", "/login"] {
        let response = get(path.to_owned(), false).await.unwrap();
        assert_eq!(response.status().as_u16(), 200, "{path}");
        assert!(
            header(&response, "content-type").starts_with("text/html"),
            "{path}"
        );
        assert_eq!(header(&response, "cache-control"), "no-cache", "{path}");
        assert_security_headers(&response, &dist.inline_script);
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("<script type=\"module\">"));
    }

    // The wasm: application/wasm, immutable, gzipped on request, byte-exact without.
    let wasm = get(format!("/{}", dist.wasm), true).await.unwrap();
    assert_eq!(wasm.status().as_u16(), 200);
    assert_eq!(header(&wasm, "content-type"), "application/wasm");
    assert_eq!(header(&wasm, "cache-control"), IMMUTABLE);
    assert_eq!(header(&wasm, "content-encoding"), "gzip");
    assert_security_headers(&wasm, &dist.inline_script);
    let plain = get(format!("/{}", dist.wasm), false).await.unwrap();
    assert!(plain.headers().get(CONTENT_ENCODING).is_none());
    assert_eq!(
        plain.bytes().await.unwrap().as_ref(),
        std::fs::read(dist.dir.join(dist.wasm)).unwrap()
    );

    // With a .br sibling (the build writes one): brotli_static sends that very file to a
    // client that accepts br.
    let brotli = edge
        .client
        .get(edge.url(&format!("/{}", dist.wasm)))
        .header("Accept-Encoding", "gzip, deflate, br")
        .send()
        .await
        .unwrap();
    assert_eq!(header(&brotli, "content-type"), "application/wasm");
    assert_eq!(header(&brotli, "cache-control"), IMMUTABLE);
    assert_eq!(header(&brotli, "content-encoding"), "br");
    assert_eq!(
        brotli.bytes().await.unwrap().as_ref(),
        std::fs::read(dist.dir.join(format!("{}.br", dist.wasm))).unwrap(),
        "brotli_static should serve the pre-compressed file as it is"
    );

    // JS glue: a JavaScript type, immutable, gzipped.
    let js = get(format!("/{}", dist.js), true).await.unwrap();
    assert!(header(&js, "content-type").contains("javascript"));
    assert_eq!(header(&js, "cache-control"), IMMUTABLE);
    assert_eq!(header(&js, "content-encoding"), "gzip");

    // CSS with a pre-compressed sibling: gzip_static sends that very file.
    let css = get(format!("/{}", dist.css), true).await.unwrap();
    assert!(header(&css, "content-type").starts_with("text/css"));
    assert_eq!(header(&css, "cache-control"), IMMUTABLE);
    assert_eq!(header(&css, "content-encoding"), "gzip");
    assert_eq!(
        css.bytes().await.unwrap().as_ref(),
        std::fs::read(dist.dir.join(format!("{}.gz", dist.css))).unwrap(),
        "gzip_static should serve the pre-compressed file as it is"
    );

    // The runtime config beside index.html: JSON, never cached without revalidation.
    let config = get("/config.json".into(), false).await.unwrap();
    assert_eq!(config.status().as_u16(), 200);
    assert!(header(&config, "content-type").starts_with("application/json"));
    assert_eq!(header(&config, "cache-control"), "no-cache");

    // Missing assets are 404s, never index.html (a .wasm of HTML breaks the app obscurely),
    // and never cached for a year.
    for path in [
        "/frontend-ffffffffffffffff_bg.wasm",
        "/frontend-ffffffffffffffff.js",
        "/missing.css",
        "/missing.json",
    ] {
        let response = get(path.to_owned(), false).await.unwrap();
        assert_eq!(response.status().as_u16(), 404, "{path}");
        assert!(response.headers().get(CACHE_CONTROL).is_none(), "{path}");
    }

    // The API through nginx: JSON from the backend, not the SPA, with nginx's headers only
    // where they belong.
    let health = get("/api/health".into(), false).await.unwrap();
    assert_eq!(health.status().as_u16(), 200);
    assert!(header(&health, "content-type").starts_with("application/json"));
    assert_ne!(
        health
            .headers()
            .get(CACHE_CONTROL)
            .and_then(|v| v.to_str().ok()),
        Some(IMMUTABLE)
    );
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["pubsub"], "ok", "{body}");
    let unknown = get("/api/no-such-thing.json".into(), false).await.unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    assert!(header(&unknown, "content-type").starts_with("application/json"));
    assert!(!header(&unknown, CONTENT_TYPE.as_str()).contains("html"));

    // Metrics stay private: not through nginx, only on the instances themselves.
    let metrics = get("/metrics".into(), false).await.unwrap();
    assert_eq!(metrics.status().as_u16(), 404);
    let direct = edge
        .client
        .get(format!("{}/metrics", topology.instance(1).url()))
        .send()
        .await
        .unwrap();
    assert_eq!(direct.status().as_u16(), 200);

    // A client cannot dodge the per-address login limit by forging forwarding headers: nginx
    // overwrites X-Real-IP with the real peer, which the backend (trusting nginx) uses.
    let mut limited = false;
    for attempt in 0..12 {
        let response = edge
            .client
            .post(edge.url("/api/auth/login"))
            .header("X-Real-IP", format!("203.0.113.{attempt}"))
            .header("X-Forwarded-For", format!("198.51.100.{attempt}"))
            .json(&json!({"username": format!("nobody{attempt}"), "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        if response.status().as_u16() == 429 {
            limited = true;
            break;
        }
        assert_eq!(response.status().as_u16(), 401);
    }
    assert!(
        limited,
        "forged forwarding headers escaped the per-address login limit"
    );
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let Some(analyze) = crate::harness::find_binary("systemd-analyze", "SYSTEMD_ANALYZE_BIN")
    else {
        eprintln!("!!! not checked: no systemd-analyze on this machine");
        return;
    };
    // The unit as installed, but pointing at the binary this build made (verify checks that
    // ExecStart exists) and without requiring the operator's env file.
    let unit = std::fs::read_to_string(repo_root().join("deploy/chat-server.service")).unwrap();
    let unit = unit
        .replace(
            "/usr/local/bin/chat-server",
            env!("CARGO_BIN_EXE_chat-server"),
        )
        .replace("EnvironmentFile=/etc/", "EnvironmentFile=-/etc/");
    let dir = TestDir::new("systemd");
    let path = dir.path().join("chat-server.service");
    std::fs::write(&path, unit).unwrap();
    let verify = Command::new(&analyze)
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        verify.status.success() && verify.stderr.is_empty(),
        "systemd-analyze verify: {}",
        String::from_utf8_lossy(&verify.stderr)
    );
}
