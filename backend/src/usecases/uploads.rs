//! Uploading a file, serving it through a capability link, and sweeping what no message
//! holds.

use crate::domain::attachments::{self, AttachmentRow, NewAttachment};
use crate::error::AppError;
use crate::state::AppState;
use crate::uploads::inspect::{self, Inspected};
use crate::uploads::links::{self, Audience, Signed, Variant};
use crate::uploads::store::Fetched;
use bytes::Bytes;
use chrono::Utc;
use futures_util::{Stream, StreamExt};
use shared::{Attachment, FileName, UserId};
use std::ops::Range;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

fn too_large(max: u64) -> AppError {
    AppError::PayloadTooLarge(format!("the file is larger than {max} bytes"))
}

/// Receives a file: streamed to a private temporary file with the size limit enforced while
/// reading, its type decided from the bytes (images measured and thumbnailed), then stored
/// (object first, then the row, so no row ever names a missing object). The caller's own
/// until a message holds it.
pub async fn upload<S, E>(
    state: &AppState,
    me: UserId,
    name: String,
    declared_length: Option<u64>,
    body: S,
) -> Result<Attachment, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let uploads = &state.uploads;
    let name = FileName::parse(name)?;
    if declared_length.is_some_and(|n| n > uploads.max_bytes) {
        return Err(too_large(uploads.max_bytes));
    }
    uploads
        .limiter
        .try_take(&me)
        .map_err(|retry_after_secs| AppError::RateLimited {
            message: "too many uploads: wait a moment".into(),
            retry_after_secs,
        })?;
    let spooled = spool(body, uploads.max_bytes).await?;

    let inspected = {
        let _turn = uploads
            .decodes
            .acquire()
            .await
            .map_err(AppError::internal)?;
        let path = spooled.path().to_owned();
        let started = std::time::Instant::now();
        let inspected = actix_web::web::block(move || inspect::inspect(&path))
            .await
            .map_err(AppError::internal)?;
        state.metrics.upload_inspections.observe(started.elapsed());
        inspected?
    };
    let size = spooled_size(&spooled).await?;

    let key = format!("a/{}", links::new_key());
    let thumbnail_key = inspected
        .image
        .as_ref()
        .map(|image| format!("{key}.thumb.{}", extension(image.thumbnail.content_type)));
    let stored = store_objects(state, &key, thumbnail_key.as_deref(), &spooled, inspected).await;
    let (content_type, width, height) = match stored {
        Ok(described) => described,
        Err(e) => {
            forget_objects(state, [Some(key), thumbnail_key]).await;
            return Err(e);
        }
    };
    let new = NewAttachment {
        uploader_id: me.0,
        name: name.into_inner(),
        content_type,
        size: size as i64,
        width,
        height,
        object_key: key.clone(),
        thumbnail_key: thumbnail_key.clone(),
        link_key: links::new_key(),
        created_at: crate::db::now(),
    };
    match state
        .db
        .run(move |conn| Ok(attachments::insert(conn, new)?))
        .await
    {
        Ok(row) => Ok(row.view(Utc::now())),
        Err(e) => {
            forget_objects(state, [Some(key), thumbnail_key]).await;
            Err(e)
        }
    }
}

/// Writes the body to a temporary file (deleted when dropped), refusing it as soon as it
/// passes `max` bytes, and an empty one.
async fn spool<S, E>(mut body: S, max: u64) -> Result<tempfile::NamedTempFile, AppError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let spooled =
        actix_web::web::block(|| tempfile::Builder::new().prefix("chat-upload-").tempfile())
            .await
            .map_err(AppError::internal)?
            .map_err(AppError::internal)?;
    let mut file = tokio::fs::File::from_std(spooled.reopen().map_err(AppError::internal)?);
    let mut received: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| AppError::BadRequest(format!("the upload was interrupted: {e}")))?;
        received += chunk.len() as u64;
        if received > max {
            return Err(too_large(max));
        }
        file.write_all(&chunk).await.map_err(AppError::internal)?;
    }
    if received == 0 {
        return Err(AppError::Validation("the file is empty".into()));
    }
    file.flush().await.map_err(AppError::internal)?;
    file.sync_all().await.map_err(AppError::internal)?;
    Ok(spooled)
}

async fn spooled_size(spooled: &tempfile::NamedTempFile) -> Result<u64, AppError> {
    Ok(tokio::fs::metadata(spooled.path())
        .await
        .map_err(AppError::internal)?
        .len())
}

fn extension(content_type: &str) -> &'static str {
    match content_type {
        "image/png" => "png",
        _ => "jpg",
    }
}

/// Stores the file and its thumbnail; what the row says of them.
async fn store_objects(
    state: &AppState,
    key: &str,
    thumbnail_key: Option<&str>,
    spooled: &tempfile::NamedTempFile,
    inspected: Inspected,
) -> Result<(String, Option<i64>, Option<i64>), AppError> {
    let store = &state.uploads.store;
    store
        .put_file(key, spooled.path())
        .await
        .map_err(unavailable_store)?;
    let (width, height) = match (inspected.image, thumbnail_key) {
        (Some(image), Some(thumbnail_key)) => {
            store
                .put_bytes(thumbnail_key, image.thumbnail.bytes)
                .await
                .map_err(unavailable_store)?;
            (Some(i64::from(image.width)), Some(i64::from(image.height)))
        }
        _ => (None, None),
    };
    Ok((inspected.content_type, width, height))
}

fn unavailable_store(e: anyhow::Error) -> AppError {
    tracing::warn!(error = ?e, "the upload store failed");
    AppError::Unavailable("the file store is unavailable: retry shortly".into())
}

async fn forget_objects(state: &AppState, keys: impl IntoIterator<Item = Option<String>>) {
    for key in keys.into_iter().flatten() {
        if let Err(e) = state.uploads.store.delete(&key).await {
            // The sweep removes it later: no row names it.
            tracing::warn!(error = ?e, key, "could not delete an unused object");
        }
    }
}

/// A link's answer, before it becomes HTTP.
pub struct Opened {
    pub row: AttachmentRow,
    pub variant: Variant,
    pub fetched: Fetched,
    /// Whether the whole object was asked for (else a `Range`).
    pub partial: bool,
}

impl Opened {
    /// Images (and every thumbnail) are shown inline with their type; anything else is a
    /// download of `application/octet-stream`, so nothing a browser could run is ever
    /// rendered from this origin.
    pub fn served_type(&self) -> &str {
        let shown = match self.variant {
            Variant::Thumbnail => self.row.thumbnail_key.as_deref().map(|k| {
                if k.ends_with(".png") {
                    "image/png"
                } else {
                    "image/jpeg"
                }
            }),
            Variant::Original => {
                Some(self.row.content_type.as_str()).filter(|t| inspect::is_inline_image(t))
            }
        };
        shown.unwrap_or("application/octet-stream")
    }

    pub fn inline(&self) -> bool {
        self.served_type() != "application/octet-stream"
    }
}

/// A link's query, as received.
pub struct LinkParts {
    pub variant: String,
    pub exp: i64,
    pub sig: String,
    /// `for`: absent for members, `admin` for administrators.
    pub audience: Option<String>,
}

/// A requested byte range, already checked against the object's size.
pub enum Wanted {
    All,
    Range(Range<u64>),
    /// The range lies outside the object (416).
    Unsatisfiable {
        size: u64,
    },
}

/// Serves a capability link: 403 when it expired, was tampered with, or its message was
/// deleted; 404 when the attachment (or that variant) does not exist. `range` turns the size
/// into the bytes wanted.
pub async fn open_link(
    state: &AppState,
    id: i64,
    link: LinkParts,
    range: impl FnOnce(u64) -> Wanted,
) -> Result<Result<Opened, u64>, AppError> {
    let variant =
        Variant::parse(&link.variant).ok_or_else(|| AppError::NotFound("no such file".into()))?;
    let refused = || AppError::Forbidden("this link has expired or is not valid".into());
    let audience = Audience::parse(link.audience.as_deref()).ok_or_else(refused)?;
    let signed = Signed {
        id,
        variant,
        audience,
        exp: link.exp,
    };
    let found = state
        .db
        .run(move |conn| Ok(attachments::for_link(conn, id)?))
        .await?;
    let Some((row, deleted)) = found else {
        return Err(refused());
    };
    // A sender's deletion ends the members' links; administrators keep theirs (revisions).
    let ended = deleted == Some(true) && audience == Audience::Member;
    if !links::verify(&row.link_key, signed, &link.sig, Utc::now()) || ended {
        return Err(refused());
    }
    let key = row
        .key_of(variant)
        .ok_or_else(|| AppError::NotFound("this file has no thumbnail".into()))?
        .to_owned();
    let store = &state.uploads.store;
    let size = match variant {
        Variant::Original => row.size as u64,
        Variant::Thumbnail => store.size_of(&key).await.map_err(missing_object)?,
    };
    let (range, partial) = match range(size) {
        Wanted::All => (None, false),
        Wanted::Range(r) => (Some(r), true),
        Wanted::Unsatisfiable { size } => return Ok(Err(size)),
    };
    let fetched = store.get(&key, range).await.map_err(missing_object)?;
    Ok(Ok(Opened {
        row,
        variant,
        fetched,
        partial,
    }))
}

fn missing_object(e: anyhow::Error) -> AppError {
    if e.downcast_ref::<object_store::Error>()
        .is_some_and(|e| matches!(e, object_store::Error::NotFound { .. }))
    {
        return AppError::NotFound("this file is gone".into());
    }
    unavailable_store(e)
}

/// Deletes uploads no message took within `orphan_after`, then every stored object older
/// than an hour that no row names (left by a crash between an object's write and its row,
/// or by an administrator's deletion).
pub async fn sweep(state: &AppState, orphan_after: Duration) -> Result<usize, AppError> {
    let cutoff = crate::db::now() - chrono::Duration::from_std(orphan_after).unwrap_or_default();
    let unsent = state
        .db
        .run(move |conn| Ok(attachments::sweep_unsent(conn, cutoff)?))
        .await?;
    let mut deleted = unsent.len();
    forget_objects(state, unsent.into_iter().map(Some)).await;

    // An hour (or `orphan_after`, when shorter: tests) leaves an upload in progress alone:
    // its row comes right after its object.
    let grace = chrono::Duration::from_std(orphan_after)
        .unwrap_or_default()
        .min(chrono::Duration::hours(1));
    let settled = Utc::now() - grace;
    let listed = state
        .uploads
        .store
        .keys_older_than(settled)
        .await
        .map_err(unavailable_store)?;
    for chunk in listed.chunks(500) {
        let keys = chunk.to_vec();
        let known = state
            .db
            .run(move |conn| Ok(attachments::known_keys(conn, &keys)?))
            .await?;
        let unknown: Vec<Option<String>> = chunk
            .iter()
            .filter(|k| !known.contains(*k))
            .cloned()
            .map(Some)
            .collect();
        deleted += unknown.len();
        forget_objects(state, unknown).await;
    }
    Ok(deleted)
}
