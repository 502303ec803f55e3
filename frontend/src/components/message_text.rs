use crate::logic::links::{split_links, Segment};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct MessageTextProps {
    pub body: AttrValue,
}

/// A message body as text nodes and `http(s)` links; never parsed as HTML. Newlines are kept
/// by the stylesheet (`white-space: pre-wrap`).
#[component]
pub fn MessageText(props: &MessageTextProps) -> Html {
    split_links(&props.body)
        .into_iter()
        .map(|segment| match segment {
            Segment::Text(text) => html! { { text.to_owned() } },
            Segment::Link(url) => html! {
                <a href={url.to_owned()} target="_blank" rel="noopener noreferrer">{ url.to_owned() }</a>
            },
        })
        .collect()
}
