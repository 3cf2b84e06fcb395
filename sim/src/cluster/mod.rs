//! The cluster glue: boots ZooKeeper servers and clients on the kernel, maps their actions onto kernel operations, records the history.
