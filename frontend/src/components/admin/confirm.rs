//! The confirmation every destructive admin action goes through: a modal dialog that takes
//! the focus (on Cancel, the safe choice), keeps Tab inside, closes with Escape or a click
//! outside, and gives the focus back to what opened it.

use crate::services::platform::document;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

#[derive(Properties, PartialEq)]
pub struct ConfirmDialogProps {
    pub title: AttrValue,
    /// What will happen, in words.
    pub children: Html,
    /// The confirm button's text ("Delete message").
    pub confirm_label: AttrValue,
    /// A destructive action: the confirm button is red.
    #[prop_or(true)]
    pub danger: bool,
    /// The request is running: both buttons wait.
    #[prop_or_default]
    pub busy: bool,
    /// The request failed: why, shown inside the dialog.
    #[prop_or_default]
    pub error: Option<AttrValue>,
    pub on_confirm: Callback<()>,
    pub on_cancel: Callback<()>,
}

fn focus(node: &NodeRef) {
    if let Some(el) = node.cast::<HtmlElement>() {
        // Focus can only fail on a detached node; nothing to do then.
        let _ = el.focus();
    }
}

fn active_element() -> Option<Element> {
    document()?.active_element()
}

#[component]
pub fn ConfirmDialog(props: &ConfirmDialogProps) -> Html {
    let cancel = use_node_ref();
    let confirm = use_node_ref();

    // Focus Cancel on open; give the focus back to the opener on close.
    {
        let cancel = cancel.clone();
        use_effect_with((), move |_| {
            let opener = active_element().and_then(|e| e.dyn_into::<HtmlElement>().ok());
            focus(&cancel);
            move || {
                if let Some(opener) = opener {
                    let _ = opener.focus();
                }
            }
        });
    }

    let onkeydown = {
        let (cancel, confirm) = (cancel.clone(), confirm.clone());
        let on_cancel = props.on_cancel.clone();
        let busy = props.busy;
        Callback::from(move |e: KeyboardEvent| match e.key().as_str() {
            "Escape" if !busy => {
                e.prevent_default();
                on_cancel.emit(());
            }
            // Two buttons: Tab past either end wraps to the other one.
            "Tab" => {
                let active = active_element();
                let is = |node: &NodeRef| {
                    node.get().is_some_and(|n| {
                        active
                            .as_ref()
                            .is_some_and(|a| a == n.unchecked_ref::<Element>())
                    })
                };
                if e.shift_key() && is(&cancel) {
                    e.prevent_default();
                    focus(&confirm);
                } else if !e.shift_key() && is(&confirm) {
                    e.prevent_default();
                    focus(&cancel);
                }
            }
            _ => {}
        })
    };
    let on_backdrop = {
        let on_cancel = props.on_cancel.clone();
        let busy = props.busy;
        Callback::from(move |e: MouseEvent| {
            // Only a click on the backdrop itself, not one that bubbled from the dialog.
            if !busy && e.target() == e.current_target() {
                on_cancel.emit(());
            }
        })
    };
    // While busy the buttons are `aria-disabled`, not `disabled`: a disabled button would drop
    // the keyboard focus out of the dialog.
    let busy = props.busy;
    let unless_busy = |callback: &Callback<()>| {
        let callback = callback.clone();
        Callback::from(move |_: MouseEvent| {
            if !busy {
                callback.emit(());
            }
        })
    };
    let (on_cancel, on_confirm) = (
        unless_busy(&props.on_cancel),
        unless_busy(&props.on_confirm),
    );
    let aria_busy = busy.then_some("true");
    html! {
        <div class="modal-backdrop" onclick={on_backdrop} {onkeydown}>
            <div class="modal" role="alertdialog" aria-modal="true"
                aria-labelledby="confirm-title" aria-describedby="confirm-body">
                <h2 id="confirm-title">{ props.title.clone() }</h2>
                <div id="confirm-body" class="modal-body">{ props.children.clone() }</div>
                if let Some(error) = &props.error {
                    <p class="form-error" role="alert">{ error.clone() }</p>
                }
                <div class="modal-actions">
                    <button type="button" class="btn btn-ghost" ref={cancel} onclick={on_cancel}
                        aria-disabled={aria_busy}>
                        { "Cancel" }
                    </button>
                    <button type="button" class={classes!("btn", if props.danger { "btn-danger" } else { "btn-primary" })} ref={confirm} onclick={on_confirm}
                        aria-disabled={aria_busy} aria-busy={aria_busy}>
                        if props.busy {
                            <span class="spinner spinner-sm spinner-light" aria-hidden="true"></span>
                        }
                        { props.confirm_label.clone() }
                    </button>
                </div>
            </div>
        </div>
    }
}
