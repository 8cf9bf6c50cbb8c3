//! Where the engine is and how to reach it, in one place for everything that connects (bollard's
//! client, its liveness probes, a terminal's raw attach): the endpoint found as the docker CLI
//! finds it (`resolve.rs`, from `DOCKER_HOST`, a Docker context (`context.rs`) or the default
//! sockets; addresses read in `address.rs`), its TLS (`tls.rs`), and the connections made to it
//! (`transport.rs`).

mod address;
mod context;
mod environment;
mod resolve;
mod tls;
mod transport;

pub use address::EngineAddress;
pub use context::ContextChoice;
pub use environment::EngineEnvironment;
pub use resolve::{Endpoint, EndpointError, EndpointOrigin};
#[cfg(test)]
pub(crate) use tls::tests::material as tls_material;
pub use tls::{TlsError, TlsSettings};
pub(crate) use transport::{RawConnection, Transport};
