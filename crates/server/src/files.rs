//! The content-addressed attachment store: blobs named by sha256 (`ab/abcdef…`), in a local
//! directory or in S3-compatible object storage ([`BlobStore`]). Uploads are streamed to a local
//! temporary file while hashed, never held in memory whole, then handed to the blob store.

use std::{path::PathBuf, sync::Arc};

use anyhow::Context;
use bytes::Bytes;
use futures_util::{stream::BoxStream, Stream, StreamExt, TryStreamExt};
use object_store::{aws::AmazonS3, ObjectStore, ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::refusal::{Outcome, Refusal};

/// Where attachments live: `--attachments file:///path` or `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attachments {
    /// A local directory (or a mount every node shares).
    Directory(PathBuf),
    /// An S3-compatible bucket; credentials, region and endpoint come from the `AWS_*` variables.
    S3 { bucket: String, prefix: String },
}

impl Attachments {
    /// Parses `file:///absolute/path` or `s3://bucket[/prefix]`.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let Some((scheme, rest)) = url.split_once("://") else {
            anyhow::bail!("attachments {url:?} is not a URL: use file:///path or s3://bucket/prefix")
        };
        match scheme {
            "file" => {
                if !rest.starts_with('/') {
                    anyhow::bail!(
                        "attachments {url:?}: a file URL needs an absolute path, as in file:///srv/attachments"
                    );
                }
                Ok(Attachments::Directory(PathBuf::from(rest)))
            }
            "s3" => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
                if bucket.is_empty() || !bucket.chars().all(valid) {
                    anyhow::bail!(
                        "attachments {url:?}: {bucket:?} is not a bucket name (lowercase letters, digits, \
                         '-' and '.'), as in s3://my-bucket/switchboard"
                    );
                }
                let prefix = prefix.trim_matches('/');
                if prefix.split('/').any(|part| part == "." || part == "..")
                    || prefix.contains("//")
                    || object_store::path::Path::parse(prefix).is_err()
                {
                    anyhow::bail!("attachments {url:?}: {prefix:?} is not a key prefix");
                }
                Ok(Attachments::S3 { bucket: bucket.to_owned(), prefix: prefix.to_owned() })
            }
            other => anyhow::bail!(
                "unsupported attachments scheme {other:?}: use file:///path or s3://bucket/prefix"
            ),
        }
    }

    /// Where attachments live, for messages.
    pub fn describe(&self) -> String {
        match self {
            Attachments::Directory(path) => format!("file://{}", path.display()),
            Attachments::S3 { bucket, prefix } if prefix.is_empty() => format!("s3://{bucket}"),
            Attachments::S3 { bucket, prefix } => format!("s3://{bucket}/{prefix}"),
        }
    }
}

/// Where content-addressed blobs are kept.
#[derive(Debug, Clone)]
pub enum BlobStore {
    /// `root/ab/abcdef…`; `put_file` renames the temporary file into place.
    Directory(PathBuf),
    /// `prefix/ab/abcdef…` in a bucket.
    S3 { store: Arc<AmazonS3>, prefix: String },
}

/// A blob opened for download.
pub struct Blob {
    pub size: u64,
    pub stream: BoxStream<'static, std::io::Result<Bytes>>,
}

/// Objects up to this size go up in one PUT; larger ones in 5 MiB multipart parts.
const SINGLE_PUT: u64 = 8 << 20;

impl BlobStore {
    /// Opens the store `attachments` names (the S3 client is configured from the `AWS_*`
    /// variables; nothing is contacted yet).
    pub fn open(attachments: &Attachments) -> anyhow::Result<Self> {
        match attachments {
            Attachments::Directory(root) => {
                std::fs::create_dir_all(root)
                    .with_context(|| format!("creating attachments directory {}", root.display()))?;
                Ok(BlobStore::Directory(root.clone()))
            }
            Attachments::S3 { bucket, prefix } => {
                // reqwest 0.13 is built without a TLS provider of its own (no aws-lc-rs): use ring.
                // An Err only means one is installed already.
                let _ = rustls::crypto::ring::default_provider().install_default();
                let store = object_store::aws::AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .build()
                    .with_context(|| {
                    format!("configuring S3 bucket {bucket:?} from the AWS_* variables")
                })?;
                Ok(BlobStore::S3 { store: Arc::new(store), prefix: prefix.clone() })
            }
        }
    }

    fn key(prefix: &str, sha256: &str) -> object_store::path::Path {
        let relative = format!("{}/{sha256}", &sha256[..2]);
        if prefix.is_empty() {
            object_store::path::Path::from(relative)
        } else {
            object_store::path::Path::from(format!("{prefix}/{relative}"))
        }
    }

    /// Stores the finished temporary file `temp` (of `size` bytes, hashing to `sha256`) under
    /// its hash. Same content, same key: a blob already there is left as it is.
    pub async fn put_file(&self, temp: tempfile::TempPath, sha256: &str, size: u64) -> Outcome<()> {
        match self {
            BlobStore::Directory(root) => {
                let target = root.join(&sha256[..2]).join(sha256);
                if let Some(parent) = target.parent() {
                    tokio::fs::create_dir_all(parent).await?;
                }
                if tokio::fs::try_exists(&target).await? {
                    return Ok(());
                }
                temp.persist(&target).map_err(|e| Refusal::internal(e.error))?;
                Ok(())
            }
            BlobStore::S3 { store, prefix } => {
                let key = Self::key(prefix, sha256);
                if self.exists(sha256).await? {
                    return Ok(());
                }
                if size <= SINGLE_PUT {
                    let bytes = tokio::fs::read(&temp).await?;
                    store.put(&key, bytes.into()).await.map_err(Refusal::internal)?;
                } else {
                    let upload = store.put_multipart(&key).await.map_err(Refusal::internal)?;
                    let mut upload = WriteMultipart::new(upload);
                    let mut file = tokio::fs::File::open(&temp).await?;
                    let mut buffer = vec![0u8; 1 << 20];
                    loop {
                        let read = file.read(&mut buffer).await?;
                        if read == 0 {
                            break;
                        }
                        upload.wait_for_capacity(2).await.map_err(Refusal::internal)?;
                        upload.write(&buffer[..read]);
                    }
                    upload.finish().await.map_err(Refusal::internal)?;
                }
                Ok(())
            }
        }
    }

    /// Opens the blob with this hash as a byte stream.
    pub async fn open_blob(&self, sha256: &str) -> Outcome<Blob> {
        match self {
            BlobStore::Directory(root) => {
                let file = tokio::fs::File::open(root.join(&sha256[..2]).join(sha256)).await?;
                let size = file.metadata().await?.len();
                Ok(Blob { size, stream: tokio_util::io::ReaderStream::new(file).boxed() })
            }
            BlobStore::S3 { store, prefix } => {
                let result = store.get(&Self::key(prefix, sha256)).await.map_err(Refusal::internal)?;
                let size = result.meta.size;
                let stream = result.into_stream().map_err(std::io::Error::other).boxed();
                Ok(Blob { size, stream })
            }
        }
    }

    /// Checks that the store can be read (for S3: the bucket exists and the credentials may list
    /// it), so a misspelt bucket or a bad key stops the server at start rather than at the first
    /// upload. One request: the first page of the prefix's listing.
    pub async fn check(&self) -> anyhow::Result<()> {
        match self {
            BlobStore::Directory(root) => {
                std::fs::read_dir(root)
                    .with_context(|| format!("reading attachments directory {}", root.display()))?;
                Ok(())
            }
            BlobStore::S3 { store, prefix } => {
                let prefix = (!prefix.is_empty()).then(|| object_store::path::Path::from(prefix.as_str()));
                match store.list(prefix.as_ref()).next().await {
                    None | Some(Ok(_)) => Ok(()),
                    Some(Err(error)) => Err(anyhow::anyhow!(error)).context(
                        "the attachments bucket can't be listed (does it exist, and may these AWS_* credentials read it?)",
                    ),
                }
            }
        }
    }

    /// Deletes the blob with this hash (nothing to do if it is not there).
    pub async fn delete(&self, sha256: &str) -> Outcome<()> {
        match self {
            BlobStore::Directory(root) => {
                match tokio::fs::remove_file(root.join(&sha256[..2]).join(sha256)).await {
                    Err(error) if error.kind() != std::io::ErrorKind::NotFound => Err(error.into()),
                    _ => Ok(()),
                }
            }
            BlobStore::S3 { store, prefix } => match store.delete(&Self::key(prefix, sha256)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(Refusal::internal(e)),
            },
        }
    }

    /// Whether a blob with this hash is stored.
    pub async fn exists(&self, sha256: &str) -> Outcome<bool> {
        match self {
            BlobStore::Directory(root) => {
                Ok(tokio::fs::try_exists(root.join(&sha256[..2]).join(sha256)).await?)
            }
            BlobStore::S3 { store, prefix } => match store.head(&Self::key(prefix, sha256)).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::NotFound { .. }) => Ok(false),
                Err(e) => Err(Refusal::internal(e)),
            },
        }
    }
}

#[derive(Debug, Clone)]
pub struct FileStore {
    /// Where uploads are written while hashed: beside a directory store (so the file is renamed
    /// into place), under the data directory for S3.
    temp: PathBuf,
    blobs: BlobStore,
}

/// A file now in the store.
#[derive(Debug, Clone)]
pub struct Stored {
    pub sha256: String,
    pub size: u64,
}

impl FileStore {
    pub fn new(attachments: &Attachments, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        let blobs = BlobStore::open(attachments)?;
        let temp = match attachments {
            Attachments::Directory(root) => root.join("tmp"),
            Attachments::S3 { .. } => data_dir.join("upload-tmp"),
        };
        std::fs::create_dir_all(&temp).with_context(|| format!("creating {}", temp.display()))?;
        Ok(FileStore { temp, blobs })
    }

    /// See [`BlobStore::check`].
    pub async fn check(&self) -> anyhow::Result<()> {
        self.blobs.check().await
    }

    /// Deletes the stored file with this hash (an erasure's, once no attachment names it).
    pub async fn delete(&self, sha256: &str) -> Outcome<()> {
        if sha256.len() < 2 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Refusal::internal(format!("not a file hash: {sha256:?}")));
        }
        self.blobs.delete(sha256).await
    }

    /// Opens the stored file with this hash for download.
    pub async fn open(&self, sha256: &str) -> Outcome<Blob> {
        self.blobs.open_blob(sha256).await
    }

    /// Streams `chunks` into the store; more than `limit` bytes aborts with `too_large` and leaves
    /// nothing behind.
    pub async fn store<S, B, E>(&self, mut chunks: S, limit: u64) -> Outcome<Stored>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        let temp = tempfile::NamedTempFile::new_in(&self.temp)?;
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
        self.blobs.put_file(temp_path, &sha256, size).await?;
        Ok(Stored { sha256, size })
    }

    /// Stores bytes already in memory (inbound API attachments, bounded by the request limit).
    pub async fn store_bytes(&self, bytes: &[u8], limit: u64) -> Outcome<Stored> {
        if bytes.len() as u64 > limit {
            return Err(too_large(limit));
        }
        let sha256 = hex::encode(Sha256::digest(bytes));
        let temp = tempfile::NamedTempFile::new_in(&self.temp)?;
        tokio::fs::write(temp.path(), bytes).await?;
        self.blobs.put_file(temp.into_temp_path(), &sha256, bytes.len() as u64).await?;
        Ok(Stored { sha256, size: bytes.len() as u64 })
    }
}

fn too_large(limit: u64) -> Refusal {
    Refusal::too_large(format!("the upload exceeds this inbox's limit of {limit} bytes"))
}

/// A name safe to put in a header and on a disk: no path, no control characters.
pub fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control() && *c != '"').take(200).collect();
    if cleaned.trim().is_empty() {
        "file".into()
    } else {
        cleaned
    }
}

/// A plausible `type/subtype`, else `application/octet-stream`.
pub fn clean_content_type(content_type: &str) -> String {
    let ok = content_type.len() <= 100
        && content_type.split_once('/').is_some_and(|(a, b)| {
            let token =
                |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
            token(a) && token(b)
        });
    if ok {
        content_type.to_ascii_lowercase()
    } else {
        "application/octet-stream".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_urls_parse() {
        assert_eq!(
            Attachments::parse("file:///srv/attachments").ok(),
            Some(Attachments::Directory(PathBuf::from("/srv/attachments")))
        );
        assert_eq!(
            Attachments::parse("s3://my-bucket/switchboard/prod/").ok(),
            Some(Attachments::S3 { bucket: "my-bucket".into(), prefix: "switchboard/prod".into() })
        );
        assert_eq!(
            Attachments::parse("s3://my.bucket").ok(),
            Some(Attachments::S3 { bucket: "my.bucket".into(), prefix: String::new() })
        );
        assert_eq!(Attachments::parse("s3://b/p").map(|a| a.describe()).ok().as_deref(), Some("s3://b/p"));
        let error = |url: &str| Attachments::parse(url).expect_err(url).to_string();
        assert!(error("ftp://host/x").contains("unsupported attachments scheme \"ftp\""));
        assert!(error("/srv/attachments").contains("not a URL"));
        assert!(error("file://relative/path").contains("absolute path"));
        assert!(error("s3://").contains("not a bucket name"));
        assert!(error("s3:///prefix").contains("not a bucket name"));
        assert!(error("s3://My_Bucket/x").contains("not a bucket name"));
        assert!(error("s3://bucket/a//b").contains("not a key prefix"));
        assert!(error("s3://bucket/a/../b").contains("not a key prefix"));
    }

    #[test]
    fn keys_follow_the_directory_layout() {
        let sha = "abcdef0123";
        assert_eq!(BlobStore::key("", sha).as_ref(), "ab/abcdef0123");
        assert_eq!(BlobStore::key("team/files", sha).as_ref(), "team/files/ab/abcdef0123");
    }

    #[tokio::test]
    async fn a_directory_store_is_content_addressed_and_idempotent() {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = FileStore::new(&Attachments::Directory(dir.path().join("a")), dir.path()).expect("store");
        let first = store.store_bytes(b"hello", 100).await.expect("store");
        let second = store.store_bytes(b"hello", 100).await.expect("store again");
        assert_eq!(first.sha256, second.sha256);
        assert!(store.blobs.exists(&first.sha256).await.expect("exists"));
        assert!(dir.path().join("a").join(&first.sha256[..2]).join(&first.sha256).is_file());
        let blob = store.open(&first.sha256).await.expect("open");
        assert_eq!(blob.size, 5);
        let bytes: Vec<Bytes> = blob.stream.try_collect().await.expect("read");
        assert_eq!(bytes.concat(), b"hello");
        assert!(!store.blobs.exists(&"0".repeat(64)).await.expect("exists"));
    }
}
