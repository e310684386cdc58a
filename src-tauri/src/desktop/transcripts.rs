//! A conversation's transcript for the export: the thread from `switchboard_core::transcripts`
//! (the server's export, or the cache while offline), then text, JSON or a PDF
//! (`crate::transcript_pdf`). The save dialog is the shell's (`commands::export_transcript`).

use switchboard_core::transcripts::{self, TranscriptOptions};

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
        Ok(match format {
            dto::TranscriptFormat::Text => (doc.file_name("txt"), doc.to_text().into_bytes()),
            dto::TranscriptFormat::Json => (doc.file_name("json"), doc.to_json().into_bytes()),
            dto::TranscriptFormat::Pdf => {
                let file_name = doc.file_name("pdf");
                // Shaping and subsetting a long thread is CPU work: off the async threads.
                let bytes = tokio::task::spawn_blocking(move || crate::transcript_pdf::render(&doc))
                    .await
                    .map_err(|e| UiError::new(UiErrorCode::Other, e.to_string()))?
                    .map_err(|e| UiError::new(UiErrorCode::Other, e))?;
                (file_name, bytes)
            }
        })
    }
}
