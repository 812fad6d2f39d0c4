//! The agent's long-running workers, each its own type: the job consumer (SQS), the expirer,
//! the reporter (outbox and heartbeat), the session watch, the host table watch, maintenance and converge (owed grants). Each runs rounds
//! until shutdown through [`Worker::run`]; what a round decides is in `crate::decide`.

pub mod consumer;
pub mod converge;
pub mod expirer;
pub mod host_watch;
pub mod maintenance;
pub mod reporter;
pub mod session_watch;
mod shutdown;
mod worker;

pub use consumer::JobConsumer;
pub use converge::Converge;
pub use expirer::Expirer;
pub use host_watch::HostWatch;
pub use maintenance::Maintenance;
pub use reporter::Reporter;
pub use session_watch::SessionWatch;
pub use shutdown::Shutdown;
pub use worker::Worker;
