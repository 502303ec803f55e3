//! Attachments in the production topology: the S3 store (a local S3-compatible server)
//! shared by two instances behind nginx; an upload through nginx is sent on one instance and
//! served by the other; an instance killed during an upload leaves nothing half-written; a
//! 100 MiB body without a declared length is refused while it streams, the server's memory
//! untouched by it.

use crate::client::{Api, WsClient};
use crate::harness::{
    free_port, s3_local, skip, ChatServer, InstanceConfig, Options, S3Local, TestDir, Topology,
};
use diesel::prelude::*;
use serde_json::json;
use shared::{Attachment, Message, ServerFrame};
use std::time::Duration;

const BUCKET: &str = "chat-uploads";

/// A local S3 server with an empty bucket, and the instances' settings to use it.
async fn s3_store(dir: &TestDir) -> Option<(S3Local, Vec<(String, String)>)> {
    let port = free_port();
    let s3_dir = dir.path().join("s3");
    let started = s3_local(&s3_dir, port, "start");
    if !started.status.success() {
        skip(
            "attachments on S3",
            &format!(
                "no local S3 server: {}",
                String::from_utf8_lossy(&started.stderr)
            ),
        );
        return None;
    }
    let s3 = S3Local { dir: s3_dir, port };
    let endpoint = format!("http://127.0.0.1:{port}");
    let created = reqwest::Client::new()
        .put(format!("{endpoint}/{BUCKET}"))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "bucket: {}",
        created.status()
    );
    let env = [
        ("CHAT_UPLOAD_STORE", format!("s3://{BUCKET}/uploads")),
        ("AWS_ENDPOINT", endpoint),
        ("AWS_ACCESS_KEY_ID", "chat-test".into()),
        ("AWS_SECRET_ACCESS_KEY", "chat-test-secret".into()),
        ("AWS_REGION", "us-east-1".into()),
    ];
    Some((
        s3,
        env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    ))
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image::ImageBuffer::from_fn(width, height, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 13 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    })
    .write_to(&mut out, image::ImageFormat::Png)
    .unwrap();
    out.into_inner()
}

async fn upload(base: &str, token: &str, name: &str, bytes: Vec<u8>) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{base}/api/uploads"))
        .query(&[("name", name)])
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

/// Every attachment row's objects, as stored: what a client could be sent a link to.
fn stored_keys(database_url: &str) -> Vec<(String, Option<String>)> {
    let mut conn = diesel::PgConnection::establish(database_url).unwrap();
    diesel::sql_query("SELECT object_key, thumbnail_key FROM attachments")
        .load::<Keys>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|k| (k.object_key, k.thumbnail_key))
        .collect()
}

#[derive(QueryableByName)]
struct Keys {
    #[diesel(sql_type = diesel::sql_types::Text)]
    object_key: String,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    thumbnail_key: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_go_through_nginx_into_the_shared_bucket_and_out_of_either_instance() {
    let dir = TestDir::new("attachments_s3_store");
    let Some((_s3, env)) = s3_store(&dir).await else {
        return;
    };
    let options = Options {
        extra_env: env,
        ..Options::default()
    };
    let Some(mut topology) = Topology::start("attachments_s3", options).await else {
        return;
    };
    let edge = Api::new(&topology.nginx.url());
    let one = topology.instance(1).url();
    let two = topology.instance(2).url();
    let ann = edge.register("ann").await;
    let bob = edge.register("bob").await;
    let room = edge.open_room(&ann, &bob).await.id;
    let mut bob_ws = WsClient::open_ok(&topology.instance(2).ws_url(), &bob).await;

    // A 6 MiB photo (more than one S3 part, far over nginx's JSON body cap) through nginx.
    let mut big = png(1500, 1400);
    big.resize(6 * 1024 * 1024, 0);
    let response = upload(&topology.nginx.url(), &ann.token, "photo.png", big.clone()).await;
    assert_eq!(response.status(), 201);
    let attachment: Attachment = response.json().await.unwrap();
    assert_eq!(attachment.size, big.len() as i64);
    assert_eq!(
        (attachment.width, attachment.height),
        (Some(1500), Some(1400))
    );

    // Sent on instance 1, live on a socket of instance 2, served by both and by nginx.
    let sent = reqwest::Client::new()
        .post(format!("{one}/api/rooms/{room}/messages"))
        .bearer_auth(&ann.token)
        .json(&json!({"body": "look", "client_id": "p1", "attachments": [attachment.id]}))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status(), 201);
    let live = bob_ws
        .expect("the message with the photo", |f| {
            matches!(f, ServerFrame::Message { .. })
        })
        .await;
    let ServerFrame::Message { message } = live else {
        unreachable!()
    };
    let message: Message = message;
    let thumbnail = message.attachments[0].thumbnail_url.clone().unwrap();
    for base in [&one, &two, &topology.nginx.url()] {
        let got = reqwest::get(format!("{base}{thumbnail}")).await.unwrap();
        assert_eq!(got.status(), 200, "thumbnail from {base}");
        let thumb = image::load_from_memory(&got.bytes().await.unwrap()).unwrap();
        assert!(thumb.width() <= 400 && thumb.height() <= 400);
    }
    let original = reqwest::get(format!("{two}{}", message.attachments[0].url))
        .await
        .unwrap();
    assert_eq!(original.status(), 200);
    assert_eq!(original.bytes().await.unwrap().to_vec(), big);

    // kill -9 during a slow upload: no row names an object that is not whole in the bucket.
    let rows_before = stored_keys(topology.database_url()).len();
    let slow = {
        let url = format!("{one}/api/uploads?name=slow.bin");
        let token = ann.token.clone();
        tokio::spawn(async move {
            let chunks = futures_util::stream::unfold(0u32, |n| async move {
                if n >= 400 {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
                Some((Ok::<_, std::io::Error>(vec![n as u8; 64 * 1024]), n + 1))
            });
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .body(reqwest::Body::wrap_stream(chunks))
                .send()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(1500)).await;
    topology.instance_mut(1).kill9();
    assert!(slow.await.unwrap().is_err(), "the upload was cut off");
    let rows = stored_keys(topology.database_url());
    assert_eq!(rows.len(), rows_before, "no row for the cut-off upload");
    for (object, thumbnail) in rows {
        let head = reqwest::Client::new()
            .head(format!(
                "http://127.0.0.1:{}/{BUCKET}/uploads/{object}",
                _s3.port
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), 200, "{object} is whole in the bucket");
        assert!(thumbnail.is_some());
    }
    // The surviving instance keeps taking uploads.
    let after = upload(&two, &ann.token, "after.txt", b"still here".to_vec()).await;
    assert_eq!(after.status(), 201);
}

/// The process's peak resident memory (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM in /proc/PID/status")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mib_body_without_a_length_is_refused_while_streaming_and_never_held() {
    // One embedded instance (SQLite, the folder store) at the default limit of 25 MiB; its
    // temporary folder is the test's own, so a spooled file left behind would be seen.
    let dir = TestDir::new("upload_streamed_refusal");
    let spool = dir.path().join("tmp");
    std::fs::create_dir_all(&spool).unwrap();
    let config = InstanceConfig {
        database_url: format!("sqlite://{}", dir.path().join("chat.db").display()),
        static_dir: dir.path().join("no-dist"),
        extra_env: vec![("TMPDIR".into(), spool.display().to_string())],
        ..InstanceConfig::default()
    };
    let mut server = ChatServer::spawn(1, &config, dir.path());
    server.wait_healthy().await;
    let api = Api::new(&server.url());
    let ann = api.register("ann").await;
    // A first small upload, so the peak below is of a server that has taken one already.
    let warm = upload(&server.url(), &ann.token, "warm.txt", b"hello".to_vec()).await;
    assert_eq!(warm.status(), 201);
    let peak_before = peak_rss_kib(server.pid());

    // 100 MiB in 1 MiB chunks, made as they are sent (chunked: no Content-Length, so the
    // server cannot refuse it from the header and must count while reading).
    const CHUNK: usize = 1024 * 1024;
    let produced = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = produced.clone();
    let chunks = futures_util::stream::unfold(0usize, move |n| {
        let counter = counter.clone();
        async move {
            if n >= 100 {
                return None;
            }
            counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Some((Ok::<_, std::io::Error>(vec![0x5a; CHUNK]), n + 1))
        }
    });
    let answer = reqwest::Client::new()
        .post(format!("{}/api/uploads?name=huge.bin", server.url()))
        .bearer_auth(&ann.token)
        .header("content-type", "application/octet-stream")
        .body(reqwest::Body::wrap_stream(chunks))
        .send()
        .await;
    // The server answers 413 as soon as the limit is passed and stops reading; the client
    // then either reads that answer or finds the connection closed under its unsent rest.
    let answered = answer.is_ok();
    match answer {
        Ok(response) => {
            assert_eq!(response.status(), 413);
            let body: serde_json::Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "payload_too_large");
        }
        Err(e) => assert!(
            produced.load(std::sync::atomic::Ordering::Relaxed) < 100,
            "the whole body was sent and no answer came: {e}"
        ),
    }
    let grown_kib = peak_rss_kib(server.pid()).saturating_sub(peak_before);
    eprintln!(
        "streamed refusal: {} of 100 chunks made, {}; peak RSS +{grown_kib} KiB",
        produced.load(std::sync::atomic::Ordering::Relaxed),
        if answered {
            "answered 413"
        } else {
            "connection closed under the rest"
        },
    );
    // Under a third of the 25 MiB limit: a server that held the body in memory up to the
    // limit before refusing it would fail this too, not only one that held all 100 MiB.
    assert!(
        grown_kib < 8 * 1024,
        "the server's peak RSS grew by {} MiB for a refused 100 MiB body",
        grown_kib / 1024
    );
    let left: Vec<_> = std::fs::read_dir(&spool)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name())
        .collect();
    assert!(left.is_empty(), "spooled files left behind: {left:?}");
    // Nothing was stored, and the server takes the next upload.
    let next = upload(&server.url(), &ann.token, "next.txt", b"after".to_vec()).await;
    assert_eq!(next.status(), 201);
}
