#![doc = include_str!("../README.md")]

pub mod declared;
pub mod diff;
pub mod formats;
pub mod names;
pub mod relation;
pub mod verify;
