// For the state tests: a stand-in for `api` (every call a `vi.fn` with a harmless answer) and
// small fixtures. Each test file swaps it in with
// `vi.mock('../api', async (real) => ({ ...(await real()), ...(await import('./testing')).fakeApiModule }))`.
import { vi } from 'vitest';
import type { api as realApi } from '../api';
import type {
  AppInfo,
  AutomationRule,
  Conversation,
  ConversationRow,
  Directory,
  ListPage,
  SidebarEntry,
  Status,
  Thread,
} from '../bindings';

type Api = typeof realApi;
type Fake = { [K in keyof Api]: Api[K] & ReturnType<typeof vi.fn> };

export const signedOut: AppInfo = {
  version: 'test', default_server_url: 'http://127.0.0.1:7300', accounts: [], signed_in: false, two_factor_enrolment: false,
  locked: false,
};
export const signedIn: AppInfo = { ...signedOut, signed_in: true };
export const online: Status = { connection: 'online', pending: 0, last_sync_at: null, do_not_disturb: false };

export function conversation(id: string, overrides: Partial<Conversation> = {}): Conversation {
  return {
    id,
    inbox_id: 'inbox-1',
    contact_id: `contact-${id}`,
    subject: null,
    status: 'open',
    snoozed_until: null,
    assignee_id: 'me',
    team_id: null,
    priority: 'none',
    labels: [],
    created_at: 0,
    last_activity_at: 0,
    waiting_since: null,
    first_reply_at: null,
    last_incoming_at: null,
    preview: '',
    sla: null,
    escalation: null,
    ...overrides,
  };
}

export function row(id: string, pinned = false): ConversationRow {
  return {
    conversation: conversation(id),
    contact_name: `Contact ${id}`,
    inbox_name: 'WhatsApp',
    channel: 'whatsapp',
    assignee_name: 'Me',
    unread: false,
    pinned,
    pending: false,
    window: { state: 'always' },
    sla_clock: null,
  };
}

/** A list page of `total` conversations `c0`, `c1`…, holding rows [offset, offset + count). */
export function page(total: number, offset = 0, limit = 100): ListPage {
  const rows: ConversationRow[] = [];
  for (let i = offset; i < Math.min(total, offset + limit); i += 1) rows.push(row(`c${i}`));
  return { total, offset, rows };
}

export const directory: Directory = {
  me: { id: 'me', name: 'Sara Karimi', email: 'sara@example.com', role: 'agent', availability: 'online', active: true, team_ids: [], capacity: null },
  server_url: 'http://127.0.0.1:7300',
  agents: [],
  teams: [],
  inboxes: [
    {
      id: 'inbox-1',
      name: 'WhatsApp',
      channel: 'whatsapp',
      member_agent_ids: [],
      member_team_ids: [],
      templates: [],
      attachment_limit: 1024,
      hours: null,
      routing: { mode: 'manual', release_after_secs: 300, reassign_after_secs: null, max_handovers: 2 },
      auto_replies: { greeting: null, away: null, keywords: [] },
      visibility: 'everything',
      exports_need_approval: false,
    },
  ],
  labels: [],
  canned_responses: [],
  saved_views: [],
};

export function rule(id: string, overrides: Partial<AutomationRule> = {}): AutomationRule {
  return {
    id,
    name: `Rule ${id}`,
    enabled: true,
    position: 1,
    version: 1,
    trigger: { type: 'event', events: ['message_received'] },
    conditions: { all: [] },
    actions: [{ type: 'route' }],
    stop_processing: false,
    run_limit: { type: 'every_time' },
    allow_rule_origin: false,
    needs_attention: null,
    updated_at: 0,
    ...overrides,
  };
}

export function sidebar(mine: number): SidebarEntry[] {
  return [
    { view: { type: 'mine' }, count: mine },
    { view: { type: 'unassigned' }, count: 0 },
    { view: { type: 'all' }, count: mine },
  ];
}

export function thread(id: string, overrides: Partial<Thread> = {}): Thread {
  return {
    conversation: conversation(id),
    contact: null,
    inbox: null,
    messages: [],
    window: { state: 'always' },
    sla_clock: null,
    pinned: false,
    other_conversations: [],
    typing: [],
    viewing: [],
    draft: null,
    older: 'none',
    newer: false,
    ...overrides,
  };
}

function makeFakeApi(): Fake {
  const answers: { [K in keyof Api]: () => unknown } = {
    appInfo: () => signedOut,
    startScreen: () => ({ info: signedOut, inbox: null }),
    signIn: () => signedIn,
    signOut: () => signedOut,
    lockApp: () => undefined,
    unlockApp: () => undefined,
    switchAccount: () => signedIn,
    directory: () => directory,
    status: () => online,
    sidebar: () => sidebar(0),
    listConversations: () => page(0),
    openConversation: () => thread('c0'),
    thread: () => thread('c0'),
    threadPage: () => ({ messages: [], older: 'none', newer: false }),
    closeConversation: () => undefined,
    typing: () => undefined,
    search: () => ({ messages: [], contacts: [], conversations: [] }),
    quickReplies: () => [],
    sendMessage: () => 'message-1',
    findContacts: () => [],
    contactProfile: () => ({ contact: null, conversations: [], fields: [] }),
    customFields: () => [],
    addContact: () => 'contact-1',
    editContact: () => undefined,
    mergeContacts: () => ({ contact_id: 'contact-1', moved: [], resolved: [] }),
    exportContact: () => null,
    eraseContact: () => ({ conversations: 0, messages: 0, attachments: 0, files: 0 }),
    createCustomField: () => undefined,
    deleteCustomField: () => undefined,
    startConversation: () => ({ conversation_id: 'started-1', already_open: false }),
    assign: () => undefined,
    setTeam: () => undefined,
    setStatus: () => undefined,
    createView: () => 'view-1',
    renameView: () => undefined,
    updateViewFilter: () => undefined,
    deleteView: () => undefined,
    editLabels: () => undefined,
    setPriority: () => undefined,
    setEscalated: () => undefined,
    setPinned: () => undefined,
    markUnread: () => undefined,
    retryDelivery: () => undefined,
    saveDraft: () => undefined,
    stageFiles: () => [],
    unstageFile: () => null,
    stagePasted: () => ({ id: 'staged-1', conversation_id: 'c0', file_name: 'a.png', content_type: 'image/png', size: 3 }),
    attachmentPreview: () => '',
    openAttachment: () => undefined,
    setDoNotDisturb: () => online,
    setAvailability: () => directory.me,
    saveInboxSettings: () => directory.inboxes[0],
    inboxConnector: () => ({ kind: 'simulator', simulated: true, webhook_path: null, details: {} }),
    createInbox: () => undefined,
    saveInboxConnector: () => undefined,
    testInboxConnector: () => ({ ok: true, detail: 'test' }),
    setCapacity: () => directory.me,
    workload: () => ({ agents: [], queued: 0, oldest_waiting_since: null }),
    createAgent: () => ({ agent: { ...directory.me, id: 'new-agent', name: 'Nima' }, password: 'abcdef-ghijkm-npqrst' }),
    updateAgent: () => directory.me,
    resetPassword: () => 'zyxwvu-tsrqpn-mkjihg',
    signOutAgent: () => 2,
    devices: () => [],
    revokeDevice: () => undefined,
    saveTeam: () => ({ id: 'team-1', name: 'Support' }),
    setInboxMembers: () => directory.inboxes[0],
    setInboxTemplates: () => directory.inboxes[0],
    saveLabel: () => ({ id: 'label-1', name: 'New Lead', color: '#3b82f6' }),
    deleteLabel: () => undefined,
    saveQuickReply: () => ({ id: 'reply-1', short_code: 'hi', title: 'Hi', body: 'Hello', owner_id: null }),
    deleteQuickReply: () => undefined,
    saveMyQuickReply: () => 'reply-2',
    deleteMyQuickReply: () => undefined,
    bindQuickReply: () => undefined,
    useQuickReply: () => undefined,
    promoteQuickReply: () => undefined,
    twoFactorStatus: () => ({ enabled: false, recovery_codes_left: 0, required: false }),
    beginTwoFactor: () => ({ secret: 'JBSWY3DPEHPK3PXP', otpauth_uri: 'otpauth://totp/Switchboard:sara?secret=JBSWY3DPEHPK3PXP', qr_code: 'data:image/svg+xml;base64,' }),
    confirmTwoFactor: () => ['AAAAA-11111', 'BBBBB-22222'],
    disableTwoFactor: () => undefined,
    timeZones: () => ['Asia/Tehran', 'Europe/Bucharest', 'UTC'],
    automationRules: () => [],
    saveRule: () => rule('rule-1'),
    setRuleEnabled: () => rule('rule-1'),
    deleteRule: () => undefined,
    moveRule: () => [],
    previewRule: () => ({ tried: 0, matched: [] }),
    testRule: () => ({ matched: true, trace: [{ path: '$', result: true }], actions: [] }),
    ruleRuns: () => [],
    slaPolicies: () => [],
    reportSummary: () => ({
      report: { from: 0, to: 86_400_000, time_zone: 'UTC', group_by: 'agent', rows: [], previous: [] },
      as_of: 0,
      offline: null,
    }),
    reportSeries: () => ({
      report: { from: 0, to: 86_400_000, time_zone: 'UTC', interval: 'day', group_by: 'none', buckets: [], rows: [] },
      as_of: 0,
      offline: null,
    }),
    liveFigures: () => ({
      figures: {
        open: 0, unassigned: 0, unattended: 0, waiting_longer: 0, waiting_longer_than_secs: 1800,
        longest_wait_secs: 0, parked: 0, sla_at_risk: 0, sla_at_risk_within_secs: 3600,
      },
      as_of: 0,
      offline: null,
    }),
    reportConversations: () => [],
    exportReport: () => null,
    exportTranscript: () => null,
    requestExport: () => undefined,
    exportRequests: () => [],
    decideExport: () => undefined,
    saveApprovedExport: () => null,
    lockPolicy: () => null,
    setLockPolicy: () => null,
    twoFactorOverview: () => ({ workspace_required: false, agents: [] }),
    requireTwoFactor: () => undefined,
    auditPage: () => [],
    verifyAudit: () => ({ ok: true, rows: 0, first_bad_seq: null }),
    exportAudit: () => null,
    setStatusText: () => undefined,
    notificationSettings: () => ({ new_unassigned: true, assigned_message: true, mentions: true, sla: true, sound: true, quiet_hours: null }),
    setNotificationSettings: () => undefined,
    launchAtLogin: () => false,
    setLaunchAtLogin: () => false,
    reconnect: () => undefined,
    openLink: () => undefined,
    firstPaint: () => undefined,
  };
  const fake = {} as Record<string, ReturnType<typeof vi.fn>>;
  for (const [name, answer] of Object.entries(answers)) fake[name] = vi.fn(async () => answer());
  return fake as unknown as Fake;
}

/** The fake `api`: reset it (`resetFakeApi`) in `beforeEach`. */
export const fakeApi: Fake = makeFakeApi();

/** Gives every call its default answer again and forgets the calls. */
export function resetFakeApi(): void {
  const fresh = makeFakeApi();
  for (const name of Object.keys(fresh) as (keyof Api)[]) {
    fakeApi[name].mockReset();
    fakeApi[name].mockImplementation(fresh[name].getMockImplementation()!);
  }
}

/** What replaces `../api` in the state tests: the fake calls, a backend that is there, and event
 * listeners that hand their handler to the test. */
export const fakeApiModule = {
  api: fakeApi,
  hasBackend: vi.fn(() => true),
  onUiEvent: vi.fn(async () => () => {}),
  onDragDrop: vi.fn(async () => () => {}),
};

/** Lets every settled promise's callbacks run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

/** A promise with its resolve function, for answers the test hands out when it chooses. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}
