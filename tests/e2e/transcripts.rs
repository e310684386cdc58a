//! Transcripts, end to end: a customer writes, Sara opens the conversation from All and leaves an
//! internal note (nothing here signs in as Sara over HTTP: the two-factor steps left her enrolled), then exports the transcript from the thread's header through the real GTK save dialog
//! (typed into with xdotool, as the reports' export is): as text with notes left out (the default),
//! the file holds the customer's line and not the note; then as a PDF with notes, a PDF whose text
//! (`pdftotext`, poppler-utils) holds both.

use std::path::Path;

use serde_json::json;
use switchboard_e2e::{keys, Session};
use switchboard_proto::*;

use crate::{
    leave_fields, open_row,
    reports::{save_in_dialog, settle, wait_for_file},
    screenshot,
    server::{self, Api},
    Harness, WAIT,
};

const CUSTOMER_LINE: &str = "My invoice INV-7781 shows the wrong amount";
const NOTE: &str = "Billing ticket BILL-12 opened";

pub async fn transcript_steps(
    harness: &Harness,
    server: &Api,
    workspace: &server::Workspace,
    session: &Session,
) -> anyhow::Result<()> {
    let noor = server.inbound(&workspace.whatsapp, "noor", "Noor Haddad", "tx-1", CUSTOMER_LINE).await?;
    let id = noor.conversation_id;
    leave_fields(session).await?;
    crate::show_all_view(session).await?;
    open_row(session, id).await?;

    // An internal note for the team, from the composer.
    leave_fields(session).await?;
    session.press(&["n"]).await?;
    let textarea = session.wait_for("[data-testid=composer]", WAIT).await?;
    session.send_keys(&textarea, NOTE).await?;
    session.send_keys(&textarea, &format!("{}{}{}", keys::CONTROL, keys::ENTER, keys::NULL)).await?;
    server
        .wait_for("the server has Sara's note", || async {
            Ok(server.messages(id).await?.iter().any(|m| m.kind == MessageKind::Note && m.body == NOTE))
        })
        .await?;

    let dir = tempfile::tempdir()?;

    // Text, notes left out: the dialog starts that way.
    open_dialog(session).await?;
    let notes_ticked = session
        .execute(
            "return document.querySelector('[data-testid=transcript-include-notes]').checked;",
            json!([]),
        )
        .await?;
    anyhow::ensure!(notes_ticked == json!(false), "internal notes are left out unless Sara ticks them");
    settle(session).await?;
    screenshot(session, harness, "30-transcript-export").await?;
    let text_path = dir.path().join("noor.txt");
    save(session, &text_path).await?;
    let text = String::from_utf8(wait_for_file(&text_path).await?)?;
    anyhow::ensure!(
        text.lines().any(|line| line.ends_with(&format!("] Noor Haddad: {CUSTOMER_LINE}"))),
        "the text transcript has the customer's line:\n{text}"
    );
    anyhow::ensure!(!text.contains(NOTE), "the note stayed out of the text transcript:\n{text}");
    anyhow::ensure!(text.starts_with("Transcript: Noor Haddad · "), "the text transcript's heading:\n{text}");

    // PDF, notes included.
    open_dialog(session).await?;
    session.click(&session.wait_for("[data-testid=transcript-format-pdf]", WAIT).await?).await?;
    session.click(&session.wait_for("[data-testid=transcript-include-notes]", WAIT).await?).await?;
    let pdf_path = dir.path().join("noor.pdf");
    save(session, &pdf_path).await?;
    let pdf = wait_for_file(&pdf_path).await?;
    anyhow::ensure!(pdf.starts_with(b"%PDF-"), "the saved file is a PDF");
    let extracted = pdf_text(&pdf_path).await?;
    anyhow::ensure!(extracted.contains(CUSTOMER_LINE), "the PDF has the customer's line:\n{extracted}");
    anyhow::ensure!(extracted.contains(NOTE), "the PDF has the note Sara asked for:\n{extracted}");
    println!(
        "transcripts: text without notes and a PDF with them, saved through the save dialog and read back"
    );
    Ok(())
}

async fn open_dialog(session: &Session) -> anyhow::Result<()> {
    leave_fields(session).await?;
    session.click(&session.wait_for("[data-testid=export-transcript]", WAIT).await?).await?;
    session.wait_for("[data-testid=transcript-dialog]", WAIT).await?;
    Ok(())
}

/// Export, type the path into the save dialog, and wait for the export's dialog to close.
async fn save(session: &Session, path: &Path) -> anyhow::Result<()> {
    session.click(&session.wait_for("[data-testid=transcript-save]", WAIT).await?).await?;
    save_in_dialog(path).await?;
    session
        .wait_until(
            "the export dialog closes once the file is saved",
            "return !document.querySelector('[data-testid=transcript-dialog]');",
            WAIT,
        )
        .await?;
    Ok(())
}

async fn pdf_text(path: &Path) -> anyhow::Result<String> {
    let output = tokio::process::Command::new("pdftotext").arg(path).arg("-").output().await?;
    anyhow::ensure!(output.status.success(), "pdftotext: {}", String::from_utf8_lossy(&output.stderr));
    Ok(String::from_utf8(output.stdout)?)
}
