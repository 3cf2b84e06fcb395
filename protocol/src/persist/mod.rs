//! ZooKeeper's on-disk formats: jute encoding, txn logs, snapshots, epoch files, recovery and purge.
