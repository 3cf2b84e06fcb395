//! Unit tests of the data tree's Stat rules on txn application.

use zabsim_protocol::acl::Acl;
use zabsim_protocol::error_code::ErrorCode;
use zabsim_protocol::store::DataTree;
use zabsim_protocol::types::Zxid;

#[test]
fn create_bumps_parent_cversion_and_pzxid() {
    let mut t = DataTree::new();
    let s = t
        .create_node(
            "/a",
            Some(b"x".to_vec()),
            Acl::open_unsafe(),
            0,
            1,
            Zxid(5),
            0,
        )
        .unwrap();
    assert_eq!(s.czxid, Zxid(5));
    assert_eq!(s.data_length, 1);
    let root = t.node("/").unwrap().client_stat();
    assert_eq!(
        (root.cversion, root.pzxid, root.num_children),
        (1, Zxid(5), 1)
    );
    assert_eq!(
        t.create_node("/a", None, Acl::open_unsafe(), 0, 2, Zxid(6), 0),
        Err(ErrorCode::NODEEXISTS)
    );
    t.delete_node("/a", Zxid(7)).unwrap();
    let root = t.node("/").unwrap().client_stat();
    assert_eq!(
        (root.cversion, root.pzxid, root.num_children),
        (2, Zxid(7), 0)
    );
}

#[test]
fn create_under_missing_parent_is_nonode() {
    let mut t = DataTree::new();
    assert_eq!(
        t.create_node("/a/b", None, Acl::open_unsafe(), 0, 1, Zxid(1), 0),
        Err(ErrorCode::NONODE)
    );
}
