//! Test harness shared by every crate's tests: real AWS wire protocols via `moto_server`,
//! started on a free random loopback port and killed when dropped.

mod moto;
mod paths;

pub use moto::{HarnessError, Moto, sdk_config};
pub use paths::{free_port, venv_bin, workspace_root};
