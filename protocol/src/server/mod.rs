//! The ZooKeeper server: fast leader election, discovery, synchronization, broadcast, heartbeats and sessions.
