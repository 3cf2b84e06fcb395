//! Op scripts (`../shared/op-scripts/README.md`): one JSON object per line, parsed strictly into
//! [`Script`]s. Every error names the line, the op index and the field.

use serde_json::{Map, Value};
use zabsim_protocol::acl::{perms, Acl, Id};
use zabsim_protocol::request::{AddWatchMode, CreateMode, MultiOp, WatcherType};

/// A parse error: line (1-based), where in the script, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptError {
    /// 1-based line number.
    pub line: usize,
    /// The field path, e.g. `ops[3].version`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}: field `{}`: {}",
            self.line, self.field, self.message
        )
    }
}

/// One script.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// Its name.
    pub name: String,
    /// Sessions connected before op 0, in order.
    pub sessions: Vec<String>,
    /// Requested session timeout, ms.
    pub session_timeout_ms: i32,
    /// `zookeeper.extendedTypesEnabled`.
    pub extended_types: bool,
    /// The ops.
    pub ops: Vec<ScriptOp>,
}

/// One op with its session.
#[derive(Clone, Debug, PartialEq)]
pub struct ScriptOp {
    /// The session name.
    pub session: String,
    /// The op name as written.
    pub name: String,
    /// What to do.
    pub kind: OpKind,
}

/// What an op does.
#[derive(Clone, Debug, PartialEq)]
pub enum OpKind {
    /// A create of any mode (flags already resolved; `ttl` -1 unless TTL).
    Create {
        /// Path.
        path: String,
        /// Data.
        data: Option<Vec<u8>>,
        /// ACL.
        acl: Vec<Acl>,
        /// Raw CreateMode flag.
        flags: i32,
        /// TTL, ms, or -1.
        ttl: i64,
    },
    /// delete.
    Delete {
        /// Path.
        path: String,
        /// Version.
        version: i32,
    },
    /// exists / get / children / children_nostat.
    Read {
        /// Which (`exists`, `get`, `children`, `children_nostat`).
        which: ReadKind,
        /// Path.
        path: String,
        /// Leave a watch.
        watch: bool,
    },
    /// set.
    Set {
        /// Path.
        path: String,
        /// Data.
        data: Option<Vec<u8>>,
        /// Version.
        version: i32,
    },
    /// get_acl.
    GetAcl {
        /// Path.
        path: String,
    },
    /// set_acl.
    SetAcl {
        /// Path.
        path: String,
        /// ACL.
        acl: Vec<Acl>,
        /// Expected aversion.
        version: i32,
    },
    /// multi.
    Multi(Vec<MultiOp>),
    /// multi_read.
    MultiRead(Vec<MultiOp>),
    /// sync.
    Sync {
        /// Path.
        path: String,
    },
    /// add_watch.
    AddWatch {
        /// Path.
        path: String,
        /// Mode.
        mode: AddWatchMode,
    },
    /// remove_watches / check_watches.
    Watches {
        /// true for remove, false for check.
        remove: bool,
        /// Path.
        path: String,
        /// Type.
        watcher_type: WatcherType,
    },
    /// get_ephemerals.
    GetEphemerals {
        /// Prefix.
        path: String,
    },
    /// all_children_number.
    AllChildrenNumber {
        /// Path.
        path: String,
    },
    /// add_auth.
    AddAuth {
        /// Scheme.
        scheme: String,
        /// Credentials.
        auth: Vec<u8>,
    },
    /// connect.
    Connect {
        /// Requested timeout.
        timeout_ms: i32,
    },
    /// close.
    Close,
    /// drop.
    Drop,
    /// reconnect (good or bad password).
    Reconnect {
        /// Send a wrong password.
        bad_password: bool,
    },
    /// expire.
    Expire,
}

/// The plain reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadKind {
    /// exists.
    Exists,
    /// get.
    Get,
    /// children (getChildren2).
    Children,
    /// children_nostat (getChildren).
    ChildrenNoStat,
}

/// Parses every non-empty line of `text`.
pub fn parse_scripts(text: &str) -> Result<Vec<Script>, ScriptError> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push(parse_script(i + 1, line)?);
    }
    Ok(out)
}

/// Field-path context for errors.
struct Ctx {
    line: usize,
    prefix: String,
}

impl Ctx {
    fn err(&self, field: &str, message: impl Into<String>) -> ScriptError {
        let field = if self.prefix.is_empty() {
            field.to_string()
        } else if field.is_empty() {
            self.prefix.clone()
        } else {
            format!("{}.{field}", self.prefix)
        };
        ScriptError {
            line: self.line,
            field,
            message: message.into(),
        }
    }

    fn at(&self, field: &str) -> Ctx {
        Ctx {
            line: self.line,
            prefix: if self.prefix.is_empty() {
                field.to_string()
            } else {
                format!("{}.{field}", self.prefix)
            },
        }
    }
}

fn parse_script(line: usize, text: &str) -> Result<Script, ScriptError> {
    let top = Ctx {
        line,
        prefix: String::new(),
    };
    let value: Value =
        serde_json::from_str(text).map_err(|e| top.err("", format!("invalid JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or_else(|| top.err("", "a script must be a JSON object"))?;
    check_keys(
        &top,
        obj,
        &[
            "name",
            "desc",
            "sessions",
            "session_timeout_ms",
            "server",
            "ops",
        ],
    )?;
    let name = req_str(&top, obj, "name")?;
    let sessions = match obj.get("sessions") {
        None => vec!["A".to_string()],
        Some(v) => string_list(&top, "sessions", v)?,
    };
    let session_timeout_ms = opt_int(&top, obj, "session_timeout_ms")?.unwrap_or(10_000);
    let session_timeout_ms = i32::try_from(session_timeout_ms)
        .map_err(|_| top.err("session_timeout_ms", "out of the int range"))?;
    let extended_types = parse_server(&top, obj.get("server"))?;
    let ops_v = obj
        .get("ops")
        .ok_or_else(|| top.err("ops", "missing"))?
        .as_array()
        .ok_or_else(|| top.err("ops", "must be a list"))?;
    let mut ops = Vec::with_capacity(ops_v.len());
    for (k, op) in ops_v.iter().enumerate() {
        ops.push(parse_op(&top.at(&format!("ops[{k}]")), op)?);
    }
    Ok(Script {
        name,
        sessions,
        session_timeout_ms,
        extended_types,
        ops,
    })
}

fn parse_server(c: &Ctx, v: Option<&Value>) -> Result<bool, ScriptError> {
    let Some(v) = v else { return Ok(false) };
    let obj = v
        .as_object()
        .ok_or_else(|| c.err("server", "must be an object"))?;
    let c = c.at("server");
    check_keys(&c, obj, &["jvm_props"])?;
    let Some(props) = obj.get("jvm_props") else {
        return Ok(false);
    };
    let props = props
        .as_object()
        .ok_or_else(|| c.err("jvm_props", "must be an object"))?;
    let mut extended = false;
    for (k, v) in props {
        let v = v
            .as_str()
            .ok_or_else(|| c.err(&format!("jvm_props.{k}"), "must be a string"))?;
        match k.as_str() {
            "zookeeper.extendedTypesEnabled" => extended = v == "true",
            other => {
                return Err(c.err(
                    &format!("jvm_props.{other}"),
                    "unsupported JVM property (only zookeeper.extendedTypesEnabled)",
                ))
            }
        }
    }
    Ok(extended)
}

fn check_keys(c: &Ctx, obj: &Map<String, Value>, allowed: &[&str]) -> Result<(), ScriptError> {
    for k in obj.keys() {
        if !allowed.contains(&k.as_str()) {
            return Err(c.err(k, format!("unknown field (expected one of {allowed:?})")));
        }
    }
    Ok(())
}

fn req_str(c: &Ctx, obj: &Map<String, Value>, key: &str) -> Result<String, ScriptError> {
    obj.get(key)
        .ok_or_else(|| c.err(key, "missing"))?
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| c.err(key, "must be a string"))
}

fn opt_str(c: &Ctx, obj: &Map<String, Value>, key: &str) -> Result<Option<String>, ScriptError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .map(|s| Some(s.to_string()))
            .ok_or_else(|| c.err(key, "must be a string")),
    }
}

fn opt_int(c: &Ctx, obj: &Map<String, Value>, key: &str) -> Result<Option<i64>, ScriptError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| c.err(key, "must be an integer")),
    }
}

fn opt_bool(c: &Ctx, obj: &Map<String, Value>, key: &str) -> Result<Option<bool>, ScriptError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => v
            .as_bool()
            .map(Some)
            .ok_or_else(|| c.err(key, "must be true or false")),
    }
}

fn int32(c: &Ctx, obj: &Map<String, Value>, key: &str, default: i32) -> Result<i32, ScriptError> {
    match opt_int(c, obj, key)? {
        None => Ok(default),
        Some(v) => i32::try_from(v).map_err(|_| c.err(key, "out of the int range")),
    }
}

fn string_list(c: &Ctx, key: &str, v: &Value) -> Result<Vec<String>, ScriptError> {
    let list = v
        .as_array()
        .ok_or_else(|| c.err(key, "must be a list of strings"))?;
    list.iter()
        .map(|s| {
            s.as_str()
                .map(str::to_string)
                .ok_or_else(|| c.err(key, "must be a list of strings"))
        })
        .collect()
}

const OP_KEYS: &[&str] = &[
    "session",
    "op",
    "path",
    "data",
    "flags",
    "raw_flags",
    "acl",
    "ttl",
    "version",
    "watch",
    "ops",
    "mode",
    "type",
    "scheme",
    "auth",
    "timeout_ms",
];

fn parse_op(c: &Ctx, v: &Value) -> Result<ScriptOp, ScriptError> {
    let obj = v
        .as_object()
        .ok_or_else(|| c.err("", "an op must be an object"))?;
    check_keys(c, obj, OP_KEYS)?;
    let session = opt_str(c, obj, "session")?.unwrap_or_else(|| "A".into());
    let name = req_str(c, obj, "op")?;
    let kind = parse_kind(c, obj, &name)?;
    Ok(ScriptOp {
        session,
        name,
        kind,
    })
}

fn path(c: &Ctx, obj: &Map<String, Value>) -> Result<String, ScriptError> {
    req_str(c, obj, "path")
}

fn parse_kind(c: &Ctx, obj: &Map<String, Value>, name: &str) -> Result<OpKind, ScriptError> {
    let read = |which| -> Result<OpKind, ScriptError> {
        Ok(OpKind::Read {
            which,
            path: path(c, obj)?,
            watch: opt_bool(c, obj, "watch")?.unwrap_or(false),
        })
    };
    Ok(match name {
        "create" | "create_container" | "create_ttl" => parse_create(c, obj, name)?,
        "delete" => OpKind::Delete {
            path: path(c, obj)?,
            version: int32(c, obj, "version", -1)?,
        },
        "exists" => read(ReadKind::Exists)?,
        "get" => read(ReadKind::Get)?,
        "children" => read(ReadKind::Children)?,
        "children_nostat" => read(ReadKind::ChildrenNoStat)?,
        "set" => OpKind::Set {
            path: path(c, obj)?,
            data: data(c, obj.get("data"))?,
            version: int32(c, obj, "version", -1)?,
        },
        "get_acl" => OpKind::GetAcl {
            path: path(c, obj)?,
        },
        "set_acl" => OpKind::SetAcl {
            path: path(c, obj)?,
            acl: acl(c, obj.get("acl"))?,
            version: int32(c, obj, "version", -1)?,
        },
        "multi" => OpKind::Multi(sub_ops(c, obj, false)?),
        "multi_read" => OpKind::MultiRead(sub_ops(c, obj, true)?),
        "sync" => OpKind::Sync {
            path: path(c, obj)?,
        },
        "add_watch" => OpKind::AddWatch {
            path: path(c, obj)?,
            mode: match req_str(c, obj, "mode")?.as_str() {
                "persistent" => AddWatchMode::Persistent,
                "persistent_recursive" => AddWatchMode::PersistentRecursive,
                _ => return Err(c.err("mode", "must be persistent or persistent_recursive")),
            },
        },
        "remove_watches" | "check_watches" => OpKind::Watches {
            remove: name == "remove_watches",
            path: path(c, obj)?,
            watcher_type: match req_str(c, obj, "type")?.as_str() {
                "children" => WatcherType::Children,
                "data" => WatcherType::Data,
                "any" => WatcherType::Any,
                _ => return Err(c.err("type", "must be children, data or any")),
            },
        },
        "get_ephemerals" => OpKind::GetEphemerals {
            path: path(c, obj)?,
        },
        "all_children_number" => OpKind::AllChildrenNumber {
            path: path(c, obj)?,
        },
        "add_auth" => OpKind::AddAuth {
            scheme: req_str(c, obj, "scheme")?,
            auth: req_str(c, obj, "auth")?.into_bytes(),
        },
        "connect" => OpKind::Connect {
            timeout_ms: int32(c, obj, "timeout_ms", 10_000)?,
        },
        "close" => OpKind::Close,
        "drop" => OpKind::Drop,
        "reconnect" => OpKind::Reconnect {
            bad_password: false,
        },
        "reconnect_badpw" => OpKind::Reconnect { bad_password: true },
        "expire" => OpKind::Expire,
        other => return Err(c.err("op", format!("unknown op {other:?}"))),
    })
}

fn parse_create(c: &Ctx, obj: &Map<String, Value>, name: &str) -> Result<OpKind, ScriptError> {
    let (ephemeral, sequential) = match obj.get("flags") {
        None => (false, false),
        Some(f) => {
            let f = f
                .as_object()
                .ok_or_else(|| c.err("flags", "must be an object"))?;
            let fc = c.at("flags");
            check_keys(&fc, f, &["ephemeral", "sequential"])?;
            (
                opt_bool(&fc, f, "ephemeral")?.unwrap_or(false),
                opt_bool(&fc, f, "sequential")?.unwrap_or(false),
            )
        }
    };
    let mode = match (name, ephemeral, sequential) {
        ("create_container", _, _) => CreateMode::Container,
        ("create_ttl", true, _) => {
            return Err(c.err("flags.ephemeral", "a TTL node cannot be ephemeral"))
        }
        ("create_ttl", false, false) => CreateMode::PersistentWithTtl,
        ("create_ttl", false, true) => CreateMode::PersistentSequentialWithTtl,
        (_, false, false) => CreateMode::Persistent,
        (_, true, false) => CreateMode::Ephemeral,
        (_, false, true) => CreateMode::PersistentSequential,
        (_, true, true) => CreateMode::EphemeralSequential,
    };
    let flags = match opt_int(c, obj, "raw_flags")? {
        Some(raw) => i32::try_from(raw).map_err(|_| c.err("raw_flags", "out of the int range"))?,
        None => mode.flag(),
    };
    let ttl = if name == "create_ttl" {
        opt_int(c, obj, "ttl")?.ok_or_else(|| c.err("ttl", "missing"))?
    } else {
        -1
    };
    Ok(OpKind::Create {
        path: path(c, obj)?,
        data: data(c, obj.get("data"))?,
        acl: acl(c, obj.get("acl"))?,
        flags,
        ttl,
    })
}

fn sub_ops(c: &Ctx, obj: &Map<String, Value>, read: bool) -> Result<Vec<MultiOp>, ScriptError> {
    let list = obj
        .get("ops")
        .ok_or_else(|| c.err("ops", "missing"))?
        .as_array()
        .ok_or_else(|| c.err("ops", "must be a list"))?;
    let mut out = Vec::with_capacity(list.len());
    for (k, v) in list.iter().enumerate() {
        let sc = c.at(&format!("ops[{k}]"));
        let o = v
            .as_object()
            .ok_or_else(|| sc.err("", "a sub-op must be an object"))?;
        check_keys(&sc, o, OP_KEYS)?;
        out.push(sub_op(&sc, o, read)?);
    }
    Ok(out)
}

fn sub_op(c: &Ctx, o: &Map<String, Value>, read: bool) -> Result<MultiOp, ScriptError> {
    let name = req_str(c, o, "op")?;
    let p = path(c, o)?;
    Ok(match (read, name.as_str()) {
        (false, "create" | "create2") => {
            let OpKind::Create {
                path,
                data,
                acl,
                flags,
                ..
            } = parse_create(c, o, "create")?
            else {
                return Err(c.err("op", "not a create"));
            };
            if name == "create" {
                MultiOp::Create {
                    path,
                    data,
                    acl,
                    flags,
                }
            } else {
                MultiOp::Create2 {
                    path,
                    data,
                    acl,
                    flags,
                }
            }
        }
        (false, "delete") => MultiOp::Delete {
            path: p,
            version: int32(c, o, "version", -1)?,
        },
        (false, "set") => MultiOp::SetData {
            path: p,
            data: data(c, o.get("data"))?,
            version: int32(c, o, "version", -1)?,
        },
        (false, "check") => MultiOp::Check {
            path: p,
            version: int32(c, o, "version", -1)?,
        },
        (true, "get") => MultiOp::GetData { path: p },
        (true, "children") => MultiOp::GetChildren { path: p },
        (false, other) => {
            return Err(c.err(
                "op",
                format!("{other:?} is not a multi op (create, create2, delete, set, check)"),
            ))
        }
        (true, other) => {
            return Err(c.err(
                "op",
                format!("{other:?} is not a multi_read op (get, children)"),
            ))
        }
    })
}

/// Parses a `data` value.
fn data(c: &Ctx, v: Option<&Value>) -> Result<Option<Vec<u8>>, ScriptError> {
    let Some(v) = v else {
        return Ok(Some(Vec::new()));
    };
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone().into_bytes())),
        Value::Object(o) => {
            let dc = c.at("data");
            if let Some(s) = o.get("utf8") {
                check_keys(&dc, o, &["utf8"])?;
                let s = s
                    .as_str()
                    .ok_or_else(|| dc.err("utf8", "must be a string"))?;
                return Ok(Some(s.as_bytes().to_vec()));
            }
            if let Some(s) = o.get("b64") {
                check_keys(&dc, o, &["b64"])?;
                let s = s
                    .as_str()
                    .ok_or_else(|| dc.err("b64", "must be a string"))?;
                return base64_decode(s)
                    .map(Some)
                    .ok_or_else(|| dc.err("b64", "invalid base64"));
            }
            check_keys(&dc, o, &["fill", "len"])?;
            let fill = req_str(&dc, o, "fill")?;
            let len = opt_int(&dc, o, "len")?.ok_or_else(|| dc.err("len", "missing"))?;
            let len = usize::try_from(len)
                .ok()
                .filter(|l| *l <= 64 << 20)
                .ok_or_else(|| dc.err("len", "must be between 0 and 64 MiB"))?;
            if fill.is_empty() && len > 0 {
                return Err(dc.err("fill", "must not be empty"));
            }
            Ok(Some(fill.bytes().cycle().take(len).collect()))
        }
        _ => Err(c.err(
            "data",
            "must be a string, null, {utf8}, {b64} or {fill, len}",
        )),
    }
}

/// Parses an `acl` value.
fn acl(c: &Ctx, v: Option<&Value>) -> Result<Vec<Acl>, ScriptError> {
    let Some(v) = v else {
        return Ok(Acl::open_unsafe());
    };
    if let Some(s) = v.as_str() {
        return match s {
            "open" => Ok(Acl::open_unsafe()),
            "read_only" => Ok(Acl::read_unsafe()),
            "creator_all" => Ok(Acl::creator_all()),
            "empty" => Ok(Vec::new()),
            _ => Err(c.err(
                "acl",
                "must be open, read_only, creator_all, empty or a list",
            )),
        };
    }
    let list = v
        .as_array()
        .ok_or_else(|| c.err("acl", "must be a name or a list of [perms, scheme, id]"))?;
    let mut out = Vec::with_capacity(list.len());
    for (k, e) in list.iter().enumerate() {
        let field = format!("acl[{k}]");
        let bad = || c.err(&field, "must be [perms, scheme, id]");
        let e = e.as_array().filter(|e| e.len() == 3).ok_or_else(bad)?;
        let p = match &e[0] {
            Value::String(s) => {
                perm_string(s).ok_or_else(|| c.err(&field, "perms must use rwcda"))?
            }
            Value::Number(n) => n
                .as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(bad)?,
            _ => return Err(bad()),
        };
        let scheme = e[1].as_str().ok_or_else(bad)?.to_string();
        let id = e[2].as_str().ok_or_else(bad)?.to_string();
        out.push(Acl {
            perms: p,
            id: Id { scheme, id },
        });
    }
    Ok(out)
}

fn perm_string(s: &str) -> Option<i32> {
    s.chars().try_fold(0, |acc, ch| {
        Some(
            acc | match ch {
                'r' => perms::READ,
                'w' => perms::WRITE,
                'c' => perms::CREATE,
                'd' => perms::DELETE,
                'a' => perms::ADMIN,
                _ => return None,
            },
        )
    })
}

/// Standard base64 (padding optional).
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for ch in s.trim_end_matches('=').bytes() {
        let v = match ch {
            b'A'..=b'Z' => ch - b'A',
            b'a'..=b'z' => ch - b'a' + 26,
            b'0'..=b'9' => ch - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}
