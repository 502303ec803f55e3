//! The audit log: every administrative action, newest first (as the server orders it).

use super::model::{action_label, actor_label, target_label, when};
use super::{load_failed, loading, refresh_button, use_on_unauthorized, Load};
use crate::logic::time::full;
use crate::services::admin;
use crate::services::chat::today;
use crate::services::platform::local;
use shared::{AdminUser, AuditEntry};
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// The entries, and (id, username) pairs to name the users they concern (a list: a map type
/// of its own would cost the bundle more than the scan of a few hundred users does).
type Loaded = (Vec<AuditEntry>, Vec<(i64, String)>);

#[component]
pub fn AdminAudit() -> Html {
    let on_unauthorized = use_on_unauthorized();
    let data = use_state(|| Load::<Loaded>::Loading);
    let fetching = use_state(|| false);
    let generation = use_state(|| 0u32);
    {
        let (data, fetching) = (data.clone(), fetching.clone());
        use_effect_with(*generation, move |_| {
            fetching.set(true);
            spawn_local(async move {
                let (entries, users) = futures::join!(admin::audit(), admin::users());
                let result = entries.map(|entries| {
                    // Names are a nicety: the log still shows (with ids) if users fail to load.
                    let names = users
                        .unwrap_or_default()
                        .into_iter()
                        .map(|u: AdminUser| (u.user.id.0, u.user.username))
                        .collect();
                    (entries, names)
                });
                if let Err(error) = &result {
                    on_unauthorized.emit(error.clone());
                }
                data.set(Load::from_result(result));
                fetching.set(false);
            });
        });
    }
    let reload = {
        let generation = generation.clone();
        Callback::from(move |()| generation.set(generation.wrapping_add(1)))
    };
    let body = match &*data {
        Load::Loading => loading("Loading the audit log…"),
        Load::Failed(error) => html! {
            { load_failed("Could not load the audit log.", error, &reload) }
        },
        Load::Ready((entries, _)) if entries.is_empty() => html! {
            <p class="admin-empty">{ "No administrative actions yet." }</p>
        },
        Load::Ready((entries, names)) => html! {
            <div class="table-wrap">
                <table class="admin-table audit-table">
                    <caption class="sr-only">{ "Audit log, newest first" }</caption>
                    <thead>
                        <tr>
                            <th scope="col">{ "When" }</th>
                            <th scope="col">{ "Who" }</th>
                            <th scope="col">{ "Action" }</th>
                            <th scope="col">{ "Target" }</th>
                            <th scope="col">{ "Detail" }</th>
                        </tr>
                    </thead>
                    <tbody>
                        { for entries.iter().map(|e| entry_row(e, names)) }
                    </tbody>
                </table>
            </div>
        },
    };
    let summary = match &*data {
        Load::Ready((entries, _)) => format!("{} entries, newest first", entries.len()),
        _ => String::new(),
    };
    html! {
        <section class="admin-card" aria-labelledby="admin-audit-title">
            <div class="admin-card-head">
                <div class="admin-card-title">
                    <h2 id="admin-audit-title">{ "Audit log" }</h2>
                    <p class="admin-sub">{ summary }</p>
                </div>
                <div class="admin-tools">
                    { refresh_button(&reload, *fetching) }
                </div>
            </div>
            { body }
        </section>
    }
}

fn entry_row(e: &AuditEntry, names: &[(i64, String)]) -> Html {
    let t = local(e.created_at);
    // The last pair for an id, as a map built from the list would keep.
    let target_name = names
        .iter()
        .rev()
        .find(|(id, _)| *id == e.target_id)
        .map(|(_, name)| name.as_str());
    let tone = match e.action.as_str() {
        "delete_message" | "disable_user" => "pill-danger",
        "enable_user" => "pill-ok",
        _ => "pill-accent",
    };
    html! {
        <tr key={e.id} data-action={e.action.clone()}>
            <td><time datetime={e.created_at.to_rfc3339()} title={full(t)}>{ when(t, today()) }</time></td>
            <td>{ actor_label(e) }</td>
            <td><span class={classes!("pill", tone)}>{ action_label(&e.action) }</span></td>
            <td>{ target_label(e, target_name) }</td>
            <td class="detail">{ e.detail.clone() }</td>
        </tr>
    }
}
