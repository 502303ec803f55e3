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
    let style = format!("--hue: {}", avatar_hue(user.id.0));
    html! {
        <span class={classes!("avatar", props.small.then_some("avatar-sm"))} {style} aria-hidden="true">
            { initials(&user.display_name) }
            if props.presence {
                <span class={classes!("presence", user.online.then_some("online"))}></span>
            }
        </span>
    }
}
