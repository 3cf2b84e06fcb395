//! The sans-IO ZooKeeper client (`ZooKeeper` + `ClientCnxn`): connection, session, pending
//! requests in xid order, pings, reconnects within the session timeout, watch re-registration.
//!
//! The contract with the driver is [`io`]; the state machine is [`cnxn`].

pub mod cnxn;
pub mod host_provider;
pub mod io;
pub mod watches;

pub use cnxn::{ClientConfig, ZooKeeper};
pub use io::{ClientAction, ClientConn, ClientInput, ClientTimer, OpResult, OpToken};
