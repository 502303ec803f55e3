use crate::services::chat::Chat;
use yew::prelude::*;

/// The chat context: state and commands. Must be used under `ChatProvider`.
#[hook]
pub fn use_chat() -> Chat {
    // expect: the provider wraps the whole app, so a missing context is a programming
    // error that would show at once in development.
    use_context::<Chat>().expect("use_chat() must be used inside <ChatProvider>")
}
