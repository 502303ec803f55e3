use crate::hooks::use_css_props;
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
    use_css_props(&node, vec![("--hue", avatar_hue(user.id.0).to_string())]);
    html! {
        <span ref={node} class={classes!("avatar", props.small.then_some("avatar-sm"))} aria-hidden="true">
            { initials(&user.display_name) }
            if props.presence {
                <span class={classes!("presence", user.online.then_some("online"))}></span>
            }
        </span>
    }
}
