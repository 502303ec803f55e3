//! The chat SPA: Yew function components (csr) over the `shared` API types.
//! Layout: `app` (routes), `pages/`, `components/`, `hooks/`, `services/` (all I/O),
//! `state` (the reducer) and `logic/` (pure, natively tested chat rules).

mod app;
mod components;
mod hooks;
mod logic;
mod pages;
mod services;
mod state;

fn main() {
    yew::Renderer::<app::App>::new().render();
}
