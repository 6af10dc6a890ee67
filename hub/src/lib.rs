#![doc = include_str!("../README.md")]

pub mod accounts;
pub mod cli;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod evals;
pub mod gc;
pub mod http;
pub mod lineage;
pub mod logging;
pub mod names;
pub mod repos;
pub mod search;
pub mod server;
pub mod time;
