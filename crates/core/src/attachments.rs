//! Attachments on the client: files staged for sending (copied into the cache when queued, so
//! the original may move or vanish, uploaded when online), and downloaded attachments in a
//! content-addressed file cache with a size cap and least-recently-used eviction.

use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};
use sha2::{Digest, Sha256};
use switchboard_proto::*;

use crate::{
    api::ApiClient,
    cache::Cache,
    error::{CoreError, CoreResult},
    sync::EngineConfig,
};

/// A file staged for sending with a message.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StagedFile {
    pub id: Id,
    pub conversation_id: Id,
    pub file_name: String,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
}

/// A content type from the file name, for what channels commonly carry.
pub fn content_type_for(file_name: &str) -> &'static str {
    let extension = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match extension.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" | "log" => "text/plain",
        "csv" => "text/csv",
        "mp4" => "video/mp4",
        "mp3" => "audio/mpeg",
        "ogg" | "opus" => "audio/ogg",
        "zip" => "application/zip",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _ => "application/octet-stream",
    }
}

/// Copies `source` into the staging area for a message in `conversation_id`. Refuses files over
/// the inbox's limit before copying anything.
pub fn stage_file(
    cache: &Cache,
    staging_dir: &Path,
    conversation_id: Id,
    source: &Path,
) -> CoreResult<StagedFile> {
    let conversation: Conversation = cache
        .get(EntityKind::Conversation, conversation_id)?
        .ok_or_else(|| CoreError::Invalid("no such conversation".into()))?;
    let limit = cache
        .get::<Inbox>(EntityKind::Inbox, conversation.inbox_id)?
        .map_or(Channel::Api.attachment_limit(), |inbox| inbox.attachment_limit);
    let metadata = std::fs::metadata(source)?;
    if !metadata.is_file() {
        return Err(CoreError::Invalid(format!("{} is not a file", source.display())));
    }
    if metadata.len() > limit {
        return Err(CoreError::Rejected {
            code: ErrorCode::TooLarge,
            message: format!(
                "{} is {} MB; this inbox takes files up to {} MB",
                source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                metadata.len().div_ceil(1024 * 1024),
                limit / (1024 * 1024)
            ),
            current_assignee_id: None,
            conversation_id: Some(conversation_id),
        });
    }
    let file_name =
        source.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "file".into());
    let id = Id::now_v7();
    std::fs::create_dir_all(staging_dir)?;
    let target = staging_dir.join(id.to_string());
    let mut reader = std::fs::File::open(source)?;
    // An encrypted cache's staged copy is sealed (`sealed.rs`): no plain copy is ever written.
    let (size, sha256) = match cache.file_key() {
        Some(key) => crate::sealed::seal(key, reader, &target)?,
        None => {
            let mut writer = std::fs::File::create(&target)?;
            let mut hasher = Sha256::new();
            let mut buffer = vec![0u8; 64 * 1024];
            let mut size = 0u64;
            loop {
                let read = std::io::Read::read(&mut reader, &mut buffer)?;
                if read == 0 {
                    break;
                }
                size += read as u64;
                hasher.update(&buffer[..read]);
                std::io::Write::write_all(&mut writer, &buffer[..read])?;
            }
            writer.sync_all()?;
            (size, hex::encode(hasher.finalize()))
        }
    };
    let staged = StagedFile {
        id,
        conversation_id,
        content_type: content_type_for(&file_name).to_owned(),
        file_name,
        size,
        sha256,
    };
    cache.lock().execute(
        "INSERT INTO staged_files (id, conversation_id, file_name, content_type, size, sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            staged.id.to_string(),
            conversation_id.to_string(),
            staged.file_name,
            staged.content_type,
            staged.size as i64,
            staged.sha256
        ],
    )?;
    Ok(staged)
}

/// Takes back a file staged but not sent (the composer's ×): its row and its copy go. One that a
/// queued reply names is kept (it goes, or is dropped, with that reply); false when nothing was
/// staged under `staged_id` or a reply holds it.
pub fn unstage(cache: &Cache, staging_dir: &Path, staged_id: Id) -> CoreResult<bool> {
    let queued = cache.outbox()?.into_iter().any(|queued| {
        matches!(&queued.action, crate::outbox::Action::Send { staged_files, .. } if staged_files.contains(&staged_id))
    });
    if queued {
        return Ok(false);
    }
    let removed = cache.lock().execute("DELETE FROM staged_files WHERE id = ?1", [staged_id.to_string()])?;
    remove_staged_copy(staging_dir, staged_id);
    Ok(removed > 0)
}

/// Deletes a staged file's copy (sealed, or plain on an unencrypted cache) once nothing needs it:
/// uploaded, taken back, or its reply refused for good. One already gone is fine.
pub fn remove_staged_copy(staging_dir: &Path, staged_id: Id) {
    let path = staging_dir.join(staged_id.to_string());
    if let Err(error) = std::fs::remove_file(&path) {
        if error.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(%error, path = %path.display(), "removing a staged copy failed");
        }
    }
}

/// Uploads a staged file (once: a second call returns the first upload's id). The staged copy is
/// deleted once the server has the file: a retry of the reply needs only the upload's id.
pub async fn upload_staged(config: EngineConfig, conversation_id: Id, staged_id: Id) -> CoreResult<Id> {
    let row: Option<(String, String, Option<String>)> = config
        .cache
        .lock()
        .query_row(
            "SELECT file_name, content_type, uploaded_id FROM staged_files WHERE id = ?1",
            [staged_id.to_string()],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .optional()?;
    let Some((file_name, content_type, uploaded)) = row else {
        return Err(CoreError::Rejected {
            code: ErrorCode::Validation,
            message: "a staged attachment is missing from the cache".into(),
            current_assignee_id: None,
            conversation_id: Some(conversation_id),
        });
    };
    if let Some(uploaded) = uploaded {
        return uploaded.parse().map_err(|e| CoreError::Corrupt(format!("uploaded id: {e}")));
    }
    let path = config.staging_dir.join(staged_id.to_string());
    let attachment = match config.cache.file_key() {
        Some(key) => {
            let (key, sealed) = (key.clone(), path.clone());
            let bytes = tokio::task::spawn_blocking(move || crate::sealed::open(&key, &sealed))
                .await
                .map_err(|e| CoreError::Invalid(format!("unsealing task: {e}")))??;
            config.api.upload_bytes(conversation_id, bytes, &file_name, &content_type).await?
        }
        None => config.api.upload(conversation_id, &path, &file_name, &content_type).await?,
    };
    config.cache.lock().execute(
        "UPDATE staged_files SET uploaded_id = ?2 WHERE id = ?1",
        params![staged_id.to_string(), attachment.id.to_string()],
    )?;
    remove_staged_copy(&config.staging_dir, staged_id);
    Ok(attachment.id)
}

/// The name a plain copy is written under, safe on every desktop's disk whatever the sender
/// called the file (the name shown stays theirs): its last path component; control characters, the
/// bidirectional controls (an override would make `photo\u{202E}gnp.exe` read as `photoexe.png` in
/// a file manager) and the characters Windows reserves (`<>:"|?*`) replaced by `_`; no trailing
/// dots or spaces (which Windows drops); a Windows device name (`CON`, `NUL`, `COM1`, `LPT¹`, with
/// or without an extension) prefixed with `_`; at most 200 bytes, the extension kept; never empty, `.` or `..`.
fn open_name(file_name: &str) -> String {
    let last = file_name.rsplit(['/', '\\']).next().unwrap_or_default();
    let replaced: String = last
        .chars()
        .map(|c| if c.is_control() || is_bidi_control(c) || "<>:\"|?*".contains(c) { '_' } else { c })
        .collect();
    let mut name = replaced.trim_end_matches(['.', ' ']).trim_start().to_owned();
    if name.is_empty() || name.chars().all(|c| c == '.') {
        return "attachment".into();
    }
    let stem = name.split('.').next().unwrap_or_default().trim_end().to_ascii_uppercase();
    let device = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL" | "CONIN$" | "CONOUT$")
        || ["COM", "LPT"].iter().any(|port| {
            stem.strip_prefix(port).is_some_and(|n| {
                matches!(n, "0" | "1" | "2" | "3" | "4" | "5" | "6" | "7" | "8" | "9" | "¹" | "²" | "³")
            })
        });
    if device {
        name.insert(0, '_');
    }
    if name.len() > 200 {
        let extension = name.rfind('.').map(|dot| name[dot..].to_owned()).filter(|e| e.len() <= 16);
        let extension = extension.unwrap_or_default();
        let mut cut = 200 - extension.len();
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name = format!("{}{extension}", &name[..cut]);
    }
    name
}

/// The Unicode bidirectional controls: marks, embeddings, overrides and isolates.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// The folder beside an account's cache file that holds its downloaded attachments, by sha256.
pub const DOWNLOADS_DIR: &str = "attachments";

/// Deletes downloaded attachments by hash (of conversations purged from the cache); a hash that
/// is not one names no file and is skipped.
pub fn delete_downloads(cache: &Cache, hashes: &[String]) {
    let Some(dir) = cache.path().parent().map(|account| account.join(DOWNLOADS_DIR)) else { return };
    for sha in hashes.iter().filter(|sha| sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit())) {
        if let Err(error) = std::fs::remove_file(dir.join(sha)) {
            if error.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(%error, "deleting a purged attachment failed");
            }
        }
    }
}

/// Downloaded attachments, by sha256, at most `cap_bytes` in all.
pub struct AttachmentCache {
    dir: PathBuf,
    cap_bytes: u64,
}

impl AttachmentCache {
    pub fn new(dir: PathBuf, cap_bytes: u64) -> Self {
        AttachmentCache { dir, cap_bytes }
    }

    /// The local file of an attachment, downloading it if needed; evicts the least recently used
    /// files beyond the cap (never the one just fetched).
    pub async fn fetch(
        &self,
        cache: &Cache,
        api: &ApiClient,
        attachment: &Attachment,
        now: Millis,
    ) -> CoreResult<PathBuf> {
        let valid_hash =
            attachment.sha256.len() == 64 && attachment.sha256.chars().all(|c| c.is_ascii_hexdigit());
        if !valid_hash {
            return Err(CoreError::Invalid("the attachment has no valid hash".into()));
        }
        let path = self.dir.join(&attachment.sha256);
        if !path.exists() {
            tokio::fs::create_dir_all(&self.dir).await?;
            match cache.file_key() {
                // Checked in memory, then sealed: the plain file never touches the disk.
                Some(key) => {
                    let bytes = api.download_bytes(attachment.id, &attachment.sha256).await?;
                    let (key, target) = (key.clone(), path.clone());
                    tokio::task::spawn_blocking(move || {
                        let partial = target.with_extension("partial");
                        crate::sealed::seal(&key, bytes.as_slice(), &partial)?;
                        std::fs::rename(&partial, &target)?;
                        CoreResult::Ok(())
                    })
                    .await
                    .map_err(|e| CoreError::Invalid(format!("sealing task: {e}")))??;
                }
                None => {
                    api.download(attachment.id, &attachment.sha256, &path).await?;
                }
            }
        }
        let size = tokio::fs::metadata(&path).await?.len();
        let evict: Vec<String> = {
            let conn = cache.lock();
            conn.execute(
                "INSERT INTO downloaded_files (sha256, size, last_used) VALUES (?1, ?2, ?3)
                 ON CONFLICT (sha256) DO UPDATE SET last_used = excluded.last_used, size = excluded.size",
                params![attachment.sha256, size as i64, now],
            )?;
            let mut statement =
                conn.prepare("SELECT sha256, size FROM downloaded_files ORDER BY last_used DESC, sha256")?;
            let rows =
                statement.query_map([], |row| Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?)))?;
            let mut total = 0u64;
            let mut evict = Vec::new();
            for row in rows {
                let (sha, size) = row?;
                total += size as u64;
                if total > self.cap_bytes && sha != attachment.sha256 {
                    evict.push(sha);
                }
            }
            for sha in &evict {
                conn.execute("DELETE FROM downloaded_files WHERE sha256 = ?1", [sha])?;
            }
            evict
        };
        for sha in evict {
            let _ = tokio::fs::remove_file(self.dir.join(sha)).await;
        }
        Ok(path)
    }

    /// An attachment's contents (downloaded if needed), unsealed in memory.
    pub async fn read(
        &self,
        cache: &Cache,
        api: &ApiClient,
        attachment: &Attachment,
        now: Millis,
    ) -> CoreResult<Vec<u8>> {
        let path = self.fetch(cache, api, attachment, now).await?;
        let key = cache.file_key().cloned();
        tokio::task::spawn_blocking(move || match key {
            Some(key) => crate::sealed::open(&key, &path),
            None => Ok(std::fs::read(&path)?),
        })
        .await
        .map_err(|e| CoreError::Invalid(format!("unsealing task: {e}")))?
    }

    /// A plain copy of an attachment for another application to open, under `open_dir` (outside
    /// the account's directory; the plain copy is what that application reads). The file name is
    /// the attachment's last path component only (never a path the customer chose).
    pub async fn plain_copy(
        &self,
        cache: &Cache,
        api: &ApiClient,
        attachment: &Attachment,
        now: Millis,
        open_dir: &Path,
    ) -> CoreResult<PathBuf> {
        if cache.file_key().is_none() {
            return self.fetch(cache, api, attachment, now).await;
        }
        let bytes = self.read(cache, api, attachment, now).await?;
        let dir = open_dir.join(&attachment.sha256);
        tokio::fs::create_dir_all(&dir).await?;
        let target = dir.join(open_name(&attachment.file_name));
        tokio::fs::write(&target, bytes).await?;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::{is_bidi_control, open_name};

    #[test]
    fn a_plain_copy_is_named_by_the_last_component_only() {
        assert_eq!(open_name("../../.ssh/authorized_keys"), "authorized_keys");
        assert_eq!(open_name("..\\..\\Windows\\evil.bat"), "evil.bat");
        assert_eq!(open_name("invoice.pdf"), "invoice.pdf");
        for hostile in ["", "..", ".", "dir/", "a/..", "...", "   ", ". ."] {
            assert_eq!(open_name(hostile), "attachment", "{hostile:?}");
        }
    }

    /// What a name must be to be written as itself on Linux, macOS and Windows.
    fn safe_on_disk(name: &str) -> bool {
        let stem = name.split('.').next().unwrap_or_default().to_ascii_uppercase();
        let device = ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"].contains(&stem.as_str())
            || ((stem.starts_with("COM") || stem.starts_with("LPT")) && stem.chars().count() == 4);
        !name.is_empty()
            && name != "."
            && name != ".."
            && name.len() <= 200
            && !name.ends_with(['.', ' '])
            && !name.chars().any(|c| c.is_control() || is_bidi_control(c) || "/\\<>:\"|?*".contains(c))
            && !device
    }

    #[test]
    fn every_hostile_file_name_becomes_one_safe_file() {
        // The hostile corpus (issue 20): traversal, device names, NULs, reversed extensions.
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/fixtures/hostile/cases.jsonl");
        let corpus = std::fs::read_to_string(path).expect("the hostile corpus");
        let dir = tempfile::tempdir().expect("temp dir");
        let mut checked = 0;
        for line in corpus.lines() {
            let case: serde_json::Value = serde_json::from_str(line).expect("a case");
            let name = match case["kind"].as_str() {
                Some("file_name") => case["text"].as_str(),
                Some("attachment") => case["file_name"].as_str(),
                _ => None,
            };
            let Some(name) = name else { continue };
            let safe = open_name(name);
            assert!(safe_on_disk(&safe), "{}: {name:?} became {safe:?}", case["name"]);
            // Written, it is one file directly in the directory, under that name.
            let case_dir = dir.path().join(checked.to_string());
            std::fs::create_dir(&case_dir).expect("case dir");
            std::fs::write(case_dir.join(&safe), b"x").expect("write");
            let entries: Vec<_> =
                std::fs::read_dir(&case_dir).expect("list").flatten().map(|e| e.file_name()).collect();
            assert_eq!(entries, vec![std::ffi::OsString::from(&safe)], "{}", case["name"]);
            checked += 1;
        }
        assert!(checked >= 50, "{checked} file names");
        assert_eq!(open_name("CON"), "_CON");
        assert_eq!(open_name("com1.jpg"), "_com1.jpg");
        assert_eq!(open_name("report.pdf.  "), "report.pdf");
        assert_eq!(open_name("a:b|c.txt"), "a_b_c.txt");
        assert_eq!(open_name("photo\u{202E}gnp.exe"), "photo_gnp.exe");
        assert_eq!(open_name(&format!("{}.pdf", "x".repeat(300))), format!("{}.pdf", "x".repeat(196)));
    }
}
