//! The commands the UI invokes. Each takes the state, calls the desktop session, and maps
//! errors to `{code, message}`; nothing else happens here.

use std::{path::PathBuf, sync::Arc};

use switchboard_proto::{
    audit::{AuditEntry, AuditFilter, AuditVerification},
    exports::ExportRequest,
    *,
};
use tauri::State;
use uuid::Uuid;

use crate::{
    desktop::Desktop,
    dto::{self, UiError, UiErrorCode},
    FirstFrame,
};

type Desk<'a> = State<'a, Arc<Desktop>>;
type Answer<T> = Result<T, UiError>;

#[tauri::command]
pub async fn app_info(desktop: Desk<'_>) -> Answer<dto::AppInfo> {
    desktop.app_info().await
}

#[tauri::command]
pub async fn start_screen(desktop: Desk<'_>) -> Answer<dto::StartScreen> {
    desktop.start_screen().await
}

#[tauri::command]
pub async fn sign_in(
    desktop: Desk<'_>,
    server_url: String,
    email: String,
    password: String,
    two_factor_code: Option<String>,
) -> Answer<dto::AppInfo> {
    desktop.sign_in(&server_url, &email, &password, two_factor_code.as_deref()).await
}

#[tauri::command]
pub async fn two_factor_status(desktop: Desk<'_>) -> Answer<dto::TwoFactorState> {
    desktop.two_factor_status().await
}

#[tauri::command]
pub async fn begin_two_factor(desktop: Desk<'_>) -> Answer<dto::TwoFactorSetup> {
    desktop.begin_two_factor().await
}

#[tauri::command]
pub async fn confirm_two_factor(desktop: Desk<'_>, code: String) -> Answer<Vec<String>> {
    desktop.confirm_two_factor(&code).await
}

#[tauri::command]
pub async fn disable_two_factor(desktop: Desk<'_>, code: String) -> Answer<()> {
    desktop.disable_two_factor(&code).await
}

#[tauri::command]
pub async fn lock_app(desktop: Desk<'_>) -> Answer<()> {
    desktop.lock_app().await
}

#[tauri::command]
pub async fn unlock_app(desktop: Desk<'_>, password: String) -> Answer<()> {
    desktop.unlock_app(&password).await
}

#[tauri::command]
pub async fn sign_out(desktop: Desk<'_>) -> Answer<dto::AppInfo> {
    desktop.sign_out().await
}

#[tauri::command]
pub async fn switch_account(desktop: Desk<'_>, key: String) -> Answer<dto::AppInfo> {
    desktop.switch_account(&key).await
}

#[tauri::command]
pub async fn directory(desktop: Desk<'_>) -> Answer<dto::Directory> {
    desktop.directory().await
}

#[tauri::command]
pub async fn status(desktop: Desk<'_>) -> Answer<dto::Status> {
    desktop.status().await
}

#[tauri::command]
pub async fn sidebar(
    desktop: Desk<'_>,
    status: Option<ConversationStatus>,
) -> Answer<Vec<dto::SidebarEntry>> {
    desktop.sidebar(status).await
}

#[tauri::command]
pub async fn list_conversations(desktop: Desk<'_>, request: dto::ListRequest) -> Answer<dto::ListPage> {
    desktop.list(request).await
}

#[tauri::command]
pub async fn open_conversation(
    desktop: Desk<'_>,
    id: Uuid,
    range: Option<dto::ThreadRange>,
) -> Answer<dto::Thread> {
    desktop.open_conversation(id, range).await
}

#[tauri::command]
pub async fn thread(desktop: Desk<'_>, id: Uuid, range: Option<dto::ThreadRange>) -> Answer<dto::Thread> {
    desktop.thread(id, range).await
}

#[tauri::command]
pub async fn thread_page(
    desktop: Desk<'_>,
    id: Uuid,
    direction: dto::PageDirection,
    cursor: dto::MessageCursor,
) -> Answer<dto::ThreadPage> {
    desktop.thread_page(id, direction, cursor).await
}

#[tauri::command]
pub async fn close_conversation(desktop: Desk<'_>, id: Uuid) -> Answer<()> {
    desktop.close_conversation(id).await
}

#[tauri::command]
pub async fn typing(desktop: Desk<'_>, id: Uuid, active: bool) -> Answer<()> {
    desktop.typing(id, active).await
}

#[tauri::command]
pub async fn search(desktop: Desk<'_>, query: String) -> Answer<dto::SearchResults> {
    desktop.search(&query).await
}

#[tauri::command]
pub async fn quick_replies(
    desktop: Desk<'_>,
    query: String,
    conversation_id: Option<Uuid>,
) -> Answer<Vec<dto::QuickReply>> {
    desktop.quick_replies(&query, conversation_id).await
}

#[tauri::command]
pub async fn send_message(
    desktop: Desk<'_>,
    conversation_id: Uuid,
    kind: SendKind,
    body: String,
    staged_file_ids: Vec<Uuid>,
    template: Option<TemplateRef>,
) -> Answer<Uuid> {
    desktop.send_message(conversation_id, kind, body, staged_file_ids, template).await
}

/// The new-conversation picker's contacts for `query` (the cache only, so it works offline).
#[tauri::command]
pub async fn find_contacts(desktop: Desk<'_>, query: String) -> Answer<Vec<dto::ContactOption>> {
    desktop.find_contacts(query).await
}

#[tauri::command]
pub async fn contact_profile(desktop: Desk<'_>, contact_id: Uuid) -> Answer<dto::ContactProfile> {
    desktop.contact_profile(contact_id).await
}

#[tauri::command]
pub async fn custom_fields(desktop: Desk<'_>) -> Answer<Vec<switchboard_proto::contacts::CustomField>> {
    desktop.custom_fields().await
}

#[tauri::command]
pub async fn add_contact(
    desktop: Desk<'_>,
    name: String,
    phone: Option<String>,
    email: Option<String>,
) -> Answer<Uuid> {
    desktop.add_contact(name, phone, email).await
}

#[tauri::command]
pub async fn edit_contact(
    desktop: Desk<'_>,
    contact_id: Uuid,
    update: switchboard_proto::contacts::UpdateContact,
) -> Answer<()> {
    desktop.edit_contact(contact_id, update).await
}

#[tauri::command]
pub async fn merge_contacts(desktop: Desk<'_>, survivor_id: Uuid, other_id: Uuid) -> Answer<dto::Merged> {
    desktop.merge_contacts(survivor_id, other_id).await
}

#[tauri::command]
pub async fn create_custom_field(
    desktop: Desk<'_>,
    key: String,
    label: String,
    kind: switchboard_proto::contacts::CustomFieldKind,
    options: Vec<String>,
) -> Answer<switchboard_proto::contacts::CustomField> {
    desktop.create_custom_field(key, label, kind, options).await
}

#[tauri::command]
pub async fn delete_custom_field(desktop: Desk<'_>, field_id: Uuid) -> Answer<()> {
    desktop.delete_custom_field(field_id).await
}

#[tauri::command]
pub async fn start_conversation(
    desktop: Desk<'_>,
    input: dto::StartConversationInput,
) -> Answer<dto::StartedConversation> {
    desktop.start_conversation(input).await
}

#[tauri::command]
pub async fn assign(desktop: Desk<'_>, ids: Vec<Uuid>, assignee_id: Option<Uuid>, claim: bool) -> Answer<()> {
    desktop.assign(ids, assignee_id, claim).await
}

#[tauri::command]
pub async fn set_team(desktop: Desk<'_>, ids: Vec<Uuid>, team_id: Option<Uuid>) -> Answer<()> {
    desktop.set_team(ids, team_id).await
}

#[tauri::command]
pub async fn set_status(
    desktop: Desk<'_>,
    ids: Vec<Uuid>,
    status: ConversationStatus,
    snoozed_until: Option<Millis>,
) -> Answer<()> {
    desktop.set_status(ids, status, snoozed_until).await
}

#[tauri::command]
pub async fn edit_labels(
    desktop: Desk<'_>,
    ids: Vec<Uuid>,
    add: Vec<String>,
    remove: Vec<String>,
) -> Answer<()> {
    desktop.edit_labels(ids, add, remove).await
}

#[tauri::command]
pub async fn create_view(
    desktop: Desk<'_>,
    name: String,
    filter: views::ConversationFilter,
    team_id: Option<Uuid>,
) -> Answer<Uuid> {
    desktop.create_view(name, filter, team_id).await
}

#[tauri::command]
pub async fn rename_view(desktop: Desk<'_>, view_id: Uuid, name: String) -> Answer<()> {
    desktop.rename_view(view_id, name).await
}

#[tauri::command]
pub async fn update_view_filter(
    desktop: Desk<'_>,
    view_id: Uuid,
    filter: views::ConversationFilter,
) -> Answer<()> {
    desktop.update_view_filter(view_id, filter).await
}

#[tauri::command]
pub async fn delete_view(desktop: Desk<'_>, view_id: Uuid) -> Answer<()> {
    desktop.delete_view(view_id).await
}

#[tauri::command]
pub async fn set_escalated(
    desktop: Desk<'_>,
    ids: Vec<Uuid>,
    escalated: bool,
    note: Option<String>,
) -> Answer<()> {
    desktop.set_escalated(ids, escalated, note).await
}

#[tauri::command]
pub async fn set_priority(desktop: Desk<'_>, ids: Vec<Uuid>, priority: Priority) -> Answer<()> {
    desktop.set_priority(ids, priority).await
}

#[tauri::command]
pub async fn set_pinned(desktop: Desk<'_>, id: Uuid, pinned: bool) -> Answer<()> {
    desktop.set_pinned(id, pinned).await
}

#[tauri::command]
pub async fn mark_unread(desktop: Desk<'_>, id: Uuid) -> Answer<()> {
    desktop.mark_unread(id).await
}

/// Sends a failed reply again (queued through the outbox like every action).
#[tauri::command]
pub async fn retry_delivery(desktop: Desk<'_>, conversation_id: Uuid, message_id: Uuid) -> Answer<()> {
    desktop.retry_delivery(conversation_id, message_id).await
}

#[tauri::command]
pub async fn set_availability(desktop: Desk<'_>, availability: Availability) -> Answer<Agent> {
    desktop.set_availability(availability).await
}

/// Which notifications may pop up on this computer, and when.
#[tauri::command]
pub fn notification_settings(
    desktop: Desk<'_>,
) -> crate::desktop::notification_settings::NotificationSettings {
    desktop.notification_settings()
}

#[tauri::command]
pub fn set_notification_settings(
    desktop: Desk<'_>,
    settings: crate::desktop::notification_settings::NotificationSettings,
) -> Answer<crate::desktop::notification_settings::NotificationSettings> {
    desktop.set_notification_settings(settings)
}

/// Whether the app starts at login (in the tray).
#[tauri::command]
pub fn launch_at_login<R: tauri::Runtime>(app: tauri::AppHandle<R>) -> Answer<bool> {
    use tauri_plugin_autostart::ManagerExt;
    app.autolaunch().is_enabled().map_err(|e| UiError::new(UiErrorCode::Other, e.to_string()))
}

/// Registers (or removes) the login item; answers whether it is registered now.
#[tauri::command]
pub fn set_launch_at_login<R: tauri::Runtime>(app: tauri::AppHandle<R>, on: bool) -> Answer<bool> {
    use tauri_plugin_autostart::ManagerExt;
    let manager = app.autolaunch();
    let changed = if on { manager.enable() } else { manager.disable() };
    changed.map_err(|e| UiError::new(UiErrorCode::Other, e.to_string()))?;
    manager.is_enabled().map_err(|e| UiError::new(UiErrorCode::Other, e.to_string()))
}

/// The status text beside the availability; blank clears it.
#[tauri::command]
pub async fn set_status_text(desktop: Desk<'_>, text: String) -> Answer<Agent> {
    desktop.set_status_text(&text).await
}

#[tauri::command]
pub async fn save_inbox_settings(
    desktop: Desk<'_>,
    inbox_id: Uuid,
    settings: dto::InboxSettings,
) -> Answer<Inbox> {
    desktop.save_inbox_settings(inbox_id, settings).await
}

/// Creates an inbox on a channel with its connector settings (admins).
#[tauri::command]
pub async fn create_inbox(
    desktop: Desk<'_>,
    name: String,
    channel: Channel,
    connector: Option<ConnectorSettings>,
) -> Answer<Inbox> {
    desktop.create_inbox(name, channel, connector).await
}

/// Replaces an inbox's connector settings (admins); a blank secret keeps the stored one.
#[tauri::command]
pub async fn save_inbox_connector(
    desktop: Desk<'_>,
    inbox_id: Uuid,
    connector: Option<ConnectorSettings>,
) -> Answer<Inbox> {
    desktop.save_inbox_connector(inbox_id, connector).await
}

/// "Test connection": the inbox's stored settings tried against the provider (admins).
#[tauri::command]
pub async fn test_inbox_connector(desktop: Desk<'_>, inbox_id: Uuid) -> Answer<ConnectorTest> {
    desktop.test_inbox_connector(inbox_id).await
}

#[tauri::command]
pub async fn inbox_connector(desktop: Desk<'_>, inbox_id: Uuid) -> Answer<dto::InboxConnector> {
    desktop.inbox_connector(inbox_id).await
}

#[tauri::command]
pub async fn set_capacity(desktop: Desk<'_>, agent_id: Uuid, capacity: Option<u32>) -> Answer<Agent> {
    desktop.set_capacity(agent_id, capacity).await
}

#[tauri::command]
pub async fn workload(desktop: Desk<'_>) -> Answer<dto::Workload> {
    desktop.workload().await
}

#[tauri::command]
pub async fn automation_rules(desktop: Desk<'_>) -> Answer<Vec<automation::AutomationRule>> {
    desktop.automation_rules().await
}

#[tauri::command]
pub async fn save_rule(
    desktop: Desk<'_>,
    rule_id: Option<Uuid>,
    input: automation::AutomationRuleInput,
) -> Answer<automation::AutomationRule> {
    desktop.save_rule(rule_id, input).await
}

#[tauri::command]
pub async fn set_rule_enabled(
    desktop: Desk<'_>,
    rule_id: Uuid,
    enabled: bool,
) -> Answer<automation::AutomationRule> {
    desktop.set_rule_enabled(rule_id, enabled).await
}

#[tauri::command]
pub async fn delete_rule(desktop: Desk<'_>, rule_id: Uuid) -> Answer<()> {
    desktop.delete_rule(rule_id).await
}

#[tauri::command]
pub async fn move_rule(
    desktop: Desk<'_>,
    rule_id: Uuid,
    offset: i32,
) -> Answer<Vec<automation::AutomationRule>> {
    desktop.move_rule(rule_id, offset).await
}

#[tauri::command]
pub async fn preview_rule(desktop: Desk<'_>, conditions: automation::Condition) -> Answer<dto::RulePreview> {
    desktop.preview_rule(conditions).await
}

#[tauri::command]
pub async fn test_rule(
    desktop: Desk<'_>,
    rule_id: Uuid,
    conversation_id: Uuid,
) -> Answer<automation::RuleTestResult> {
    desktop.test_rule(rule_id, conversation_id).await
}

#[tauri::command]
pub async fn sla_policies(desktop: Desk<'_>) -> Answer<Vec<sla::SlaPolicy>> {
    desktop.sla_policies().await
}

#[tauri::command]
pub async fn rule_runs(desktop: Desk<'_>, rule_id: Uuid) -> Answer<Vec<dto::RuleRun>> {
    desktop.rule_runs(rule_id).await
}

#[tauri::command]
pub async fn report_summary(desktop: Desk<'_>, query: dto::ReportQuery) -> Answer<dto::SummaryReport> {
    desktop.report_summary(query).await
}

#[tauri::command]
pub async fn report_series(desktop: Desk<'_>, query: dto::ReportQuery) -> Answer<dto::SeriesReport> {
    desktop.report_series(query).await
}

#[tauri::command]
pub async fn live_figures(desktop: Desk<'_>) -> Answer<dto::LiveReport> {
    desktop.live_figures().await
}

/// The conversations behind a bar of the reports' chart (`query`'s period is the bar's bucket).
#[tauri::command]
pub async fn report_conversations(
    desktop: Desk<'_>,
    query: dto::ReportQuery,
    metric: switchboard_proto::reports::CycleMetric,
) -> Answer<Vec<switchboard_proto::reports::CycleRow>> {
    desktop.report_cycles(query, metric).await
}

/// Fetches a CSV export from the server, then asks where to save it in the native save dialog
/// (the shell's own: the window is granted no dialog or file permission) and writes it there.
/// Answers the saved path, or null when the person cancelled.
#[tauri::command]
pub async fn export_report<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    desktop: Desk<'_>,
    export: dto::CsvExport,
    query: dto::ReportQuery,
) -> Answer<Option<String>> {
    let (file_name, bytes) = desktop.report_csv(export, query).await?;
    save_through_dialog(&app, &file_name, ("CSV", &["csv"]), bytes).await
}

/// Offers `file_name` in the native save dialog with one file type, and writes `bytes` where the
/// user picks; `None` when they cancel. The path comes from the dialog, never from the webview.
async fn save_through_dialog<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    file_name: &str,
    (kind, extensions): (&str, &[&str]),
    bytes: Vec<u8>,
) -> Answer<Option<String>> {
    let Some(path) = pick_save_path(app, file_name, (kind, extensions)).await? else {
        return Ok(None);
    };
    tokio::fs::write(&path, bytes).await.map_err(|e| UiError::new(UiErrorCode::Other, e.to_string()))?;
    Ok(Some(path.to_string_lossy().into_owned()))
}

/// Where the user chose to save `file_name` in the native save dialog; `None` when they cancel.
async fn pick_save_path<R: tauri::Runtime>(
    app: &tauri::AppHandle<R>,
    file_name: &str,
    (kind, extensions): (&str, &[&str]),
) -> Answer<Option<std::path::PathBuf>> {
    use tauri_plugin_dialog::DialogExt;
    let (chosen, picked) = tokio::sync::oneshot::channel();
    app.dialog().file().set_file_name(file_name).add_filter(kind, extensions).save_file(move |path| {
        let _ = chosen.send(path);
    });
    let Some(path) = picked.await.ok().flatten() else {
        return Ok(None);
    };
    Ok(Some(path.into_path().map_err(|e| UiError::new(UiErrorCode::Invalid, e.to_string()))?))
}

/// A conversation's transcript saved where the agent picks in the native save dialog; `None`
/// when they cancel. `time_zone` is the agent's (the window's `Intl` zone).
#[tauri::command]
pub async fn export_transcript<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    desktop: Desk<'_>,
    conversation_id: Uuid,
    format: dto::TranscriptFormat,
    include_notes: bool,
    time_zone: String,
) -> Answer<Option<String>> {
    let (file_name, bytes) =
        desktop.transcript_file(conversation_id, format, include_notes, time_zone).await?;
    save_through_dialog(&app, &file_name, transcript_file_type(format), bytes).await
}

fn transcript_file_type(format: dto::TranscriptFormat) -> (&'static str, &'static [&'static str]) {
    match format {
        dto::TranscriptFormat::Text => ("Text", &["txt"]),
        dto::TranscriptFormat::Json => ("JSON", &["json"]),
        dto::TranscriptFormat::Pdf => ("PDF", &["pdf"]),
    }
}

/// Asks a lead to approve a transcript export the conversation's inbox holds (`reason`: why).
#[tauri::command]
pub async fn request_export(
    desktop: Desk<'_>,
    conversation_id: Uuid,
    reason: String,
) -> Answer<ExportRequest> {
    desktop.request_export(conversation_id, reason).await
}

/// Export requests: the agent's own; for leads and admins those to decide too.
#[tauri::command]
pub async fn export_requests(desktop: Desk<'_>, pending_only: bool) -> Answer<Vec<ExportRequest>> {
    desktop.export_requests(pending_only).await
}

/// Leads and admins: approve or decline a pending export request.
#[tauri::command]
pub async fn decide_export(
    desktop: Desk<'_>,
    request_id: Uuid,
    approve: bool,
    note: Option<String>,
) -> Answer<ExportRequest> {
    desktop.decide_export(request_id, approve, note).await
}

/// An approved export request's transcript saved where the agent picks: the dialog first, then
/// the one download (a cancelled dialog leaves the approval unused); `None` when cancelled.
#[tauri::command]
pub async fn save_approved_export<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    desktop: Desk<'_>,
    request_id: Uuid,
    conversation_id: Uuid,
    format: dto::TranscriptFormat,
    include_notes: bool,
    time_zone: String,
) -> Answer<Option<String>> {
    let file_name = desktop.approved_transcript_name(conversation_id, format).await;
    let (name, extensions) = transcript_file_type(format);
    let Some(path) = pick_save_path(&app, &file_name, (name, extensions)).await? else {
        return Ok(None);
    };
    let bytes = desktop.approved_transcript_file(request_id, format, include_notes, time_zone).await?;
    tokio::fs::write(&path, bytes).await.map_err(|e| UiError::new(UiErrorCode::Other, e.to_string()))?;
    Ok(Some(path.to_string_lossy().into_owned()))
}

/// The longest idle time before the app locks that an admin requires (`null`: none).
#[tauri::command]
pub async fn lock_policy(desktop: Desk<'_>) -> Answer<Option<u32>> {
    desktop.lock_policy().await
}

/// Admins: require the app to lock after at most this many idle minutes, or (`null`) no longer.
#[tauri::command]
pub async fn set_lock_policy(desktop: Desk<'_>, max_idle_minutes: Option<u32>) -> Answer<Option<u32>> {
    desktop.set_lock_policy(max_idle_minutes).await
}

#[tauri::command]
pub async fn two_factor_overview(desktop: Desk<'_>) -> Answer<TwoFactorOverview> {
    desktop.two_factor_overview().await
}

/// Admins: a second factor required of everyone (`agent_id` null) or of one agent, or no longer.
#[tauri::command]
pub async fn require_two_factor(desktop: Desk<'_>, agent_id: Option<Uuid>, required: bool) -> Answer<()> {
    desktop.require_two_factor(agent_id, required).await
}

/// Admins: the audit trail's page below `before`, newest first.
#[tauri::command]
pub async fn audit_page(
    desktop: Desk<'_>,
    filter: AuditFilter,
    before: Option<i64>,
) -> Answer<Vec<AuditEntry>> {
    desktop.audit_page(filter, before).await
}

#[tauri::command]
pub async fn verify_audit(desktop: Desk<'_>) -> Answer<AuditVerification> {
    desktop.verify_audit().await
}

/// Admins: the filtered trail saved where they pick in the native save dialog (JSON, oldest row
/// first, hashes included); `None` when they cancel. The server records the export.
#[tauri::command]
pub async fn export_audit<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    desktop: Desk<'_>,
    filter: AuditFilter,
) -> Answer<Option<String>> {
    let (file_name, bytes) = desktop.audit_file(filter).await?;
    save_through_dialog(&app, &file_name, ("JSON", &["json"]), bytes).await
}

/// Admins: everything held about a contact (a zip, for a data-subject request) saved through
/// the native save dialog; `None` when they cancel. The server records the export.
#[tauri::command]
pub async fn export_contact<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    desktop: Desk<'_>,
    contact_id: Uuid,
) -> Answer<Option<String>> {
    let (file_name, bytes) = desktop.contact_export_file(contact_id).await?;
    save_through_dialog(&app, &file_name, ("ZIP", &["zip"]), bytes).await
}

/// Admins: erases a contact and everything about them; `confirm` is their name typed again.
#[tauri::command]
pub async fn erase_contact(desktop: Desk<'_>, contact_id: Uuid, confirm: String) -> Answer<privacy::Erasure> {
    desktop.erase_contact(contact_id, &confirm).await
}

/// The IANA zones a calendar may use (a few hundred names; the settings screen asks once).
#[tauri::command]
pub fn time_zones() -> Vec<String> {
    crate::desktop::time_zones()
}

#[tauri::command]
pub async fn save_draft(desktop: Desk<'_>, id: Uuid, kind: SendKind, body: String) -> Answer<()> {
    desktop.save_draft(id, kind, &body).await
}

/// Stages files dropped on the window: only paths the shell saw dropped (`DroppedFiles`), never
/// any other path the page names.
#[tauri::command]
pub async fn stage_files(
    desktop: Desk<'_>,
    dropped: State<'_, crate::desktop::DroppedFiles>,
    conversation_id: Uuid,
    paths: Vec<PathBuf>,
) -> Answer<Vec<dto::StagedFile>> {
    dropped.take(&paths)?;
    desktop.stage_files(conversation_id, paths).await
}

/// Takes back a staged file not yet sent: its row and its copy are deleted.
#[tauri::command]
pub async fn unstage_file(desktop: Desk<'_>, staged_id: Uuid) -> Answer<()> {
    desktop.unstage_file(staged_id).await
}

#[tauri::command]
pub async fn stage_pasted(
    desktop: Desk<'_>,
    conversation_id: Uuid,
    file_name: String,
    data_base64: String,
) -> Answer<dto::StagedFile> {
    desktop.stage_pasted(conversation_id, &file_name, &data_base64).await
}

#[tauri::command]
pub async fn attachment_preview(desktop: Desk<'_>, attachment: Attachment) -> Answer<String> {
    desktop.attachment_preview(attachment).await
}

#[tauri::command]
pub async fn open_attachment<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    desktop: Desk<'_>,
    attachment: Attachment,
) -> Answer<()> {
    use tauri_plugin_opener::OpenerExt;
    let path = desktop.download_attachment(attachment).await?;
    app.opener()
        .open_path(path.to_string_lossy(), None::<&str>)
        .map_err(|e| UiError::new(UiErrorCode::Other, e.to_string()))
}

#[tauri::command]
pub async fn set_do_not_disturb(desktop: Desk<'_>, on: bool) -> Answer<dto::Status> {
    desktop.set_do_not_disturb(on);
    desktop.status().await
}

#[tauri::command]
pub async fn reconnect(desktop: Desk<'_>) -> Answer<()> {
    desktop.reconnect().await
}

/// Opens an http(s) or mailto link in the system browser (after the person clicked it).
#[tauri::command]
pub async fn open_link<R: tauri::Runtime>(app: tauri::AppHandle<R>, url: String) -> Answer<()> {
    use tauri_plugin_opener::OpenerExt;
    let allowed = url.starts_with("https://") || url.starts_with("http://") || url.starts_with("mailto:");
    if !allowed {
        return Err(UiError::new(UiErrorCode::Invalid, "only http, https and mailto links open"));
    }
    app.opener().open_url(url, None::<&str>).map_err(|e| UiError::new(UiErrorCode::Other, e.to_string()))
}

/// The UI's first list frame is on screen (the benchmark's start-up mark). `marks` are the UI's
/// start-up phases (name, milliseconds since the page started), logged to see where time goes.
#[tauri::command]
pub fn first_paint(first_frame: State<'_, FirstFrame>, millis_since_start: f64, marks: Vec<(String, f64)>) {
    first_frame.painted();
    let phases = marks.iter().map(|(name, at)| format!("{name} {at:.0}")).collect::<Vec<_>>().join(", ");
    tracing::info!(target: "switchboard::startup", millis_since_start, %phases, "first list frame painted");
    println!("SWITCHBOARD_FIRST_PAINT {millis_since_start:.1}");
}

#[tauri::command]
pub async fn create_agent(desktop: Desk<'_>, request: dto::NewAgent) -> Answer<dto::CreatedAgent> {
    desktop.create_agent(request).await
}

#[tauri::command]
pub async fn update_agent(desktop: Desk<'_>, agent_id: Uuid, change: dto::AgentChange) -> Answer<Agent> {
    desktop.update_agent(agent_id, change).await
}

#[tauri::command]
pub async fn reset_password(desktop: Desk<'_>, agent_id: Uuid) -> Answer<String> {
    desktop.reset_password(agent_id).await
}

#[tauri::command]
pub async fn sign_out_agent(desktop: Desk<'_>, agent_id: Uuid) -> Answer<u32> {
    desktop.sign_out_agent(agent_id).await
}

#[tauri::command]
pub async fn devices(desktop: Desk<'_>) -> Answer<Vec<dto::DeviceInfo>> {
    desktop.devices().await
}

#[tauri::command]
pub async fn revoke_device(desktop: Desk<'_>, device_id: Uuid) -> Answer<()> {
    desktop.revoke_device(device_id).await
}

#[tauri::command]
pub async fn save_team(
    desktop: Desk<'_>,
    team_id: Option<Uuid>,
    name: String,
    member_ids: Vec<Uuid>,
) -> Answer<Team> {
    desktop.save_team(team_id, name, member_ids).await
}

#[tauri::command]
pub async fn set_inbox_members(
    desktop: Desk<'_>,
    inbox_id: Uuid,
    agent_ids: Vec<Uuid>,
    team_ids: Vec<Uuid>,
) -> Answer<Inbox> {
    desktop.set_inbox_members(inbox_id, agent_ids, team_ids).await
}

#[tauri::command]
pub async fn set_inbox_templates(
    desktop: Desk<'_>,
    inbox_id: Uuid,
    templates: Vec<MessageTemplate>,
) -> Answer<Inbox> {
    desktop.set_inbox_templates(inbox_id, templates).await
}

#[tauri::command]
pub async fn save_label(
    desktop: Desk<'_>,
    label_id: Option<Uuid>,
    name: String,
    color: String,
) -> Answer<Label> {
    desktop.save_label(label_id, name, color).await
}

#[tauri::command]
pub async fn delete_label(desktop: Desk<'_>, label_id: Uuid) -> Answer<()> {
    desktop.delete_label(label_id).await
}

#[tauri::command]
pub async fn save_quick_reply(
    desktop: Desk<'_>,
    id: Option<Uuid>,
    reply: dto::QuickReplyInput,
) -> Answer<CannedResponse> {
    desktop.save_quick_reply(id, reply).await
}

#[tauri::command]
pub async fn delete_quick_reply(desktop: Desk<'_>, id: Uuid) -> Answer<()> {
    desktop.delete_quick_reply(id).await
}

#[tauri::command]
pub async fn save_my_quick_reply(
    desktop: Desk<'_>,
    id: Option<Uuid>,
    reply: dto::QuickReplyInput,
) -> Answer<Uuid> {
    desktop.save_my_quick_reply(id, reply).await
}

#[tauri::command]
pub async fn delete_my_quick_reply(desktop: Desk<'_>, id: Uuid) -> Answer<()> {
    desktop.delete_my_quick_reply(id).await
}

#[tauri::command]
pub async fn bind_quick_reply(desktop: Desk<'_>, id: Uuid, slot: Option<u8>) -> Answer<()> {
    desktop.bind_quick_reply(id, slot).await
}

#[tauri::command]
pub async fn use_quick_reply(desktop: Desk<'_>, id: Uuid) -> Answer<()> {
    desktop.use_quick_reply(id).await
}

#[tauri::command]
pub async fn promote_quick_reply(desktop: Desk<'_>, id: Uuid) -> Answer<()> {
    desktop.promote_quick_reply(id).await
}
