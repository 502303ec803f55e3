//! The users table: sortable by every column, searchable by name, with Disable / Enable
//! behind a confirmation (never on your own account).

use super::confirm::ConfirmDialog;
use super::model::{visible_users, when, Sort, UserColumn};
use super::{
    explain, load_failed, loading, refresh_button, search_box, sort_header, use_on_unauthorized,
    Load,
};
use crate::components::avatar::Avatar;
use crate::hooks::use_chat;
use crate::logic::time::full;
use crate::services::admin;
use crate::services::chat::today;
use crate::services::platform::local;
use shared::AdminUser;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

/// A Disable or Enable waiting for its confirmation.
#[derive(Debug, Clone, PartialEq)]
struct Pending {
    user: AdminUser,
    /// true: disable; false: enable.
    disable: bool,
    busy: bool,
    error: Option<String>,
}

#[component]
pub fn AdminUsers() -> Html {
    let chat = use_chat();
    let me = chat.state().me().map(|u| u.id);
    let on_unauthorized = use_on_unauthorized();
    let users = use_state(|| Load::<Vec<AdminUser>>::Loading);
    let fetching = use_state(|| false);
    let generation = use_state(|| 0u32);
    let query = use_state(String::new);
    let sort = use_state(|| Sort::by(UserColumn::Username));
    let pending = use_state(|| None::<Pending>);
    let done = use_state(|| None::<String>);

    // (Re)load whenever the generation changes; the table keeps showing while it reloads.
    {
        let (users, fetching, on_unauthorized) =
            (users.clone(), fetching.clone(), on_unauthorized.clone());
        use_effect_with(*generation, move |_| {
            fetching.set(true);
            spawn_local(async move {
                let result = admin::users().await;
                if let Err(error) = &result {
                    on_unauthorized.emit(error.clone());
                }
                users.set(Load::from_result(result));
                fetching.set(false);
            });
        });
    }
    let reload = {
        let generation = generation.clone();
        Callback::from(move |()| generation.set(generation.wrapping_add(1)))
    };

    let on_sort = {
        let sort = sort.clone();
        Callback::from(move |column| sort.set(sort.toggled(column)))
    };
    let on_query = {
        let query = query.clone();
        Callback::from(move |q: String| query.set(q))
    };
    let on_cancel = {
        let pending = pending.clone();
        Callback::from(move |()| pending.set(None))
    };
    let on_confirm = {
        let (pending, users, done, reload) =
            (pending.clone(), users.clone(), done.clone(), reload.clone());
        let on_unauthorized = on_unauthorized.clone();
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
            let (pending, users, done, reload) =
                (pending.clone(), users.clone(), done.clone(), reload.clone());
            let on_unauthorized = on_unauthorized.clone();
            spawn_local(async move {
                match admin::set_disabled(p.user.user.id, p.disable).await {
                    Ok(()) => {
                        // Show the new status at once; the reload confirms it.
                        if let Load::Ready(list) = &*users {
                            let mut list = list.clone();
                            for u in list.iter_mut().filter(|u| u.user.id == p.user.user.id) {
                                u.disabled = p.disable;
                                u.user.online &= !p.disable;
                            }
                            users.set(Load::Ready(list));
                        }
                        let verb = if p.disable { "disabled" } else { "enabled" };
                        done.set(Some(format!("@{} is {verb}.", p.user.user.username)));
                        pending.set(None);
                        reload.emit(());
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

    let body = match &*users {
        Load::Loading => loading("Loading users…"),
        Load::Failed(error) => html! {
            { load_failed("Could not load the users.", error, &reload) }
        },
        Load::Ready(list) => {
            let shown = visible_users(list, &query, *sort);
            let rows: Html = shown
                .iter()
                .map(|u| user_row(u, me == Some(u.user.id), &pending))
                .collect();
            html! {
                <>
                    <div class="table-wrap">
                        <table class="admin-table users-table">
                            <caption class="sr-only">{ "Users. Column headers sort the table." }</caption>
                            <thead>
                                <tr>
                                    { for UserColumn::ALL.iter().map(|&c| sort_header(c, *sort, &on_sort, c == UserColumn::Messages)) }
                                    <th scope="col"><span class="sr-only">{ "Actions" }</span></th>
                                </tr>
                            </thead>
                            <tbody>{ rows }</tbody>
                        </table>
                    </div>
                    if shown.is_empty() {
                        <p class="admin-empty">{ format!("No user matches “{}”.", query.trim()) }</p>
                    }
                </>
            }
        }
    };
    let summary = match &*users {
        Load::Ready(list) => {
            let online = list.iter().filter(|u| u.user.online).count();
            let disabled = list.iter().filter(|u| u.disabled).count();
            format!(
                "{} accounts · {online} online · {disabled} disabled",
                list.len()
            )
        }
        _ => String::new(),
    };

    html! {
        <section class="admin-card" aria-labelledby="admin-users-title">
            <div class="admin-card-head">
                <div class="admin-card-title">
                    <h2 id="admin-users-title">{ "Users" }</h2>
                    <p class="admin-sub">{ summary }</p>
                </div>
                <div class="admin-tools">
                    { search_box("Search users by name", "Search by name", &query, &on_query) }
                    { refresh_button(&reload, *fetching) }
                </div>
            </div>
            <p class="admin-done" role="status" aria-live="polite">{ (*done).clone().unwrap_or_default() }</p>
            { body }
            if let Some(p) = &*pending {
                { confirm_dialog(p, on_confirm, on_cancel) }
            }
        </section>
    }
}

fn confirm_dialog(p: &Pending, on_confirm: Callback<()>, on_cancel: Callback<()>) -> Html {
    let u = &p.user.user;
    let (title, label, text) = if p.disable {
        (
            format!("Disable @{}?", u.username),
            "Disable account",
            format!(
                "{} is signed out everywhere at once, their open windows disconnect, and they \
                 cannot sign in until an administrator enables the account again. Their \
                 messages stay.",
                u.display_name
            ),
        )
    } else {
        (
            format!("Enable @{}?", u.username),
            "Enable account",
            format!("{} can sign in again.", u.display_name),
        )
    };
    html! {
        <ConfirmDialog title={title} confirm_label={label} busy={p.busy}
            error={p.error.clone().map(AttrValue::from)} danger={p.disable} {on_confirm} {on_cancel}>
            <p>{ text }</p>
        </ConfirmDialog>
    }
}

fn user_row(u: &AdminUser, is_me: bool, pending: &UseStateHandle<Option<Pending>>) -> Html {
    let user = &u.user;
    let created = local(u.created_at);
    let action = if is_me {
        html! { <span class="muted-note">{ "You" }</span> }
    } else {
        let disable = !u.disabled;
        let onclick = {
            let (pending, target) = (pending.clone(), u.clone());
            Callback::from(move |_: MouseEvent| {
                pending.set(Some(Pending {
                    user: target.clone(),
                    disable,
                    busy: false,
                    error: None,
                }))
            })
        };
        let (text, class) = if disable {
            ("Disable", "btn-danger-soft")
        } else {
            ("Enable", "btn-ghost")
        };
        html! {
            <button type="button" class={classes!("btn", "btn-sm", class)} {onclick}
                aria-label={format!("{text} @{}", user.username)}>
                { text }
            </button>
        }
    };
    html! {
        <tr key={user.id.0} class={classes!(u.disabled.then_some("is-disabled"))}
            data-username={user.username.clone()}>
            <td>
                <span class="cell-user">
                    <Avatar user={user.clone()} small=true />
                    <span class="handle-strong">{ format!("@{}", user.username) }</span>
                    if is_me {
                        <span class="pill pill-accent">{ "you" }</span>
                    }
                </span>
            </td>
            <td>{ user.display_name.clone() }</td>
            <td>
                if user.is_admin {
                    <span class="pill pill-accent">{ "Admin" }</span>
                } else {
                    <span class="muted-note">{ "—" }</span>
                }
            </td>
            <td>
                <span class={classes!("online-state", user.online.then_some("online"))}>
                    { if user.online { "Online" } else { "Offline" } }
                </span>
            </td>
            <td><time datetime={u.created_at.to_rfc3339()} title={full(created)}>{ when(created, today()) }</time></td>
            <td class="num">{ u.message_count }</td>
            <td>
                if u.disabled {
                    <span class="pill pill-danger">{ "Disabled" }</span>
                } else {
                    <span class="pill pill-ok">{ "Active" }</span>
                }
            </td>
            <td class="actions">{ action }</td>
        </tr>
    }
}
