//! The text ZooKeeper 3.8's own tools print, so that our dumps can be compared with theirs line
//! for line: `TxnLogToolkit -d` (one line per txn, records rendered by jute's
//! `ToStringOutputArchive` or the toolkit's own formats) and `SnapshotFormatter -d` (one block per
//! znode, then the sessions and the last zxid). Times are rendered in UTC.

use super::txn_codec::encode_txn;
use super::txn_log::ParsedLog;
use crate::acl::Acl;
use crate::op_code::OpCode;
use crate::snapshot_image::{SnapshotImage, SnapshotNode};
use crate::txn::{Txn, TxnEntry};
use crate::types::Zxid;

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// (year, month 1..=12, day, hour, minute, second, weekday index from Thursday) of epoch ms, UTC.
fn civil(ms: i64) -> (i64, usize, i64, i64, i64, i64, usize) {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = days.rem_euclid(7) as usize;
    assert!((1..=12).contains(&month) && (1..=31).contains(&day));
    (
        year,
        month as usize,
        day,
        tod / 3600,
        tod % 3600 / 60,
        tod % 60,
        weekday,
    )
}

/// `java.util.Date.toString()` in UTC: `Sun Nov 22 12:43:31 UTC 2026`.
pub fn java_date(ms: i64) -> String {
    let (y, mo, d, h, mi, s, wd) = civil(ms);
    format!(
        "{} {} {d:02} {h:02}:{mi:02}:{s:02} UTC {y}",
        DAYS[wd],
        MONTHS[mo - 1]
    )
}

/// `DateFormat.getDateTimeInstance(SHORT, LONG)` in en-US, UTC: `11/22/26, 12:43:31 PM UTC`.
pub fn short_date_time(ms: i64) -> String {
    let (y, mo, d, h, mi, s, _) = civil(ms);
    let (h12, ampm) = match h {
        0 => (12, "AM"),
        1..=11 => (h, "AM"),
        12 => (12, "PM"),
        _ => (h - 12, "PM"),
    };
    format!(
        "{mo}/{d}/{:02}, {h12}:{mi:02}:{s:02} {ampm} UTC",
        y.rem_euclid(100)
    )
}

/// `ToStringOutputArchive`'s string escaping (with the leading `'`).
pub fn csv_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\0' => out.push_str("%00"),
            '\n' => out.push_str("%0A"),
            '\r' => out.push_str("%0D"),
            ',' => out.push_str("%2C"),
            '}' => out.push_str("%7D"),
            '%' => out.push_str("%25"),
            _ => out.push(c),
        }
    }
    out
}

fn csv_acl(acl: &Acl) -> String {
    format!(
        "{},s{{{},{}}}",
        acl.perms,
        csv_string(&acl.id.scheme),
        csv_string(&acl.id.id)
    )
}

/// `List<ACL>.toString()`: each ACL's `toString()` (a top-level jute record, so ending in a
/// newline), joined by `", "` in brackets.
fn acl_list(acls: &[Acl]) -> String {
    let items: Vec<String> = acls.iter().map(|a| format!("{}\n", csv_acl(a))).collect();
    format!("[{}]", items.join(", "))
}

fn text(data: &Option<Vec<u8>>) -> String {
    data.as_deref()
        .map(|d| String::from_utf8_lossy(d).into_owned())
        .unwrap_or_default()
}

/// `Request.op2String` for txn types.
pub fn op_name(op: OpCode) -> &'static str {
    match op {
        OpCode::CreateTtl => "createTtl",
        other => other.name(),
    }
}

/// The toolkit's rendering of a txn record (`getFormattedTxnStr` in 3.8.0).
pub fn txn_text(txn: &Txn) -> String {
    match txn {
        Txn::Create {
            path,
            data,
            acl,
            ephemeral,
            parent_cversion,
        } => format!(
            "{path},{},{},{ephemeral},{parent_cversion}",
            text(data),
            acl_list(acl)
        ),
        Txn::SetData {
            path,
            data,
            version,
        } => format!("{path},{},{version}", text(data)),
        Txn::CreateContainer {
            path,
            data,
            acl,
            parent_cversion,
        } => format!("{path},{},{},{parent_cversion}", text(data), acl_list(acl)),
        Txn::CreateTtl {
            path,
            data,
            acl,
            parent_cversion,
            ttl,
        } => format!(
            "{path},{},{},{parent_cversion},{ttl}",
            text(data),
            acl_list(acl)
        ),
        Txn::Multi { txns } => {
            let parts: Vec<String> = txns
                .iter()
                .map(|(op, sub)| {
                    let bytes = encode_txn(sub);
                    format!("{}:{}", op_name(*op), String::from_utf8_lossy(&bytes))
                })
                .collect();
            parts.join(";")
        }
        other => format!("{}\n", csv_record(other)),
    }
}

/// A record through `ToStringOutputArchive` (without the closing newline).
fn csv_record(txn: &Txn) -> String {
    match txn {
        Txn::Delete { path } => csv_string(path),
        Txn::CheckVersion { path, version } => format!("{},{version}", csv_string(path)),
        Txn::SetAcl { path, acl, version } => {
            let acls: Vec<String> = acl.iter().map(|a| format!("s{{{}}}", csv_acl(a))).collect();
            format!("{},v{{{}}},{version}", csv_string(path), acls.join(","))
        }
        Txn::CreateSession { timeout_ms } => timeout_ms.to_string(),
        Txn::CloseSession { paths_to_delete } => {
            let paths: Vec<String> = paths_to_delete.iter().map(|p| csv_string(p)).collect();
            format!("v{{{}}}", paths.join(","))
        }
        Txn::Error { err } => err.to_string(),
        other => txn_text(other).trim_end_matches('\n').to_string(),
    }
}

/// One txn as `TxnLogToolkit.printTxn` prints it, with its final newline.
pub fn txn_line(entry: &TxnEntry) -> String {
    let h = &entry.header;
    let line = format!(
        "{} session 0x{:x} cxid 0x{:x} zxid 0x{:x} {} {}",
        short_date_time(h.time),
        h.client_id.0,
        h.cxid.0,
        h.zxid.0,
        op_name(h.txn_type),
        txn_text(&entry.txn)
    );
    if line.ends_with('\n') {
        line
    } else {
        line + "\n"
    }
}

/// `TxnLogToolkit -d` of a parsed log file.
pub fn log_dump(log: &ParsedLog) -> String {
    let mut out = format!(
        "ZooKeeper Transactional Log File with dbid {} txnlog format version {}\n",
        log.header.dbid, log.header.version
    );
    for record in &log.records {
        out.push_str(&txn_line(&record.entry));
    }
    out.push_str(&format!("EOF reached after {} txns.\n", log.records.len()));
    out
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn hex16(value: i64) -> String {
    format!("{:#016x}", value as u64)
}

/// One znode block of `SnapshotFormatter -d` (starting with its `----` line).
pub fn znode_block(node: &SnapshotNode) -> String {
    let s = &node.stat;
    let path = if node.path.is_empty() {
        "/"
    } else {
        &node.path
    };
    let data = node.data.as_deref().map(base64).unwrap_or_default();
    format!(
        "----\n{path}\n  cZxid = {}\n  ctime = {}\n  mZxid = {}\n  mtime = {}\n  pZxid = {}\n  cversion = {}\n  dataVersion = {}\n  aclVersion = {}\n  ephemeralOwner = {}\n  data = {data}\n",
        hex16(s.czxid.as_i64()),
        java_date(s.ctime),
        hex16(s.mzxid.as_i64()),
        java_date(s.mtime),
        hex16(s.pzxid.as_i64()),
        s.cversion,
        s.version,
        s.aversion,
        hex16(s.ephemeral_owner),
    )
}

/// `SnapshotFormatter -d` of an image whose file name carries `file_zxid`. ZooKeeper prints the
/// znodes and sessions in hash-set order; we print them in the file's order.
pub fn snapshot_dump(image: &SnapshotImage, file_zxid: Zxid) -> String {
    // The formatter's tree holds the root under both "" and "/", so its count is one more.
    let mut out = format!("ZNode Details (count={}):\n", image.nodes.len() + 1);
    let mut last = file_zxid.0;
    for node in &image.nodes {
        out.push_str(&znode_block(node));
        last = last.max(node.stat.mzxid.0).max(node.stat.pzxid.0);
    }
    out.push_str("----\nSession Details (sid, timeout, ephemeralCount):\n");
    for (sid, timeout) in &image.sessions {
        let owned = image
            .nodes
            .iter()
            .filter(|n| n.stat.ephemeral_owner == sid.0)
            .count();
        out.push_str(&format!("{}, {timeout}, {owned}\n", hex16(sid.0)));
    }
    out.push_str(&format!("----\nLast zxid: 0x{last:x}\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_base64() {
        assert_eq!(java_date(0), "Thu Jan 01 00:00:00 UTC 1970");
        assert_eq!(short_date_time(0), "1/1/70, 12:00:00 AM UTC");
        assert_eq!(base64(b"root-of-app"), "cm9vdC1vZi1hcHA=");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
        assert_eq!(csv_string("a,b}%"), "'a%2Cb%7D%25");
    }
}
