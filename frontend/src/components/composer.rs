use crate::components::icons;
use crate::hooks::use_chat;
use crate::logic::typing::TypingThrottle;
use crate::services::platform::now_ms;
use shared::validation::{message_chars_left, MESSAGE_MAX_CHARS};
use shared::{MessageBody, RoomId};
use web_sys::{HtmlTextAreaElement, KeyboardEvent};
use yew::prelude::*;

/// The counter appears when this few characters are left.
const COUNTER_FROM: i64 = 200;
/// The box grows with its text up to this many lines, then scrolls.
const MAX_ROWS: usize = 6;

#[derive(Properties, PartialEq)]
pub struct ComposerProps {
    pub room_id: RoomId,
}

/// Writing a message: Enter sends, Shift+Enter starts a new line.
#[component]
pub fn Composer(props: &ComposerProps) -> Html {
    let chat = use_chat();
    let room_id = props.room_id;
    let draft = use_state(String::new);
    let throttle = use_mut_ref(TypingThrottle::default);
    let input = use_node_ref();

    // A new room starts with an empty box, focused on wide screens (on phones focusing
    // would pop the keyboard over the messages).
    {
        let (draft, input, throttle) = (draft.clone(), input.clone(), throttle.clone());
        use_effect_with(room_id, move |_| {
            draft.set(String::new());
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

    let body = MessageBody::parse((*draft).clone());
    let sendable = body.is_ok();
    let left = message_chars_left(&draft);

    let submit = {
        let (chat, draft, throttle, input) =
            (chat.clone(), draft.clone(), throttle.clone(), input.clone());
        Callback::from(move |_: ()| {
            if let Ok(body) = MessageBody::parse((*draft).clone()) {
                chat.send_message(room_id, body);
                draft.set(String::new());
                throttle.borrow_mut().reset();
                // After a click on Send (now disabled) keep typing where you were.
                if let Some(el) = input.cast::<HtmlTextAreaElement>() {
                    let _ = el.focus();
                }
            }
        })
    };

    let oninput = {
        let (chat, draft, throttle) = (chat.clone(), draft.clone(), throttle.clone());
        Callback::from(move |e: InputEvent| {
            let value = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            if !value.trim().is_empty() && throttle.borrow_mut().should_send(now_ms()) {
                chat.typing(room_id);
            }
            draft.set(value);
        })
    };

    let onkeydown = {
        let submit = submit.clone();
        Callback::from(move |e: KeyboardEvent| {
            // While an IME composes, Enter confirms the composition, not the message.
            if e.key() == "Enter" && !e.shift_key() && !e.is_composing() {
                e.prevent_default();
                submit.emit(());
            }
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

    html! {
        <form class="composer" {onsubmit}>
            <label for="composer-input" class="sr-only">{ "Message" }</label>
            <textarea id="composer-input" ref={input} rows={rows.to_string()}
                placeholder="Write a message…" value={(*draft).clone()}
                aria-describedby="composer-hint composer-counter"
                {oninput} {onkeydown} />
            <span id="composer-hint" class="sr-only">{ "Enter sends, Shift+Enter adds a new line." }</span>
            <div class="composer-side">
                <span id="composer-counter" aria-live="polite"
                    class={classes!("counter", (left < 0).then_some("over"), (left > COUNTER_FROM).then_some("hidden"))}>
                    if left <= COUNTER_FROM {
                        { left.to_string() }
                        <span class="sr-only">{ format!(" of {MESSAGE_MAX_CHARS} characters left") }</span>
                    }
                </span>
                <button type="submit" class="send-btn" disabled={!sendable} aria-label="Send">
                    { icons::send() }
                </button>
            </div>
        </form>
    }
}
