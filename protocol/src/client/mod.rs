//! The sans-IO ZooKeeper client: connection, session, pending requests, reconnects, watches.
