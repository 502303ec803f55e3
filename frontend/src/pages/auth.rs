//! Sign in and create account: one form, two modes, with the server's validation messages
//! shown next to the fields they concern.

use crate::app::Route;
use crate::components::icons;
use crate::hooks::use_chat;
use crate::router::{use_location, Link};
use crate::services::api;
use shared::{
    DisplayName, ErrorCode, LoginRequest, Password, RegisterRequest, Username, ValidationError,
};
use wasm_bindgen_futures::spawn_local;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// What a disabled account is told when it tries to sign in (the server answers 403).
pub const DISABLED: &str =
    "This account has been disabled by an administrator, so it cannot sign in. Ask an administrator to enable it again.";
/// What its open page says once the server has ended its sessions.
pub const DISABLED_SIGNED_OUT: &str =
    "You were signed out: an administrator has disabled this account. Ask an administrator to enable it again.";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    SignIn,
    Register,
}

#[derive(Properties, PartialEq)]
pub struct AuthPageProps {
    pub mode: AuthMode,
}

/// Errors shown under each field, and one for the whole form.
#[derive(Debug, Clone, Default, PartialEq)]
struct FormErrors {
    username: Option<String>,
    display_name: Option<String>,
    password: Option<String>,
    form: Option<String>,
}

impl FormErrors {
    fn put(&mut self, field: &str, message: String) {
        match field {
            "username" => self.username = Some(message),
            "display_name" => self.display_name = Some(message),
            "password" => self.password = Some(message),
            _ => self.form = Some(message),
        }
    }

    fn from_validation(e: ValidationError) -> Self {
        let mut errors = Self::default();
        errors.put(e.field, capitalise(&e.message));
        errors
    }

    /// Places a server answer next to the field its message names.
    fn from_api(error: &api::Error, mode: AuthMode) -> Self {
        let mut errors = Self::default();
        match error {
            api::Error::Api {
                code: ErrorCode::Conflict,
                ..
            } if mode == AuthMode::Register => {
                errors.username = Some("This username is taken. Try another one.".to_owned())
            }
            api::Error::Api {
                code: ErrorCode::Validation,
                message,
                ..
            } => {
                let (field, text) = split_field(message);
                errors.put(field, capitalise(text));
            }
            api::Error::Unauthorized(_) => {
                errors.form = Some("Wrong username or password.".to_owned())
            }
            // The only 403 of sign-in (api.md): right password, disabled account.
            api::Error::Api {
                code: ErrorCode::Forbidden,
                ..
            } if mode == AuthMode::SignIn => errors.form = Some(DISABLED.to_owned()),
            other => errors.form = Some(other.to_string()),
        }
        errors
    }
}

/// Splits a server validation message (`"username: must be 3–32 characters"`, as
/// `shared::ValidationError` prints) into its field and its text; `"form"` when none is named.
fn split_field(message: &str) -> (&str, &str) {
    ["display_name", "username", "password"]
        .into_iter()
        .find_map(|field| {
            message
                .strip_prefix(field)
                .and_then(|rest| rest.strip_prefix(':'))
                .map(|rest| (field, rest.trim_start()))
        })
        .unwrap_or(("form", message))
}

fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    chars
        .next()
        .map(|c| crate::logic::text::to_upper(c.encode_utf8(&mut [0; 4])) + chars.as_str())
        .unwrap_or_default()
}

fn input_value(node: &NodeRef) -> String {
    node.cast::<HtmlInputElement>()
        .map(|i| i.value())
        .unwrap_or_default()
}

#[component]
pub fn AuthPage(props: &AuthPageProps) -> Html {
    let chat = use_chat();
    let mode = props.mode;
    let errors = use_state(FormErrors::default);
    let busy = use_state(|| false);
    let username = use_node_ref();
    let display_name = use_node_ref();
    let password = use_node_ref();

    // Switching between the modes starts from a clean form.
    {
        let errors = errors.clone();
        use_effect_with(mode, move |_| errors.set(FormErrors::default()));
    }

    let onsubmit = {
        let chat = chat.clone();
        let (errors, busy) = (errors.clone(), busy.clone());
        let (username, display_name, password) =
            (username.clone(), display_name.clone(), password.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if *busy {
                return;
            }
            let name = match Username::parse(&input_value(&username)) {
                Ok(name) => name,
                Err(e) => return errors.set(FormErrors::from_validation(e)),
            };
            let pw = input_value(&password);
            if mode == AuthMode::Register {
                if let Err(e) = Password::parse(&pw) {
                    return errors.set(FormErrors::from_validation(e));
                }
            } else if pw.is_empty() {
                return errors.set(FormErrors {
                    password: Some("Enter your password.".to_owned()),
                    ..FormErrors::default()
                });
            }
            let shown_name = input_value(&display_name);
            let shown_name = if shown_name.trim().is_empty() {
                None
            } else {
                match DisplayName::parse(&shown_name) {
                    Ok(n) => Some(n.into_inner()),
                    Err(e) => return errors.set(FormErrors::from_validation(e)),
                }
            };
            errors.set(FormErrors::default());
            chat.dispatch(crate::state::Action::Farewell(None));
            busy.set(true);
            let (chat, errors, busy) = (chat.clone(), errors.clone(), busy.clone());
            spawn_local(async move {
                let result = match mode {
                    AuthMode::SignIn => {
                        api::login(&LoginRequest {
                            username: name.into_inner(),
                            password: pw,
                        })
                        .await
                    }
                    AuthMode::Register => {
                        api::register(&RegisterRequest {
                            username: name.into_inner(),
                            password: pw,
                            display_name: shown_name,
                        })
                        .await
                    }
                };
                busy.set(false);
                match result {
                    Ok(auth) => {
                        // A new account is told once what administrators can read.
                        if mode == AuthMode::Register {
                            crate::services::prefs::set_admins_notice_due(auth.user.id, true);
                        }
                        chat.signed_in(auth)
                    }
                    Err(error) => errors.set(FormErrors::from_api(&error, mode)),
                }
            });
        })
    };

    let field_error = |id: &str, error: &Option<String>| match error {
        Some(message) => html! {
            <p class="field-error" id={format!("{id}-error")} role="alert">{ message.clone() }</p>
        },
        None => html! {},
    };
    let described = |id: &str, error: &Option<String>, hint: bool| {
        let mut ids = Vec::new();
        if hint {
            ids.push(format!("{id}-hint"));
        }
        if error.is_some() {
            ids.push(format!("{id}-error"));
        }
        (!ids.is_empty()).then(|| AttrValue::from(ids.join(" ")))
    };
    let invalid = |error: &Option<String>| error.is_some().then_some("true");
    let register = mode == AuthMode::Register;
    // Someone who never signed in on this browser is not welcomed back.
    let returning = use_memo((), |_| crate::services::prefs::last_username().is_some());
    let form_error = errors.form.as_deref().or(chat.state().farewell);
    // Switching between the two tabs keeps the deep link the visitor came for.
    let next = use_location()
        .and_then(|l| l.next_query())
        .filter(|q| q.next.is_some());

    html! {
        <main class="auth">
            <div class="auth-card">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">{ icons::chat_bubble() }</span>
                    <span class="brand-name">{ "Chat" }</span>
                </div>
                <h1>{ match (register, *returning) {
                    (true, _) => "Create your account",
                    (false, true) => "Welcome back",
                    (false, false) => "Welcome",
                } }</h1>
                <p class="auth-sub">
                    { if register { "Pick a username people can find you by." } else { "Sign in to pick up your conversations." } }
                </p>
                <nav class="auth-tabs" aria-label="Account">
                    <Link to={Route::Login} query={next.clone()} classes={classes!("auth-tab", (!register).then_some("active"))}>{ "Sign in" }</Link>
                    <Link to={Route::Register} query={next} classes={classes!("auth-tab", register.then_some("active"))}>{ "Create account" }</Link>
                </nav>
                <form {onsubmit} novalidate=true>
                    if let Some(message) = form_error {
                        <div class="form-error" role="alert">{ message.to_owned() }</div>
                    }
                    <div class="field">
                        <label for="username">{ "Username" }</label>
                        <input id="username" name="username" type="text" ref={username}
                            autocomplete="username" autocapitalize="none" spellcheck="false" required=true
                            aria-invalid={invalid(&errors.username)}
                            aria-describedby={described("username", &errors.username, register)} />
                        if register {
                            <p class="field-hint" id="username-hint">{ "3–32 characters: a–z, 0–9, _ . -" }</p>
                        }
                        { field_error("username", &errors.username) }
                    </div>
                    if register {
                        <div class="field">
                            <label for="display_name">{ "Display name " }<span class="optional">{ "(optional)" }</span></label>
                            <input id="display_name" name="display_name" type="text" ref={display_name}
                                autocomplete="name" maxlength="64"
                                aria-invalid={invalid(&errors.display_name)}
                                aria-describedby={described("display_name", &errors.display_name, false)} />
                            { field_error("display_name", &errors.display_name) }
                        </div>
                    }
                    <div class="field">
                        <label for="password">{ "Password" }</label>
                        <input id="password" name="password" type="password" ref={password}
                            autocomplete={if register { "new-password" } else { "current-password" }} required=true
                            aria-invalid={invalid(&errors.password)}
                            aria-describedby={described("password", &errors.password, register)} />
                        if register {
                            <p class="field-hint" id="password-hint">{ "At least 8 characters." }</p>
                        }
                        { field_error("password", &errors.password) }
                    </div>
                    <button type="submit" class="btn btn-primary btn-block" disabled={*busy}>
                        { match (register, *busy) {
                            (true, false) => "Create account",
                            (true, true) => "Creating account…",
                            (false, false) => "Sign in",
                            (false, true) => "Signing in…",
                        } }
                    </button>
                </form>
            </div>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_validation_messages_land_next_to_their_field() {
        assert_eq!(
            split_field("username: must be 3–32 characters"),
            ("username", "must be 3–32 characters")
        );
        assert_eq!(
            split_field("display_name: must be 1–64 characters"),
            ("display_name", "must be 1–64 characters")
        );
        assert_eq!(split_field("something else"), ("form", "something else"));
        let error = api::Error::Api {
            status: 422,
            code: ErrorCode::Validation,
            message: "password: must be 8–256 characters".into(),
        };
        let errors = FormErrors::from_api(&error, AuthMode::Register);
        assert_eq!(errors.password.as_deref(), Some("Must be 8–256 characters"));
        assert_eq!(errors.form, None);
    }

    #[test]
    fn a_taken_name_and_wrong_credentials_are_explained() {
        let taken = api::Error::Api {
            status: 409,
            code: ErrorCode::Conflict,
            message: "conflict".into(),
        };
        let errors = FormErrors::from_api(&taken, AuthMode::Register);
        assert!(errors.username.is_some_and(|m| m.contains("taken")));
        let wrong = api::Error::Unauthorized("nope".into());
        let errors = FormErrors::from_api(&wrong, AuthMode::SignIn);
        assert_eq!(errors.form.as_deref(), Some("Wrong username or password."));
        let disabled = api::Error::Api {
            status: 403,
            code: ErrorCode::Forbidden,
            message: "this account has been disabled".into(),
        };
        let errors = FormErrors::from_api(&disabled, AuthMode::SignIn);
        assert_eq!(errors.form.as_deref(), Some(DISABLED));
        let down = FormErrors::from_api(&api::Error::Network, AuthMode::SignIn);
        assert!(down.form.is_some_and(|m| m.contains("reach")));
    }
}
