//! Mutualise: booking and cost sharing for PTCE cooperatives.
//!
//! Layers, inside out: `domain` (pure rules) → `store` (diesel) → `app` (use cases) →
//! `web` (axum: HTML and JSON), with the adapters of `export` (CSV) beside it, turning `app`
//! views into files. `build_app` gives the real router so tests drive it.

pub mod app;
pub mod bench;
pub mod config;
pub mod domain;
pub mod error;
pub mod export;
pub mod ical;
pub mod mail;
pub mod store;
pub mod web;

pub use app::App;
pub use web::{build_app, AppState};
