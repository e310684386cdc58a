//! The cache at rest: the database and its WAL are SQLCipher-encrypted (AES-256, a page HMAC)
//! under the account's [`CacheKey`], which only the OS keychain holds. The key is given raw
//! (`PRAGMA key = "x'…'"`), so opening costs no passphrase stretching. A cache written before
//! encryption (plain SQLite) is encrypted on first open with `sqlcipher_export` into a new file that
//! replaces it; the plain file's old disk blocks are freed, not scrubbed.

use std::path::{Path, PathBuf};

use rusqlite::{params, Connection};

use crate::{
    error::{CoreError, CoreResult},
    keychain::CacheKey,
};

/// The first 16 bytes of every plain SQLite file (an encrypted one starts with its random salt).
const PLAIN_HEADER: &[u8; 16] = b"SQLite format 3\0";

fn raw_key(key: &CacheKey) -> String {
    format!("x'{}'", key.to_hex())
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether `path` is a plain (unencrypted) SQLite database.
pub fn is_plain(path: &Path) -> CoreResult<bool> {
    use std::io::Read;
    let mut header = [0u8; 16];
    match std::fs::File::open(path) {
        Ok(mut file) => Ok(file.read_exact(&mut header).is_ok() && &header == PLAIN_HEADER),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error.into()),
    }
}

/// Keys a connection just opened, and checks the key opens the file (SQLCipher reads nothing
/// until a statement needs a page: a wrong key or a plain file fails here, not later).
pub(super) fn apply_key(conn: &Connection, key: &CacheKey) -> CoreResult<()> {
    conn.pragma_update(None, "key", raw_key(key))?;
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get::<_, i64>(0)).map_err(
        |error| CoreError::Corrupt(format!("the cache can't be read with this account's key: {error}")),
    )?;
    Ok(())
}

/// Encrypts a plain cache at `path` in place (nothing to do for a missing or encrypted one):
/// everything, and its schema version, exported into a new encrypted file that replaces it.
pub(super) fn encrypt_plain(path: &Path, key: &CacheKey) -> CoreResult<()> {
    if !is_plain(path)? {
        return Ok(());
    }
    let temp = sidecar(path, ".encrypting");
    remove_if_present(&temp)?;
    {
        let conn = Connection::open(path)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
        let temp_text =
            temp.to_str().ok_or_else(|| CoreError::Invalid("the cache path is not UTF-8".into()))?;
        conn.execute("ATTACH DATABASE ?1 AS encrypted KEY ?2", params![temp_text, raw_key(key)])?;
        conn.query_row("SELECT sqlcipher_export('encrypted')", [], |_| Ok(()))?;
        conn.pragma_update(Some("encrypted"), "user_version", version)?;
        conn.execute("DETACH DATABASE encrypted", [])?;
        // Closing the last connection checkpoints the plain WAL into the plain file.
    }
    // A plain WAL left beside the encrypted file would be read as its log: gone first.
    remove_if_present(&sidecar(path, "-wal"))?;
    remove_if_present(&sidecar(path, "-shm"))?;
    std::fs::rename(&temp, path)?;
    Ok(())
}

/// Deletes the database and its sidecar files (a cache whose key is lost is unreadable: it is
/// synced again from the server).
pub(super) fn remove_database(path: &Path) -> CoreResult<()> {
    for file in [path.to_owned(), sidecar(path, "-wal"), sidecar(path, "-shm"), sidecar(path, ".encrypting")]
    {
        remove_if_present(&file)?;
    }
    Ok(())
}

fn remove_if_present(path: &Path) -> CoreResult<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(error) => Err(error.into()),
    }
}
