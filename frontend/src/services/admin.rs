//! The administration endpoints of docs/api.md, over the same request helper as
//! [`super::api`]: every call carries the admin's bearer token; a non-admin gets 403.

use super::api::{request, request_empty, Cursor, Error, NO_BODY};
use gloo_net::http::Method;
use shared::{
    AdminRoom, AdminRoomsResponse, AdminUser, AdminUsersResponse, AuditEntry, AuditResponse,
    MessageId, MessagesResponse, RevisionsResponse, RoomId, UserId,
};

pub async fn users() -> Result<Vec<AdminUser>, Error> {
    request::<_, AdminUsersResponse>(Method::GET, "/admin/users", &[], NO_BODY)
        .await
        .map(|r| r.users)
}

pub async fn rooms() -> Result<Vec<AdminRoom>, Error> {
    request::<_, AdminRoomsResponse>(Method::GET, "/admin/rooms", &[], NO_BODY)
        .await
        .map(|r| r.rooms)
}

/// A page of any room's history, paginated as the members' endpoint.
pub async fn room_messages(
    room: RoomId,
    cursor: Cursor,
    limit: i64,
) -> Result<MessagesResponse, Error> {
    let query = cursor.query(limit);
    request(
        Method::GET,
        &format!("/admin/rooms/{room}/messages"),
        &query,
        NO_BODY,
    )
    .await
}

/// Replaces the message's body by the tombstone; both members see it live.
pub async fn delete_message(id: MessageId) -> Result<(), Error> {
    request_empty(Method::DELETE, &format!("/admin/messages/{id}"), NO_BODY).await
}

/// The texts a message had (sender edits and deletions), oldest first, the current one last,
/// and its files (administrators' links: they outlive a deletion by the sender).
pub async fn revisions(id: MessageId) -> Result<RevisionsResponse, Error> {
    let path = format!("/admin/messages/{id}/revisions");
    request(Method::GET, &path, &[], NO_BODY).await
}

/// Ends the user's sessions and refuses their logins (`disabled = true`), or lifts that.
pub async fn set_disabled(id: UserId, disabled: bool) -> Result<(), Error> {
    let verb = if disabled { "disable" } else { "enable" };
    request_empty(Method::POST, &format!("/admin/users/{id}/{verb}"), NO_BODY).await
}

pub async fn audit() -> Result<Vec<AuditEntry>, Error> {
    request::<_, AuditResponse>(Method::GET, "/admin/audit", &[], NO_BODY)
        .await
        .map(|r| r.entries)
}
