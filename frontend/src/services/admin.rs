//! The administration endpoints of docs/api.md, over the same request helper as
//! [`super::api`]: every call carries the admin's bearer token; a non-admin gets 403.

use super::api::{request, request_empty, Cursor, Error, NO_BODY};
use chrono::{DateTime, Utc};
use gloo_net::http::Method;
use serde::Deserialize;
use shared::{
    AdminRoom, AdminRoomsResponse, AdminUser, AuditEntry, AuditResponse, MessageId,
    MessagesResponse, RevisionsResponse, RoomId, User, UserId,
};

pub async fn users() -> Result<Vec<AdminUser>, Error> {
    request::<_, UsersWire>(Method::GET, "/admin/users", &[], NO_BODY)
        .await
        .map(|r| r.users.into_iter().map(AdminUser::from).collect())
}

/// `AdminUser` as it travels: its `user` is flattened into it, and serde reads a flattened
/// struct through a buffered copy with a second `Deserialize` of every field type (several
/// KB of the `.wasm`); the plain fields here are read directly.
#[derive(Debug, Deserialize)]
struct AdminUserWire {
    id: UserId,
    username: String,
    display_name: String,
    is_admin: bool,
    online: bool,
    created_at: DateTime<Utc>,
    disabled: bool,
    message_count: i64,
}

#[derive(Debug, Deserialize)]
struct UsersWire {
    users: Vec<AdminUserWire>,
}

impl From<AdminUserWire> for AdminUser {
    fn from(w: AdminUserWire) -> Self {
        AdminUser {
            user: User {
                id: w.id,
                username: w.username,
                display_name: w.display_name,
                is_admin: w.is_admin,
                online: w.online,
            },
            created_at: w.created_at,
            disabled: w.disabled,
            message_count: w.message_count,
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use shared::AdminUsersResponse;

    #[test]
    fn admin_users_read_as_the_shared_type_does() {
        let text = r#"{"users": [{"id": 3, "username": "bob", "display_name": "Bob Chen",
            "is_admin": false, "online": true, "created_at": "2026-11-25T10:00:00.5Z",
            "disabled": true, "message_count": 42}]}"#;
        let expected: AdminUsersResponse = serde_json::from_str(text).expect("valid");
        let wire: UsersWire = serde_json::from_str(text).expect("valid");
        let users: Vec<AdminUser> = wire.users.into_iter().map(AdminUser::from).collect();
        assert_eq!(users, expected.users);
    }
}
