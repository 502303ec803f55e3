//! Capability links to an attachment's bytes: `/api/attachments/{id}/{variant}?exp=&sig=`,
//! an HMAC-SHA256 over id, variant, expiry and audience. An administrator's links
//! (`&for=admin`) keep working after the sender deleted the message, for the revisions;
//! members' links end with the deletion.
//!
//! Each attachment signs with a random key of its own, stored in its row (so shared through
//! the database: every instance issues and accepts the same links). Why not one server-wide
//! secret: serving a link reads the attachment's row anyway (to see whether its message was
//! deleted), so a key per row costs nothing, needs no key handed to every place that builds
//! a message view, and one file's links can be ended by replacing one key without touching
//! any other.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Links are valid for 24 to 25 hours: the expiry is rounded up to the hour, so every answer
/// within one hour carries the same URL and browsers can cache the image.
const VALID_SECS: i64 = 24 * 3600;
const ROUND_SECS: i64 = 3600;

/// Which bytes of an attachment a link serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Original,
    Thumbnail,
}

impl Variant {
    pub fn as_str(self) -> &'static str {
        match self {
            Variant::Original => "original",
            Variant::Thumbnail => "thumbnail",
        }
    }

    pub fn parse(raw: &str) -> Option<Variant> {
        match raw {
            "original" => Some(Variant::Original),
            "thumbnail" => Some(Variant::Thumbnail),
            _ => None,
        }
    }
}

/// Who a link was issued to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A member of the message's room (or the uploader, before sending).
    Member,
    /// An administrator reading a message's revisions.
    Admin,
}

impl Audience {
    pub fn parse(raw: Option<&str>) -> Option<Audience> {
        match raw {
            None => Some(Audience::Member),
            Some("admin") => Some(Audience::Admin),
            Some(_) => None,
        }
    }
}

/// A new random link key (hex), for a new attachment row.
pub fn new_key() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut key = [0u8; 32];
    OsRng.fill_bytes(&mut key);
    hex::encode(key)
}

/// What one link signs.
#[derive(Debug, Clone, Copy)]
pub struct Signed {
    pub id: i64,
    pub variant: Variant,
    pub audience: Audience,
    pub exp: i64,
}

fn mac(key_hex: &str, signed: Signed) -> Option<Hmac<Sha256>> {
    let key = hex::decode(key_hex).ok()?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    let audience = match signed.audience {
        Audience::Member => "",
        Audience::Admin => ":admin",
    };
    let text = format!(
        "{}:{}:{}{audience}",
        signed.id,
        signed.variant.as_str(),
        signed.exp
    );
    mac.update(text.as_bytes());
    Some(mac)
}

/// A link valid from `now` for at least `VALID_SECS`.
pub fn issue(
    key_hex: &str,
    id: i64,
    variant: Variant,
    audience: Audience,
    now: DateTime<Utc>,
) -> String {
    let exp = (now.timestamp() + VALID_SECS).div_euclid(ROUND_SECS) * ROUND_SECS + ROUND_SECS;
    let signed = Signed {
        id,
        variant,
        audience,
        exp,
    };
    let sig = mac(key_hex, signed)
        .map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    let audience = match audience {
        Audience::Member => "",
        Audience::Admin => "&for=admin",
    };
    format!(
        "/api/attachments/{id}/{}?exp={exp}&sig={sig}{audience}",
        variant.as_str()
    )
}

/// Whether `sig` is this attachment's signature of `signed` and its expiry is still ahead.
/// The comparison is constant-time (`Mac::verify_slice`).
pub fn verify(key_hex: &str, signed: Signed, sig: &str, now: DateTime<Utc>) -> bool {
    if signed.exp <= now.timestamp() {
        return false;
    }
    let (Some(mac), Ok(sig)) = (mac(key_hex, signed), URL_SAFE_NO_PAD.decode(sig)) else {
        return false;
    };
    mac.verify_slice(&sig).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(link: &str) -> (i64, String) {
        let query = link.split_once('?').map(|(_, q)| q).unwrap_or_default();
        let mut exp = 0;
        let mut sig = String::new();
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("exp", v)) => exp = v.parse().unwrap_or_default(),
                Some(("sig", v)) => sig = v.to_owned(),
                _ => {}
            }
        }
        (exp, sig)
    }

    #[test]
    fn a_link_verifies_until_it_expires_and_only_for_what_it_was_issued() {
        let key = new_key();
        let now = Utc::now();
        let link = issue(&key, 7, Variant::Thumbnail, Audience::Member, now);
        assert!(link.starts_with("/api/attachments/7/thumbnail?exp="));
        let (exp, sig) = parts(&link);
        assert!(exp - now.timestamp() >= VALID_SECS);
        let signed = Signed {
            id: 7,
            variant: Variant::Thumbnail,
            audience: Audience::Member,
            exp,
        };
        assert!(verify(&key, signed, &sig, now));
        let again = issue(&key, 7, Variant::Thumbnail, Audience::Member, now);
        assert_eq!(link, again, "stable within the hour");

        let later = now + chrono::Duration::seconds(exp - now.timestamp());
        assert!(!verify(&key, signed, &sig, later), "expired");
        let changed = [
            Signed { id: 8, ..signed },
            Signed {
                variant: Variant::Original,
                ..signed
            },
            Signed {
                audience: Audience::Admin,
                ..signed
            },
            Signed {
                exp: exp + 1,
                ..signed
            },
        ];
        for other in changed {
            assert!(!verify(&key, other, &sig, now), "{other:?}");
        }
        assert!(!verify(&new_key(), signed, &sig, now), "other key");
        assert!(!verify(&key, signed, "", now));
        assert!(!verify(&key, signed, "%%%", now));

        let admin = issue(&key, 7, Variant::Original, Audience::Admin, now);
        assert!(admin.ends_with("&for=admin"), "{admin}");
        let (exp, sig) = parts(&admin);
        let signed = Signed {
            id: 7,
            variant: Variant::Original,
            audience: Audience::Admin,
            exp,
        };
        assert!(verify(&key, signed, &sig, now));
    }
}
