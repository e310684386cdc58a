// Every call into the Rust shell, typed. Failures reject with an `ApiError` carrying the stable
// `code` to branch on (never the message text).
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import type {
  Agent,
  AuditEntry,
  AuditFilter,
  AuditVerification,
  Erasure,
  ExportRequest,
  TwoFactorOverview,
  AgentChange,
  CannedResponse,
  ContactOption,
  ContactProfile,
  CustomField,
  CustomFieldKind,
  Merged,
  UpdateContact,
  CreatedAgent,
  DeviceInfo,
  Label,
  MessageTemplate,
  NewAgent,
  QuickReplyInput,
  Team,
  InboxConnector,
  Channel,
  ConnectorSettings,
  ConnectorTest,
  AppInfo,
  AutomationRule,
  AutomationRuleInput,
  Condition,
  RulePreview,
  RuleRun,
  RuleTestResult,
  Attachment,
  Availability,
  ConversationFilter,
  ConversationStatus,
  CsvExport,
  TranscriptFormat,
  NotificationSettings,
  Directory,
  Inbox,
  InboxSettings,
  ListPage,
  ListRequest,
  LiveReport,
  Priority,
  ReportQuery,
  CycleMetric,
  CycleRow,
  QuickReply,
  SearchResults,
  SendKind,
  SeriesReport,
  SidebarEntry,
  SlaPolicy,
  StagedFile,
  StartScreen,
  StartConversationInput,
  StartedConversation,
  SummaryReport,
  Status,
  TemplateRef,
  Thread,
  ThreadRange,
  ThreadPage,
  PageDirection,
  MessageCursor,
  TwoFactorSetup,
  TwoFactorState,
  UiErrorCode,
  UiEvent,
  Workload,
} from './bindings';

export class ApiError extends Error {
  constructor(
    readonly code: UiErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Turns whatever a rejected invoke gave us into an ApiError. */
export function toApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error && typeof error === 'object' && 'code' in error) {
    const { code, message } = error as { code: unknown; message?: unknown };
    // The shell only sends `UiErrorCode`s (its `UiError`); the dev mock sends the same codes.
    return new ApiError(String(code) as UiErrorCode, String(message ?? code));
  }
  return new ApiError('internal', error instanceof Error ? error.message : String(error));
}

async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error) {
    throw toApiError(error);
  }
}

/** Whether a Tauri backend (or the dev mock) is there to talk to. */
export function hasBackend(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

declare global {
  interface Window {
    /** The first screen's data, asked for by index.html before the bundle loaded. */
    __SWITCHBOARD_START__?: Promise<unknown>;
  }
}

/** The first screen's data: the answer index.html asked for early, the first time; asked for anew after. */
function startScreen(): Promise<StartScreen> {
  const early = window.__SWITCHBOARD_START__;
  window.__SWITCHBOARD_START__ = undefined;
  if (!early) return call<StartScreen>('start_screen');
  return (early as Promise<StartScreen>).catch((error) => {
    throw toApiError(error);
  });
}

export const api = {
  appInfo: () => call<AppInfo>('app_info'),
  startScreen,
  /** `twoFactorCode` answers a first try refused with `two_factor_required`. */
  signIn: (serverUrl: string, email: string, password: string, twoFactorCode: string | null = null) =>
    call<AppInfo>('sign_in', { serverUrl, email, password, twoFactorCode }),
  /** Two-step verification of the open account (or of one that signed in only to enrol). Online only. */
  twoFactorStatus: () => call<TwoFactorState>('two_factor_status'),
  beginTwoFactor: () => call<TwoFactorSetup>('begin_two_factor'),
  /** Answers the recovery codes, shown once. */
  confirmTwoFactor: (code: string) => call<string[]>('confirm_two_factor', { code }),
  disableTwoFactor: (code: string) => call<void>('disable_two_factor', { code }),
  signOut: () => call<AppInfo>('sign_out'),
  lockApp: () => call<void>('lock_app'),
  unlockApp: (password: string) => call<void>('unlock_app', { password }),
  switchAccount: (key: string) => call<AppInfo>('switch_account', { key }),
  directory: () => call<Directory>('directory'),
  status: () => call<Status>('status'),
  sidebar: (status: ConversationStatus | null) => call<SidebarEntry[]>('sidebar', { status }),
  listConversations: (request: ListRequest) => call<ListPage>('list_conversations', { request }),
  /** A conversation with a window on its thread: the newest page unless `range` says otherwise. */
  openConversation: (id: string, range: ThreadRange | null = null) => call<Thread>('open_conversation', { id, range }),
  thread: (id: string, range: ThreadRange | null = null) => call<Thread>('thread', { id, range }),
  /** The page before (or after) `cursor` as the thread is scrolled; older history is fetched on demand. */
  threadPage: (id: string, direction: PageDirection, cursor: MessageCursor) => call<ThreadPage>('thread_page', { id, direction, cursor }),
  closeConversation: (id: string) => call<void>('close_conversation', { id }),
  typing: (id: string, active: boolean) => call<void>('typing', { id, active }),
  search: (query: string) => call<SearchResults>('search', { query }),
  quickReplies: (query: string, conversationId: string | null) => call<QuickReply[]>('quick_replies', { query, conversationId }),
  /** The agent's own quick replies, queued like any action (offline too): answers the reply's id. */
  saveMyQuickReply: (id: string | null, reply: QuickReplyInput) => call<string>('save_my_quick_reply', { id, reply }),
  deleteMyQuickReply: (id: string) => call<void>('delete_my_quick_reply', { id }),
  /** Binds to Alt+slot (1–9; the reply holding it loses it), or unbinds with null. */
  bindQuickReply: (id: string, slot: number | null) => call<void>('bind_quick_reply', { id, slot }),
  /** Counts an insertion (ranks the list: recent and frequent first). */
  useQuickReply: (id: string) => call<void>('use_quick_reply', { id }),
  promoteQuickReply: (id: string) => call<void>('promote_quick_reply', { id }),
  sendMessage: (conversationId: string, kind: SendKind, body: string, stagedFileIds: string[], template: TemplateRef | null) =>
    call<string>('send_message', { conversationId, kind, body, stagedFileIds, template }),
  /** The new-conversation picker's contacts: fuzzy over name, phone and email, from the cache (works offline). */
  findContacts: (query: string) => call<ContactOption[]>('find_contacts', { query }),
  /** A contact's profile from the cache: the contact, every conversation of theirs, the custom fields. */
  contactProfile: (contactId: string) => call<ContactProfile>('contact_profile', { contactId }),
  customFields: () => call<CustomField[]>('custom_fields'),
  /** Queues a new contact through the outbox (offline too); answers its id. */
  addContact: (name: string, phone: string | null, email: string | null) => call<string>('add_contact', { name, phone, email }),
  /** Queues an edit of a contact through the outbox (offline too). */
  editContact: (contactId: string, update: UpdateContact) => call<void>('edit_contact', { contactId, update }),
  /** Merges `otherId` into `survivorId` at once (leads and admins; refused offline). */
  mergeContacts: (survivorId: string, otherId: string) => call<Merged>('merge_contacts', { survivorId, otherId }),
  /** Admins: everything held about a contact (a zip) saved through the native save dialog; null when cancelled. */
  exportContact: (contactId: string) => call<string | null>('export_contact', { contactId }),
  /** Admins: erases a contact everywhere; `confirm` is their name typed again. */
  eraseContact: (contactId: string, confirm: string) => call<Erasure>('erase_contact', { contactId, confirm }),
  /** Defines a custom contact field at once (admins). */
  createCustomField: (key: string, label: string, kind: CustomFieldKind, options: string[]) =>
    call<CustomField>('create_custom_field', { key, label, kind, options }),
  deleteCustomField: (fieldId: string) => call<void>('delete_custom_field', { fieldId }),
  /** Queues a new conversation (and new contact) through the outbox; or answers the contact's open one there. */
  startConversation: (input: StartConversationInput) => call<StartedConversation>('start_conversation', { input }),
  assign: (ids: string[], assigneeId: string | null, claim: boolean) => call<void>('assign', { ids, assigneeId, claim }),
  setTeam: (ids: string[], teamId: string | null) => call<void>('set_team', { ids, teamId }),
  /** Escalates (with an optional note) or de-escalates, through the outbox. */
  setEscalated: (ids: string[], escalated: boolean, note: string | null = null) =>
    call<void>('set_escalated', { ids, escalated, note }),
  /** Saves a filter as a view (queued through the outbox); answers the new view's id. */
  createView: (name: string, filter: ConversationFilter, teamId: string | null) =>
    call<string>('create_view', { name, filter, teamId }),
  renameView: (viewId: string, name: string) => call<void>('rename_view', { viewId, name }),
  /** Changes a saved view's filter (queued through the outbox). */
  updateViewFilter: (viewId: string, filter: ConversationFilter) => call<void>('update_view_filter', { viewId, filter }),
  deleteView: (viewId: string) => call<void>('delete_view', { viewId }),
  setStatus: (ids: string[], status: ConversationStatus, snoozedUntil: number | null) =>
    call<void>('set_status', { ids, status, snoozedUntil }),
  editLabels: (ids: string[], add: string[], remove: string[]) => call<void>('edit_labels', { ids, add, remove }),
  setPriority: (ids: string[], priority: Priority) => call<void>('set_priority', { ids, priority }),
  setPinned: (id: string, pinned: boolean) => call<void>('set_pinned', { id, pinned }),
  markUnread: (id: string) => call<void>('mark_unread', { id }),
  retryDelivery: (conversationId: string, messageId: string) =>
    call<void>('retry_delivery', { conversationId, messageId }),
  saveDraft: (id: string, kind: SendKind, body: string) => call<void>('save_draft', { id, kind, body }),
  stageFiles: (conversationId: string, paths: string[]) => call<StagedFile[]>('stage_files', { conversationId, paths }),
  unstageFile: (stagedId: string) => call<null>('unstage_file', { stagedId }),
  stagePasted: (conversationId: string, fileName: string, dataBase64: string) =>
    call<StagedFile>('stage_pasted', { conversationId, fileName, dataBase64 }),
  attachmentPreview: (attachment: Attachment) => call<string>('attachment_preview', { attachment }),
  openAttachment: (attachment: Attachment) => call<void>('open_attachment', { attachment }),
  setDoNotDisturb: (on: boolean) => call<Status>('set_do_not_disturb', { on }),
  /** Sent at once, never queued: rejects with `offline` when the server can't be reached. */
  setAvailability: (availability: Availability) => call<Agent>('set_availability', { availability }),
  /** The status text beside the availability; blank clears it. */
  setStatusText: (text: string) => call<Agent>('set_status_text', { text }),
  notificationSettings: () => call<NotificationSettings>('notification_settings'),
  launchAtLogin: () => call<boolean>('launch_at_login'),
  setLaunchAtLogin: (on: boolean) => call<boolean>('set_launch_at_login', { on }),
  setNotificationSettings: (settings: NotificationSettings) => call<NotificationSettings>('set_notification_settings', { settings }),
  /** Admins. Sent at once, never queued: rejects with `offline` when the server can't be reached. */
  saveInboxSettings: (inboxId: string, settings: InboxSettings) => call<Inbox>('save_inbox_settings', { inboxId, settings }),
  /** Admins: how the inbox reaches its channel (read from the server each time). */
  inboxConnector: (inboxId: string) => call<InboxConnector>('inbox_connector', { inboxId }),
  /** Admins: a new inbox on a channel with its connector. Sent at once, never queued. */
  createInbox: (name: string, channel: Channel, connector: ConnectorSettings | null) =>
    call<Inbox>('create_inbox', { name, channel, connector }),
  /** Admins: replaces the inbox's connector (`null` removes it); a blank secret keeps the stored one. */
  saveInboxConnector: (inboxId: string, connector: ConnectorSettings | null) =>
    call<Inbox>('save_inbox_connector', { inboxId, connector }),
  /** Admins: the stored settings tried against the provider. */
  testInboxConnector: (inboxId: string) => call<ConnectorTest>('test_inbox_connector', { inboxId }),
  /** Admins; `null` is no limit. Sent at once like `saveInboxSettings`. */
  setCapacity: (agentId: string, capacity: number | null) => call<Agent>('set_capacity', { agentId, capacity }),
  /** Leads and admins: what routing sees now. */
  workload: () => call<Workload>('workload'),
  /** Running the team (admins; labels and team-wide quick replies leads too). Sent at once,
   * never queued: rejects with `offline` when the server can't be reached. The directory shows
   * each change when the feed brings it. */
  createAgent: (request: NewAgent) => call<CreatedAgent>('create_agent', { request }),
  /** `active: false` deactivates, signing the agent out of every device at once. */
  updateAgent: (agentId: string, change: AgentChange) => call<Agent>('update_agent', { agentId, change }),
  /** A new one-time password, answered once. */
  resetPassword: (agentId: string) => call<string>('reset_password', { agentId }),
  /** Signs the agent out of every device; answers how many. */
  signOutAgent: (agentId: string) => call<number>('sign_out_agent', { agentId }),
  devices: () => call<DeviceInfo[]>('devices'),
  revokeDevice: (deviceId: string) => call<void>('revoke_device', { deviceId }),
  saveTeam: (teamId: string | null, name: string, memberIds: string[]) => call<Team>('save_team', { teamId, name, memberIds }),
  setInboxMembers: (inboxId: string, agentIds: string[], teamIds: string[]) =>
    call<Inbox>('set_inbox_members', { inboxId, agentIds, teamIds }),
  /** An inbox's approved templates (each a name, a language and a body with {{1}}… placeholders). */
  setInboxTemplates: (inboxId: string, templates: MessageTemplate[]) => call<Inbox>('set_inbox_templates', { inboxId, templates }),
  saveLabel: (labelId: string | null, name: string, color: string) => call<Label>('save_label', { labelId, name, color }),
  deleteLabel: (labelId: string) => call<void>('delete_label', { labelId }),
  saveQuickReply: (id: string | null, reply: QuickReplyInput) => call<CannedResponse>('save_quick_reply', { id, reply }),
  deleteQuickReply: (id: string) => call<void>('delete_quick_reply', { id }),
  /** Every automation rule in run order, from the cache (offline too). */
  automationRules: () => call<AutomationRule[]>('automation_rules'),
  /** Leads and admins; `ruleId` null adds a rule. Sent at once, never queued: rejects with
   * `offline` when the server can't be reached, `validation` naming the path of a bad node. */
  saveRule: (ruleId: string | null, input: AutomationRuleInput) => call<AutomationRule>('save_rule', { ruleId, input }),
  setRuleEnabled: (ruleId: string, enabled: boolean) => call<AutomationRule>('set_rule_enabled', { ruleId, enabled }),
  deleteRule: (ruleId: string) => call<void>('delete_rule', { ruleId }),
  /** Moves a rule `offset` places in the run order (−1: earlier); answers every rule in order. */
  moveRule: (ruleId: string, offset: number) => call<AutomationRule[]>('move_rule', { ruleId, offset }),
  /** Which of the latest 100 conversations the conditions hold for now (writes nothing). */
  previewRule: (conditions: Condition) => call<RulePreview>('preview_rule', { conditions }),
  /** A saved rule's dry run on a conversation: the trace and each action's outcome (writes nothing). */
  testRule: (ruleId: string, conversationId: string) => call<RuleTestResult>('test_rule', { ruleId, conversationId }),
  /** A rule's latest runs, newest first. */
  ruleRuns: (ruleId: string) => call<RuleRun[]>('rule_runs', { ruleId }),
  /** The SLA policies in match order, from the cache (a rule's `apply_sla` picks one). */
  slaPolicies: () => call<SlaPolicy[]>('sla_policies'),
  /** The IANA zones a calendar may use, sorted. */
  timeZones: () => call<string[]>('time_zones'),
  /** A report as the server computed it; while the server can't be reached, the last one kept
   * (`offline` says why, `as_of` when it was fetched), else rejects with `offline`. */
  reportSummary: (query: ReportQuery) => call<SummaryReport>('report_summary', { query }),
  reportSeries: (query: ReportQuery) => call<SeriesReport>('report_series', { query }),
  liveFigures: () => call<LiveReport>('live_figures'),
  /** The conversation cycles behind a chart's bar: `query`'s period is the bar's bucket. */
  reportConversations: (query: ReportQuery, metric: CycleMetric) =>
    call<CycleRow[]>('report_conversations', { query, metric }),
  /** Fetches the server's CSV and saves it where the person picks in the native dialog; answers
   * the path, or null when they cancelled. */
  exportReport: (exportKind: CsvExport, query: ReportQuery) => call<string | null>('export_report', { export: exportKind, query }),
  /** Saves a transcript where the agent picks in the native save dialog; null when cancelled. */
  exportTranscript: (conversationId: string, format: TranscriptFormat, includeNotes: boolean, timeZone: string) =>
    call<string | null>('export_transcript', { conversationId, format, includeNotes, timeZone }),
  /** Ask a lead to approve a transcript export the conversation's inbox holds. */
  requestExport: (conversationId: string, reason: string) => call<ExportRequest>('request_export', { conversationId, reason }),
  /** Export requests: the agent's own; for leads and admins those to decide too. */
  exportRequests: (pendingOnly: boolean) => call<ExportRequest[]>('export_requests', { pendingOnly }),
  /** Leads and admins: approve or decline a pending export request. */
  decideExport: (requestId: string, approve: boolean, note: string | null) =>
    call<ExportRequest>('decide_export', { requestId, approve, note }),
  /** An approved request's transcript through the native save dialog, downloaded once; null when cancelled. */
  saveApprovedExport: (requestId: string, conversationId: string, format: TranscriptFormat, includeNotes: boolean, timeZone: string) =>
    call<string | null>('save_approved_export', { requestId, conversationId, format, includeNotes, timeZone }),
  /** The longest idle time before the app locks that an admin requires (null: none). */
  lockPolicy: () => call<number | null>('lock_policy'),
  /** Admins: require the app to lock after at most this many idle minutes, or (null) no longer. */
  setLockPolicy: (maxIdleMinutes: number | null) => call<number | null>('set_lock_policy', { maxIdleMinutes }),
  /** Admins: who must sign in with a second factor, and who has one. Online only. */
  twoFactorOverview: () => call<TwoFactorOverview>('two_factor_overview'),
  /** Admins: require a second factor of everyone (`agentId` null) or of one agent, or no longer. */
  requireTwoFactor: (agentId: string | null, required: boolean) => call<void>('require_two_factor', { agentId, required }),
  /** Admins: the audit trail's page below `before` (null: the newest), newest first. */
  auditPage: (filter: AuditFilter, before: number | null) => call<AuditEntry[]>('audit_page', { filter, before }),
  verifyAudit: () => call<AuditVerification>('verify_audit'),
  /** Admins: the filtered trail saved through the native save dialog; null when cancelled. */
  exportAudit: (filter: AuditFilter) => call<string | null>('export_audit', { filter }),
  reconnect: () => call<void>('reconnect'),
  openLink: (url: string) => call<void>('open_link', { url }),
  firstPaint: (millisSinceStart: number, marks: [string, number][]) =>
    call<void>('first_paint', { millisSinceStart, marks }),
};

/** The one event channel from the shell. */
export const EVENT_CHANNEL = 'switchboard://event';

export function onUiEvent(handler: (event: UiEvent) => void): Promise<UnlistenFn> {
  return listen<UiEvent>(EVENT_CHANNEL, (event) => handler(event.payload));
}

export type DragDrop = { type: 'enter' | 'over' | 'leave' } | { type: 'drop'; paths: string[] };

/** Files dragged over / dropped on the window (paths on disk, staged by the shell). */
export async function onDragDrop(handler: (event: DragDrop) => void): Promise<UnlistenFn> {
  // The webview module, and the window module it needs, were a fifth of the start-up bundle for
  // this one listener: they load on their own.
  const { getCurrentWebview } = await import('@tauri-apps/api/webview');
  return getCurrentWebview().onDragDropEvent((event) => {
    const payload = event.payload;
    if (payload.type === 'drop') handler({ type: 'drop', paths: payload.paths });
    else handler({ type: payload.type });
  });
}
