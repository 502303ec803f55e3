//! Attachment rows: an upload, the message that holds it, and its API view with fresh links.

use crate::db::schema::{attachments, message_attachments, messages};
use crate::db::DbConn;
use crate::error::AppError;
use crate::uploads::links::{self, Audience, Variant};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use shared::{Attachment, AttachmentId, MAX_ATTACHMENTS_PER_MESSAGE};
use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = attachments)]
pub struct AttachmentRow {
    pub id: i64,
    pub uploader_id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub object_key: String,
    pub thumbnail_key: Option<String>,
    pub link_key: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = attachments)]
pub struct NewAttachment {
    pub uploader_id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub object_key: String,
    pub thumbnail_key: Option<String>,
    pub link_key: String,
    pub created_at: NaiveDateTime,
}

impl AttachmentRow {
    /// The API view, with members' links issued now.
    pub fn view(&self, now: DateTime<Utc>) -> Attachment {
        self.view_for(Audience::Member, now)
    }

    pub fn view_for(&self, audience: Audience, now: DateTime<Utc>) -> Attachment {
        let link = |variant| links::issue(&self.link_key, self.id, variant, audience, now);
        Attachment {
            id: AttachmentId(self.id),
            name: self.name.clone(),
            content_type: self.content_type.clone(),
            size: self.size,
            width: self.width,
            height: self.height,
            url: link(Variant::Original),
            thumbnail_url: self
                .thumbnail_key
                .as_ref()
                .map(|_| link(Variant::Thumbnail)),
        }
    }

    /// The stored object a variant names; `None` when there is none (a file's thumbnail).
    pub fn key_of(&self, variant: Variant) -> Option<&str> {
        match variant {
            Variant::Original => Some(&self.object_key),
            Variant::Thumbnail => self.thumbnail_key.as_deref(),
        }
    }
}

pub fn insert(conn: &mut DbConn, new: NewAttachment) -> QueryResult<AttachmentRow> {
    let id = diesel::insert_into(attachments::table)
        .values(&new)
        .returning(attachments::id)
        .get_result::<i64>(conn)?;
    Ok(AttachmentRow {
        id,
        uploader_id: new.uploader_id,
        name: new.name,
        content_type: new.content_type,
        size: new.size,
        width: new.width,
        height: new.height,
        object_key: new.object_key,
        thumbnail_key: new.thumbnail_key,
        link_key: new.link_key,
        created_at: new.created_at,
    })
}

/// Each message's attachments in the order they were sent, with links issued now.
pub fn of_messages(
    conn: &mut DbConn,
    message_ids: &[i64],
) -> QueryResult<HashMap<i64, Vec<Attachment>>> {
    if message_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let found = message_attachments::table
        .inner_join(attachments::table)
        .filter(message_attachments::message_id.eq_any(message_ids))
        .order((
            message_attachments::message_id.asc(),
            message_attachments::position.asc(),
        ))
        .select((message_attachments::message_id, AttachmentRow::as_select()))
        .load::<(i64, AttachmentRow)>(conn)?;
    let now = Utc::now();
    let mut by_message: HashMap<i64, Vec<Attachment>> = HashMap::new();
    for (message_id, row) in found {
        by_message
            .entry(message_id)
            .or_default()
            .push(row.view(now));
    }
    Ok(by_message)
}

/// A message's attachments for an administrator, deleted by its sender or not (an
/// administrator's deletion removed them), with administrators' links.
pub fn of_message_for_admin(conn: &mut DbConn, message_id: i64) -> QueryResult<Vec<Attachment>> {
    let now = Utc::now();
    Ok(message_attachments::table
        .inner_join(attachments::table)
        .filter(message_attachments::message_id.eq(message_id))
        .order(message_attachments::position.asc())
        .select(AttachmentRow::as_select())
        .load::<AttachmentRow>(conn)?
        .iter()
        .map(|row| row.view_for(Audience::Admin, now))
        .collect())
}

/// The uploads a batch of sends names, and which of them a message holds already.
#[derive(Debug, Default)]
pub struct Requested {
    rows: HashMap<i64, AttachmentRow>,
    held: HashSet<i64>,
}

impl Requested {
    pub fn load(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Requested> {
        if ids.is_empty() {
            return Ok(Requested::default());
        }
        let rows = attachments::table
            .filter(attachments::id.eq_any(ids))
            .select(AttachmentRow::as_select())
            .load::<AttachmentRow>(conn)?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        let held = message_attachments::table
            .filter(message_attachments::attachment_id.eq_any(ids))
            .select(message_attachments::attachment_id)
            .load::<i64>(conn)?
            .into_iter()
            .collect();
        Ok(Requested { rows, held })
    }

    /// Why `sender` may not send these uploads, if they may not: each must be one of theirs
    /// that no message holds (nor an earlier send of the same batch, `taken`), named once.
    pub fn refusal(&self, sender: i64, ids: &[i64], taken: &HashSet<i64>) -> Option<AppError> {
        if ids.len() > MAX_ATTACHMENTS_PER_MESSAGE {
            return Some(AppError::Validation(format!(
                "attachments: at most {MAX_ATTACHMENTS_PER_MESSAGE} per message"
            )));
        }
        let mut seen = HashSet::new();
        for id in ids {
            if !seen.insert(*id) {
                return Some(AppError::Validation(format!(
                    "attachments: {id} is named twice"
                )));
            }
            let usable = self
                .rows
                .get(id)
                .is_some_and(|row| row.uploader_id == sender)
                && !self.held.contains(id)
                && !taken.contains(id);
            if !usable {
                return Some(AppError::Validation(format!(
                    "attachments: {id} is not an upload of yours that no message holds"
                )));
            }
        }
        None
    }

    /// The views of `ids`, in that order (for a message just stored).
    pub fn views(&self, ids: &[i64]) -> Vec<Attachment> {
        let now = Utc::now();
        ids.iter()
            .filter_map(|id| self.rows.get(id))
            .map(|row| row.view(now))
            .collect()
    }
}

/// Gives the uploads to a message, in order. A concurrent send of the same upload (another
/// instance) makes this a unique violation, which rolls the whole batch back.
pub fn attach(conn: &mut DbConn, message_id: i64, ids: &[i64]) -> QueryResult<()> {
    // Row by row: at most ten, and diesel's multi-backend connection has no batch insert.
    for (position, id) in ids.iter().enumerate() {
        diesel::insert_into(message_attachments::table)
            .values((
                message_attachments::attachment_id.eq(*id),
                message_attachments::message_id.eq(message_id),
                message_attachments::position.eq(position as i32),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// What serving a link needs: the row, and whether the message holding it was deleted
/// (`None`: no message holds it yet, only its uploader has links).
pub fn for_link(conn: &mut DbConn, id: i64) -> QueryResult<Option<(AttachmentRow, Option<bool>)>> {
    let Some(row) = attachments::table
        .find(id)
        .select(AttachmentRow::as_select())
        .first::<AttachmentRow>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let deleted = message_attachments::table
        .inner_join(messages::table)
        .filter(message_attachments::attachment_id.eq(id))
        .select(messages::deleted)
        .first::<bool>(conn)
        .optional()?;
    Ok(Some((row, deleted)))
}

/// An administrator's deletion: the message's attachment rows go (the objects are deleted by
/// `sweep`, which removes every object no row names). Returns the objects' keys.
pub fn purge_of_message(conn: &mut DbConn, message_id: i64) -> QueryResult<Vec<String>> {
    let ids = message_attachments::table
        .filter(message_attachments::message_id.eq(message_id))
        .select(message_attachments::attachment_id)
        .load::<i64>(conn)?;
    delete_rows(conn, &ids)
}

/// Uploads no message holds that were made before `cutoff`: their rows go; returns the
/// objects' keys.
pub fn sweep_unsent(conn: &mut DbConn, cutoff: NaiveDateTime) -> QueryResult<Vec<String>> {
    let ids = attachments::table
        .left_join(message_attachments::table)
        .filter(message_attachments::attachment_id.is_null())
        .filter(attachments::created_at.lt(cutoff))
        .select(attachments::id)
        .limit(1000)
        .load::<i64>(conn)?;
    delete_rows(conn, &ids)
}

fn delete_rows(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let keys = attachments::table
        .filter(attachments::id.eq_any(ids))
        .select((attachments::object_key, attachments::thumbnail_key))
        .load::<(String, Option<String>)>(conn)?;
    diesel::delete(message_attachments::table)
        .filter(message_attachments::attachment_id.eq_any(ids))
        .execute(conn)?;
    diesel::delete(attachments::table)
        .filter(attachments::id.eq_any(ids))
        .execute(conn)?;
    Ok(keys
        .into_iter()
        .flat_map(|(object, thumbnail)| std::iter::once(object).chain(thumbnail))
        .collect())
}

/// Of `keys`, those a row still names.
pub fn known_keys(conn: &mut DbConn, keys: &[String]) -> QueryResult<HashSet<String>> {
    if keys.is_empty() {
        return Ok(HashSet::new());
    }
    let objects = attachments::table
        .filter(attachments::object_key.eq_any(keys))
        .select(attachments::object_key)
        .load::<String>(conn)?;
    let thumbnails = attachments::table
        .filter(attachments::thumbnail_key.eq_any(keys))
        .select(attachments::thumbnail_key)
        .load::<Option<String>>(conn)?;
    Ok(objects
        .into_iter()
        .chain(thumbnails.into_iter().flatten())
        .collect())
}
