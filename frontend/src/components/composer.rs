use crate::components::attach::AttachmentTray;
use crate::components::icons;
use crate::hooks::use_chat;
use crate::logic::attach::{Queued, TrayAction};
use crate::logic::text::preview;
use crate::logic::typing::TypingThrottle;
use crate::services::platform::now_ms;
use crate::services::prefs;
use crate::services::upload::Uploader;
use crate::state::Compose;
use shared::validation::{message_chars_left, MESSAGE_MAX_CHARS};
use shared::{MessageBody, RoomId, REPLY_EXCERPT_CHARS};
use wasm_bindgen::JsCast;
use web_sys::{File, FileList, HtmlInputElement, HtmlTextAreaElement, KeyboardEvent};
use yew::prelude::*;

/// The counter appears when this few characters are left.
const COUNTER_FROM: i64 = 200;
/// The box grows with its text up to this many lines, then scrolls.
const MAX_ROWS: usize = 6;
/// Said wherever a person edits or deletes: api.md keeps sender edits and deletions as
/// revisions that administrators can read, and the product promises to say so.
pub const ADMINS_KEEP_REVISIONS: &str = "Administrators can still read earlier versions.";

#[derive(Properties, PartialEq)]
pub struct ComposerProps {
    pub room_id: RoomId,
    /// The files for the next message (the conversation holds them: they are dropped there).
    pub uploader: Uploader,
}

/// The files of a `FileList` (from the file picker, a drop or a paste).
pub fn files_of(list: Option<FileList>) -> Vec<File> {
    let Some(list) = list else {
        return Vec::new();
    };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// `n` with a comma between thousands ("4,000"), as the limit is written for people.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Why Send is disabled for a message `over` characters too long, in words.
pub fn over_limit(over: i64) -> String {
    let unit = if over == 1 { "character" } else { "characters" };
    format!(
        "{over} {unit} over the {} limit: shorten the message to send it.",
        thousands(MESSAGE_MAX_CHARS)
    )
}

fn focus_end(input: &NodeRef) {
    if let Some(el) = input.cast::<HtmlTextAreaElement>() {
        // Focus fails only on a detached node; nothing to do then.
        let _ = el.focus();
        let end = el.value().encode_utf16().count() as u32;
        let _ = el.set_selection_range(end, end);
    }
}

/// Writing a message: Enter sends, Shift+Enter starts a new line. ↑ in an empty box edits
/// our last message; Escape ends editing or replying.
#[component]
pub fn Composer(props: &ComposerProps) -> Html {
    let chat = use_chat();
    let room_id = props.room_id;
    let uploader = props.uploader.clone();
    let draft = use_state(String::new);
    let picker = use_node_ref();
    // The draft put aside while editing a message, given back afterwards.
    let stash = use_mut_ref(|| None::<String>);
    let throttle = use_mut_ref(TypingThrottle::default);
    let input = use_node_ref();
    // While we block the peer: the unblock request is running, or why it failed.
    let unblocking = use_state_eq(|| Ok::<bool, String>(false));

    let state = chat.state();
    let me = state.me().map(|u| u.id).unwrap_or_default();
    let entry = state.rooms.get(&room_id);
    let compose = entry.map(|e| e.compose).unwrap_or_default();
    let peer_name = entry
        .map(|e| e.room.peer.display_name.clone())
        .unwrap_or_default();
    let held = |seq: i64| entry.and_then(|e| e.timeline.get(seq));
    let editing_body = match compose {
        Compose::Edit(seq) => held(seq).map(|m| m.body.clone()),
        _ => None,
    };

    // A new room starts with its kept draft (or an empty box), focused on wide screens (on
    // phones focusing would pop the keyboard over the messages).
    {
        let (draft, input, throttle, stash) = (
            draft.clone(),
            input.clone(),
            throttle.clone(),
            stash.clone(),
        );
        use_effect_with((me, room_id), move |(me, room_id)| {
            draft.set(prefs::draft(*me, *room_id).unwrap_or_default());
            *stash.borrow_mut() = None;
            throttle.borrow_mut().reset();
            let wide = web_sys::window()
                .and_then(|w| w.inner_width().ok())
                .and_then(|w| w.as_f64())
                .is_some_and(|w| w > 720.0);
            if wide {
                if let Some(el) = input.cast::<HtmlTextAreaElement>() {
                    let _ = el.focus();
                }
            }
        });
    }

    // Entering edit mode puts the message's text in the box (the draft aside); leaving it
    // gives the draft back. Replying keeps the draft and focuses the box.
    {
        let (draft, input, stash) = (draft.clone(), input.clone(), stash.clone());
        let body = editing_body.clone();
        use_effect_with(compose, move |compose| {
            match compose {
                Compose::Edit(_) => {
                    let mut stash = stash.borrow_mut();
                    if stash.is_none() {
                        *stash = Some((*draft).clone());
                    }
                    draft.set(body.unwrap_or_default());
                }
                _ => {
                    if let Some(kept) = stash.borrow_mut().take() {
                        draft.set(kept);
                    }
                }
            }
            if *compose != Compose::New {
                focus_end(&input);
            }
        });
    }
    // The text lands in the box a render later; then put the caret at its end.
    {
        let input = input.clone();
        let landed = editing_body.as_deref() == Some(draft.as_str());
        use_effect_with((compose, landed), move |(_, landed)| {
            if *landed {
                focus_end(&input);
            }
        });
    }

    let editing = matches!(compose, Compose::Edit(_));
    let with_files = !editing && !uploader.tray.is_empty();
    let body = MessageBody::parse((*draft).clone());
    // With files the text is an optional caption (but still no longer than a message).
    let sendable = body.is_ok() || (with_files && draft.trim().is_empty());
    // The tray's files are all up and a send waits for them: it goes now.
    {
        let (chat, draft, uploader) = (chat.clone(), draft.clone(), uploader.clone());
        let ready = uploader.tray.queued.clone().zip(uploader.tray.ready());
        use_effect_with(ready, move |ready| {
            if let Some((queued, files)) = ready.clone() {
                chat.send_with_files(room_id, draft.trim().to_owned(), queued.reply_to, files);
                draft.set(String::new());
                uploader.clear();
            }
        });
    }
    let left = message_chars_left(&draft);

    let cancel = {
        let chat = chat.clone();
        Callback::from(move |_: ()| chat.compose(room_id, Compose::New))
    };

    let submit = {
        let (chat, draft, throttle, input) =
            (chat.clone(), draft.clone(), throttle.clone(), input.clone());
        let editing_body = editing_body.clone();
        let uploader = uploader.clone();
        Callback::from(move |_: ()| {
            if with_files {
                if !sendable {
                    return;
                }
                let reply_to = match compose {
                    Compose::Reply(seq) => Some(seq),
                    _ => None,
                };
                // Sent by the effect above as soon as every file is up (maybe at once).
                uploader
                    .tray
                    .dispatch(TrayAction::Queue(Queued { reply_to }));
                chat.compose(room_id, Compose::New);
                throttle.borrow_mut().reset();
                return;
            }
            let Ok(body) = MessageBody::parse((*draft).clone()) else {
                return;
            };
            match compose {
                Compose::Edit(seq) => {
                    // The same text again is no edit: just stop editing.
                    if editing_body.as_deref() != Some(body.as_str()) {
                        chat.edit_message(room_id, seq, body);
                    }
                }
                Compose::Reply(seq) => chat.send_message(room_id, body, Some(seq)),
                Compose::New => chat.send_message(room_id, body, None),
            }
            // Sent: the draft is gone (saving an edit gives the kept draft back instead).
            if !matches!(compose, Compose::Edit(_)) {
                prefs::set_draft(me, room_id, "");
            }
            draft.set(String::new());
            chat.compose(room_id, Compose::New);
            throttle.borrow_mut().reset();
            // After a click on Send (now disabled) keep typing where you were.
            if let Some(el) = input.cast::<HtmlTextAreaElement>() {
                let _ = el.focus();
            }
        })
    };

    let oninput = {
        let (chat, draft, throttle) = (chat.clone(), draft.clone(), throttle.clone());
        let editing = matches!(compose, Compose::Edit(_));
        Callback::from(move |e: InputEvent| {
            let value = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            // Editing an old message is not "typing" a new one.
            if !editing && !value.trim().is_empty() && throttle.borrow_mut().should_send(now_ms()) {
                chat.typing(room_id);
            }
            // The text of a message being edited is not a draft.
            if !editing {
                prefs::set_draft(me, room_id, &value);
            }
            draft.set(value);
        })
    };

    let last_editable = entry
        .and_then(|e| e.timeline.last_editable(me))
        .map(|m| m.seq);
    let onkeydown = {
        let (submit, cancel, chat, draft) =
            (submit.clone(), cancel.clone(), chat.clone(), draft.clone());
        Callback::from(move |e: KeyboardEvent| {
            if e.is_composing() {
                // While an IME composes, its keys belong to it.
                return;
            }
            match e.key().as_str() {
                "Enter" if !e.shift_key() => {
                    e.prevent_default();
                    submit.emit(());
                }
                "Escape" if compose != Compose::New => {
                    e.prevent_default();
                    cancel.emit(());
                }
                "ArrowUp" if draft.is_empty() && !matches!(compose, Compose::Edit(_)) => {
                    if let Some(seq) = last_editable {
                        e.prevent_default();
                        chat.compose(room_id, Compose::Edit(seq));
                    }
                }
                _ => {}
            }
        })
    };

    // A pasted image (a screenshot) joins the tray; pasted text stays text.
    let onpaste = {
        let uploader = uploader.clone();
        Callback::from(move |e: Event| {
            if editing {
                return;
            }
            let Some(e) = e.dyn_ref::<web_sys::ClipboardEvent>() else {
                return;
            };
            let files = files_of(e.clipboard_data().and_then(|d| d.files()));
            if !files.is_empty() {
                e.prevent_default();
                uploader.add(files);
            }
        })
    };
    let on_attach = {
        let picker = picker.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(el) = picker.cast::<HtmlInputElement>() {
                el.click();
            }
        })
    };
    let on_picked = {
        let uploader = uploader.clone();
        Callback::from(move |e: Event| {
            let input = e.target_unchecked_into::<HtmlInputElement>();
            uploader.add(files_of(input.files()));
            // The same file may be chosen again after removing it.
            input.set_value("");
        })
    };

    let onsubmit = {
        let submit = submit.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            submit.emit(());
        })
    };

    let rows = draft.lines().count().clamp(1, MAX_ROWS) + usize::from(draft.ends_with('\n'));
    let rows = rows.min(MAX_ROWS);

    let close = |label: &'static str| {
        let cancel = cancel.clone();
        html! {
            <button type="button" class="icon-btn compose-cancel" aria-label={label}
                onclick={Callback::from(move |_| cancel.emit(()))}>
                { icons::close() }
            </button>
        }
    };
    let bar = match compose {
        Compose::New => html! {},
        Compose::Reply(seq) => {
            let original = held(seq);
            let who = match original.map(|m| m.sender_id) {
                Some(id) if id == me => "yourself".to_owned(),
                _ => peer_name.clone(),
            };
            let text = original.map_or_else(String::new, |m| preview(&m.body, REPLY_EXCERPT_CHARS));
            html! {
                <div class="compose-bar reply-bar" role="status">
                    <div class="compose-bar-main">
                        <span class="compose-bar-title">{ icons::reply() }{ format!("Replying to {who}") }</span>
                        <span class="compose-bar-quote">{ text }</span>
                    </div>
                    { close("Cancel reply") }
                </div>
            }
        }
        Compose::Edit(_) => html! {
            <div class="compose-bar edit-bar" role="status">
                <div class="compose-bar-main">
                    <span class="compose-bar-title">{ icons::pencil() }{ "Editing" }</span>
                    <span class="compose-bar-quote">{ editing_body.as_deref().map(|b| preview(b, REPLY_EXCERPT_CHARS)).unwrap_or_default() }</span>
                    <span class="compose-bar-note">
                        { "Enter saves · Escape cancels. " }{ ADMINS_KEEP_REVISIONS }
                    </span>
                </div>
                { close("Cancel editing") }
            </div>
        },
    };
    let (placeholder, send_label) = match compose {
        Compose::Edit(_) => ("Edit your message…", "Save"),
        Compose::Reply(_) => ("Write a reply…", "Send reply"),
        Compose::New => ("Write a message…", "Send"),
    };

    if entry.is_some_and(|e| e.room.blocked) {
        return blocked_note(&chat, room_id, &peer_name, &unblocking);
    }

    html! {
        <div class={classes!("composer-wrap", matches!(compose, Compose::Edit(_)).then_some("is-editing"))}>
            { bar }
            if !editing {
                <AttachmentTray uploader={uploader.clone()} />
            }
            // One live region, always there (empty until the text is too long), so the sentence
            // is read out when it appears.
            <p id="composer-over" class="over-limit" aria-live="polite">
                if left < 0 { { over_limit(-left) } }
            </p>
            <form class="composer" {onsubmit}>
                if !editing {
                    <input type="file" multiple=true class="sr-only" ref={picker} tabindex="-1"
                        aria-hidden="true" id="composer-files" onchange={on_picked} />
                    <button type="button" class="icon-btn attach-btn" aria-label="Attach files"
                        title="Attach files" onclick={on_attach}>{ icons::paperclip() }</button>
                }
                <label for="composer-input" class="sr-only">{ "Message" }</label>
                <textarea id="composer-input" ref={input} rows={rows.to_string()}
                    placeholder={placeholder} value={(*draft).clone()}
                    aria-describedby="composer-hint composer-counter composer-over"
                    {oninput} {onkeydown} {onpaste} />
                <span id="composer-hint" class="sr-only">{ "Enter sends, Shift+Enter adds a new line, Up arrow in an empty box edits your last message." }</span>
                <div class="composer-side">
                    <span id="composer-counter" aria-live="polite"
                        class={classes!("counter", (!(0..=COUNTER_FROM).contains(&left)).then_some("hidden"))}>
                        // Over the limit the sentence above says it.
                        if (0..=COUNTER_FROM).contains(&left) {
                            { left.to_string() }
                            <span class="sr-only">{ format!(" of {MESSAGE_MAX_CHARS} characters left") }</span>
                        }
                    </span>
                    <button type="submit" class="send-btn" disabled={!sendable} aria-label={send_label}>
                        if matches!(compose, Compose::Edit(_)) { { icons::check() } } else { { icons::send() } }
                    </button>
                </div>
            </form>
        </div>
    }
}

/// In place of the composer while we block the peer: say so, and offer to unblock.
fn blocked_note(
    chat: &crate::services::chat::Chat,
    room_id: RoomId,
    name: &str,
    unblocking: &UseStateHandle<Result<bool, String>>,
) -> Html {
    let busy = unblocking.as_ref().is_ok_and(|b| *b);
    let unblock = {
        let (chat, unblocking) = (chat.clone(), unblocking.clone());
        Callback::from(move |_: MouseEvent| {
            if busy {
                return;
            }
            unblocking.set(Ok(true));
            let (chat, unblocking) = (chat.clone(), unblocking.clone());
            wasm_bindgen_futures::spawn_local(async move {
                let result = chat.set_blocked(room_id, false).await;
                unblocking.set(result.map(|_| false).map_err(|e| e.to_string()));
            });
        })
    };
    html! {
        <div class="composer-wrap">
            <div class="composer blocked-note" role="status">
                <p>{ format!("You blocked {name}. You cannot message this person until you unblock them.") }</p>
                if let Err(error) = &**unblocking {
                    <p class="field-error" role="alert">{ error.clone() }</p>
                }
                <button type="button" class="btn btn-sm btn-ghost" onclick={unblock}
                    aria-disabled={busy.then_some("true")}>{ "Unblock" }</button>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_explained_in_words() {
        assert_eq!(thousands(4000), "4,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(
            over_limit(12),
            "12 characters over the 4,000 limit: shorten the message to send it."
        );
        assert!(over_limit(1).starts_with("1 character over"));
    }
}
