use crate::logic::text::{avatar_hue, initials};
use shared::User;
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct AvatarProps {
    pub user: User,
    /// Show the online dot (for peers).
    #[prop_or_default]
    pub presence: bool,
    #[prop_or_default]
    pub small: bool,
}

/// Initials on a colour that stays the same for each user.
#[component]
pub fn Avatar(props: &AvatarProps) -> Html {
    let user = &props.user;
    let node = use_node_ref();
    {
        // The colour goes in through the CSSOM, not a `style` attribute: the production CSP
        // (nginx: `style-src 'self'`, no 'unsafe-inline') blocks style attributes.
        let node = node.clone();
        let hue = avatar_hue(user.id.0).to_string();
        use_effect(move || {
            if let Some(el) = node.cast::<web_sys::HtmlElement>() {
                let _ = el.style().set_property("--hue", &hue);
            }
        });
    }
    html! {
        <span ref={node} class={classes!("avatar", props.small.then_some("avatar-sm"))} aria-hidden="true">
            { initials(&user.display_name) }
            if props.presence {
                <span class={classes!("presence", user.online.then_some("online"))}></span>
            }
        </span>
    }
}
