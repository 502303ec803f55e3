//! What administrators do: read every user, room and message; tombstone a message; disable
//! or enable an account. Every change is in the audit log.

use super::messages;
use super::presence::users_with_presence;
use crate::domain::changes::{self, Change, Target};
use crate::domain::messages::Page;
use crate::domain::{admin, attachments};
use crate::error::AppError;
use crate::fanout::Event;
use crate::state::AppState;
use shared::{
    AdminRoom, AdminUser, Attachment, AuditEntry, MessageId, MessagesResponse, Revision, RoomId,
    UserId,
};

/// Every account, with its message count and presence.
pub async fn list_users(state: &AppState) -> Result<Vec<AdminUser>, AppError> {
    let rows = state.db.run(admin::users_with_counts).await?;
    let plain: Vec<_> = rows.iter().map(|(u, _)| u.clone()).collect();
    let views = users_with_presence(state, &plain).await;
    Ok(rows
        .into_iter()
        .zip(views)
        .map(|((row, message_count), user)| AdminUser {
            user,
            created_at: crate::db::to_utc(row.created_at),
            disabled: row.disabled,
            message_count,
        })
        .collect())
}

/// Every room, with both members.
pub async fn list_rooms(state: &AppState) -> Result<Vec<AdminRoom>, AppError> {
    let rows = state.db.run(admin::rooms).await?;
    let members: Vec<_> = rows
        .iter()
        .flat_map(|r| r.members.iter().cloned())
        .collect();
    let views = users_with_presence(state, &members).await;
    Ok(rows
        .into_iter()
        .zip(views.chunks(2))
        .map(|(row, pair)| AdminRoom {
            id: RoomId(row.room.id),
            members: pair.to_vec(),
            last_seq: row.room.last_seq,
            last_message_at: row.last_message_at,
        })
        .collect())
}

/// Any room's stored messages.
pub async fn room_messages(
    state: &AppState,
    room_id: RoomId,
    page: Page,
) -> Result<MessagesResponse, AppError> {
    state
        .db
        .run(move |conn| admin::room_messages(conn, room_id.0, page))
        .await
}

/// Deletes a message for good (its text and every earlier one); both members' open clients
/// get a `message_update` at once. The audit log records it.
pub async fn delete_message(
    state: &AppState,
    actor: UserId,
    message_id: MessageId,
) -> Result<(), AppError> {
    let target = Target::Admin {
        user: actor.0,
        message_id: message_id.0,
    };
    messages::apply_change(state, target, Change::Moderate).await?;
    Ok(())
}

/// A message's texts, oldest first, the current one last, and its files.
pub async fn revisions(
    state: &AppState,
    message_id: MessageId,
) -> Result<(Vec<Revision>, Vec<Attachment>), AppError> {
    state
        .db
        .run(move |conn| {
            let texts = changes::revisions(conn, message_id.0)?;
            let files = attachments::of_message_for_admin(conn, message_id.0)?;
            Ok((texts, files))
        })
        .await
}

/// Disables (its sessions end and its sockets close on every instance) or enables an
/// account.
pub async fn set_disabled(
    state: &AppState,
    actor: UserId,
    user: UserId,
    disabled: bool,
) -> Result<(), AppError> {
    state
        .db
        .run(move |conn| admin::set_disabled(conn, Some(actor.0), user.0, disabled))
        .await?;
    if disabled {
        state.hub.publish(Event::EndUser { user });
    }
    Ok(())
}

/// The audit log, newest first.
pub async fn audit(state: &AppState) -> Result<Vec<AuditEntry>, AppError> {
    state.db.run(admin::audit).await
}
