//! `zabsim datadir inspect DIR [--json]`: read a real or simulated ZooKeeper `version-2`
//! directory (DIR itself, or DIR/version-2), and print its snapshots and txns as ZooKeeper's
//! `SnapshotFormatter` and `TxnLogToolkit` do, then the recovered tree. With `--json`, print only
//! the recovered tree in the shape of the corpus's `expected_tree.json` (path → data,
//! client-visible stat with absolute zxids, sorted children) plus the recovered zxid and the
//! tree digest (`DataTree` digest, as the servers report it).
//!
//! Exit codes: 0 recovered, 1 the directory cannot be recovered safely (a corrupt log record, no
//! valid snapshot, logs without a snapshot), 2 a missing or unreadable path.

use clap::{Args, Subcommand};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use zabsim_protocol::persist::dump::{log_dump, snapshot_dump};
use zabsim_protocol::persist::load::load_database;
use zabsim_protocol::persist::recovery::{recover, Recovered};
use zabsim_protocol::persist::snapshot::decode_snapshot;
use zabsim_protocol::persist::txn_log::parse_log;
use zabsim_protocol::persist::{names, PersistError};
use zabsim_protocol::server::io::DataDir;
use zabsim_protocol::store::{StoreConfig, ZkDatabase};

/// Arguments of `zabsim datadir`.
#[derive(Debug, Args)]
pub struct DatadirArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: DatadirCommand,
}

/// `zabsim datadir` subcommands.
#[derive(Debug, Subcommand)]
pub enum DatadirCommand {
    /// Print a data directory's snapshots, txns and recovered tree.
    Inspect {
        /// The directory (`version-2` itself or its parent).
        dir: PathBuf,
        /// Print only the recovered tree as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Runs the subcommand.
pub fn run(args: DatadirArgs) -> ExitCode {
    match args.command {
        DatadirCommand::Inspect { dir, json } => inspect(&dir, json),
    }
}

fn inspect(dir: &Path, json: bool) -> ExitCode {
    let files = match read_dir(dir) {
        Ok(files) => files,
        Err(message) => return super::exit::bad_input(message),
    };
    let recovered = recover(&files).and_then(|rec| {
        let mut config = StoreConfig::new(0, 2000);
        config.extended_types_enabled = true;
        load_database(&rec, config, 0).map(|db| (rec, db))
    });
    if !json {
        print_files(&files);
    }
    match recovered {
        Ok((rec, db)) if json => {
            let out = tree_json(&rec, &db);
            println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
            ExitCode::from(super::exit::PASS)
        }
        Ok((rec, db)) => {
            print_recovered(&rec, &db);
            ExitCode::from(super::exit::PASS)
        }
        Err(e) => unrecoverable(dir, &e),
    }
}

fn unrecoverable(dir: &Path, e: &PersistError) -> ExitCode {
    eprintln!("error: {} cannot be recovered safely: {e}", dir.display());
    ExitCode::from(super::exit::VIOLATION)
}

/// The `version-2` directory's regular files, name → bytes.
fn read_dir(dir: &Path) -> Result<DataDir, String> {
    let nested = dir.join("version-2");
    let dir = if nested.is_dir() {
        nested
    } else {
        dir.to_path_buf()
    };
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| format!("{}: cannot read directory: {e}", dir.display()))?;
    let mut files = BTreeMap::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = entry.path();
        if !path.is_file() {
            continue;
        }
        let name = entry
            .file_name()
            .into_string()
            .map_err(|n| format!("{}: file name is not UTF-8: {n:?}", dir.display()))?;
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        files.insert(name, Ok(bytes));
    }
    Ok(files)
}

fn print_files(files: &DataDir) {
    for (zxid, name) in names::sorted_files(files, names::SNAPSHOT_PREFIX) {
        println!("==> {name} <==");
        let bytes = files.get(&name).and_then(|b| b.as_ref().ok());
        match decode_snapshot(&name, bytes.map_or(&[][..], Vec::as_slice)) {
            Ok(image) => print!("{}", snapshot_dump(&image, zxid)),
            Err(e) => println!("invalid snapshot: {e}"),
        }
    }
    for (_, name) in names::sorted_files(files, names::LOG_PREFIX) {
        println!("==> {name} <==");
        let bytes = files.get(&name).and_then(|b| b.as_ref().ok());
        match parse_log(&name, bytes.map_or(&[][..], Vec::as_slice)) {
            Ok(log) => print!("{}", log_dump(&log)),
            Err(e) => println!("unreadable log: {e}"),
        }
    }
}

fn print_recovered(rec: &Recovered, db: &ZkDatabase) {
    println!("==> recovered <==");
    match &rec.snapshot {
        Some(s) => println!("snapshot: {} (zxid {})", s.file, s.zxid),
        None => println!("snapshot: none (empty database)"),
    }
    for (name, why) in &rec.skipped_snapshots {
        println!("skipped snapshot: {name}: {why}");
    }
    println!("txns replayed: {}", rec.txns.len());
    println!("last zxid: {}", rec.last_processed_zxid);
    let tree = db.tree();
    for (path, node) in tree.nodes() {
        let stat = tree.stat_of(node);
        let data = node
            .data
            .as_deref()
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        println!(
            "{path} czxid={:#x} mzxid={:#x} pzxid={:#x} version={} cversion={} aversion={} ephemeralOwner={:#x} numChildren={} data={data:?}",
            stat.czxid.0, stat.mzxid.0, stat.pzxid.0, stat.version, stat.cversion, stat.aversion,
            stat.ephemeral_owner, stat.num_children
        );
    }
}

/// The recovered tree as `expected_tree.json` shapes it.
pub fn tree_json(rec: &Recovered, db: &ZkDatabase) -> Value {
    let tree = db.tree();
    let mut nodes = Map::new();
    for (path, node) in tree.nodes() {
        let s = tree.stat_of(node);
        let data = match node.data.as_deref() {
            None => Value::Null,
            Some(bytes) => match std::str::from_utf8(bytes) {
                Ok(text) => Value::String(text.to_string()),
                Err(_) => json!({ "base64": zabsim_protocol::persist::dump::base64(bytes) }),
            },
        };
        let children: Vec<&String> = node.children.iter().collect();
        nodes.insert(
            path.clone(),
            json!({
                "children": children,
                "data": data,
                "stat": {
                    "aversion": s.aversion,
                    "cversion": s.cversion,
                    "czxid": s.czxid.0,
                    "dataLength": s.data_length,
                    "ephemeralOwner": s.ephemeral_owner,
                    "mzxid": s.mzxid.0,
                    "numChildren": s.num_children,
                    "pzxid": s.pzxid.0,
                    "version": s.version,
                },
            }),
        );
    }
    json!({
        "last_zxid_hex": format!("{}", rec.last_processed_zxid),
        "last_zxid": rec.last_processed_zxid.0,
        "digest": db.digest(),
        "tree": nodes,
    })
}
