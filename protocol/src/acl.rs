//! Access control lists: `ACL{int perms; Id id}` with `Id{ustring scheme; ustring id}`.

use serde::{Deserialize, Serialize};

/// Permission bits (`ZooDefs.Perms`).
pub mod perms {
    /// Read data and list children.
    pub const READ: i32 = 1;
    /// Set data.
    pub const WRITE: i32 = 2;
    /// Create children.
    pub const CREATE: i32 = 4;
    /// Delete children.
    pub const DELETE: i32 = 8;
    /// Set the ACL.
    pub const ADMIN: i32 = 16;
    /// Everything.
    pub const ALL: i32 = READ | WRITE | CREATE | DELETE | ADMIN;
}

/// An identity: a scheme (`world`, `auth`, `digest`, `ip`, `super`) and an id within it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Id {
    /// The scheme name.
    pub scheme: String,
    /// The id within the scheme.
    pub id: String,
}

/// One ACL entry.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Acl {
    /// Permission bits, see [`perms`].
    pub perms: i32,
    /// Who they are granted to.
    pub id: Id,
}

impl Acl {
    /// `world:anyone` with the given permissions.
    pub fn world(perms: i32) -> Acl {
        Acl {
            perms,
            id: Id {
                scheme: "world".into(),
                id: "anyone".into(),
            },
        }
    }

    /// `ZooDefs.Ids.OPEN_ACL_UNSAFE`: world:anyone with all permissions.
    pub fn open_unsafe() -> Vec<Acl> {
        vec![Acl::world(perms::ALL)]
    }

    /// `ZooDefs.Ids.READ_ACL_UNSAFE`.
    pub fn read_unsafe() -> Vec<Acl> {
        vec![Acl::world(perms::READ)]
    }

    /// `ZooDefs.Ids.CREATOR_ALL_ACL`: `auth:` with all permissions.
    pub fn creator_all() -> Vec<Acl> {
        vec![Acl {
            perms: perms::ALL,
            id: Id {
                scheme: "auth".into(),
                id: String::new(),
            },
        }]
    }
}
