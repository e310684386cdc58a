// Generated from the Rust DTOs by `UPDATE_BINDINGS=1 cargo test -p switchboard-desktop bindings`.
// Do not edit: change the Rust types instead.

export type Role = "admin" | "lead" | "agent";

export type Availability = "online" | "busy" | "offline";

export type Channel = "whatsapp" | "instagram" | "telegram" | "email" | "webchat" | "api" | "facebook";

export type ConversationStatus = "open" | "pending" | "snoozed" | "resolved";

export type Priority = "none" | "low" | "medium" | "high" | "urgent";

export type MessageKind = "incoming" | "outgoing" | "note" | "activity";

export type DeliveryState = "queued" | "sent" | "delivered" | "read" | "failed";

export type DeliveryFailureKind = "window_closed" | "rejected" | "not_configured" | "gave_up" | "interrupted";

export type EntityKind = "agent" | "team" | "inbox" | "contact" | "conversation" | "message" | "label" | "canned_response" | "mention" | "pin" | "read_marker" | "sla_policy" | "automation_rule" | "saved_view" | "quick_reply_usage" | "custom_field" | "lock_policy";

export type SendKind = "reply" | "note";

export type Agent = { id: string, name: string, email: string, role: Role, availability: Availability, 
/**
 * False once an admin deactivates the agent (all their devices are revoked).
 */
active: boolean, team_ids: Array<string>, 
/**
 * The most open conversations routing gives this agent, across every inbox (`None`: no
 * limit). A person may assign them more by hand; routing then waits until they are below it.
 */
capacity: number | null, 
/**
 * When they last changed their availability (so the app can say when routing will release
 * their waiting customers while they are busy or offline).
 */
availability_since?: number, 
/**
 * What the agent says beside their availability ("Back at 3", "On a call"): set with
 * `PATCH /me`, at most 100 characters, absent when they have said nothing.
 */
status_text?: string, };

export type Team = { id: string, name: string, };

export type MessageTemplate = { name: string, language: string, body: string, };

export type RoutingMode = "manual" | "least_loaded" | "round_robin";

export type Routing = { mode: RoutingMode, 
/**
 * When an assignee becomes unavailable (busy, offline, no stream open anywhere, deactivated),
 * their open conversations whose customer is waiting go back to the queue after this many
 * seconds, unless they are available again by then; a customer writing to such a
 * conversation sends it back at once. `null`: assignees keep their conversations.
 */
release_after_secs: number | null, 
/**
 * When routing hands a waiting customer to someone who doesn't reply within this many
 * seconds, it takes the conversation back and hands it to someone else (`null`: never).
 */
reassign_after_secs: number | null, 
/**
 * After this many such handovers in a cycle the conversation stays in the queue for a person
 * to decide (routing stops offering it), with an activity line saying so.
 */
max_handovers: number, };

export type AutoReply = { body: string, 
/**
 * 0: at once. A greeting with a delay is cancelled by a person's reply before it.
 */
delay_secs: number, 
/**
 * On a channel with a reply window: the inbox's approved template sent instead once the
 * window has closed (without one, the reply is skipped and the thread says why).
 */
template?: TemplateRef, };

export type KeywordReply = { keywords: Array<string>, body: string, 
/**
 * The same keyword reply goes to a conversation at most once in this many seconds.
 */
cooldown_secs: number, 
/**
 * As [`AutoReply::template`]: sent instead once the reply window has closed.
 */
template?: TemplateRef, };

export type AutoReplies = { 
/**
 * To a customer who starts a conversation (never one an agent started).
 */
greeting: AutoReply | null, 
/**
 * To a customer who writes while the inbox is closed (its `hours`), once per closed period;
 * `{{next_open_at}}` becomes the next opening in the inbox's time zone.
 */
away: AutoReply | null, keywords: Array<KeywordReply>, };

export type TimeRange = { start: string, end: string, };

export type WeeklyHours = { mon: Array<TimeRange>, tue: Array<TimeRange>, wed: Array<TimeRange>, thu: Array<TimeRange>, fri: Array<TimeRange>, sat: Array<TimeRange>, sun: Array<TimeRange>, };

export type Holiday = { 
/**
 * `"YYYY-MM-DD"`, local.
 */
date: string, label: string | null, };

export type SpecialDay = { 
/**
 * `"YYYY-MM-DD"`, local.
 */
date: string, intervals: Array<TimeRange>, label: string | null, };

export type Calendar = { 
/**
 * An IANA name such as `"Europe/Bucharest"`, never a fixed offset: an offset cannot follow
 * daylight saving time.
 */
time_zone: string, weekly: WeeklyHours, holidays: Array<Holiday>, special_days: Array<SpecialDay>, };

export type CalendarVersion = { version: number, effective_from: number, calendar: Calendar, };

export type CalendarHistory = { versions: Array<CalendarVersion>, };

export type InboxVisibility = "everything" | "mine_and_unassigned" | "mine_only";

export type Inbox = { id: string, name: string, channel: Channel, member_agent_ids: Array<string>, member_team_ids: Array<string>, templates: Array<MessageTemplate>, attachment_limit: number, 
/**
 * Business hours, versioned so an edit never changes past figures (`None`: always open).
 */
hours: CalendarHistory | null, routing: Routing, auto_replies: AutoReplies, 
/**
 * Which of its conversations the inbox's members see (admins see all).
 */
visibility: InboxVisibility, 
/**
 * Whether an agent's transcript export from this inbox waits for a lead's approval
 * (`crate::exports::ExportRequest`); leads' and admins' own exports are never held.
 */
exports_need_approval: boolean, 
/**
 * What the inbox's connector says of replies (its reported capabilities), so the app shows
 * the window the server enforces. `None`: no connector, the channel's defaults apply.
 */
reply_rules?: ReplyRules, };

export type ReplyRules = { 
/**
 * Free-form replies only within this long of the customer's last message (`None`: any time).
 */
window_ms: number | null, 
/**
 * How long a person (not an automation) may still reply: longer than `window_ms` on a
 * Messenger or Instagram inbox that enables the `HUMAN_AGENT` tag (7 days).
 */
person_window_ms: number | null, 
/**
 * Whether an approved template may be sent once the window has closed (WhatsApp); without
 * templates, only the customer writing again opens it.
 */
templates: boolean, };

export type SlaMetric = "first_response" | "next_response" | "resolution";

export type SlaClockStatus = "running" | "paused" | "met" | "breached" | "breached_met" | "breached_closed" | "cancelled";

export type SlaCancelReason = "resolved_without_reply" | "removed" | "policy_deleted" | "retargeted";

export type SlaNotify = "assignee" | "team_leads";

export type SlaEscalationRun = { 
/**
 * Its place in the policy's `escalations`.
 */
step: number, 
/**
 * When it was due (warning or breach plus its delay), even if the server was down then.
 */
at: number, 
/**
 * Whom it told: the desktop of each rings.
 */
notify: SlaNotify | null, };

export type SlaClock = { metric: SlaMetric, 
/**
 * Which next-response clock of the cycle (1, 2, …); 1 for the others.
 */
instance: number, 
/**
 * The target, in business or wall milliseconds.
 */
target_ms: number, started_at: number, 
/**
 * Counted up to `running_since` (or up to now, when not running).
 */
accumulated_ms: number, 
/**
 * Since when it counts; `None` while paused or after it ended.
 */
running_since: number | null, 
/**
 * When it falls due, while it runs.
 */
due_at: number | null, 
/**
 * When its warning falls, while it runs and has not warned.
 */
warn_at: number | null, status: SlaClockStatus, warned: boolean, 
/**
 * When its warning fell (the warning steps count their delay from here).
 */
warned_at: number | null, breached_at: number | null, 
/**
 * When it was met, closed or cancelled.
 */
ended_at: number | null, 
/**
 * Why it was cancelled (`status: cancelled`).
 */
cancel_reason: SlaCancelReason | null, 
/**
 * The policy's escalation steps that ran for this clock, once each.
 */
escalations: Array<SlaEscalationRun>, };

export type ConversationSla = { 
/**
 * `None` only when a lead pinned "no SLA" (the clocks it had are cancelled).
 */
policy_id: string | null, 
/**
 * The policy's name when applied, so reports keep it after the policy is renamed or deleted.
 */
policy_name: string, 
/**
 * A lead (or a rule) chose the policy: later changes never move the conversation to another,
 * and the choice carries over to the cycles after a reopen.
 */
pinned: boolean, cycle: number, clocks: Array<SlaClock>, };

export type SlaConditions = { inbox_ids: Array<string>, team_ids: Array<string>, priorities: Array<Priority>, 
/**
 * At least one of these labels.
 */
labels: Array<string>, };

export type SlaEscalationOn = "warning" | "breach";

export type SlaEscalation = { on: SlaEscalationOn, 
/**
 * Wall-clock seconds after the warning or breach.
 */
after_secs: number, notify: SlaNotify | null, 
/**
 * Raise the conversation's priority to this (never lower it).
 */
raise_priority: Priority | null, 
/**
 * Take the conversation from its assignee and hand it back to routing (the assignee is not
 * offered it again at once).
 */
reassign: boolean, 
/**
 * Mark the conversation escalated (by the SLA), so it moves to the board's Escalated column.
 */
escalate: boolean, };

export type SlaPolicy = { id: string, name: string, position: number, enabled: boolean, conditions: SlaConditions, first_response_secs: number | null, next_response_secs: number | null, resolution_secs: number | null, 
/**
 * Count only the inbox's business hours (wall time when the inbox has none).
 */
business_hours: boolean, 
/**
 * The warning falls at this share of the target (1–99).
 */
warn_at_percent: number, 
/**
 * What happens at a clock's warning or breach (each step once per clock).
 */
escalations: Array<SlaEscalation>, };

export type TriggerEvent = "conversation_created" | "message_received" | "message_sent" | "status_changed" | "assigned" | "team_changed" | "priority_changed" | "labels_changed" | "reopened" | "resolved" | "sla_warning" | "sla_breached";

export type Trigger = { "type": "event", events: Array<TriggerEvent>, } | { "type": "customer_waiting", after_secs: number, 
/**
 * Count only the inbox's business hours.
 */
business_hours: boolean, } | { "type": "status_held", status: ConversationStatus, after_secs: number, business_hours: boolean, };

export type ContactField = "name" | "phone" | "email";

export type Origin = "customer" | "agent";

export type Condition = { "all": Array<Condition> } | { "any": Array<Condition> } | { "not": Condition } | { "status": Array<ConversationStatus> } | { "inbox": Array<string> } | { "channel": Array<Channel> } | { "team": Array<string> } | { "assignee": Array<string> } | { "assigned": boolean } | { "priority": Array<Priority> } | { "labels_any": Array<string> } | { "labels_all": Array<string> } | { "origin": Origin } | { "text_contains": Array<string> } | { "contact": { field: ContactField, contains: string, } } | { "within_business_hours": boolean };

export type Action = { "type": "assign_agent", agent_id: string, } | { "type": "route" } | { "type": "unassign" } | { "type": "set_team", team_id: string | null, } | { "type": "add_labels", labels: Array<string>, } | { "type": "remove_labels", labels: Array<string>, } | { "type": "set_priority", priority: Priority, } | { "type": "escalate" } | { "type": "deescalate" } | { "type": "set_status", status: ConversationStatus, snooze_secs: number | null, } | { "type": "send_reply", body: string, } | { "type": "add_note", body: string, } | { "type": "webhook", url: string, } | { "type": "apply_sla", policy_id: string | null, };

export type RunLimit = { "type": "every_time" } | { "type": "once_per_conversation" } | { "type": "once_per_cycle" } | { "type": "cooldown", secs: number, };

export type AutomationRule = { id: string, name: string, enabled: boolean, position: number, 
/**
 * Bumped by every edit; each run records the version it ran.
 */
version: number, trigger: Trigger, conditions: Condition, actions: Array<Action>, 
/**
 * When this rule runs, later rules don't run for the same change.
 */
stop_processing: boolean, run_limit: RunLimit, 
/**
 * Whether changes made by other rules can trigger this one (off by default: a rule answers
 * people, customers and timers, so two rules can't ping-pong).
 */
allow_rule_origin: boolean, 
/**
 * Set when something the rule names (an agent, team, label, inbox) no longer exists; the
 * rule keeps running with that action skipped, and says so here until a lead edits it.
 */
needs_attention: string | null, updated_at: number, };

export type AutomationRuleInput = { name: string, enabled: boolean, 
/**
 * Where it runs among the rules (lower first); default: after the others.
 */
position: number | null, trigger: Trigger, conditions: Condition, actions: Array<Action>, stop_processing: boolean, run_limit: RunLimit, allow_rule_origin: boolean, };

export type TraceStep = { path: string, result: boolean, };

export type ActionStatus = "ok" | "skipped";

export type ActionOutcome = { action: Action, status: ActionStatus, 
/**
 * Why it was skipped: `unchanged`, `window_closed`, `reference_missing`, …
 */
reason: string | null, };

export type RunStatus = "done" | "cancelled" | "skipped" | "loop_guard";

export type AutomationRun = { 
/**
 * Time-ordered (UUIDv7).
 */
id: string, rule_id: string, rule_version: number, conversation_id: string, 
/**
 * The ledger event that triggered it (none for a timed run).
 */
event_id: string | null, cycle: number, at: number, status: RunStatus, reason: string | null, trace: Array<TraceStep>, actions: Array<ActionOutcome>, };

export type RuleTestResult = { matched: boolean, trace: Array<TraceStep>, actions: Array<ActionOutcome>, };

export type ContactIdentity = { inbox_id: string, channel: Channel, external_id: string, };

export type Contact = { id: string, name: string, phone: string | null, email: string | null, identities: Array<ContactIdentity>, created_at: number, notes?: string, 
/**
 * Custom field values by the field's key (see [`crate::contacts::CustomField`]), as text.
 */
fields?: { [key in string]: string }, 
/**
 * Set on a contact merged into another: a tombstone pointing at the survivor, which holds
 * its channel identities and conversations now. Clients drop it from their caches.
 */
merged_into?: string, };

export type CustomFieldKind = "text" | "number" | "date" | "choice";

export type CustomField = { id: string, 
/**
 * Lowercase letters, digits and `_`, starting with a letter; unique; never changes.
 */
key: string, label: string, kind: CustomFieldKind, 
/**
 * For `choice`: the allowed values, in the order offered.
 */
options: Array<string>, created_at: number, };

export type UpdateContact = { client_id: string, name?: string, phone?: string | null, email?: string | null, notes?: string | null, fields?: { [key in string]: string | null }, };

export type ContactProfile = { contact: Contact, conversations: Array<Conversation>, fields: Array<CustomField>, };

export type Merged = { contact_id: string, moved: Array<string>, resolved: Array<string>, };

export type EscalatedBy = { "type": "agent", id: string, } | { "type": "rule", id: string, } | { "type": "sla" };

export type Escalation = { at: number, by: EscalatedBy, 
/**
 * What the person (or the rule's name, or the policy's) gave as the reason.
 */
note: string | null, };

export type Conversation = { id: string, inbox_id: string, contact_id: string, subject: string | null, status: ConversationStatus, snoozed_until: number | null, assignee_id: string | null, team_id: string | null, priority: Priority, 
/**
 * Label names, sorted.
 */
labels: Array<string>, created_at: number, 
/**
 * Last customer or agent message (notes and activity don't count).
 */
last_activity_at: number, 
/**
 * Since when the customer has been waiting for a reply (null: not waiting).
 */
waiting_since: number | null, first_reply_at: number | null, 
/**
 * The customer's last message: the reply window is measured from here.
 */
last_incoming_at: number | null, 
/**
 * A short preview of the last customer or agent message, for list rows.
 */
preview: string, 
/**
 * The service-level policy of the current cycle and its clocks (`None`: no policy applies).
 */
sla: ConversationSla | null, 
/**
 * Escalated, by whom and since when (`None`: not escalated).
 */
escalation: Escalation | null, };

export type Sender = { "type": "agent", id: string, } | { "type": "contact", id: string, } | { "type": "system" };

export type Attachment = { id: string, conversation_id: string, file_name: string, content_type: string, size: number, 
/**
 * Hex sha256 of the content; the server stores files by it.
 */
sha256: string, };

export type TemplateRef = { name: string, params: Array<string>, };

export type Message = { id: string, conversation_id: string, kind: MessageKind, body: string, sender: Sender, attachments: Array<Attachment>, template: TemplateRef | null, 
/**
 * Outgoing messages: how far delivery got. Others: `delivered`.
 */
delivery: DeliveryState, 
/**
 * A failed outgoing message: why, as the channel (or the connector) said it.
 */
failure?: DeliveryFailure, 
/**
 * Notes: the agents mentioned with `@name`.
 */
mentions: Array<string>, created_at: number, };

export type DeliveryFailure = { kind: DeliveryFailureKind, 
/**
 * The provider's reason (e.g. `(#131047) Re-engagement message`), or the connector's.
 */
reason: string, };

export type Label = { id: string, name: string, 
/**
 * `#rrggbb`.
 */
color: string, };

export type CannedResponse = { id: string, short_code: string, title: string, 
/**
 * Text with `{{contact.name}}`-style variables.
 */
body: string, 
/**
 * Personal to this agent; null: team-wide.
 */
owner_id: string | null, };

export type QuickReplyUsage = { canned_response_id: string, agent_id: string, 
/**
 * 1–9: inserted by `Alt+slot` in the composer. At most one reply per slot and agent.
 */
slot: number | null, 
/**
 * How many times the agent inserted it.
 */
uses: number, 
/**
 * The decayed use count as it stood at `last_used_at` (see the module's ranking rule).
 */
score: number, last_used_at: number | null, };

export type AssigneeFilter = { "type": "unassigned" } | { "type": "me" } | { "type": "agent", "id": string };

export type SlaFilter = "overdue" | "at_risk" | "on_track" | "none";

export type ConversationFilter = { inbox_ids: Array<string>, 
/**
 * Label names as conversations carry them (the label's own name).
 */
labels: Array<string>, assignees: Array<AssigneeFilter>, team_ids: Array<string>, priorities: Array<Priority>, statuses: Array<ConversationStatus>, channels: Array<Channel>, sla: Array<SlaFilter>, 
/**
 * The customer has waited for a reply at least this long (seconds).
 */
waiting_longer_than_secs?: number, };

export type SavedView = { id: string, name: string, filter: ConversationFilter, 
/**
 * Personal to this agent.
 */
owner_id: string | null, 
/**
 * Team-wide: every member of this team sees it.
 */
team_id: string | null, 
/**
 * Who made it.
 */
created_by: string, created_at: number, };

export type GroupBy = "none" | "agent" | "team" | "inbox" | "label" | "channel";

export type Interval = "hour" | "day" | "week" | "month";

export type Distribution = { mean: number, median: number, p90: number, min: number, max: number, };

export type Durations = { count: number, wall: Distribution | null, business: Distribution | null, };

export type SlaOutcomes = { met: number, breached: number, within_target_permille: number | null, };

export type Metrics = { cycles_started: number, cycles_started_by_customers: number, messages_in: number, messages_out: number, 
/**
 * Resolutions (a conversation resolved twice counts twice) …
 */
resolutions: number, 
/**
 * … and the conversations they resolved, each once.
 */
conversations_resolved: number, reopened: number, first_response: Durations, response: Durations, resolution: Durations, 
/**
 * The time resolved cycles were actually open.
 */
resolution_open: Durations, 
/**
 * From an assignment while the customer waited to that assignee's first reply.
 */
assignment_to_first_reply: Durations, 
/**
 * SLA outcomes per target (facts dated at the outcome) and the share within target.
 */
sla_first_response: SlaOutcomes, sla_next_response: SlaOutcomes, sla_resolution: SlaOutcomes, };

export type ReportRow = { key: string | null, 
/**
 * What a person reads: the agent's, team's or inbox's name, the label, the channel.
 */
name: string, metrics: Metrics, };

export type ReportSummary = { from: number, to: number, time_zone: string, group_by: GroupBy, rows: Array<ReportRow>, previous: Array<ReportRow>, 
/**
 * For an agent grouped by agent, who is given no one else's row: every conversation they may
 * see counted together, no agent named (their team's totals to measure their own against);
 * absent for everyone else, whose rows already add up to it.
 */
team_totals?: TeamTotals, };

export type TeamTotals = { now: Metrics, previous: Metrics, };

export type Bucket = { start: number, end: number, label: string, };

export type SeriesRow = { key: string | null, name: string, points: Array<Metrics>, };

export type ReportSeries = { from: number, to: number, time_zone: string, interval: Interval, group_by: GroupBy, buckets: Array<Bucket>, rows: Array<SeriesRow>, };

export type LiveFigures = { 
/**
 * Status open.
 */
open: number, 
/**
 * Open, nobody holds it.
 */
unassigned: number, 
/**
 * Open and a customer waits for a person, or nobody has answered yet ([`is_unattended`]).
 */
unattended: number, 
/**
 * Open with a customer waiting longer than the asked threshold.
 */
waiting_longer: number, 
/**
 * The threshold, in seconds.
 */
waiting_longer_than_secs: number, 
/**
 * The longest a customer has been waiting now, in seconds.
 */
longest_wait_secs: number, 
/**
 * Pending and snoozed.
 */
parked: number, 
/**
 * Live SLA clocks falling due within the asked horizon (breached ones included).
 */
sla_at_risk: number, sla_at_risk_within_secs: number, };

export type CycleMetric = "started" | "messages_in" | "first_response" | "resolution";

export type SlaOutcome = "met" | "breached" | "running" | "cancelled";

export type CycleRow = { conversation_id: string, cycle: number, inbox: string, channel: Channel, contact_name: string, contact_phone: string | null, contact_email: string | null, origin: Origin, 
/**
 * The team and labels when the cycle was last measured.
 */
team: string | null, labels: Array<string>, 
/**
 * Who holds it at resolution (else who held it last).
 */
assignee: string | null, started_at: number, first_reply_at: number | null, first_response_secs: number | null, first_response_business_secs: number | null, resolved_at: number | null, resolution_secs: number | null, resolution_business_secs: number | null, resolution_open_secs: number | null, replies: number, 
/**
 * Whether the cycle is a reopening (cycle 2 and later).
 */
reopened: boolean, 
/**
 * Who held it first in the cycle, and since when: the assignee it started with (at its
 * start), else the first assignment within it.
 */
first_assignee: string | null, first_assigned_at: number | null, 
/**
 * The cycle's assignment-to-first-reply measures (the summary's count) …
 */
assignments_answered: number, 
/**
 * … and the first of them, wall and business.
 */
assignment_to_first_reply_secs: number | null, assignment_to_first_reply_business_secs: number | null, 
/**
 * The SLA policy its clocks ran under in the cycle (its name now, else as applied).
 */
sla_policy: string | null, 
/**
 * Per target: the policy's target (seconds, business or wall as the policy counts), the
 * outcome of the cycle's last clock of it, and how many of its clocks were met and breached
 * (what the summary's SLA figures count; next response may have several clocks a cycle).
 */
sla_first_response_target_secs: number | null, sla_first_response: SlaOutcome | null, sla_first_response_met: number, sla_first_response_breached: number, sla_next_response_target_secs: number | null, sla_next_response: SlaOutcome | null, sla_next_response_met: number, sla_next_response_breached: number, sla_resolution_target_secs: number | null, sla_resolution: SlaOutcome | null, sla_resolution_met: number, sla_resolution_breached: number, };

export type UiError = { code: UiErrorCode, message: string, };

export type UiErrorCode = "signed_out" | "not_found" | "validation" | "assignment_conflict" | "window_closed" | "too_large" | "unknown_template" | "conversation_exists" | "forbidden" | "out_of_view" | "export_approval_required" | "expired" | "offline" | "invalid_credentials" | "two_factor_required" | "two_factor_enrolment_required" | "unauthorized" | "token_revoked" | "rate_limited" | "keychain_error" | "invalid" | "internal" | "other";

export type AccountSummary = { 
/**
 * Opaque account key (server and agent).
 */
key: string, server_url: string, agent_name: string, agent_email: string, active: boolean, };

export type AppInfo = { version: string, 
/**
 * Prefilled in the sign-in form.
 */
default_server_url: string, accounts: Array<AccountSummary>, 
/**
 * Whether a session is open (the inbox can show).
 */
signed_in: boolean, 
/**
 * The active account signed in but an admin requires a second factor it hasn't enrolled:
 * the enrolment screen shows before its inbox can open.
 */
two_factor_enrolment: boolean, 
/**
 * The app lock is on: the window shows only the lock screen until the password is given.
 */
locked: boolean, };

export type TwoFactorState = { enabled: boolean, recovery_codes_left: number, 
/**
 * An admin requires it: it can't be turned off.
 */
required: boolean, };

export type TwoFactorSetup = { 
/**
 * Base32, for typing into an authenticator by hand.
 */
secret: string, otpauth_uri: string, 
/**
 * The URI as a QR code: an SVG image as a `data:` URL (the CSP allows `data:` images).
 */
qr_code: string, };

export type TwoFactorOverview = { 
/**
 * Every agent must enrol.
 */
workspace_required: boolean, agents: Array<AgentTwoFactor>, };

export type AgentTwoFactor = { agent_id: string, 
/**
 * Required of this agent in particular (the workspace's requirement aside).
 */
required: boolean, enabled: boolean, };

export type AuditEntry = { 
/**
 * 1, 2, 3, … with no gap.
 */
seq: number, at: number, 
/**
 * The agent who did it (`null`: the server itself, or someone not signed in).
 */
actor_id: string | null, 
/**
 * Their name then, or what the server knows of an anonymous caller (an email typed in); a
 * rule's name and `@version`.
 */
actor_label: string, 
/**
 * Who acted, on conversation actions: `agent`, `routing`, `rule`, `contact` or `system`.
 * Absent on the other rows, where an `actor_id` means an agent and none the server or an
 * anonymous caller ([`AuditEntry::actor_type`]). Absent fields are not hashed, so rows
 * written before the field existed verify unchanged.
 */
actor_type?: string, 
/**
 * The one id every row of one bulk action shares (the app's multi-selection).
 */
bulk_id?: string, device_id: string | null, 
/**
 * The caller's address, for sign-ins.
 */
ip: string | null, 
/**
 * Dotted: `auth.login`, `auth.login_failed`, `device.revoke`, `agent.create`,
 * `agent.update`, `team.*`, `inbox.*`, `label.*`, `automation_rule.*`, `sla_policy.*`,
 * `conversation.sla_pin`, `export.report`, `export.transcript`, `permission.denied`, and the
 * conversation actions: `conversation.assign`, `conversation.status`, `conversation.team`,
 * `conversation.priority`, `conversation.labels`, `conversation.escalation`,
 * `conversation.contact`.
 */
action: string, target_type: string, target_id: string | null, 
/**
 * The target's name then.
 */
target_label: string, 
/**
 * `{field: [before, after]}` of what changed (secrets and passwords read `[redacted]`).
 */
changes: Record<string, [unknown, unknown]>, prev_hash: string, hash: string, };

export type AuditFilter = { 
/**
 * An action (`agent.update`), or a prefix ending in a dot (`auth.`).
 */
action: string | null, actor_id: string | null, target_id: string | null, 
/**
 * `agent`, `routing`, `rule`, `contact` or `system` ([`AuditEntry::actor_type`]).
 */
actor_type: string | null, 
/**
 * Rows at or after this time (ms).
 */
from: number | null, 
/**
 * Rows before this time (ms).
 */
to: number | null, };

export type AuditVerification = { ok: boolean, rows: number, 
/**
 * The first row whose hash, link or number is wrong.
 */
first_bad_seq: number | null, };

export type Erasure = { conversations: number, messages: number, attachments: number, 
/**
 * Stored files no other message refers to any more, deleted from the attachment store.
 */
files: number, };

export type ExportFormat = "json" | "txt";

export type ExportRequestStatus = "pending" | "approved" | "declined" | "downloaded" | "expired";

export type ExportRequest = { id: string, requester_id: string, 
/**
 * The requester's name when they asked.
 */
requester_name: string, inbox_id: string, conversation_id: string, format: ExportFormat, 
/**
 * Why they need it, in their words (1 to 500 characters).
 */
reason: string, status: ExportRequestStatus, created_at: number, 
/**
 * Who approved or declined it, and when.
 */
decided_by: string | null, decided_at: number | null, 
/**
 * The lead's note with the decision (why not, usually).
 */
note: string | null, 
/**
 * Until when an approved request can be downloaded.
 */
expires_at: number | null, downloaded_at: number | null, };

export type Directory = { me: Agent, server_url: string, agents: Array<Agent>, teams: Array<Team>, inboxes: Array<Inbox>, labels: Array<Label>, canned_responses: Array<CannedResponse>, 
/**
 * The saved views the cache holds (personal and the agent's teams'), oldest first.
 */
saved_views: Array<SavedView>, };

export type ViewKey = { "type": "mine" } | { "type": "unassigned" } | { "type": "all" } | { "type": "mentions" } | { "type": "pinned" } | { "type": "breaching_soon" } | { "type": "team", "id": string } | { "type": "inbox", "id": string } | { "type": "label", "id": string } | { "type": "escalated" } | { "type": "unattended" } | { "type": "agent", "id": string } | { "type": "board", "id": BoardColumnKey } | { "type": "filter", "id": ConversationFilter } | { "type": "saved", "id": string };

export type BoardColumnKey = "new" | "assigned" | "waiting" | "escalated";

export type SidebarEntry = { view: ViewKey, count: number, };

export type SortKey = "newest" | "oldest" | "waiting_longest" | "breaching_soon" | "priority";

export type ListRequest = { view: ViewKey, 
/**
 * null: every status.
 */
status: ConversationStatus | null, sort: SortKey, offset: number, limit: number, };

export type WindowState = { "state": "always" } | { "state": "open_until", "until": number } | { "state": "closed" };

export type ConversationRow = { conversation: Conversation, contact_name: string, inbox_name: string, channel: Channel, assignee_name: string | null, unread: boolean, pinned: boolean, 
/**
 * Actions on it wait in the outbox.
 */
pending: boolean, window: WindowState, 
/**
 * The SLA clock the row counts down (`cache::views::sla_countdown`): the live one falling
 * due first, else a paused one.
 */
sla_clock: SlaClock | null, };

export type ListPage = { total: number, offset: number, rows: Array<ConversationRow>, };

export type Draft = { kind: SendKind, body: string, };

export type Thread = { conversation: Conversation, contact: Contact | null, inbox: Inbox | null, messages: Array<Message>, window: WindowState, 
/**
 * The SLA clock the header counts down, as on the row.
 */
sla_clock: SlaClock | null, pinned: boolean, 
/**
 * The contact's other conversations (the contact panel).
 */
other_conversations: Array<Conversation>, 
/**
 * Colleagues typing in / viewing this conversation right now.
 */
typing: Array<string>, viewing: Array<string>, draft: Draft | null, 
/**
 * What lies before `messages` (they are a window on the thread, never all of a long one).
 */
older: OlderMessages, 
/**
 * Newer messages exist past the window (after a jump into the middle).
 */
newer: boolean, };

export type MessageCursor = { created_at: number, id: string, };

export type OlderMessages = "none" | "cached" | "remote";

export type ThreadRange = { "kind": "newest" } | { "kind": "loaded", from: MessageCursor, to: MessageCursor | null, } | { "kind": "around", message_id: string, };

export type PageDirection = "older" | "newer";

export type ThreadPage = { 
/**
 * Oldest first.
 */
messages: Array<Message>, older: OlderMessages, newer: boolean, };

export type SearchHit = { conversation_id: string, message_id: string, contact_name: string, 
/**
 * The text around the match, the match itself between [ and ].
 */
snippet: string, created_at: number, };

export type SearchResults = { messages: Array<SearchHit>, contacts: Array<Contact>, conversations: Array<Conversation>, };

export type QuickReply = { canned: CannedResponse, 
/**
 * The body with the conversation's values filled in.
 */
text: string, 
/**
 * Unfilled placeholders in `text` as [start, end) char offsets, in order.
 */
placeholders: Array<[number, number]>, 
/**
 * Matched char positions in the short code, for highlighting.
 */
short_code_indices: Array<number>, 
/**
 * The agent's favourite slot and use count of it (`null`: never bound or used).
 */
usage: QuickReplyUsage | null, };

export type StagedFile = { id: string, conversation_id: string, file_name: string, content_type: string, size: number, };

export type Connection = "online" | "connecting" | "offline" | "auth_failed";

export type Status = { connection: Connection, pending: number, last_sync_at: number | null, do_not_disturb: boolean, history_percent?: number, };

export type StartScreen = { info: AppInfo, 
/**
 * When signed in.
 */
inbox: InboxStart | null, };

export type InboxStart = { directory: Directory, status: Status, 
/**
 * The first page of `request` ([`ListRequest::start`]).
 */
request: ListRequest, page: ListPage, };

export type InboxSettings = { hours: Calendar | null, routing: Routing, auto_replies: AutoReplies, 
/**
 * Which of the inbox's conversations its members see (admins see all).
 */
visibility: InboxVisibility, 
/**
 * Whether agents' transcript exports from the inbox wait for a lead's approval.
 */
exports_need_approval: boolean, };

export type InboxConnector = { kind: string, simulated: boolean, webhook_path: string | null, 
/**
 * The settings without secrets (`phone_number_id`, `graph_base_url`, `imap`…), to fill the
 * edit form; secret fields are never here.
 */
details: Record<string, unknown>, };

export type ConnectorSettings = { "kind": "api", webhook_url: string, } | { "kind": "whatsapp" } & WhatsappSettings | { "kind": "simulator" } | { "kind": "email" } & EmailSettings | { "kind": "telegram" } & TelegramSettings | { "kind": "messenger" } & MetaSettings | { "kind": "instagram" } & MetaSettings | { "kind": "widget" } & WidgetSettings;

export type WhatsappSettings = { 
/**
 * The phone number's id (not the number): `POST /{phone_number_id}/messages`.
 */
phone_number_id: string, 
/**
 * A system user's permanent access token (`Authorization: Bearer`).
 */
access_token: string, 
/**
 * The app secret: `X-Hub-Signature-256` is HMAC-SHA256 of the raw body under it.
 */
app_secret: string, 
/**
 * The token typed into the webhook settings; the `GET` handshake must echo it.
 */
verify_token: string, 
/**
 * `https://graph.facebook.com` unless set (tests point it at an emulator).
 */
graph_base_url: string | null, 
/**
 * The Graph API version, `v23.0` unless set.
 */
api_version: string | null, };

export type TelegramSettings = { 
/**
 * The bot's token (`123456:ABC-DEF…`): `https://api.telegram.org/bot<token>/METHOD`.
 */
bot_token: string, 
/**
 * The `secret_token` given to `setWebhook` (1-256 of `A-Z a-z 0-9 _ -`): every webhook
 * request carries it in `X-Telegram-Bot-Api-Secret-Token`. Not needed for `polling`.
 */
webhook_secret: string, 
/**
 * `https://api.telegram.org` unless set (a local Bot API server, or the tests' emulator).
 */
api_base_url: string | null, 
/**
 * How updates arrive: Telegram POSTs them to the webhook (the default), or the server asks
 * for them (`getUpdates`, for a server Telegram cannot reach).
 */
mode: TelegramMode, };

export type TelegramMode = "webhook" | "polling";

export type MetaSettings = { 
/**
 * The Facebook Page's id (Messenger) or the Instagram account's id (Instagram): the `id` of
 * the webhook's entries; entries for other accounts of the same app are skipped.
 */
account_id: string, 
/**
 * The Page access token (`Authorization: Bearer`): `POST /{version}/me/messages`.
 */
access_token: string, 
/**
 * The app secret: `X-Hub-Signature-256` is HMAC-SHA256 of the raw body under it.
 */
app_secret: string, 
/**
 * The token typed into the webhook settings; the `GET` handshake must echo it.
 */
verify_token: string, 
/**
 * Replies by people may go out up to 7 days after the customer's last message, tagged
 * `HUMAN_AGENT` after the first 24 hours (the app must have Meta's approval for the tag).
 */
human_agent: boolean, 
/**
 * `https://graph.facebook.com` unless set (tests point it at an emulator).
 */
graph_base_url: string | null, 
/**
 * The Graph API version, `v23.0` unless set.
 */
api_version: string | null, };

export type WidgetSettings = { 
/**
 * The sites that may embed the widget, as origins (`https://example.com`,
 * `http://localhost:8080`): the visitor endpoints answer these origins' browsers (CORS) and
 * refuse any other.
 */
allowed_origins: Array<string>, 
/**
 * The first words the visitor reads when the chat opens.
 */
greeting: string, 
/**
 * The bubble's and the header's colour, `#rrggbb` (`#2563eb` unless set).
 */
color: string | null, };

export type EmailSettings = { 
/**
 * The inbox's address: what customers write to, the `From` and `Reply-To` of replies.
 */
address: string, display_name: string | null, imap: MailServer, smtp: MailServer, 
/**
 * The login on both servers (often the address itself).
 */
username: string, 
/**
 * An app password (most providers want one for IMAP/SMTP). Never read back.
 */
password: string, 
/**
 * The mailbox watched for new mail, `INBOX` unless set.
 */
mailbox: string | null, new_subject: NewSubject, };

export type MailServer = { host: string, port: number, security: MailSecurity, };

export type MailSecurity = "tls" | "starttls" | "none";

export type NewSubject = "same_conversation" | "new_conversation";

export type ConnectorTest = { ok: boolean, detail: string, };

export type NewAgent = { name: string, email: string, role: Role, team_ids: Array<string>, 
/**
 * The most open conversations routing gives them; `null`: no limit.
 */
capacity: number | null, };

export type CreatedAgent = { agent: Agent, password: string, };

export type AgentChange = { name: string | null, role: Role | null, team_ids: Array<string> | null, active: boolean | null, };

export type DeviceInfo = { id: string, agent_id: string, name: string, created_at: number, last_seen_at: number, 
/**
 * This app's own device.
 */
current: boolean, };

export type QuickReplyInput = { short_code: string, title: string, body: string, };

export type WorkloadRow = { agent_id: string, availability: Availability, 
/**
 * A stream of theirs is open on some node.
 */
connected: boolean, 
/**
 * Open conversations assigned to them, over every inbox.
 */
load: number, capacity: number | null, 
/**
 * Pending and snoozed conversations assigned to them (not counted in `load`).
 */
parked: number, 
/**
 * Whether routing could give them a conversation now.
 */
can_take_more: boolean, 
/**
 * From this device's cache: since when the customer waiting longest on them has waited.
 */
oldest_waiting_since: number | null, 
/**
 * From this device's cache: how many of theirs have an SLA clock due within
 * [`BREACHING_SOON_MS`] (overdue ones included).
 */
breaching_soon: number, };

export type Workload = { agents: Array<WorkloadRow>, queued: number, 
/**
 * When the oldest queued conversation started waiting.
 */
oldest_waiting_since: number | null, };

export type ConversationBrief = { id: string, contact_name: string | null, inbox_name: string | null, channel: Channel | null, status: ConversationStatus | null, preview: string | null, last_activity_at: number | null, };

export type RulePreview = { tried: number, matched: Array<ConversationBrief>, };

export type RuleRun = { run: AutomationRun, conversation: ConversationBrief, };

export type ReportQuery = { from: string, to: string, time_zone: string, group_by: GroupBy, interval: Interval, };

export type SummaryReport = { report: ReportSummary, as_of: number, offline: string | null, };

export type SeriesReport = { report: ReportSeries, as_of: number, offline: string | null, };

export type LiveReport = { figures: LiveFigures, as_of: number, offline: string | null, };

export type CsvExport = "summary" | "conversations";

export type TranscriptFormat = "text" | "json" | "pdf";

export type ContactOption = { contact: Contact, open_conversations: Array<OpenConversationRef>, };

export type OpenConversationRef = { inbox_id: string, conversation_id: string, };

export type NewContactInput = { name: string, phone: string | null, email: string | null, };

export type StartConversationInput = { inbox_id: string, contact_id: string | null, new_contact: NewContactInput | null, subject: string | null, body: string, template: TemplateRef | null, };

export type StartedConversation = { conversation_id: string, already_open: boolean, };

export type QuietHours = { from: string, to: string, time_zone: string, };

export type NotificationSettings = { new_unassigned: boolean, 
/**
 * New messages on the agent's conversations, and the server's notices about them (a snooze
 * that ended, a conversation routed to them).
 */
assigned_message: boolean, mentions: boolean, 
/**
 * SLA warnings and escalations.
 */
sla: boolean, sound: boolean, quiet_hours: QuietHours | null, };

export type UiEvent = { "type": "cache_changed", kinds: Array<EntityKind>, } | { "type": "status" } & Status | { "type": "rejected", action: string, conversation_id: string | null, code: UiErrorCode, message: string, 
/**
 * For assignment_conflict: who holds it now (null: nobody).
 */
current_assignee_id: string | null, 
/**
 * For conversation_exists: the contact's open conversation in that inbox.
 */
existing_conversation_id?: string, } | { "type": "typing", conversation_id: string, agent_id: string, active: boolean, } | { "type": "viewing", conversation_id: string, agent_id: string, active: boolean, } | { "type": "presence", agent_id: string, online: boolean, } | { "type": "signed_out", reason: string, } | { "type": "open_conversation", conversation_id: string, };

