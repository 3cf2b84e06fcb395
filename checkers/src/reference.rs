//! An independent sequential reference model of the znode tree (never the protocol's data tree).
