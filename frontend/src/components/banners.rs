use crate::components::icons;
use crate::hooks::use_chat;
use crate::state::{Action, Conn};
use gloo_timers::callback::Timeout;
use yew::prelude::*;

/// Notices disappear by themselves after this.
const NOTICE_MS: u32 = 6_000;

/// "Connecting…" while the socket is down, "Offline…" while the browser has no network, and
/// passing notices.
#[component]
pub fn Banners() -> Html {
    let chat = use_chat();
    let state = chat.state();
    let notice = state.notice.clone();
    {
        let chat = chat.clone();
        use_effect_with(notice.clone(), move |notice| {
            let timer = notice
                .is_some()
                .then(|| Timeout::new(NOTICE_MS, move || chat.dispatch(Action::Notice(None))));
            move || drop(timer)
        });
    }
    let dismiss = {
        let chat = chat.clone();
        Callback::from(move |_| chat.dispatch(Action::Notice(None)))
    };
    html! {
        <div class="banners">
            // One live region for both, so a change from one to the other is read out.
            <div class="banner-slot" role="status" aria-live="polite">
                if let Conn::Reconnecting { .. } = state.conn {
                    <div class="banner banner-warn">
                        <span class="spinner spinner-sm" aria-hidden="true"></span>
                        { "Connecting…" }
                    </div>
                } else if state.conn == Conn::Offline {
                    <div class="banner banner-warn banner-offline">
                        { icons::alert() }
                        { "Offline — messages will be sent when you're back" }
                    </div>
                }
            </div>
            if let Some(notice) = notice {
                <div class="banner banner-error" role="alert">
                    { icons::alert() }
                    <span class="banner-text">{ notice }</span>
                    <button type="button" class="icon-btn" aria-label="Dismiss" onclick={dismiss}>{ icons::close() }</button>
                </div>
            }
        </div>
    }
}
