#![doc = include_str!("../README.md")]

pub mod dag;
pub mod markdown;
pub mod templates;

/// The stylesheet, served by the hub at `/assets/grove.css`.
pub const STYLESHEET: &str = include_str!("../assets/grove.css");
