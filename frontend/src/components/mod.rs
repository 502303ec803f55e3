//! Function components. They read state through `use_chat()` and call its commands; the
//! logic they show lives in `logic/` and `state.rs`.

pub mod admin;
pub mod attach;
pub mod avatar;
pub mod banners;
pub mod composer;
pub mod conversation;
pub mod conversation_menu;
pub mod emoji_picker;
pub mod icons;
pub mod message_list;
pub mod message_search;
pub mod message_text;
pub mod new_conversation;
pub mod provider;
pub mod room_list;
pub mod sidebar;
