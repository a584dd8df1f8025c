//! Wiring: builds the rings, stages, threads and the side thread from a [`Config`], runs them,
//! shuts them down in order and gathers the final statistics.
//!
//! One concept per file: `build.rs` builds the stages from a [`Config`], connected by rings
//! (and the side thread's bus); `run.rs` places them on threads, runs them, shuts them down in
//! order and gathers the results; `console.rs` is what a run prints. This file holds the public
//! paths (`crate::engine::…`) and [`AnyStage`], the one type every thread hosts.
//!
//! [`Config`]: crate::config::Config

mod build;
mod console;
mod error;
mod run;

pub use build::{Built, VenueEnds, Venues, build, build_capturing, build_for, build_with_clock};
pub use console::run_length;
pub use error::EngineError;
pub use run::{
    DemoOptions, RunResult, record_hist_dir, run, run_demo, run_until, run_with, run_with_until,
};

use crate::book::BookStage;
use crate::feed::binance_ws_feed::BinanceWsFeed;
use crate::feed::max_ws_feed::MaxWsFeed;
use crate::gateway::max_user_feed::MaxUserFeed;
use crate::order::stage::OrderStage;
use crate::pipeline::{Poll, Stage};
use crate::scanner::stage::ScannerStage;
use crate::sim::in_process_feed::SimFeed;

/// One stage of any kind, so a thread can host any mix of them without dynamic dispatch.
pub enum AnyStage {
    Feed(Box<SimFeed>),
    MaxWs(Box<MaxWsFeed>),
    BinanceWs(Box<BinanceWsFeed>),
    MaxUser(Box<MaxUserFeed>),
    Book(Box<BookStage>),
    Scanner(Box<ScannerStage>),
    Order(Box<OrderStage>),
}

impl Stage for AnyStage {
    fn name(&self) -> &'static str {
        match self {
            AnyStage::Feed(s) => s.name(),
            AnyStage::MaxWs(s) => s.name(),
            AnyStage::BinanceWs(s) => s.name(),
            AnyStage::MaxUser(s) => s.name(),
            AnyStage::Book(s) => s.name(),
            AnyStage::Scanner(s) => s.name(),
            AnyStage::Order(s) => s.name(),
        }
    }
    #[inline]
    fn poll(&mut self) -> Poll {
        match self {
            AnyStage::Feed(s) => s.poll(),
            AnyStage::MaxWs(s) => s.poll(),
            AnyStage::BinanceWs(s) => s.poll(),
            AnyStage::MaxUser(s) => s.poll(),
            AnyStage::Book(s) => s.poll(),
            AnyStage::Scanner(s) => s.poll(),
            AnyStage::Order(s) => s.poll(),
        }
    }
    fn wait_fds(&self, out: &mut Vec<crate::pipeline::WaitFd>) {
        match self {
            AnyStage::MaxWs(s) => s.wait_fds(out),
            AnyStage::BinanceWs(s) => s.wait_fds(out),
            AnyStage::MaxUser(s) => s.wait_fds(out),
            AnyStage::Feed(_) | AnyStage::Book(_) | AnyStage::Scanner(_) | AnyStage::Order(_) => {}
        }
    }
}
