//! Passwords, session tokens and sessions.

use crate::db::models::{NewSession, UserRow};
use crate::db::schema::{sessions, users};
use crate::db::DbConn;
use crate::error::AppError;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use chrono::NaiveDateTime;
use diesel::prelude::*;
// The OS generator argon2 already brings (one rand family for the whole backend).
use argon2::password_hash::rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use shared::Password;
use std::sync::OnceLock;

/// Argon2id at the contract's floor: m = 19456 KiB, t = 2, p = 1.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

pub fn hash_password(password: &Password) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::internal(anyhow::anyhow!("hashing a password: {e}")))
}

pub fn verify_password(stored_hash: &str, candidate: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|parsed| {
            argon2()
                .verify_password(candidate.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verifying against this costs the same as a real check, so an unknown user and a wrong
/// password take equally long.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let mut random = [0u8; 16];
        OsRng.fill_bytes(&mut random);
        let password = Password::parse(&hex::encode(random)).ok();
        password
            .and_then(|p| hash_password(&p).ok())
            .unwrap_or_default()
    })
}

/// Checks credentials with the same work whether or not the user exists.
pub fn check_credentials(user: Option<UserRow>, password: &str) -> Option<UserRow> {
    match user {
        Some(user) if verify_password(&user.password_hash, password) => Some(user),
        Some(_) => None,
        None => {
            verify_password(dummy_hash(), password);
            None
        }
    }
}

/// A fresh opaque token (256 random bits) and the hash that is all the server keeps of it.
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = hash_token(&token);
    (token, hash)
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

pub fn create_session(
    conn: &mut DbConn,
    user_id: i64,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
    user_agent: &str,
) -> Result<i64, AppError> {
    Ok(diesel::insert_into(sessions::table)
        .values(NewSession {
            user_id,
            token_hash,
            created_at: now,
            expires_at,
            last_used_at: Some(now),
            user_agent,
        })
        .returning(sessions::id)
        .get_result(conn)?)
}

/// An authenticated caller: who, and through which session (so logout can end exactly it).
#[derive(Debug, Clone)]
pub struct Authenticated {
    pub session_id: i64,
    pub user: UserRow,
}

/// The live session for a token, if it exists, has not expired and its user is not disabled.
pub fn find_session(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
) -> Result<Option<Authenticated>, AppError> {
    let found = sessions::table
        .inner_join(users::table)
        .filter(sessions::token_hash.eq(hash_token(token)))
        .filter(sessions::expires_at.gt(now))
        .filter(users::disabled.eq(false))
        .select((sessions::id, sessions::last_used_at, UserRow::as_select()))
        .first::<(i64, Option<NaiveDateTime>, UserRow)>(conn)
        .optional()?;
    let Some((session_id, last_used, user)) = found else {
        return Ok(None);
    };
    // "Last used" within a minute is all the sessions list shows: one write a minute per
    // session, not one per request.
    if last_used.is_none_or(|at| now - at >= chrono::Duration::seconds(LAST_USED_GRANULARITY_SECS))
    {
        diesel::update(sessions::table.find(session_id))
            .set(sessions::last_used_at.eq(now))
            .execute(conn)?;
    }
    Ok(Some(Authenticated { session_id, user }))
}

/// How stale a session's `last_used_at` may be.
pub const LAST_USED_GRANULARITY_SECS: i64 = 60;

pub fn delete_session(conn: &mut DbConn, session_id: i64) -> Result<(), AppError> {
    diesel::delete(sessions::table.find(session_id)).execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let pw = Password::parse("correct horse").unwrap();
        let hash = hash_password(&pw).unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(&hash, "correct horse"));
        assert!(!verify_password(&hash, "correct horsE"));
        assert!(!verify_password("garbage", "correct horse"));
    }

    #[test]
    fn tokens_are_long_random_and_stored_only_as_hashes() {
        let (a, hash_a) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.len() >= 43);
        assert_eq!(hash_token(&a), hash_a);
        assert!(!hash_a.contains(&a));
    }
}
