//! The content-addressed attachment store: `attachments/ab/abcdef…` named by sha256. Uploads are
//! streamed to a temporary file while hashed, never held in memory whole, then renamed into place.

use std::path::PathBuf;

use futures_util::{Stream, StreamExt};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use crate::refusal::{Outcome, Refusal};

#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

/// A file now in the store.
#[derive(Debug, Clone)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
}

impl FileStore {
    pub fn new(root: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root.join("tmp"))?;
        Ok(FileStore { root })
    }

    /// Where the file with this hash lives.
    pub fn path(&self, sha256: &str) -> PathBuf {
        self.root.join(&sha256[..2]).join(sha256)
    }

    /// Streams `chunks` into the store; more than `limit` bytes aborts with `too_large` and leaves
    /// nothing behind.
    pub async fn store<S, B, E>(&self, mut chunks: S, limit: u64) -> Outcome<Stored>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let temp = tempfile::NamedTempFile::new_in(self.root.join("tmp"))?;
        let (std_file, temp_path) = temp.into_parts();
        let mut file = tokio::fs::File::from_std(std_file);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| Refusal::validation(format!("reading the upload failed: {e}")))?;
            let chunk = chunk.as_ref();
            size += chunk.len() as u64;
            if size > limit {
                return Err(too_large(limit));
            }
            hasher.update(chunk);
            file.write_all(chunk).await?;
        }
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        let sha256 = hex::encode(hasher.finalize());
        self.put(temp_path, &sha256).await?;
        Ok(Stored { sha256, size })
    }

    /// Stores bytes already in memory (inbound API attachments, bounded by the request limit).
    pub async fn store_bytes(&self, bytes: &[u8], limit: u64) -> Outcome<Stored> {
        if bytes.len() as u64 > limit {
            return Err(too_large(limit));
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        let temp = tempfile::NamedTempFile::new_in(self.root.join("tmp"))?;
        tokio::fs::write(temp.path(), bytes).await?;
        self.put(temp.into_temp_path(), &sha256).await?;
        Ok(Stored { sha256, size: bytes.len() as u64 })
    }

    async fn put(&self, temp_path: tempfile::TempPath, sha256: &str) -> Outcome<()> {
        let target = self.path(sha256);
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Same content, same name: an existing file is already right.
        if tokio::fs::try_exists(&target).await? {
            return Ok(());
        }
        temp_path.persist(&target).map_err(|e| Refusal::internal(e.error))?;
        Ok(())
    }
}

fn too_large(limit: u64) -> Refusal {
    Refusal::too_large(format!("the upload exceeds this inbox's limit of {limit} bytes"))
}
