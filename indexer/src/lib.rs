#![doc = include_str!("../README.md")]

pub mod card;
#[cfg(feature = "search")]
pub mod search;
pub mod tags;
