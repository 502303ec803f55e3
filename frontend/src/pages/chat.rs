use crate::components::banners::Banners;
use crate::components::conversation::Conversation;
use crate::components::icons;
use crate::components::sidebar::Sidebar;
use crate::hooks::use_chat;
use crate::pages::settings::ADMINS_READ_EVERYTHING;
use crate::services::platform::{focus_if_idle, is_narrow};
use crate::services::prefs;
use shared::RoomId;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ChatPageProps {
    pub room: Option<RoomId>,
}

/// The main screen: the list on the left, the open conversation on the right. On narrow
/// screens only one of the two shows (the stylesheet decides from `has-room`).
#[component]
pub fn ChatPage(props: &ChatPageProps) -> Html {
    let chat = use_chat();
    let searching = chat.state().searching;
    let me = chat.state().me().map(|u| u.id);
    let notice = use_state(|| me.is_some_and(prefs::admins_notice_due));
    // Arriving on the home screen (after signing in, say), the keyboard starts in the people
    // search rather than nowhere; an open room's composer takes the focus itself. Not on
    // phones, where a focused field pops the keyboard up.
    let home = props.room.is_none();
    use_effect_with(home, |home| {
        if *home && !is_narrow() {
            focus_if_idle("people-search");
        }
    });
    let got_it = {
        let notice = notice.clone();
        Callback::from(move |_: MouseEvent| {
            if let Some(me) = me {
                prefs::set_admins_notice_due(me, false);
            }
            notice.set(false);
        })
    };
    html! {
        <div class={classes!("chat", props.room.is_some().then_some("has-room"), searching.then_some("searching"))}>
            // Every page has a level-one heading; here a visible one would only repeat the panes'.
            <h1 class="sr-only">{ "Chat" }</h1>
            <Banners />
            // In the flow above everything (not a modal): nothing is covered, and it stays
            // until dismissed, on this browser.
            if *notice {
                <div class="first-notice" role="status">
                    <p>{ ADMINS_READ_EVERYTHING }</p>
                    <button type="button" class="btn btn-sm btn-ghost" onclick={got_it}>{ "Got it" }</button>
                </div>
            }
            <div class="chat-body">
                <Sidebar active={props.room} />
                <main class="main">
                    if let Some(room_id) = props.room {
                        <Conversation key={room_id.0} {room_id} />
                    } else {
                        <section class="pane pane-empty welcome">
                            <span class="welcome-mark" aria-hidden="true">{ icons::chat_bubble() }</span>
                            <h2>{ "Your messages" }</h2>
                            <p>{ "Pick a conversation on the left, or find someone to start a new one." }</p>
                        </section>
                    }
                </main>
            </div>
        </div>
    }
}
