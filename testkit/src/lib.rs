//! Test harness shared by every crate's tests: real AWS wire protocols via `moto_server`,
//! started on a free random loopback port and killed when dropped; Lambda functions run through
//! the runtime API; child processes and raw HTTP.

pub mod bridge;
pub mod freeradius;
pub mod lambda;
pub mod link;
mod moto;
mod paths;
pub mod process;
pub mod radsec;

pub use moto::{HarnessError, Moto, sdk_config};
pub use paths::{free_port, venv_bin, workspace_root};
pub use process::{ChildGuard, raw_http, raw_http_from, wait_port};
