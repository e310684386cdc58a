//! Attachments: staging dropped or pasted files (and taking one back), and fetching one to
//! preview, open or save.

use std::{collections::HashSet, sync::Mutex};

use super::*;

/// The paths the user dropped on the window, as the shell's own drag-and-drop event gave them
/// (`lib.rs`'s window event), never as the page names them: [`Desktop::stage_files`] stages
/// only these, each once, so the webview can't have any other file of the disk copied and sent.
/// Files picked in the page's file chooser or pasted arrive as their bytes (`stage_pasted`).
#[derive(Default)]
pub struct DroppedFiles(Mutex<HashSet<PathBuf>>);

impl DroppedFiles {
    /// Remembers a drop's paths until they are staged.
    pub fn remember(&self, paths: &[PathBuf]) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).extend(paths.iter().cloned());
    }

    /// Takes `paths` if every one of them was dropped (and not staged since); otherwise refuses
    /// and takes none.
    pub fn take(&self, paths: &[PathBuf]) -> UiResult<()> {
        let mut dropped = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(path) = paths.iter().find(|path| !dropped.contains(*path)) {
            return Err(UiError::new(
                UiErrorCode::Invalid,
                format!(
                    "{} was not dropped on the window: attach files by dropping, pasting or choosing them",
                    path.display()
                ),
            ));
        }
        for path in paths {
            dropped.remove(path);
        }
        Ok(())
    }
}

impl Desktop {
    /// Stages files dropped on the window (checked against the inbox's limit).
    pub async fn stage_files(
        &self,
        conversation_id: Uuid,
        paths: Vec<PathBuf>,
    ) -> UiResult<Vec<dto::StagedFile>> {
        self.with(|s| {
            paths
                .iter()
                .map(|path| {
                    let staged = attachments::stage_file(
                        &s.account.cache,
                        &s.account.staging_dir(),
                        conversation_id,
                        path,
                    )?;
                    Ok(dto::StagedFile {
                        id: staged.id,
                        conversation_id,
                        file_name: staged.file_name,
                        content_type: staged.content_type,
                        size: staged.size,
                    })
                })
                .collect()
        })
        .await
    }

    /// Takes back a staged file not yet sent (the composer's ×): its row and its sealed copy go.
    pub async fn unstage_file(&self, staged_id: Uuid) -> UiResult<()> {
        self.with(|s| {
            attachments::unstage(&s.account.cache, &s.account.staging_dir(), staged_id)?;
            Ok(())
        })
        .await
    }

    /// Stages a pasted image (its bytes come from the clipboard as base64).
    pub async fn stage_pasted(
        &self,
        conversation_id: Uuid,
        file_name: &str,
        data_base64: &str,
    ) -> UiResult<dto::StagedFile> {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data_base64.as_bytes())
            .map_err(|e| UiError::new(UiErrorCode::Invalid, format!("the pasted data is not base64: {e}")))?;
        let dir = std::env::temp_dir().join(format!("switchboard-paste-{}", Uuid::new_v4()));
        std::fs::create_dir_all(&dir).map_err(|e| UiError::from(CoreError::from(e)))?;
        let clean: String = Path::new(file_name)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "pasted.png".into());
        let path = dir.join(clean);
        std::fs::write(&path, bytes).map_err(|e| UiError::from(CoreError::from(e)))?;
        let staged = self.stage_files(conversation_id, vec![path]).await;
        let _ = std::fs::remove_dir_all(&dir);
        staged?.into_iter().next().ok_or_else(|| UiError::new(UiErrorCode::Invalid, "nothing was staged"))
    }

    /// An attachment as a data URL for previews (images only, bounded in size).
    pub async fn attachment_preview(&self, attachment: Attachment) -> UiResult<String> {
        use base64::Engine as _;
        if !attachment.content_type.starts_with("image/") || attachment.size > PREVIEW_BYTES {
            return Err(UiError::new(UiErrorCode::Invalid, "no preview for this attachment"));
        }
        let now = (self.now)();
        let (files, cache, api) =
            self.with(|s| Ok((s.files.clone(), s.account.cache.clone(), s.account.api.clone()))).await?;
        // Unsealed in memory: the cached copy stays sealed.
        let bytes = files.read(&cache, &api, &attachment, now).await?;
        Ok(format!(
            "data:{};base64,{}",
            attachment.content_type,
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    /// Downloads an attachment into the cache and returns a plain copy's path for another
    /// application to open (the cached copy is sealed; the plain one goes to the system's temporary
    /// directory, outside the account's). The download runs without holding the session lock: a
    /// slow transfer must not freeze every other command.
    pub async fn download_attachment(&self, attachment: Attachment) -> UiResult<PathBuf> {
        let now = (self.now)();
        let (files, cache, api) =
            self.with(|s| Ok((s.files.clone(), s.account.cache.clone(), s.account.api.clone()))).await?;
        let open_dir = std::env::temp_dir().join("switchboard-open");
        Ok(files.plain_copy(&cache, &api, &attachment, now, &open_dir).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_dropped_paths_are_staged_and_each_once() {
        let dropped = DroppedFiles::default();
        let invoice = PathBuf::from("/home/sara/invoice.pdf");
        let secret = PathBuf::from("/home/sara/.ssh/id_ed25519");
        dropped.remember(std::slice::from_ref(&invoice));

        let refused = dropped.take(&[invoice.clone(), secret.clone()]).expect_err("not dropped");
        assert_eq!(refused.code, UiErrorCode::Invalid);
        assert!(refused.message.contains("id_ed25519"), "{}", refused.message);
        dropped.take(std::slice::from_ref(&invoice)).expect("a refusal takes none: the drop stands");
        assert!(dropped.take(&[invoice]).is_err(), "staged once: the page can't name it again");
        assert!(dropped.take(&[secret]).is_err(), "a path the page names is never staged");
    }
}
