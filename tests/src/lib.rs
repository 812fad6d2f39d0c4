//! The whole system on one machine, wired as AWS wires it: an API Gateway stand-in that turns
//! HTTP requests into HTTP API (v2) events for the functions running under `cargo lambda watch`,
//! an SQS event-source poller for the router events function, and the schedules.

pub mod bench;
pub mod browser;
pub mod gateway;
pub mod guest;
pub mod hotspot;
pub mod leaks;
pub mod pollers;
pub mod stack;
