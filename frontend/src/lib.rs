//! The WASM entry point: hydrates the server-rendered page in the browser. Built
//! twice: as the whole app (by cargo-leptos), and with the `widget-only` feature as
//! the visitor widget's own, smaller bundle (by `.ci/build-widget`).

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    #[cfg(feature = "widget-only")]
    leptos::mount::hydrate_body(app::WidgetApp);
    #[cfg(not(feature = "widget-only"))]
    leptos::mount::hydrate_body(app::App);
}
