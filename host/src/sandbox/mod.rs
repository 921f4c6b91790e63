//! The sandbox: runs each guest component in its own wasmtime store, with no ambient
//! capabilities, a CPU bound per callback, a memory bound, and the host interfaces of the WIT
//! contract as its only door to the world.

pub mod bindings;
pub mod check;
pub mod convert;
pub mod grants;
pub mod host;
pub mod instance;
pub mod limits;
pub mod runtime;
pub mod state;

pub use check::{CheckError, ComponentReport, World};
pub use grants::{DirGrant, Grants};
pub use host::{DeploymentData, GuestCtx, HostEnv, SharedDeployment, lock};
pub use instance::{Halt, InitError, Instance};
pub use limits::{CpuLimit, SandboxLimits};
pub use runtime::{Compiled, Runtime, SandboxError, content_hash};
pub use state::StateStore;
