//! Attachments (api.md 1.1): uploads, the type decided from the bytes, thumbnails,
//! capability links with `Range`, attachments on send (REST and websocket, one instance and
//! two), the rules of who may send what, deletion ending links, and the sweep.

use crate::helpers::*;
use image::{ImageBuffer, ImageFormat, Rgb};
use reqwest::Response;
use serde_json::json;
use shared::{Attachment, AttachmentId, ClientFrame, Message, MessagesResponse, RoomId};
use std::time::Duration;

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    ImageBuffer::from_fn(width, height, |x, y| {
        Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    })
    .write_to(&mut out, ImageFormat::Png)
    .unwrap();
    out.into_inner()
}

async fn upload_response(
    app: &TestApp,
    who: &TestUser,
    name: &str,
    declared_type: &str,
    bytes: Vec<u8>,
) -> Response {
    app.client
        .post(app.url("/api/uploads"))
        .query(&[("name", name)])
        .bearer_auth(&who.token)
        .header("content-type", declared_type)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn upload(app: &TestApp, who: &TestUser, name: &str, bytes: Vec<u8>) -> Attachment {
    let response = upload_response(app, who, name, "application/octet-stream", bytes).await;
    assert_eq!(response.status(), 201);
    json(response).await
}

/// An upload without a Content-Length: `chunks` chunks of `chunk_bytes` each.
async fn upload_chunked(
    app: &TestApp,
    who: &TestUser,
    chunks: usize,
    chunk_bytes: usize,
) -> Response {
    let body = (0..chunks).map(move |_| Ok::<_, std::io::Error>(vec![1u8; chunk_bytes]));
    app.client
        .post(app.url("/api/uploads?name=big.bin"))
        .bearer_auth(&who.token)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(body)))
        .send()
        .await
        .unwrap()
}

/// A link is fetched with no session at all.
async fn fetch(app: &TestApp, link: &str, range: Option<&str>) -> Response {
    let mut request = reqwest::Client::new().get(app.url(link));
    if let Some(range) = range {
        request = request.header("range", range);
    }
    request.send().await.unwrap()
}

fn header<'a>(response: &'a Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

async fn send_with(
    app: &TestApp,
    who: &TestUser,
    room: i64,
    body: &str,
    client_id: &str,
    attachments: &[AttachmentId],
) -> Response {
    app.post(
        &format!("/api/rooms/{room}/messages"),
        &who.token,
        &json!({"body": body, "client_id": client_id, "attachments": attachments}),
    )
    .await
}

async fn an_image_is_measured_thumbnailed_and_served_by_its_links_alone(store: StoreKind) {
    let Some(app) = spawn_app_on(store, |_| {}).await else {
        return;
    };
    let alice = app.register("alice").await;
    let original = png(1200, 600);
    // Named and declared as text: the bytes decide.
    let response =
        upload_response(&app, &alice, "holiday.txt", "text/plain", original.clone()).await;
    assert_eq!(response.status(), 201);
    let attachment: Attachment = json(response).await;
    assert_eq!(attachment.name, "holiday.txt");
    assert_eq!(attachment.content_type, "image/png");
    assert_eq!(attachment.size, original.len() as i64);
    assert_eq!(
        (attachment.width, attachment.height),
        (Some(1200), Some(600))
    );

    let full = fetch(&app, &attachment.url, None).await;
    assert_eq!(full.status(), 200);
    assert_eq!(header(&full, "content-type"), "image/png");
    assert_eq!(header(&full, "x-content-type-options"), "nosniff");
    assert_eq!(header(&full, "content-length"), original.len().to_string());
    let disposition = header(&full, "content-disposition").to_owned();
    assert!(disposition.starts_with("inline"), "{disposition}");
    assert!(
        disposition.contains("filename*=UTF-8''holiday.txt"),
        "{disposition}"
    );
    assert_eq!(full.bytes().await.unwrap().to_vec(), original);

    let thumbnail_url = attachment
        .thumbnail_url
        .clone()
        .expect("an image has a thumbnail");
    let thumb = fetch(&app, &thumbnail_url, None).await;
    assert_eq!(thumb.status(), 200);
    assert_eq!(header(&thumb, "content-type"), "image/jpeg");
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (400, 200));

    // Range: one range is 206 with its bytes; one outside the file is 416 in the error shape.
    let part = fetch(&app, &attachment.url, Some("bytes=10-19")).await;
    assert_eq!(part.status(), 206);
    assert_eq!(
        header(&part, "content-range"),
        format!("bytes 10-19/{}", original.len())
    );
    assert_eq!(
        part.bytes().await.unwrap().to_vec(),
        original[10..20].to_vec()
    );
    let tail = fetch(&app, &attachment.url, Some("bytes=-5")).await;
    assert_eq!(tail.status(), 206);
    assert_eq!(
        tail.bytes().await.unwrap().to_vec(),
        original[original.len() - 5..].to_vec()
    );
    let outside = fetch(&app, &attachment.url, Some("bytes=99999999-")).await;
    assert_eq!(outside.status(), 416);
    assert_error(outside, 416, "bad_request").await;

    // A tampered link is refused, whatever part was changed.
    let tampered = [
        attachment.url.replace("sig=", "sig=A"),
        attachment.url.replace("/original?", "/thumbnail?"),
        attachment.url.replace("exp=", "exp=1"),
        attachment
            .url
            .replace(&format!("/{}/", attachment.id.0), "/999999/"),
    ];
    for link in tampered {
        assert_error(fetch(&app, &link, None).await, 403, "forbidden").await;
    }
}

async fn what_a_browser_could_run_is_never_served_inline(store: StoreKind) {
    let Some(app) = spawn_app_on(store, |_| {}).await else {
        return;
    };
    let alice = app.register("alice").await;
    let cases: [(&str, &[u8]); 3] = [
        (
            "page.png",
            b"<!doctype html><html><body><script>alert(1)</script></body></html>",
        ),
        (
            "drawing.svg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
        ),
        ("notes.txt", b"plain words"),
    ];
    for (name, bytes) in cases {
        let attachment = upload(&app, &alice, name, bytes.to_vec()).await;
        assert_eq!(attachment.thumbnail_url, None, "{name}");
        assert_eq!((attachment.width, attachment.height), (None, None));
        assert!(
            !attachment.content_type.starts_with("image/"),
            "{name}: {}",
            attachment.content_type
        );
        let served = fetch(&app, &attachment.url, None).await;
        assert_eq!(served.status(), 200);
        assert_eq!(
            header(&served, "content-type"),
            "application/octet-stream",
            "{name}"
        );
        assert!(
            header(&served, "content-disposition").starts_with("attachment"),
            "{name}"
        );
        assert_eq!(header(&served, "x-content-type-options"), "nosniff");
        assert_eq!(served.bytes().await.unwrap().to_vec(), bytes.to_vec());
    }
}

async fn uploads_are_refused_over_the_limit_empty_badly_named_too_big_in_pixels_or_too_often(
    store: StoreKind,
) {
    let Some(app) = spawn_app_on(store, |s| {
        s.upload_max_bytes = 1000;
        s.uploads_per_minute = 30;
    })
    .await
    else {
        return;
    };
    let alice = app.register("alice").await;
    let limits: shared::UploadLimits = json(app.get("/api/uploads/limits", "").await).await;
    assert_eq!((limits.max_bytes, limits.per_minute), (1000, 30));
    let exactly = upload_response(&app, &alice, "a.bin", "x/y", vec![7u8; 1000]).await;
    assert_eq!(exactly.status(), 201);
    let over = upload_response(&app, &alice, "a.bin", "x/y", vec![7u8; 1001]).await;
    assert_error(over, 413, "payload_too_large").await;
    // Without a Content-Length (chunked), the limit holds while reading.
    let streamed = upload_chunked(&app, &alice, 64, 256).await;
    assert_error(streamed, 413, "payload_too_large").await;
    // A refused upload leaves nothing behind: only the one at the limit is stored, and on S3
    // no multipart upload is left open.
    assert_eq!(stored_objects(&app).await, 1);
    assert_eq!(unfinished_s3_uploads(&app).await, 0);

    let empty = upload_response(&app, &alice, "empty.txt", "text/plain", Vec::new()).await;
    assert_error(empty, 422, "validation").await;
    let too_long = "x".repeat(256);
    for name in [
        "",
        "   ",
        "a/b.txt",
        "a\\b.txt",
        "tab\there",
        too_long.as_str(),
    ] {
        let bad = upload_response(&app, &alice, name, "text/plain", b"hi".to_vec()).await;
        assert_error(bad, 422, "validation").await;
    }
    let anonymous = app
        .client
        .post(app.url("/api/uploads?name=a.txt"))
        .body("hi")
        .send()
        .await
        .unwrap();
    assert_error(anonymous, 401, "unauthorized").await;

    // A PNG header declaring 100 million pixels is refused before any decoding.
    let mut bomb = png(1, 1);
    bomb[16..20].copy_from_slice(&10_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&10_000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let refused = upload_response(&app, &alice, "bomb.png", "image/png", bomb).await;
    let message = assert_error(refused, 422, "validation").await;
    assert!(message.contains("pixels"), "{message}");

    let Some(limited) = spawn_app_on(store, |s| s.uploads_per_minute = 2).await else {
        return;
    };
    let bob = limited.register("bob").await;
    for _ in 0..2 {
        upload(&limited, &bob, "a.txt", b"hi".to_vec()).await;
    }
    let third = upload_response(&limited, &bob, "a.txt", "text/plain", b"hi".to_vec()).await;
    assert_eq!(third.status(), 429);
    let retry_after: u64 = header(&third, "retry-after").parse().unwrap();
    assert!(retry_after >= 1);
    assert_error(third, 429, "rate_limited").await;
}

async fn an_upload_refused_after_its_first_part_leaves_nothing_behind(store: StoreKind) {
    // Over S3's 5 MiB part, so a part is already written when the limit is crossed.
    const LIMIT: usize = 6 * 1024 * 1024;
    let Some(app) = spawn_app_on(store, |s| s.upload_max_bytes = LIMIT as u64).await else {
        return;
    };
    let alice = app.register("alice").await;
    let streamed = upload_chunked(&app, &alice, 128, 64 * 1024).await;
    assert_error(streamed, 413, "payload_too_large").await;
    assert_eq!(stored_objects(&app).await, 0, "no object, no staging file");
    assert_eq!(
        unfinished_s3_uploads(&app).await,
        0,
        "the multipart upload was aborted"
    );
    // And one just at the limit, in parts, arrives whole.
    let exactly = vec![5u8; LIMIT];
    let attachment = upload(&app, &alice, "exact.bin", exactly.clone()).await;
    assert_eq!(attachment.size, LIMIT as i64);
    let served = fetch(&app, &attachment.url, None).await;
    assert_eq!(served.bytes().await.unwrap().to_vec(), exactly);
}

/// PNG's chunk checksum, to keep an edited header valid.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                0xEDB8_8320 ^ (crc >> 1)
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

async fn a_message_carries_its_attachments_live_in_history_and_for_the_peer_only_once(
    store: StoreKind,
) {
    let Some(app) = spawn_app_on(store, |_| {}).await else {
        return;
    };
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let room = app.open_room(&alice, &bob).await.id.0;
    let mut bob_ws = app.ws(&bob).await;

    let photo = upload(&app, &alice, "photo.png", png(64, 48)).await;
    let doc = upload(
        &app,
        &alice,
        "report.pdf",
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n".to_vec(),
    )
    .await;
    // No body: attachments alone make a message.
    let sent = send_with(&app, &alice, room, "", "with-files", &[doc.id, photo.id]).await;
    assert_eq!(sent.status(), 201);
    let message: Message = json(sent).await;
    let names: Vec<&str> = message
        .attachments
        .iter()
        .map(|a| a.name.as_str())
        .collect();
    assert_eq!(names, ["report.pdf", "photo.png"], "in the order given");
    assert_eq!(message.attachments[0].content_type, "application/pdf");

    let live = bob_ws.next_message().await;
    assert_eq!(live.id, message.id);
    assert_eq!(live.attachments.len(), 2);
    let link = live.attachments[1].thumbnail_url.clone().unwrap();
    assert_eq!(fetch(&app, &link, None).await.status(), 200);

    let history: MessagesResponse = json(
        app.get(&format!("/api/rooms/{room}/messages"), &bob.token)
            .await,
    )
    .await;
    let stored = history
        .messages
        .iter()
        .find(|m| m.id == message.id)
        .unwrap();
    assert_eq!(stored.attachments.len(), 2);
    assert_eq!(stored.attachments[1].width, Some(64));
    let rooms = app.rooms(&bob).await;
    let last = rooms[0].last_message.as_ref().unwrap();
    assert_eq!(
        last.attachments.len(),
        2,
        "the conversation list's preview knows too"
    );

    // A retry of the same send is the same message.
    let again = send_with(&app, &alice, room, "", "with-files", &[doc.id, photo.id]).await;
    assert_eq!(again.status(), 200);
    assert_eq!(json::<Message>(again).await.id, message.id);

    // An upload is sent once, by its uploader; at most ten; no empty message without files.
    let reused = send_with(&app, &alice, room, "again", "reuse", &[photo.id]).await;
    assert_error(reused, 422, "validation").await;
    let bobs = send_with(&app, &bob, room, "mine now", "steal", &[doc.id]).await;
    assert_error(bobs, 422, "validation").await;
    let carols_upload = upload(&app, &carol, "c.txt", b"carol".to_vec()).await;
    let foreign = send_with(&app, &alice, room, "x", "foreign", &[carols_upload.id]).await;
    assert_error(foreign, 422, "validation").await;
    let unknown = send_with(&app, &alice, room, "x", "unknown", &[AttachmentId(987654)]).await;
    assert_error(unknown, 422, "validation").await;
    let mut many = Vec::new();
    for i in 0..11 {
        many.push(
            upload(&app, &alice, &format!("{i}.txt"), b"x".to_vec())
                .await
                .id,
        );
    }
    let eleven = send_with(&app, &alice, room, "x", "eleven", &many).await;
    assert_error(eleven, 422, "validation").await;
    let twice = send_with(&app, &alice, room, "x", "twice", &[many[0], many[0]]).await;
    assert_error(twice, 422, "validation").await;
    let blank = send_with(&app, &alice, room, " ", "blank", &[]).await;
    assert_error(blank, 422, "validation").await;
    // Refusals took nothing: the uploads are still free to send.
    let ten = send_with(&app, &alice, room, "ten", "ten", &many[..10]).await;
    assert_eq!(ten.status(), 201);

    // Over the websocket too.
    let mut alice_ws = app.ws(&alice).await;
    let over_ws = upload(&app, &alice, "ws.png", png(10, 10)).await;
    alice_ws
        .send(&ClientFrame::Send {
            room_id: RoomId(room),
            body: "by socket".into(),
            client_id: "ws-1".into(),
            reply_to: None,
            attachments: vec![over_ws.id],
        })
        .await;
    let echoed = alice_ws.next_message().await;
    assert_eq!(echoed.attachments[0].id, over_ws.id);
}

async fn deleting_a_message_ends_its_links_and_an_administrators_deletion_removes_the_files(
    store: StoreKind,
) {
    let Some(app) = spawn_app_on(store, |s| {
        s.upload_sweep_secs = 1;
        // Also the grace period of objects no row names (at most an hour in production).
        s.upload_orphan_secs = 3;
    })
    .await
    else {
        return;
    };
    let root = app.admin("root").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await.id.0;

    let first = upload(&app, &alice, "one.png", png(20, 20)).await;
    let sent: Message = json(send_with(&app, &alice, room, "one", "one", &[first.id]).await).await;
    assert_eq!(fetch(&app, &first.url, None).await.status(), 200);
    let deleted = app
        .delete(
            &format!("/api/rooms/{room}/messages/{}", sent.seq),
            &alice.token,
        )
        .await;
    assert_eq!(deleted.status(), 204);
    let gone: Message = json(
        app.get(
            &format!("/api/rooms/{room}/messages/{}", sent.seq),
            &bob.token,
        )
        .await,
    )
    .await;
    assert!(gone.deleted && gone.attachments.is_empty());
    for link in [first.url.clone(), first.thumbnail_url.clone().unwrap()] {
        assert_error(fetch(&app, &link, None).await, 403, "forbidden").await;
    }
    // Administrators still see the files in the message's revisions, with links of their own.
    let revisions_path = format!("/api/admin/messages/{}/revisions", sent.id.0);
    let kept: shared::RevisionsResponse = json(app.get(&revisions_path, &root.token).await).await;
    assert_eq!(kept.attachments.len(), 1);
    assert!(kept.attachments[0].url.ends_with("&for=admin"));
    let admin_copy = fetch(&app, &kept.attachments[0].url, None).await;
    assert_eq!(admin_copy.status(), 200);
    // An administrator's link is not a member's: changing its audience breaks its signature.
    let as_member = kept.attachments[0].url.replace("&for=admin", "");
    assert_error(fetch(&app, &as_member, None).await, 403, "forbidden").await;

    let second = upload(&app, &alice, "two.png", png(20, 20)).await;
    let sent: Message = json(send_with(&app, &alice, room, "two", "two", &[second.id]).await).await;
    // Two objects each (original and thumbnail), the sender-deleted one's kept.
    assert_eq!(stored_objects(&app).await, 4);
    let removed = app
        .delete(&format!("/api/admin/messages/{}", sent.id.0), &root.token)
        .await;
    assert_eq!(removed.status(), 204);
    assert_error(fetch(&app, &second.url, None).await, 403, "forbidden").await;
    let erased_path = format!("/api/admin/messages/{}/revisions", sent.id.0);
    let erased: shared::RevisionsResponse = json(app.get(&erased_path, &root.token).await).await;
    assert!(
        erased.attachments.is_empty(),
        "an administrator's deletion keeps no file"
    );
    // The sweep deletes the objects no row names once they are older than the grace period.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while stored_objects(&app).await != 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the files were never deleted"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Objects in the test's upload store: files under its folder, or keys in its bucket.
async fn stored_objects(app: &TestApp) -> usize {
    fn count(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .flatten()
                    .map(|e| match e.file_type() {
                        Ok(t) if t.is_dir() => count(&e.path()),
                        Ok(_) => 1,
                        Err(_) => 0,
                    })
                    .sum()
            })
            .unwrap_or(0)
    }
    if let Some(folder) = app.upload_store.strip_prefix("file://") {
        return count(std::path::Path::new(folder));
    }
    let listing = s3_listing(app, "list-type=2").await;
    listing.matches("<Key>").count()
}

/// Multipart uploads begun and neither completed nor aborted (an S3 store only).
async fn unfinished_s3_uploads(app: &TestApp) -> usize {
    if app.upload_store.starts_with("file://") {
        return 0;
    }
    s3_listing(app, "uploads")
        .await
        .matches("<UploadId>")
        .count()
}

/// A bucket listing from the local S3 server, as its XML.
async fn s3_listing(app: &TestApp, query: &str) -> String {
    let bucket = app
        .upload_store
        .strip_prefix("s3://")
        .and_then(|rest| rest.split('/').next())
        .expect("an s3:// store");
    let endpoint = local_s3().expect("the S3 store's server runs");
    let listing = reqwest::get(format!("{endpoint}/{bucket}?{query}"))
        .await
        .unwrap();
    assert!(listing.status().is_success(), "{}", listing.status());
    listing.text().await.unwrap()
}

async fn uploads_no_message_took_are_swept_with_their_objects(store: StoreKind) {
    let Some(app) = spawn_app_on(store, |s| {
        s.upload_sweep_secs = 1;
        s.upload_orphan_secs = 1;
    })
    .await
    else {
        return;
    };
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let room = app.open_room(&alice, &bob).await.id.0;
    let kept = upload(&app, &alice, "kept.png", png(8, 8)).await;
    let sent = send_with(&app, &alice, room, "kept", "kept", &[kept.id]).await;
    assert_eq!(sent.status(), 201);
    let unsent = upload(&app, &alice, "unsent.png", png(8, 8)).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if fetch(&app, &unsent.url, None).await.status() == 403 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never swept");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let late = send_with(&app, &alice, room, "late", "late", &[unsent.id]).await;
    assert_error(late, 422, "validation").await;
    assert_eq!(
        fetch(&app, &kept.url, None).await.status(),
        200,
        "a sent upload stays"
    );
    assert_eq!(
        fetch(&app, kept.thumbnail_url.as_ref().unwrap(), None)
            .await
            .status(),
        200
    );
}

async fn an_upload_on_one_instance_is_sent_and_served_by_the_other(store: StoreKind) {
    let Some((first, second)) = spawn_pair_with_redis_on(store).await else {
        return;
    };
    let alice = first.register("alice").await;
    let bob = first.register("bob").await;
    let room = first.open_room(&alice, &bob).await.id.0;
    let mut bob_ws = second.ws(&bob).await;
    let photo = upload(&first, &alice, "p.png", png(30, 30)).await;
    let sent = send_with(&second, &alice, room, "across", "across", &[photo.id]).await;
    assert_eq!(sent.status(), 201);
    let live = bob_ws.next_message().await;
    let link = live.attachments[0].thumbnail_url.clone().unwrap();
    assert_eq!(fetch(&second, &link, None).await.status(), 200);
    assert_eq!(
        fetch(&first, &live.attachments[0].url, None).await.status(),
        200
    );
}

/// Every scenario above runs on both stores: a folder (the embedded default) and a bucket on
/// a local S3-compatible server (production's), so each rule of api.md holds on both.
macro_rules! on_both_stores {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use crate::helpers::StoreKind;

            #[tokio::test]
            async fn on_a_folder() {
                super::$scenario(StoreKind::Folder).await;
            }

            #[tokio::test]
            async fn on_s3() {
                super::$scenario(StoreKind::S3).await;
            }
        }
    )*};
}

on_both_stores!(
    an_image_is_measured_thumbnailed_and_served_by_its_links_alone,
    what_a_browser_could_run_is_never_served_inline,
    uploads_are_refused_over_the_limit_empty_badly_named_too_big_in_pixels_or_too_often,
    an_upload_refused_after_its_first_part_leaves_nothing_behind,
    a_message_carries_its_attachments_live_in_history_and_for_the_peer_only_once,
    deleting_a_message_ends_its_links_and_an_administrators_deletion_removes_the_files,
    uploads_no_message_took_are_swept_with_their_objects,
    an_upload_on_one_instance_is_sent_and_served_by_the_other,
);
