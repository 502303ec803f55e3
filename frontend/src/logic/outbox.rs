//! The outbox as kept in `localStorage` across reloads: our messages not yet acknowledged,
//! resent with the same `client_id` so the server stores each once. A plain text format, one
//! record per message, fields split by control characters no message contains (a message
//! that did would be lost on reload rather than garble the others, so it is not kept).

use shared::RoomId;

const FIELD: char = '\u{1f}';
const RECORD: char = '\u{1e}';

/// One kept message.
#[derive(Debug, Clone, PartialEq)]
pub struct Unsent {
    pub room_id: RoomId,
    pub client_id: String,
    pub body: String,
    /// When it was written, ms since the epoch.
    pub created_ms: i64,
    pub reply_to: Option<i64>,
}

pub fn encode(unsent: &[Unsent]) -> String {
    let mut out = String::new();
    for u in unsent {
        if u.body.contains([FIELD, RECORD]) || u.client_id.contains([FIELD, RECORD]) {
            continue;
        }
        if !out.is_empty() {
            out.push(RECORD);
        }
        let reply = u.reply_to.map(|r| r.to_string()).unwrap_or_default();
        out.push_str(&format!(
            "{}{FIELD}{}{FIELD}{}{FIELD}{reply}{FIELD}{}",
            u.room_id.0, u.client_id, u.created_ms, u.body
        ));
    }
    out
}

/// What `encode` wrote; a damaged record is skipped.
pub fn decode(text: &str) -> Vec<Unsent> {
    text.split(RECORD)
        .filter_map(|record| {
            let mut f = record.splitn(5, FIELD);
            let room_id = RoomId(f.next()?.parse().ok()?);
            let client_id = f.next()?.to_owned();
            let created_ms = f.next()?.parse().ok()?;
            let reply_to = match f.next()? {
                "" => None,
                r => Some(r.parse().ok()?),
            };
            let body = f.next()?.to_owned();
            (!client_id.is_empty()).then_some(Unsent {
                room_id,
                client_id,
                body,
                created_ms,
                reply_to,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unsent(body: &str, reply_to: Option<i64>) -> Unsent {
        Unsent {
            room_id: RoomId(7),
            client_id: format!("id-{body}"),
            body: body.to_owned(),
            created_ms: 1_700_000_000_123,
            reply_to,
        }
    }

    #[test]
    fn messages_come_back_as_they_were_kept() {
        let kept = vec![
            unsent("hello\nsecond line\ttab", None),
            unsent("a reply ✓", Some(42)),
        ];
        assert_eq!(decode(&encode(&kept)), kept);
        assert_eq!(encode(&[]), "");
        assert_eq!(decode(""), vec![]);
    }

    #[test]
    fn a_message_with_a_separator_is_not_kept_and_damage_is_skipped() {
        let kept = vec![unsent("bad\u{1e}body", None), unsent("fine", None)];
        assert_eq!(decode(&encode(&kept)), vec![unsent("fine", None)]);
        let damaged = format!("x\u{1f}y{RECORD}{}", encode(&[unsent("ok", Some(3))]));
        assert_eq!(decode(&damaged), vec![unsent("ok", Some(3))]);
    }
}
