//! Files chosen for the next message: the tray's model (what is uploading, up, or failed),
//! the checks made before anything is uploaded, and sizes as people read them.

use shared::{Attachment, UploadLimits};
use std::rc::Rc;
use yew::Reducible;

/// Used until `GET /api/uploads/limits` has answered (the server's defaults, api.md).
pub const DEFAULT_LIMITS: UploadLimits = UploadLimits {
    max_bytes: 25 * 1024 * 1024,
    per_minute: 30,
    max_attachments_per_message: shared::MAX_ATTACHMENTS_PER_MESSAGE,
};

/// `1536` → `"1.5 KB"`: one decimal below 10, none above, binary multiples (as file managers).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value < 10.0 {
        format!("{:.1} {}", (value * 10.0).floor() / 10.0, UNITS[unit])
    } else {
        format!("{} {}", value.floor(), UNITS[unit])
    }
}

/// Which of the offered files (name, size) may join a tray that already holds `held`, and the
/// error to show for the others: too large, empty, or more than one message may carry.
pub fn admit(
    offered: &[(String, u64)],
    held: usize,
    limits: &UploadLimits,
) -> (Vec<usize>, Option<String>) {
    let mut admitted = Vec::new();
    let mut errors: Vec<String> = Vec::new();
    let mut over_count = false;
    for (i, (name, size)) in offered.iter().enumerate() {
        if *size > limits.max_bytes {
            errors.push(format!(
                "“{name}” is {}; files can be at most {}.",
                human_size(*size),
                human_size(limits.max_bytes)
            ));
        } else if *size == 0 {
            errors.push(format!("“{name}” is empty."));
        } else if held + admitted.len() >= limits.max_attachments_per_message {
            over_count = true;
        } else {
            admitted.push(i);
        }
    }
    if over_count {
        errors.push(format!(
            "A message can carry at most {} files.",
            limits.max_attachments_per_message
        ));
    }
    let error = (!errors.is_empty()).then(|| errors.join(" "));
    (admitted, error)
}

/// Where one file of the tray stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadState {
    /// Bytes sent so far of the total.
    Uploading {
        sent: u64,
        total: u64,
    },
    Done(Attachment),
    /// Refused or interrupted; Retry starts it again when that can help.
    Failed(Failure),
}

/// Why an upload failed, and whether trying the same file again can help (not when the
/// file is too large: a retry would only be refused again).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub why: String,
    pub can_retry: bool,
}

impl Failure {
    pub fn retryable(why: impl Into<String>) -> Self {
        Self {
            why: why.into(),
            can_retry: true,
        }
    }

    pub fn not_retryable(why: impl Into<String>) -> Self {
        Self {
            why: why.into(),
            can_retry: false,
        }
    }
}

/// One chosen file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrayItem {
    /// Local key: the upload job and the rendered chip are found by it.
    pub key: u32,
    pub name: String,
    pub size: u64,
    /// An object URL of the file, for images.
    pub preview: Option<String>,
    pub state: UploadState,
}

impl TrayItem {
    /// 0..=100, for the progress bar.
    pub fn percent(&self) -> u32 {
        match self.state {
            UploadState::Uploading { sent, total } if total > 0 => {
                (sent.min(total) * 100 / total) as u32
            }
            UploadState::Uploading { .. } | UploadState::Failed(_) => 0,
            UploadState::Done(_) => 100,
        }
    }
}

/// A send asked for while files were still uploading: it goes out once all are up, with the
/// text the box holds then (the text stays editable meanwhile).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub reply_to: Option<i64>,
}

/// The tray of files for the next message of one conversation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tray {
    pub items: Vec<TrayItem>,
    /// The last check that refused a file (too large, too many) or a problem to show.
    pub error: Option<String>,
    pub queued: Option<Queued>,
}

#[derive(Debug, Clone)]
pub enum TrayAction {
    /// New files (key, name, size, preview URL); the uploader hands out the keys.
    Add(Vec<(u32, String, u64, Option<String>)>),
    Progress {
        key: u32,
        sent: u64,
        total: u64,
    },
    Done {
        key: u32,
        attachment: Attachment,
    },
    Failed {
        key: u32,
        failure: Failure,
    },
    /// Starting again after a failure.
    Restart(u32),
    Remove(u32),
    Error(Option<String>),
    Queue(Queued),
    /// The message went out (or the conversation changed): empty the tray.
    Clear,
}

impl Tray {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Every file is up: the message may go, with these attachments in tray order.
    pub fn ready(&self) -> Option<Vec<Attachment>> {
        self.items
            .iter()
            .map(|i| match &i.state {
                UploadState::Done(a) => Some(a.clone()),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()
            .filter(|a| !a.is_empty())
    }

    fn item(&mut self, key: u32) -> Option<&mut TrayItem> {
        self.items.iter_mut().find(|i| i.key == key)
    }

    pub fn apply(&mut self, action: TrayAction) {
        match action {
            TrayAction::Add(files) => {
                for (key, name, size, preview) in files {
                    self.items.push(TrayItem {
                        key,
                        name,
                        size,
                        preview,
                        state: UploadState::Uploading {
                            sent: 0,
                            total: size,
                        },
                    });
                }
            }
            TrayAction::Progress { key, sent, total } => {
                if let Some(i) = self.item(key) {
                    if matches!(i.state, UploadState::Uploading { .. }) {
                        i.state = UploadState::Uploading { sent, total };
                    }
                }
            }
            TrayAction::Done { key, attachment } => {
                if let Some(i) = self.item(key) {
                    i.state = UploadState::Done(attachment);
                }
            }
            TrayAction::Failed { key, failure } => {
                if let Some(i) = self.item(key) {
                    i.state = UploadState::Failed(failure);
                }
            }
            TrayAction::Restart(key) => {
                if let Some(i) = self.item(key) {
                    i.state = UploadState::Uploading {
                        sent: 0,
                        total: i.size,
                    };
                }
            }
            TrayAction::Remove(key) => {
                self.items.retain(|i| i.key != key);
                // With no file left there is nothing to wait for: the text stays in the box.
                if self.items.is_empty() {
                    self.queued = None;
                }
            }
            TrayAction::Error(error) => self.error = error,
            TrayAction::Queue(queued) => self.queued = Some(queued),
            TrayAction::Clear => *self = Tray::default(),
        }
    }
}

impl Reducible for Tray {
    type Action = TrayAction;

    fn reduce(self: Rc<Self>, action: TrayAction) -> Rc<Self> {
        let mut tray = (*self).clone();
        tray.apply(action);
        Rc::new(tray)
    }
}

/// The box a thumbnail of `width`×`height` takes in the timeline, at most `max` on either
/// side: known before the image loads, so nothing below it jumps.
pub fn fit(width: i64, height: i64, max: u32) -> (u32, u32) {
    let (w, h) = (width.max(1) as f64, height.max(1) as f64);
    let scale = (f64::from(max) / w).min(f64::from(max) / h).min(1.0);
    let side = |v: f64| ((v * scale).round() as u32).max(1);
    (side(w), side(h))
}

/// The icon a file card shows, from the server's type and the name.
pub fn file_kind(content_type: &str, name: &str) -> &'static str {
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    if content_type == "application/pdf" || ext == "pdf" {
        "pdf"
    } else if content_type.contains("zip") || ["zip", "gz", "tar", "7z", "rar"].contains(&&*ext) {
        "archive"
    } else if content_type.starts_with("audio/") {
        "audio"
    } else if content_type.starts_with("video/") {
        "video"
    } else {
        "file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::AttachmentId;

    fn attachment(id: i64) -> Attachment {
        Attachment {
            id: AttachmentId(id),
            name: format!("f{id}"),
            content_type: "image/png".into(),
            size: 10,
            width: Some(4),
            height: Some(3),
            url: "/o".into(),
            thumbnail_url: Some("/t".into()),
        }
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(25 * 1024 * 1024), "25 MB");
        assert_eq!(human_size(10 * 1024 * 1024 - 1), "9.9 MB");
        assert_eq!(human_size(3 * 1024 * 1024 * 1024), "3.0 GB");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_before_upload_and_the_rest_admitted() {
        let limits = UploadLimits {
            max_bytes: 1000,
            per_minute: 30,
            max_attachments_per_message: 10,
        };
        let offered = vec![
            ("a.png".to_owned(), 1000),
            ("big.bin".to_owned(), 1001),
            ("b.txt".to_owned(), 5),
        ];
        let (admitted, error) = admit(&offered, 0, &limits);
        assert_eq!(admitted, vec![0, 2], "exactly the limit is allowed");
        let error = error.unwrap_or_default();
        assert!(
            error.contains("big.bin") && error.contains("1000 B"),
            "{error}"
        );
    }

    #[test]
    fn no_more_files_than_a_message_may_carry_and_no_empty_ones() {
        let limits = UploadLimits {
            max_attachments_per_message: 3,
            ..DEFAULT_LIMITS
        };
        let offered: Vec<(String, u64)> = (0..3).map(|i| (format!("f{i}"), 1)).collect();
        let (admitted, error) = admit(&offered, 1, &limits);
        assert_eq!(admitted, vec![0, 1]);
        assert!(error.unwrap_or_default().contains("at most 3 files"));
        let (admitted, error) = admit(&[("e".to_owned(), 0)], 0, &limits);
        assert!(admitted.is_empty());
        assert!(error.unwrap_or_default().contains("empty"));
    }

    #[test]
    fn the_tray_is_ready_only_when_every_file_is_up() {
        let mut tray = Tray::default();
        tray.apply(TrayAction::Add(vec![
            (0, "a".into(), 100, None),
            (1, "b".into(), 50, None),
        ]));
        assert_eq!(tray.items.iter().map(|i| i.key).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(tray.ready(), None);
        tray.apply(TrayAction::Progress {
            key: 0,
            sent: 50,
            total: 100,
        });
        assert_eq!(tray.items[0].percent(), 50);
        tray.apply(TrayAction::Done {
            key: 1,
            attachment: attachment(2),
        });
        tray.apply(TrayAction::Failed {
            key: 0,
            failure: Failure::retryable("nope"),
        });
        assert_eq!(tray.ready(), None, "a failed file holds the message back");
        tray.apply(TrayAction::Restart(0));
        assert_eq!(tray.items[0].percent(), 0);
        tray.apply(TrayAction::Done {
            key: 0,
            attachment: attachment(1),
        });
        let ids: Vec<i64> = tray
            .ready()
            .unwrap_or_default()
            .iter()
            .map(|a| a.id.0)
            .collect();
        assert_eq!(ids, [1, 2], "tray order, not completion order");
    }

    #[test]
    fn late_progress_does_not_undo_a_finished_upload_and_clear_empties_it() {
        let mut tray = Tray::default();
        tray.apply(TrayAction::Add(vec![(0, "a".into(), 10, None)]));
        tray.apply(TrayAction::Done {
            key: 0,
            attachment: attachment(1),
        });
        tray.apply(TrayAction::Progress {
            key: 0,
            sent: 1,
            total: 10,
        });
        assert_eq!(tray.items[0].percent(), 100);
        tray.apply(TrayAction::Queue(Queued { reply_to: None }));
        tray.apply(TrayAction::Clear);
        assert!(tray.is_empty() && tray.queued.is_none());
    }

    #[test]
    fn removing_the_last_file_drops_a_queued_send() {
        let mut tray = Tray::default();
        tray.apply(TrayAction::Add(vec![(0, "a".into(), 10, None)]));
        tray.apply(TrayAction::Queue(Queued { reply_to: Some(3) }));
        tray.apply(TrayAction::Remove(0));
        assert!(tray.queued.is_none());
    }

    #[test]
    fn thumbnails_keep_their_aspect_ratio_inside_the_box() {
        assert_eq!(fit(400, 200, 240), (240, 120));
        assert_eq!(fit(300, 900, 240), (80, 240));
        assert_eq!(
            fit(100, 50, 240),
            (100, 50),
            "small images are not blown up"
        );
        assert_eq!(fit(10_000, 1, 240), (240, 1));
    }

    #[test]
    fn file_cards_pick_an_icon_from_the_type_or_name() {
        assert_eq!(file_kind("application/pdf", "x"), "pdf");
        assert_eq!(file_kind("application/octet-stream", "a.ZIP"), "archive");
        assert_eq!(file_kind("audio/mpeg", "song"), "audio");
        assert_eq!(file_kind("application/octet-stream", "notes.txt"), "file");
    }
}
