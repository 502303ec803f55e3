//! Validation rules both sides apply, as parse-don't-validate newtypes: a value of one of
//! these types is known to satisfy docs/api.md.

use std::fmt;

pub const USERNAME_MIN_CHARS: usize = 3;
pub const USERNAME_MAX_CHARS: usize = 32;
pub const PASSWORD_MIN_CHARS: usize = 8;
pub const PASSWORD_MAX_CHARS: usize = 256;
pub const DISPLAY_NAME_MAX_CHARS: usize = 64;
pub const MESSAGE_MAX_CHARS: usize = 4000;
pub const CLIENT_ID_MAX_CHARS: usize = 64;

/// Which field broke which rule; becomes a 422 `validation` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: &'static str,
    pub message: String,
}

impl ValidationError {
    fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for ValidationError {}

/// A username in canonical (lower-case) form: 3–32 chars of `[a-z0-9_.-]`.
/// Input is compared case-insensitively, so `Alice` parses to `alice`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim().to_ascii_lowercase();
        let chars = name.chars().count();
        if !(USERNAME_MIN_CHARS..=USERNAME_MAX_CHARS).contains(&chars) {
            return Err(ValidationError::new(
                "username",
                format!("must be {USERNAME_MIN_CHARS}–{USERNAME_MAX_CHARS} characters"),
            ));
        }
        if !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '_' | '.' | '-'))
        {
            return Err(ValidationError::new(
                "username",
                "may contain only letters a–z, digits, '_', '.' and '-'",
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A password of 8–256 characters, kept exactly as typed (never trimmed or truncated).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let chars = raw.chars().count();
        if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars) {
            return Err(ValidationError::new(
                "password",
                format!("must be {PASSWORD_MIN_CHARS}–{PASSWORD_MAX_CHARS} characters"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// Never print a password, not even in debug logs.
impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

/// A display name: 1–64 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let name = raw.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > DISPLAY_NAME_MAX_CHARS {
            return Err(ValidationError::new(
                "display_name",
                format!("must be 1–{DISPLAY_NAME_MAX_CHARS} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "display_name",
                "may not contain control characters",
            ));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// A message body: 1–4000 characters once trimmed, but stored verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageBody(String);

impl MessageBody {
    pub fn parse(raw: String) -> Result<Self, ValidationError> {
        Self::parse_beside(raw, 0)
    }

    /// v1.1: a message with attachments may have an empty body.
    pub fn parse_beside(raw: String, attachments: usize) -> Result<Self, ValidationError> {
        let chars = raw.trim().chars().count();
        if chars == 0 && attachments == 0 {
            return Err(ValidationError::new("body", "must not be empty"));
        }
        if chars > MESSAGE_MAX_CHARS {
            return Err(ValidationError::new(
                "body",
                format!("must be at most {MESSAGE_MAX_CHARS} characters"),
            ));
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// v1.1: an attachment's file name: not blank, at most `MAX_ATTACHMENT_NAME_BYTES` bytes, no
/// path separator and no control character (it ends up in a `Content-Disposition`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    pub fn parse(raw: String) -> Result<Self, ValidationError> {
        let max = crate::types::MAX_ATTACHMENT_NAME_BYTES;
        if raw.trim().is_empty() {
            return Err(ValidationError::new("name", "must not be empty"));
        }
        if raw.len() > max {
            return Err(ValidationError::new(
                "name",
                format!("must be at most {max} bytes"),
            ));
        }
        if raw.chars().any(|c| c == '/' || c == '\\' || c.is_control()) {
            return Err(ValidationError::new(
                "name",
                "must not hold /, \\ or control characters",
            ));
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// Characters a body still has room for (negative when over), as the composer counts them.
pub fn message_chars_left(raw: &str) -> i64 {
    MESSAGE_MAX_CHARS as i64 - raw.trim().chars().count() as i64
}

/// The sender-chosen id that makes a send idempotent: 1–64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientId(String);

impl ClientId {
    pub fn parse(raw: String) -> Result<Self, ValidationError> {
        let chars = raw.chars().count();
        if chars == 0 || chars > CLIENT_ID_MAX_CHARS {
            return Err(ValidationError::new(
                "client_id",
                format!("must be 1–{CLIENT_ID_MAX_CHARS} characters"),
            ));
        }
        if raw.chars().any(char::is_control) {
            return Err(ValidationError::new(
                "client_id",
                "may not contain control characters",
            ));
        }
        Ok(Self(raw))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_inner(self) -> String {
        self.0
    }
}

/// One emoji, as a reaction: a single grapheme cluster that Unicode's emoji list names
/// (skin tones, ZWJ sequences, keycaps and flags included). The list is the `emojis` crate's,
/// so it follows new Unicode versions without a hand-kept table here.
#[derive(Debug, Clone, Copy)]
pub struct Emoji(&'static emojis::Emoji);

impl PartialEq for Emoji {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Emoji {}

impl Emoji {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        use unicode_segmentation::UnicodeSegmentation;
        let not_one = || ValidationError::new("emoji", "must be exactly one emoji");
        if raw.graphemes(true).count() != 1 {
            return Err(not_one());
        }
        emojis::get(raw).map(Emoji).ok_or_else(not_one)
    }

    /// The list's spelling of it.
    pub fn as_str(&self) -> &'static str {
        self.0.as_str()
    }

    /// Its CLDR short name, e.g. "thumbs up".
    pub fn name(&self) -> &'static str {
        self.0.name()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emoji_is_one_grapheme_the_emoji_list_knows() {
        for one in ["👍", "❤️", "👍🏽", "👩‍👩‍👧", "🇫🇷", "1️⃣", "🏳️‍🌈"]
        {
            assert_eq!(Emoji::parse(one).map(|e| e.as_str()), Ok(one), "{one}");
        }
        for not_one in [
            "",
            "a",
            "👍👍",
            "👍 ",
            " 👍",
            "ab",
            "😀x",
            ":+1:",
            "\u{1F3FD}",
        ] {
            assert!(Emoji::parse(not_one).is_err(), "{not_one:?}");
        }
    }

    #[test]
    fn usernames_are_lower_cased_and_limited_to_the_charset() {
        assert_eq!(
            Username::parse("Alice_1.x-y").unwrap().as_str(),
            "alice_1.x-y"
        );
        assert!(Username::parse("ab").is_err());
        assert!(Username::parse(&"a".repeat(32)).is_ok());
        assert!(Username::parse(&"a".repeat(33)).is_err());
        assert!(Username::parse("al ice").is_err());
        assert!(Username::parse("alicé").is_err());
        assert!(Username::parse("a/b/c").is_err());
        assert_eq!(Username::parse("b!b").unwrap_err().field, "username");
    }

    #[test]
    fn passwords_count_characters_and_are_never_trimmed() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert_eq!(Password::parse(" spaced  ").unwrap().expose(), " spaced  ");
        assert!(Password::parse(&"é".repeat(256)).is_ok());
        assert!(Password::parse(&"é".repeat(257)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-pw").unwrap()),
            "Password(***)"
        );
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Al  ").unwrap().into_inner(), "Al");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"x".repeat(64)).is_ok());
        assert!(DisplayName::parse(&"x".repeat(65)).is_err());
        assert!(DisplayName::parse("a\u{0}b").is_err());
    }

    #[test]
    fn bodies_are_measured_trimmed_but_kept_verbatim() {
        assert!(MessageBody::parse("   \n\t ".into()).is_err());
        assert!(MessageBody::parse(String::new()).is_err());
        assert!(MessageBody::parse_beside(String::new(), 1).is_ok());
        assert!(FileName::parse("photo 1.jpg".into()).is_ok());
        assert!(FileName::parse("こんにちは.png".into()).is_ok());
        for bad in ["", "  ", "a/b", "a\\b", "a\nb", "a\u{7f}b"] {
            assert!(FileName::parse(bad.into()).is_err(), "{bad:?}");
        }
        assert!(FileName::parse("x".repeat(255)).is_ok());
        assert!(FileName::parse("é".repeat(128)).is_err(), "256 bytes");
        assert!(MessageBody::parse_beside("x".repeat(4001), 1).is_err());
        assert_eq!(
            MessageBody::parse("  hi\n there ".into()).unwrap().as_str(),
            "  hi\n there "
        );
        assert!(MessageBody::parse("ü".repeat(4000)).is_ok());
        assert!(MessageBody::parse(format!("  {}  ", "x".repeat(4000))).is_ok());
        assert!(MessageBody::parse("x".repeat(4001)).is_err());
        assert_eq!(message_chars_left(&"x".repeat(3990)), 10);
        assert_eq!(message_chars_left(&"x".repeat(4002)), -2);
    }

    #[test]
    fn client_ids_are_bounded() {
        assert!(ClientId::parse(String::new()).is_err());
        assert!(ClientId::parse("c".repeat(64)).is_ok());
        assert!(ClientId::parse("c".repeat(65)).is_err());
        assert!(ClientId::parse("a\nb".into()).is_err());
    }
}
