//! From a [`Recovered`] directory to a live [`ZkDatabase`]: load the snapshot image (its zxid is
//! the one in the file name, as on-disk restore uses), then apply every replayed txn in log order
//! through the store, whose replay is idempotent for txns a fuzzy snapshot already holds.

use super::error::PersistError;
use super::recovery::Recovered;
use crate::store::{StoreConfig, ZkDatabase};

/// Builds the database recovery describes.
pub fn load_database(
    rec: &Recovered,
    config: StoreConfig,
    now_ms: i64,
) -> Result<ZkDatabase, PersistError> {
    let mut db = match &rec.snapshot {
        None => ZkDatabase::new(config, now_ms),
        Some(snap) => {
            let mut image = snap.image.clone();
            // FileSnap.deserialize: the file name's zxid wins over a serialized lastProcessedZxid.
            image.last_processed_zxid = None;
            ZkDatabase::from_snapshot_image(config, &image, snap.zxid, now_ms).map_err(|e| {
                PersistError::Malformed {
                    file: snap.file.clone(),
                    offset: 0,
                    field: "node",
                    problem: e.to_string(),
                }
            })?
        }
    };
    for entry in &rec.txns {
        db.apply(entry);
    }
    Ok(db)
}
