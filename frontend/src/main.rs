//! The chat SPA: Yew function components (csr) over the `shared` API types.
//! Layout: `app` (routes), `pages/`, `components/`, `hooks/`, `services/` (all I/O),
//! `state` (the reducer) and `logic/` (pure, natively tested chat rules).

mod app;
mod components;
mod hooks;
mod logic;
mod pages;
mod router;
mod services;
mod state;

fn main() {
    // The runtime config file says where the backend is (default: this page's origin); it is
    // read before anything talks to the backend. A missing or broken file never stops the app.
    wasm_bindgen_futures::spawn_local(async {
        services::config::load().await;
        yew::Renderer::<app::App>::new().render();
    });
}
