//! Tauri's build step, with the config at the repository root (the design card's layout). The app
//! manifest lists every command, so each needs an explicit permission in `capabilities/`.

const COMMANDS: &[&str] = &[
    "app_info",
    "start_screen",
    "sign_in",
    "sign_out",
    "switch_account",
    "directory",
    "status",
    "sidebar",
    "list_conversations",
    "open_conversation",
    "thread",
    "close_conversation",
    "typing",
    "search",
    "quick_replies",
    "send_message",
    "assign",
    "set_team",
    "set_status",
    "edit_labels",
    "set_priority",
    "set_pinned",
    "mark_unread",
    "set_availability",
    "save_inbox_settings",
    "set_capacity",
    "workload",
    "time_zones",
    "report_summary",
    "report_series",
    "live_figures",
    "export_report",
    "automation_rules",
    "save_rule",
    "set_rule_enabled",
    "delete_rule",
    "move_rule",
    "preview_rule",
    "test_rule",
    "rule_runs",
    "sla_policies",
    "save_draft",
    "stage_files",
    "stage_pasted",
    "attachment_preview",
    "open_attachment",
    "set_do_not_disturb",
    "reconnect",
    "open_link",
    "first_paint",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .config_path("../tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    tauri_build::try_build(attributes).expect("tauri build step");
}
