//! The benchmark harness as a library: the workspace generator and the figures, shared by the
//! `switchboard-bench` command (src/main.rs) and the micro-benchmarks (benches/hot_paths.rs).

pub mod app;
pub mod automation;
pub mod board;
pub mod bootstrap;
pub mod channels;
pub mod encryption;
pub mod figures;
pub mod generate;
pub mod load;
pub mod phases;
pub mod report;
pub mod reports;
pub mod scale;
pub mod server;
