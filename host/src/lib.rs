//! # stratbox
//!
//! A host that runs quantitative trading strategies as sandboxed, hot-swappable WebAssembly
//! components. Modules follow the data flow: [`feeds`] → [`market`] → [`sandbox`] strategies →
//! [`risk`] → [`execution`], driven by one deterministic [`engine`] loop, with [`store`]
//! persistence and the operators' [`api`].

pub mod api;
pub mod backtest;
pub mod book;
pub mod cli;
pub mod config;
pub mod engine;
pub mod execution;
pub mod features;
pub mod feeds;
pub mod history;
pub mod inference;
pub mod journal;
pub mod learning;
pub mod market;
pub mod model;
pub mod monitor;
pub mod risk;
pub mod rng;
pub mod sandbox;
pub mod serve;
pub mod signals;
pub mod sim;
pub mod store;
