//! Hooks that hide context lookups and small browser concerns from components.

pub mod use_chat;
pub mod use_css_props;

pub use use_chat::use_chat;
pub use use_css_props::use_css_props;
