//! A conversation's transcript for the export: the thread from `switchboard_core::transcripts`
//! (the server's export, or the cache while offline), then text, JSON or a PDF
//! (`crate::transcript_pdf`). The save dialog is the shell's (`commands::export_transcript`).
//! An inbox that holds an agent's exports: the request for a lead's approval, the requests to
//! decide, and an approved one's transcript downloaded once (`commands::save_approved_export`);
//! also the workspace's required lock time, read and (admins) set.

use switchboard_core::transcripts::{self, TranscriptOptions};
use switchboard_proto::exports::{ExportDecision, ExportFormat, ExportRequest, NewExportRequest};

use super::*;

impl Desktop {
    /// The transcript's bytes and the file name to offer.
    pub async fn transcript_file(
        &self,
        conversation_id: Uuid,
        format: dto::TranscriptFormat,
        include_notes: bool,
        time_zone: String,
    ) -> UiResult<(String, Vec<u8>)> {
        let (api, cache) = self.with(|s| Ok((s.account.api.clone(), s.account.cache.clone()))).await?;
        let (thread, agents) = transcripts::load(&api, &cache, conversation_id).await?;
        let options = TranscriptOptions { include_notes, time_zone, now: (self.now)() };
        let doc = transcripts::build(&thread, &agents, &options);
        // Shaping and subsetting a long thread for the PDF is CPU work: off the async threads.
        tokio::task::spawn_blocking(move || render(doc, format))
            .await
            .map_err(|e| UiError::new(UiErrorCode::Other, e.to_string()))?
    }
}

/// The transcript document in a format, with the file name to offer.
fn render(doc: transcripts::TranscriptDoc, format: dto::TranscriptFormat) -> UiResult<(String, Vec<u8>)> {
    Ok(match format {
        dto::TranscriptFormat::Text => (doc.file_name("txt"), doc.to_text().into_bytes()),
        dto::TranscriptFormat::Json => (doc.file_name("json"), doc.to_json().into_bytes()),
        dto::TranscriptFormat::Pdf => {
            let file_name = doc.file_name("pdf");
            let bytes =
                crate::transcript_pdf::render(&doc).map_err(|e| UiError::new(UiErrorCode::Other, e))?;
            (file_name, bytes)
        }
    })
}

impl Desktop {
    /// Asks a lead to approve a transcript export the inbox holds (the thread as JSON, so any of
    /// the formats can be saved from it).
    pub async fn request_export(&self, conversation_id: Uuid, reason: String) -> UiResult<ExportRequest> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        let request = NewExportRequest { conversation_id, format: ExportFormat::Json, reason };
        Ok(api.request_export(&request).await?)
    }

    /// The export requests the agent may see: their own; for a lead or admin the ones to decide
    /// too (`pending_only`: only those waiting).
    pub async fn export_requests(&self, pending_only: bool) -> UiResult<Vec<ExportRequest>> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(api.export_requests(pending_only).await?)
    }

    /// A lead's or admin's decision on a pending request.
    pub async fn decide_export(
        &self,
        request_id: Uuid,
        approve: bool,
        note: Option<String>,
    ) -> UiResult<ExportRequest> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(api.decide_export(request_id, &ExportDecision { approve, note }).await?)
    }

    /// The file name to offer for an approved request's transcript, from the cached thread
    /// (the download itself happens once, after the agent picked where to save it).
    pub async fn approved_transcript_name(
        &self,
        conversation_id: Uuid,
        format: dto::TranscriptFormat,
    ) -> String {
        let extension = match format {
            dto::TranscriptFormat::Text => "txt",
            dto::TranscriptFormat::Json => "json",
            dto::TranscriptFormat::Pdf => "pdf",
        };
        let named = self
            .with(|s| {
                let agents: Vec<Agent> = s.account.cache.all(EntityKind::Agent)?;
                let thread = transcripts::from_cache(&s.account.cache, conversation_id)?;
                Ok((thread, agents))
            })
            .await;
        match named {
            Ok((thread, agents)) => {
                let options =
                    TranscriptOptions { include_notes: false, time_zone: "UTC".into(), now: (self.now)() };
                transcripts::build(&thread, &agents, &options).file_name(extension)
            }
            Err(_) => format!("transcript.{extension}"),
        }
    }

    /// An approved request's transcript, downloaded once from the server, as bytes.
    pub async fn approved_transcript_file(
        &self,
        request_id: Uuid,
        format: dto::TranscriptFormat,
        include_notes: bool,
        time_zone: String,
    ) -> UiResult<Vec<u8>> {
        let (api, cache) = self.with(|s| Ok((s.account.api.clone(), s.account.cache.clone()))).await?;
        let (thread, agents) = transcripts::load_approved(&api, &cache, request_id).await?;
        let options = TranscriptOptions { include_notes, time_zone, now: (self.now)() };
        let doc = transcripts::build(&thread, &agents, &options);
        let (_, bytes) = tokio::task::spawn_blocking(move || render(doc, format))
            .await
            .map_err(|e| UiError::new(UiErrorCode::Other, e.to_string()))??;
        Ok(bytes)
    }

    /// The longest idle time before the app locks that an admin requires (`None`: the agent's
    /// choice stands): as the feed last brought it (so it holds offline, and a change arrives as
    /// a `lock_policy` cache change), or from the server when the feed has not carried one yet.
    pub async fn lock_policy(&self) -> UiResult<Option<u32>> {
        let (api, cache) = self.with(|s| Ok((s.account.api.clone(), s.account.cache.clone()))).await?;
        if let Some(cached) = switchboard_core::settings::cached_lock_policy(&cache)? {
            return Ok(cached);
        }
        Ok(switchboard_core::settings::lock_policy(&api).await?)
    }

    /// Admins: requires the app to lock after at most `max_idle_minutes` idle, or lifts it.
    pub async fn set_lock_policy(&self, max_idle_minutes: Option<u32>) -> UiResult<Option<u32>> {
        let api = self.with(|s| Ok(s.account.api.clone())).await?;
        Ok(switchboard_core::settings::set_lock_policy(&api, max_idle_minutes).await?)
    }
}
