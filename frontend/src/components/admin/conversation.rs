//! One conversation, read-only, as an administrator sees it: the latest page, older pages on
//! request, each message with its sender, time and `seq`, who deleted it, its earlier texts
//! (History, for messages their sender edited or deleted), and Delete (behind a
//! confirmation) which leaves the tombstone in place.

use super::confirm::ConfirmDialog;
use super::model::{deleted_label, has_revisions, room_title, History};
use super::{
    explain, load_failed, loading, refresh_button, trash_icon, use_on_unauthorized, Load, NavLink,
};
use crate::components::attach::Attachments;
use crate::components::avatar::Avatar;
use crate::components::icons;
use crate::components::message_text::MessageText;
use crate::logic::text::preview;
use crate::logic::time::{clock, day_label, full};
use crate::pages::admin::AdminRoute;
use crate::router::Routable;
use crate::services::api::Cursor;
use crate::services::chat::today;
use crate::services::platform::local;
use crate::services::{admin, api};
use chrono::NaiveDateTime;
use shared::{
    AdminRoom, Message, MessageId, MessagesResponse, RevisionsResponse, RoomId, User,
    DEFAULT_PAGE_LIMIT,
};
use std::rc::Rc;
use wasm_bindgen_futures::spawn_local;
use web_sys::Element;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AdminConversationProps {
    pub room_id: RoomId,
}

/// The room (None: no such room) and its history.
type Loaded = (Option<AdminRoom>, History);

/// A Delete waiting for its confirmation.
#[derive(Debug, Clone, PartialEq)]
struct Pending {
    message: Message,
    sender: String,
    busy: bool,
    error: Option<String>,
}

/// The History dialog of one message.
#[derive(Debug, Clone, PartialEq)]
struct Revisions {
    message: Message,
    sender: String,
    texts: Load<RevisionsResponse>,
}

/// What the scroll logic remembers between renders.
#[derive(Default)]
struct ScrollMemo {
    first_seq: Option<i64>,
    height: i32,
}

async fn fetch(room_id: RoomId) -> Result<Loaded, api::Error> {
    let (rooms, page) = futures::join!(
        admin::rooms(),
        admin::room_messages(room_id, Cursor::Latest, DEFAULT_PAGE_LIMIT)
    );
    let room = rooms?.into_iter().find(|r| r.id == room_id);
    let page = page?;
    Ok((room, History::latest(page.messages, page.has_more)))
}

/// The view's data. Changed only through [`ConvAction`]s, so a request that finishes late
/// applies to the latest state rather than to the one it started from.
#[derive(Debug, Clone, PartialEq)]
struct ConvState {
    data: Load<Loaded>,
    /// The "load older" request.
    older: Load<()>,
}

impl Default for ConvState {
    fn default() -> Self {
        Self {
            data: Load::Loading,
            older: Load::Ready(()),
        }
    }
}

enum ConvAction {
    Loaded(Result<Loaded, api::Error>),
    OlderLoading,
    Older(Result<MessagesResponse, api::Error>),
    Tombstone(MessageId),
}

impl Reducible for ConvState {
    type Action = ConvAction;

    fn reduce(self: Rc<Self>, action: ConvAction) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            ConvAction::Loaded(result) => {
                s.data = Load::from_result(result);
                s.older = Load::Ready(());
            }
            ConvAction::OlderLoading => s.older = Load::Loading,
            ConvAction::Older(Ok(page)) => {
                if let Load::Ready((_, history)) = &mut s.data {
                    history.add_older(page.messages, page.has_more);
                }
                s.older = Load::Ready(());
            }
            ConvAction::Older(Err(error)) => s.older = Load::Failed(error),
            ConvAction::Tombstone(id) => {
                if let Load::Ready((_, history)) = &mut s.data {
                    history.tombstone(id);
                }
            }
        }
        Rc::new(s)
    }
}

#[component]
pub fn AdminConversation(props: &AdminConversationProps) -> Html {
    let room_id = props.room_id;
    let on_unauthorized = use_on_unauthorized();
    let state = use_reducer(ConvState::default);
    let fetching = use_state(|| false);
    let generation = use_state(|| 0u32);
    let pending = use_state(|| None::<Pending>);
    let revisions = use_state(|| None::<Revisions>);
    let scroller = use_node_ref();
    let memo = use_mut_ref(ScrollMemo::default);

    {
        let (state, fetching, on_unauthorized) =
            (state.clone(), fetching.clone(), on_unauthorized.clone());
        use_effect_with((room_id, *generation), move |_| {
            fetching.set(true);
            spawn_local(async move {
                let result = fetch(room_id).await;
                if let Err(error) = &result {
                    on_unauthorized.emit(error.clone());
                }
                state.dispatch(ConvAction::Loaded(result));
                fetching.set(false);
            });
        });
    }

    // Open at the newest message; when an older page is prepended, keep the view still.
    {
        let (scroller, memo) = (scroller.clone(), memo.clone());
        let first_seq = match &state.data {
            Load::Ready((_, h)) => h.oldest_seq(),
            _ => None,
        };
        use_effect(move || {
            if let Some(el) = scroller.cast::<Element>() {
                let mut memo = memo.borrow_mut();
                let height = el.scroll_height();
                match (memo.first_seq, first_seq) {
                    (None, Some(_)) => el.set_scroll_top(height),
                    (Some(before), Some(now)) if now < before => {
                        el.set_scroll_top(el.scroll_top() + height - memo.height)
                    }
                    _ => {}
                }
                memo.first_seq = first_seq;
                memo.height = height;
            }
        });
    }

    let reload = {
        let generation = generation.clone();
        Callback::from(move |()| generation.set(generation.wrapping_add(1)))
    };
    let on_older = {
        let (state, on_unauthorized) = (state.clone(), on_unauthorized.clone());
        Callback::from(move |_: MouseEvent| {
            let Load::Ready((_, history)) = &state.data else {
                return;
            };
            let (Some(before), Load::Ready(())) = (history.oldest_seq(), &state.older) else {
                return;
            };
            state.dispatch(ConvAction::OlderLoading);
            let (state, on_unauthorized) = (state.clone(), on_unauthorized.clone());
            spawn_local(async move {
                let result =
                    admin::room_messages(room_id, Cursor::Before(before), DEFAULT_PAGE_LIMIT).await;
                if let Err(error) = &result {
                    on_unauthorized.emit(error.clone());
                }
                state.dispatch(ConvAction::Older(result));
            });
        })
    };
    let on_cancel = {
        let pending = pending.clone();
        Callback::from(move |()| pending.set(None))
    };
    let on_confirm = {
        let (pending, state, on_unauthorized) =
            (pending.clone(), state.clone(), on_unauthorized.clone());
        Callback::from(move |()| {
            let Some(p) = (*pending).clone() else {
                return;
            };
            if p.busy {
                return;
            }
            pending.set(Some(Pending {
                busy: true,
                error: None,
                ..p.clone()
            }));
            let (pending, state) = (pending.clone(), state.clone());
            let on_unauthorized = on_unauthorized.clone();
            spawn_local(async move {
                match admin::delete_message(p.message.id).await {
                    Ok(()) => {
                        state.dispatch(ConvAction::Tombstone(p.message.id));
                        pending.set(None);
                    }
                    Err(error) => {
                        on_unauthorized.emit(error.clone());
                        pending.set(Some(Pending {
                            busy: false,
                            error: Some(explain(&error)),
                            ..p
                        }));
                    }
                }
            });
        })
    };

    let on_history = {
        let (revisions, on_unauthorized) = (revisions.clone(), on_unauthorized.clone());
        Callback::from(move |(message, sender): (Message, String)| {
            revisions.set(Some(Revisions {
                message: message.clone(),
                sender: sender.clone(),
                texts: Load::Loading,
            }));
            let (revisions, on_unauthorized) = (revisions.clone(), on_unauthorized.clone());
            spawn_local(async move {
                let result = admin::revisions(message.id).await;
                if let Err(error) = &result {
                    on_unauthorized.emit(error.clone());
                }
                revisions.set(Some(Revisions {
                    message,
                    sender,
                    texts: Load::from_result(result),
                }));
            });
        })
    };
    let on_history_close = {
        let revisions = revisions.clone();
        Callback::from(move |()| revisions.set(None))
    };

    let back = html! {
        <NavLink to={AdminRoute::Rooms.to_path()} classes="icon-btn" label="Back to conversations">
            { icons::back() }
        </NavLink>
    };
    let (head, body) = match &state.data {
        Load::Loading => (
            html! { <h2>{ "Conversation" }</h2> },
            loading("Loading the conversation…"),
        ),
        Load::Failed(error) => (
            html! { <h2>{ "Conversation" }</h2> },
            load_failed("Could not load this conversation.", error, &reload),
        ),
        Load::Ready((None, _)) => (
            html! { <h2>{ "Conversation not found" }</h2> },
            html! { <p class="admin-empty">{ "There is no conversation with this number." }</p> },
        ),
        Load::Ready((Some(room), history)) => (
            html! {
                <>
                    <span class="avatar-pair" aria-hidden="true">
                        { for room.members.iter().map(|u| html! { <Avatar user={u.clone()} small=true presence=true /> }) }
                    </span>
                    <div class="admin-card-title">
                        <h2>{ room_title(room) }</h2>
                        <p class="admin-sub">
                            { room.members.iter().map(|u| format!("@{}", u.username)).collect::<Vec<_>>().join(" · ") }
                            { format!(" · {} messages · read-only", room.last_seq) }
                        </p>
                    </div>
                </>
            },
            messages(room, history, &state.older, on_older, &pending, &on_history),
        ),
    };
    html! {
        <section class="admin-card admin-conv" aria-label="Conversation (read-only)">
            <div class="admin-card-head">
                { back }
                { head }
                <div class="admin-tools">
                    { refresh_button(&reload, *fetching) }
                </div>
            </div>
            <div class="admin-msgs-wrap" ref={scroller}>
                { body }
            </div>
            if let Some(p) = &*pending {
                <ConfirmDialog title="Delete this message?" confirm_label="Delete message"
                    busy={p.busy} error={p.error.clone().map(AttrValue::from)}
                    on_confirm={on_confirm.clone()} on_cancel={on_cancel.clone()}>
                    <blockquote class="modal-quote">
                        <span class="modal-quote-who">{ format!("{} · #{}", p.sender, p.message.seq) }</span>
                        { preview(&p.message.body, 300) }
                    </blockquote>
                    <p>{ "Both members see “" }{ shared::TOMBSTONE_BODY }{ "” in its place, at once. Its text and every earlier version are erased for good." }</p>
                </ConfirmDialog>
            }
            if let Some(r) = &*revisions {
                <RevisionsDialog revisions={r.clone()} on_close={on_history_close.clone()} />
            }
        </section>
    }
}

fn member<'a>(room: &'a AdminRoom, message: &Message) -> Option<&'a User> {
    room.members.iter().find(|u| u.id == message.sender_id)
}

fn messages(
    room: &AdminRoom,
    history: &History,
    older: &Load<()>,
    on_older: Callback<MouseEvent>,
    pending: &UseStateHandle<Option<Pending>>,
    on_history: &Callback<(Message, String)>,
) -> Html {
    if history.messages().is_empty() {
        return html! { <p class="admin-empty">{ "No messages in this conversation yet." }</p> };
    }
    let top = match (older, history.has_older) {
        (Load::Loading, _) => html! {
            <div class="history-edge" role="status">
                <span class="spinner spinner-sm" aria-hidden="true"></span>{ "Loading older messages…" }
            </div>
        },
        (Load::Failed(error), _) => html! {
            <div class="history-edge">
                <span class="field-error" role="alert">{ explain(error) }</span>
                <button type="button" class="btn btn-ghost btn-sm" onclick={on_older}>{ "Try again" }</button>
            </div>
        },
        (Load::Ready(()), true) => html! {
            <div class="history-edge">
                <button type="button" class="btn btn-ghost btn-sm" onclick={on_older}>{ "Load older messages" }</button>
            </div>
        },
        (Load::Ready(()), false) => html! {
            <div class="history-edge"><p class="beginning">{ "This is the beginning of the conversation." }</p></div>
        },
    };
    let today = today();
    let mut rows: Vec<Html> = Vec::with_capacity(history.messages().len() + 4);
    let mut last_day = None;
    for m in history.messages() {
        let t = local(m.created_at);
        let day = t.date();
        if last_day != Some(day) {
            last_day = Some(day);
            rows.push(html! {
                // An item of its own (a list holds only items): read as "Today", then the day's messages.
                <li key={format!("d{day}")} class="day-sep">
                    <span>{ day_label(day, today) }</span>
                </li>
            });
        }
        rows.push(message_row(room, m, t, pending, on_history));
    }
    html! {
        <>
            { top }
            <ol class="admin-msgs" aria-label="Messages, oldest first">{ rows }</ol>
        </>
    }
}

fn message_row(
    room: &AdminRoom,
    m: &Message,
    t: NaiveDateTime,
    pending: &UseStateHandle<Option<Pending>>,
    on_history: &Callback<(Message, String)>,
) -> Html {
    let sender = member(room, m);
    let name = sender.map_or_else(
        || format!("User #{}", m.sender_id),
        |u| u.display_name.clone(),
    );
    let history = has_revisions(m).then(|| {
        let (on_history, message, sender) = (on_history.clone(), m.clone(), name.clone());
        html! {
            <button type="button" class="btn btn-sm btn-ghost msg-history"
                onclick={Callback::from(move |_| on_history.emit((message.clone(), sender.clone())))}
                aria-label={format!("History of message #{} from {}", m.seq, name)}>
                { icons::history() }<span class="btn-text">{ "History" }</span>
            </button>
        }
    });
    let action = if let Some(label) = deleted_label(m) {
        html! { <span class="pill pill-muted">{ label }</span> }
    } else {
        let onclick = {
            let (pending, message, sender) = (pending.clone(), m.clone(), name.clone());
            Callback::from(move |_: MouseEvent| {
                pending.set(Some(Pending {
                    message: message.clone(),
                    sender: sender.clone(),
                    busy: false,
                    error: None,
                }))
            })
        };
        html! {
            <button type="button" class="btn btn-sm btn-danger-soft msg-delete" {onclick}
                aria-label={format!("Delete message #{} from {}", m.seq, name)}>
                { trash_icon() }<span class="btn-text">{ "Delete" }</span>
            </button>
        }
    };
    html! {
        <li key={format!("m{}", m.seq)} class={classes!("admin-msg", m.deleted.then_some("deleted"))}
            data-seq={m.seq.to_string()}>
            if let Some(u) = sender {
                <Avatar user={u.clone()} small=true />
            } else {
                <span class="avatar avatar-sm" aria-hidden="true">{ "?" }</span>
            }
            <div class="admin-msg-main">
                <div class="admin-msg-head">
                    <span class="admin-msg-name">{ name.clone() }</span>
                    if let Some(u) = sender {
                        <span class="admin-msg-handle">{ format!("@{}", u.username) }</span>
                    }
                    <time datetime={m.created_at.to_rfc3339()} title={full(t)}>{ clock(t) }</time>
                    <span class="admin-msg-seq" title="Position in the conversation">{ format!("#{}", m.seq) }</span>
                    if let (Some(at), false) = (m.edited_at, m.deleted) {
                        <span class="edited" title={full(local(at))}>{ "(edited)" }</span>
                    }
                </div>
                if m.deleted || !m.body.is_empty() {
                    <div class="admin-msg-body text">
                        if m.deleted {
                            { m.body.clone() }
                        } else {
                            <MessageText body={m.body.clone()} />
                        }
                    </div>
                }
                if !m.attachments.is_empty() {
                    <Attachments list={m.attachments.clone()} />
                }
            </div>
            <div class="admin-msg-actions">{ for history }{ action }</div>
        </li>
    }
}

#[derive(Properties, PartialEq)]
struct RevisionsDialogProps {
    revisions: Revisions,
    on_close: Callback<()>,
}

/// The earlier texts of one message, oldest first, the current one last: a dialog that takes
/// the focus (on Close), closes with it, Escape or a click outside, and gives the focus back.
#[component]
fn RevisionsDialog(props: &RevisionsDialogProps) -> Html {
    let (r, on_close) = (&props.revisions, &props.on_close);
    let close_button = use_node_ref();
    {
        let close_button = close_button.clone();
        use_effect_with((), move |_| {
            let opener = crate::services::platform::document()
                .and_then(|d| d.active_element())
                .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
            if let Some(el) = close_button.cast::<web_sys::HtmlElement>() {
                let _ = el.focus();
            }
            move || {
                if let Some(opener) = opener {
                    let _ = opener.focus();
                }
            }
        });
    }
    let close = {
        let on_close = on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let on_backdrop = {
        let on_close = on_close.clone();
        Callback::from(move |e: MouseEvent| {
            if e.target() == e.current_target() {
                on_close.emit(());
            }
        })
    };
    let onkeydown = {
        let on_close = on_close.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                e.prevent_default();
                on_close.emit(());
            }
        })
    };
    let today = today();
    let body = match &r.texts {
        Load::Loading => loading("Loading the earlier versions…"),
        Load::Failed(error) => html! { <p class="form-error" role="alert">{ explain(error) }</p> },
        Load::Ready(found) if found.revisions.is_empty() && found.attachments.is_empty() => {
            html! { <p class="muted-note">{ "No earlier versions are stored." }</p> }
        }
        Load::Ready(found) => {
            let texts = &found.revisions;
            let last = texts.len().saturating_sub(1);
            html! {
                <>
                <ol class="revisions">
                    { for texts.iter().enumerate().map(|(i, rev)| {
                        let t = local(rev.at);
                        let label = match (i, i == last, r.message.deleted) {
                            (0, _, _) => "Original",
                            (_, true, false) => "Current",
                            (_, true, true) => "Last text before deletion",
                            _ => "Edit",
                        };
                        html! {
                            <li class="revision">
                                <span class="modal-quote-who">
                                    { label }{ " · " }
                                    <time datetime={rev.at.to_rfc3339()} title={full(t)}>{ super::model::when(t, today) }</time>
                                </span>
                                <blockquote class="modal-quote">{ rev.body.clone() }</blockquote>
                            </li>
                        }
                    }) }
                </ol>
                if !found.attachments.is_empty() {
                    <h3 class="revision-files">{ "Files" }</h3>
                    <Attachments list={found.attachments.clone()} />
                }
                </>
            }
        }
    };
    html! {
        <div class="modal-backdrop" onclick={on_backdrop} {onkeydown}>
            <div class="modal modal-wide" role="dialog" aria-modal="true" aria-labelledby="revisions-title">
                <h2 id="revisions-title">{ format!("History of message #{}", r.message.seq) }</h2>
                <div class="modal-body">
                    <p>{ format!("Every text {} gave this message, oldest first.", r.sender) }
                        if r.message.deleted { { " They deleted it afterwards." } }
                    </p>
                    { body }
                </div>
                <div class="modal-actions">
                    <button type="button" class="btn btn-ghost" ref={close_button} onclick={close}>{ "Close" }</button>
                </div>
            </div>
        </div>
    }
}
