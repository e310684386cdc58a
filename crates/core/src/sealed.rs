//! Files of an account kept sealed at rest (staged files, downloaded attachments): ChaCha20-Poly1305
//! in the STREAM construction (`aead-stream`, RustCrypto), 64 KiB chunks each authenticated with
//! its position and whether it is the last, so a file can't be truncated, reordered or altered
//! unnoticed. The key is derived from the account's cache key, so it too lives only in the
//! keychain and goes with it at sign-out.
//!
//! Layout: `SBF1`, a random 7-byte nonce prefix, then the chunks (each 16 bytes longer than its
//! plaintext); the last chunk may be short or empty.

use std::{
    io::{Read, Write},
    path::Path,
};

use aead_stream::{DecryptorBE32, EncryptorBE32, KeyInit};
use chacha20poly1305::ChaCha20Poly1305;
use sha2::{Digest, Sha256};

use crate::error::{CoreError, CoreResult};

const MAGIC: &[u8; 4] = b"SBF1";
const NONCE: usize = 7;
const CHUNK: usize = 64 * 1024;
const TAG: usize = 16;

/// The key files are sealed with (derived from the account's cache key). `Debug` is redacted.
#[derive(Clone)]
pub struct FileKey([u8; 32]);

impl std::fmt::Debug for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FileKey(<redacted>)")
    }
}

impl FileKey {
    /// A key for files, separate from the database's: SHA-256 over a label and the cache key (a
    /// uniformly random 256-bit key needs no stretching, only separation).
    pub(crate) fn derive(cache_key: &[u8]) -> Self {
        let mut hasher = Sha256::new();
        hasher.update(b"switchboard sealed files v1\0");
        hasher.update(cache_key);
        Self(hasher.finalize().into())
    }

    fn cipher(&self) -> CoreResult<ChaCha20Poly1305> {
        ChaCha20Poly1305::new_from_slice(&self.0).map_err(|_| CoreError::Invalid("file key length".into()))
    }
}

fn sealing_failed() -> CoreError {
    CoreError::Corrupt("a sealed file could not be written".into())
}

/// Reads `reader` to its end, sealing it into `target`; answers the plaintext's size and sha256.
pub fn seal(key: &FileKey, mut reader: impl Read, target: &Path) -> CoreResult<(u64, String)> {
    let mut nonce = [0u8; NONCE];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut nonce);
    let mut encryptor = EncryptorBE32::from_aead(key.cipher()?, (&nonce).into());
    let mut file = std::fs::File::create(target)?;
    file.write_all(MAGIC)?;
    file.write_all(&nonce)?;
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut current = read_chunk(&mut reader)?;
    loop {
        let next = if current.len() == CHUNK { read_chunk(&mut reader)? } else { Vec::new() };
        size += current.len() as u64;
        hasher.update(&current);
        if next.is_empty() {
            let sealed = encryptor.encrypt_last(current.as_slice()).map_err(|_| sealing_failed())?;
            file.write_all(&sealed)?;
            break;
        }
        let sealed = encryptor.encrypt_next(current.as_slice()).map_err(|_| sealing_failed())?;
        file.write_all(&sealed)?;
        current = next;
    }
    file.sync_all()?;
    Ok((size, hex::encode(hasher.finalize())))
}

/// Up to one chunk from `reader` (short only at its end).
fn read_chunk(reader: &mut impl Read) -> CoreResult<Vec<u8>> {
    let mut chunk = Vec::with_capacity(CHUNK);
    reader.take(CHUNK as u64).read_to_end(&mut chunk)?;
    Ok(chunk)
}

/// A sealed file's plaintext; any change to the file (or another key) is `CoreError::Corrupt`.
pub fn open(key: &FileKey, path: &Path) -> CoreResult<Vec<u8>> {
    let bytes = std::fs::read(path)?;
    let damaged = || CoreError::Corrupt(format!("{} is damaged or sealed with another key", path.display()));
    if bytes.len() < MAGIC.len() + NONCE + TAG || &bytes[..MAGIC.len()] != MAGIC {
        return Err(damaged());
    }
    let (nonce, mut rest) = bytes[MAGIC.len()..].split_at(NONCE);
    let nonce: [u8; NONCE] = nonce.try_into().map_err(|_| damaged())?;
    let mut decryptor = DecryptorBE32::from_aead(key.cipher()?, (&nonce).into());
    let mut plain = Vec::with_capacity(rest.len());
    while rest.len() > CHUNK + TAG {
        let (chunk, tail) = rest.split_at(CHUNK + TAG);
        plain.extend(decryptor.decrypt_next(chunk).map_err(|_| damaged())?);
        rest = tail;
    }
    plain.extend(decryptor.decrypt_last(rest).map_err(|_| damaged())?);
    Ok(plain)
}

/// Whether `path` is a sealed file (by its magic bytes).
pub fn is_sealed(path: &Path) -> bool {
    let mut magic = [0u8; 4];
    std::fs::File::open(path).and_then(|mut file| file.read_exact(&mut magic)).is_ok() && &magic == MAGIC
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_length_around_a_chunk_and_refuses_changes() {
        let dir = tempfile::tempdir().expect("dir");
        let key = FileKey::derive(&[7u8; 32]);
        for len in [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 2 * CHUNK + 5] {
            let plain: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let path = dir.path().join(format!("f{len}"));
            let (size, sha) = seal(&key, plain.as_slice(), &path).expect("seal");
            assert_eq!(size, len as u64);
            assert_eq!(sha, hex::encode(Sha256::digest(&plain)));
            assert!(is_sealed(&path));
            assert_eq!(open(&key, &path).expect("open"), plain, "length {len}");
        }
        let path = dir.path().join(format!("f{}", 2 * CHUNK + 5));
        let other = FileKey::derive(&[8u8; 32]);
        assert!(open(&other, &path).is_err(), "another key");
        let mut bytes = std::fs::read(&path).expect("read");
        bytes.truncate(bytes.len() - (CHUNK / 2)); // Cut mid-way: the last chunk is gone.
        std::fs::write(&path, &bytes).expect("write");
        assert!(open(&key, &path).is_err(), "truncated");
        let path = dir.path().join(format!("f{}", CHUNK + 1));
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[20] ^= 1;
        std::fs::write(&path, &bytes).expect("write");
        assert!(open(&key, &path).is_err(), "altered");
    }
}
