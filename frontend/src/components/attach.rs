//! Attachments on screen: the composer's tray (previews, progress, cancel, retry), the files
//! of a message in the timeline (thumbnails and file cards) and the full-size viewer.

use crate::components::icons;
use crate::hooks::use_css_props;
use crate::logic::attach::{file_kind, fit, human_size, TrayItem, UploadState};
use crate::services::config::api_base;
use crate::services::upload::Uploader;
use shared::Attachment;
use web_sys::{HtmlElement, KeyboardEvent};
use yew::prelude::*;

/// Largest side of a thumbnail in the timeline (the server makes them ≤ 400).
const THUMB_BOX: u32 = 240;

/// A link of the server (`/api/attachments/…`) on the configured backend.
pub fn file_url(link: &str) -> String {
    match link.strip_prefix("/api") {
        Some(rest) => format!("{}{rest}", api_base()),
        None => link.to_owned(),
    }
}

#[derive(Properties, PartialEq)]
pub struct TrayProps {
    pub uploader: Uploader,
}

/// The files chosen for the next message, above the text box.
#[component]
pub fn AttachmentTray(props: &TrayProps) -> Html {
    let uploader = &props.uploader;
    let tray = &*uploader.tray;
    let list = use_node_ref();
    // A card that fails may sit past the edge of the tray (a phone shows two); it is brought
    // into view, as the eye would not find it there.
    let failed = tray
        .items
        .iter()
        .filter(|i| matches!(i.state, UploadState::Failed(_)))
        .count();
    {
        let list = list.clone();
        use_effect_with(failed, move |failed| {
            if *failed > 0 {
                reveal_first_failed(&list);
            }
        });
    }
    let dismiss = {
        let uploader = uploader.clone();
        Callback::from(move |_: MouseEvent| {
            uploader
                .tray
                .dispatch(crate::logic::attach::TrayAction::Error(None))
        })
    };
    let error = tray.error.clone().map(|e| {
        html! {
            <div class="tray-error" role="alert">
                { icons::alert() }<span>{ e }</span>
                <button type="button" class="icon-btn" aria-label="Dismiss" onclick={dismiss}>{ icons::close() }</button>
            </div>
        }
    });
    if tray.is_empty() && error.is_none() {
        return html! {};
    }
    let waiting = tray.queued.is_some();
    html! {
        <div class="tray">
            { for error }
            if !tray.is_empty() {
                <ul ref={list} class="tray-items" aria-label="Files to send">
                    { for tray.items.iter().map(|item| tray_item(uploader, item)) }
                </ul>
            }
            if waiting {
                <p class="tray-note" role="status">{ "Sends when the uploads finish." }</p>
            }
        </div>
    }
}

/// Scrolls the tray sideways (only the tray) so that its first failed card is in view.
fn reveal_first_failed(list: &NodeRef) {
    let Some(list) = list.cast::<HtmlElement>() else {
        return;
    };
    let Some(card) = list.query_selector(".tray-item.is-failed").ok().flatten() else {
        return;
    };
    let (view, card) = (
        list.get_bounding_client_rect(),
        card.get_bounding_client_rect(),
    );
    let shift = if card.right() > view.right() {
        card.right() - view.right()
    } else if card.left() < view.left() {
        card.left() - view.left()
    } else {
        return;
    };
    list.set_scroll_left(list.scroll_left() + shift.ceil() as i32);
}

fn tray_item(uploader: &Uploader, item: &TrayItem) -> Html {
    let key = item.key;
    let remove = {
        let uploader = uploader.clone();
        Callback::from(move |_: MouseEvent| uploader.remove(key))
    };
    let retry = {
        let uploader = uploader.clone();
        Callback::from(move |_: MouseEvent| uploader.start(key))
    };
    let uploading = matches!(item.state, UploadState::Uploading { .. });
    let remove_label = if uploading {
        format!("Cancel upload of {}", item.name)
    } else {
        format!("Remove {}", item.name)
    };
    let preview = match &item.preview {
        Some(url) => html! { <img class="tray-thumb" src={url.clone()} alt="" /> },
        None => html! { <span class="tray-icon">{ icons::file() }</span> },
    };
    let percent = item.percent();
    let status = match &item.state {
        UploadState::Uploading { .. } => html! {
            <div class="progress" role="progressbar" aria-label={format!("Uploading {}", item.name)}
                aria-valuemin="0" aria-valuemax="100" aria-valuenow={percent.to_string()}>
                <ProgressBar {percent} />
            </div>
        },
        UploadState::Done(_) => html! { <span class="tray-size">{ human_size(item.size) }</span> },
        UploadState::Failed(failure) => html! {
            <span class="tray-failed" role="alert">
                <span class="tray-why" title={failure.why.clone()}>{ failure.why.clone() }</span>
                if failure.can_retry {
                    <button type="button" class="link-btn tray-retry" onclick={retry}
                        aria-label={format!("Retry upload of {}", item.name)}>{ icons::retry() }{ "Retry" }</button>
                }
            </span>
        },
    };
    html! {
        <li key={key} class={classes!("tray-item", item.preview.is_some().then_some("is-image"),
                matches!(item.state, UploadState::Failed(_)).then_some("is-failed"),
                uploading.then_some("is-uploading"))}>
            { preview }
            <div class="tray-main">
                <span class="tray-name" title={item.name.clone()}>{ item.name.clone() }</span>
                { status }
            </div>
            <button type="button" class="icon-btn tray-remove" aria-label={remove_label.clone()}
                title={remove_label} onclick={remove}>{ icons::close() }</button>
        </li>
    }
}

#[derive(Properties, PartialEq)]
struct ProgressBarProps {
    percent: u32,
}

#[component]
fn ProgressBar(props: &ProgressBarProps) -> Html {
    let node = use_node_ref();
    use_css_props(&node, vec![("width", format!("{}%", props.percent))]);
    html! { <div ref={node} class="progress-bar"></div> }
}

#[derive(Properties, PartialEq)]
struct ThumbProps {
    src: AttrValue,
    name: AttrValue,
    width: u32,
    height: u32,
    onclick: Callback<MouseEvent>,
}

/// An image in a message, at its own aspect ratio inside the thumbnail box.
#[component]
fn Thumb(props: &ThumbProps) -> Html {
    let node = use_node_ref();
    let (w, h) = (props.width, props.height);
    use_css_props(
        &node,
        vec![
            ("width", format!("{w}px")),
            ("aspect-ratio", format!("{w}/{h}")),
        ],
    );
    html! {
        <button ref={node} type="button" class="att-thumb" onclick={props.onclick.clone()}
            aria-label={format!("Open image {}", props.name)}>
            <img src={props.src.clone()} alt={props.name.clone()} width={w.to_string()} height={h.to_string()} loading="lazy" />
        </button>
    }
}

#[derive(Properties, PartialEq)]
pub struct AttachmentsProps {
    pub list: Vec<Attachment>,
}

/// The files of one message: images as thumbnails (click for the viewer), others as cards.
#[component]
pub fn Attachments(props: &AttachmentsProps) -> Html {
    let open = use_state(|| None::<usize>);
    let images: Vec<&Attachment> = props
        .list
        .iter()
        .filter(|a| a.thumbnail_url.is_some())
        .collect();
    let thumbs = images.iter().enumerate().map(|(i, a)| {
        let (w, h) = fit(a.width.unwrap_or(1), a.height.unwrap_or(1), THUMB_BOX);
        let onclick = {
            let open = open.clone();
            Callback::from(move |e: MouseEvent| {
                // The bubble's own click (the toolbar) is not for this.
                e.stop_propagation();
                open.set(Some(i));
            })
        };
        let src = file_url(a.thumbnail_url.as_deref().unwrap_or_default());
        html! { <Thumb {src} name={a.name.clone()} width={w} height={h} {onclick} /> }
    });
    let cards = props
        .list
        .iter()
        .filter(|a| a.thumbnail_url.is_none())
        .map(file_card);
    let viewer = open.and_then(|i| images.get(i)).map(|a| {
        let on_close = {
            let open = open.clone();
            Callback::from(move |()| open.set(None))
        };
        html! { <Viewer attachment={(*a).clone()} {on_close} /> }
    });
    html! {
        <div class="atts">
            if !images.is_empty() {
                <div class={classes!("att-images", (images.len() > 1).then_some("many"))}>{ for thumbs }</div>
            }
            { for cards }
            { for viewer }
        </div>
    }
}

fn file_card(a: &Attachment) -> Html {
    let kind = file_kind(&a.content_type, &a.name);
    let size = human_size(a.size.max(0) as u64);
    html! {
        <a class={classes!("att-file", format!("kind-{kind}"))} href={file_url(&a.url)} download={a.name.clone()}
            title={format!("Download {}", a.name)} onclick={Callback::from(|e: MouseEvent| e.stop_propagation())}>
            <span class="att-file-icon">{ icons::file() }</span>
            <span class="att-file-main">
                <span class="att-file-name">{ a.name.clone() }</span>
                <span class="att-file-size">{ size }</span>
            </span>
            <span class="att-file-dl" aria-hidden="true">{ icons::download() }</span>
        </a>
    }
}

#[derive(Properties, PartialEq)]
pub struct ViewerProps {
    pub attachment: Attachment,
    pub on_close: Callback<()>,
}

/// An image at full size over everything; Escape, the close button or a click beside the
/// image closes it, and Tab stays between its two controls.
#[component]
pub fn Viewer(props: &ViewerProps) -> Html {
    let close_ref = use_node_ref();
    let download_ref = use_node_ref();
    {
        let close_ref = close_ref.clone();
        use_effect_with((), move |_| {
            if let Some(el) = close_ref.cast::<HtmlElement>() {
                let _ = el.focus();
            }
        });
    }
    let a = &props.attachment;
    let onkeydown = {
        let (on_close, close_ref, download_ref) = (
            props.on_close.clone(),
            close_ref.clone(),
            download_ref.clone(),
        );
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" => {
                e.prevent_default();
                e.stop_propagation();
                on_close.emit(());
            }
            "Tab" => {
                e.prevent_default();
                let active = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.active_element());
                let on_close_btn = close_ref
                    .get()
                    .is_some_and(|c| Some(c) == active.map(Into::into));
                let next = if on_close_btn {
                    &download_ref
                } else {
                    &close_ref
                };
                if let Some(el) = next.cast::<HtmlElement>() {
                    let _ = el.focus();
                }
            }
            _ => {}
        })
    };
    let backdrop = {
        let on_close = props.on_close.clone();
        Callback::from(move |e: MouseEvent| {
            e.stop_propagation();
            on_close.emit(());
        })
    };
    let close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    let stop = Callback::from(|e: MouseEvent| e.stop_propagation());
    let url = file_url(&a.url);
    html! {
        // Focusable itself, so a click on the image keeps the focus (and Escape) inside.
        <div class="viewer" role="dialog" aria-modal="true" aria-label={format!("Image {}", a.name)}
            tabindex="-1" {onkeydown} onclick={backdrop}>
            <div class="viewer-bar" onclick={stop.clone()}>
                <span class="viewer-name">{ a.name.clone() }<span class="viewer-size">{ human_size(a.size.max(0) as u64) }</span></span>
                <a ref={download_ref} class="icon-btn viewer-download" href={url.clone()} download={a.name.clone()}
                    aria-label={format!("Download {}", a.name)} title="Download">{ icons::download() }</a>
                <button ref={close_ref} type="button" class="icon-btn viewer-close" aria-label="Close" title="Close (Esc)"
                    onclick={close}>{ icons::close() }</button>
            </div>
            <img class="viewer-img" src={url} alt={a.name.clone()} onclick={stop}
                width={a.width.map(|w| w.to_string())} height={a.height.map(|h| h.to_string())} />
        </div>
    }
}
