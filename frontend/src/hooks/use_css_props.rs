//! Inline sizes and colours without `style` attributes.

use yew::prelude::*;

/// Sets CSS properties on `node` through the CSSOM after every render. The production CSP
/// (nginx: `style-src 'self'`, no 'unsafe-inline') blocks `style` attributes, not the CSSOM.
/// Declared before a component's own effects, it runs before them (they may measure). An
/// empty value removes the property.
#[hook]
pub fn use_css_props(node: &NodeRef, props: Vec<(&'static str, String)>) {
    let node = node.clone();
    use_effect(move || {
        if let Some(el) = node.cast::<web_sys::HtmlElement>() {
            let style = el.style();
            for (name, value) in &props {
                let _ = style.set_property(name, value);
            }
        }
    });
}
