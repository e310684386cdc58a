// Dev-only in-memory backend behind `?mock` (never part of a production build: main.ts imports it
// only when import.meta.env.DEV). It answers the same commands as the Rust shell and emits the
// same events, so the whole UI works in a plain browser.
import { mockIPC, mockWindows } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { matchesFilter } from '../filters';
import { compareCursors, cursorOf } from '../threadWindow';
import type {
  Inbox,
  NotificationSettings,
  Channel,
  ConnectorSettings,
  Agent,
  ConversationFilter,
  SavedView,
  AutomationRule,
  AutomationRuleInput,
  Condition,
  ConversationBrief,
  InboxSettings,
  Workload,
  AppInfo,
  Attachment,
  Availability,
  ConversationStatus,
  Directory,
  EntityKind,
  ListPage,
  ListRequest,
  Message,
  QuickReply,
  QuickReplyUsage,
  SearchResults,
  SendKind,
  SidebarEntry,
  StagedFile,
  StartScreen,
  StartConversationInput,
  Contact,
  CustomField,
  ExportRequest,
  UpdateContact,
  Status,
  TemplateRef,
  Thread,
  ThreadPage,
  ThreadRange,
  PageDirection,
  MessageCursor,
  UiEvent,
  ViewKey,
  WindowState,
} from '../bindings';
import { agents, automationRules, buildWorld, canned, inboxes, labels, me, teams, threadFor, uuid, type MockConversation } from './data';
import { columnOf } from '../board';
import { rankContacts } from '../newConversation';

const HOUR = 3_600_000;

type Args = Record<string, unknown>;

function fail(code: string, message: string): never {
  throw { code, message };
}

function channelHasWindow(channel: string): boolean {
  return channel === 'whatsapp' || channel === 'instagram' || channel === 'facebook';
}

export function installMock(params: URLSearchParams): void {
  const count = Number(params.get('n') ?? 200);
  const world = buildWorld(Math.max(10, count), Date.now());
  let signedIn = !params.has('signedout');
  let dnd = false;
  let launchAtLogin = false;
  let notificationSettings: NotificationSettings = { new_unassigned: true, assigned_message: true, mentions: true, sla: true, sound: true, quiet_hours: null };
  let pending = 0;
  let lastSync = Date.now() - 20_000;
  let connection: Status['connection'] = params.has('offline') ? 'offline' : 'online';
  const drafts = new Map<string, { kind: SendKind; body: string }>();
  const staged = new Map<string, StagedFile>();
  let openId: string | null = null;
  let seq = 1000;
  const customFields: CustomField[] = [{ id: uuid(1, 6), key: 'plan', label: 'Plan', kind: 'choice', options: ['gold', 'silver'], created_at: 0 }];
  // `&role=admin` or `&role=lead` shows the settings screen.
  const role = params.get('role');
  if (role === 'admin' || role === 'lead') me.role = role;

  const byId = new Map(world.conversations.map((c) => [c.id, c]));
  const savedViews: SavedView[] = [];
  // Export requests (`&exports=held` holds the first inbox's exports) and the lock time an admin requires.
  const exportRequests: ExportRequest[] = [];
  if (params.get('exports') === 'held') inboxes[0].exports_need_approval = true;
  let lockRequired: number | null = params.has('lockmax') ? Number(params.get('lockmax')) : null;
  // The agent's favourite slots and use counts of quick replies, by reply id.
  const usages = new Map<string, QuickReplyUsage>([[canned[0].id, { canned_response_id: canned[0].id, agent_id: me.id, slot: 1, uses: 3, score: 3, last_used_at: Date.now() }]]);
  const freshUsage = (id: string): QuickReplyUsage => ({ canned_response_id: id, agent_id: me.id, slot: null, uses: 0, score: 0, last_used_at: null });
  const inboxOf = (c: MockConversation) => inboxes.find((inbox) => inbox.id === c.inbox_id)!;

  const event = (payload: UiEvent) => {
    setTimeout(() => emit('switchboard://event', payload), 0);
  };
  const changed = (...kinds: EntityKind[]) => event({ type: 'cache_changed', kinds });
  // Connector settings the mock's admin saved (the demo's own inboxes have the simulator).
  const connectors = new Map<string, ConnectorSettings>();
  const status = (): Status => ({ connection, pending, last_sync_at: lastSync, do_not_disturb: dnd });
  const pushStatus = () => event({ type: 'status', ...status() });

  const windowOf = (c: MockConversation): WindowState => {
    if (!channelHasWindow(c.channel)) return { state: 'always' };
    const closes = (c.last_incoming_at ?? -Infinity) + 24 * HOUR;
    return Date.now() < closes ? { state: 'open_until', until: closes } : { state: 'closed' };
  };

  const info = (): AppInfo => ({
    version: '0.1.0-mock',
    default_server_url: 'http://127.0.0.1:7300',
    signed_in: signedIn,
    two_factor_enrolment: false,
    locked: signedIn && locked,
    accounts: signedIn
      ? [
          { key: 'sara', server_url: 'http://127.0.0.1:7300', agent_name: me.name, agent_email: me.email, active: true },
          { key: 'sara-eu', server_url: 'https://eu.switchboard.example', agent_name: 'Sara K.', agent_email: 'sara@eu.example', active: false },
        ]
      : [],
  });

  const matches = (c: MockConversation, view: ViewKey): boolean => {
    switch (view.type) {
      case 'mine':
        return c.assignee_id === me.id;
      case 'unassigned':
        return c.assignee_id === null;
      case 'all':
        return true;
      case 'mentions':
        return c.mentioned;
      case 'pinned':
        return c.pinned;
      case 'breaching_soon':
        return dueOf(c) !== Infinity;
      case 'team':
        return c.team_id === view.id;
      case 'inbox':
        return c.inbox_id === view.id;
      case 'label':
        return c.labels.includes(view.id);
      case 'escalated':
        return c.escalation !== null && c.status !== 'resolved';
      case 'unattended':
        return c.status === 'open' && (c.waiting_since !== null || c.first_reply_at === null);
      case 'board':
        return columnOf(c) === view.id;
      case 'agent':
        return c.assignee_id === view.id && c.status !== 'resolved';
      case 'filter':
        return matchesFilter(c, c.channel, view.id, me.id, Date.now(), dueOf(c) === Infinity ? null : dueOf(c));
      case 'saved': {
        const saved = savedViews.find((v) => v.id === view.id);
        return saved !== undefined && matches(c, { type: 'filter', id: saved.filter });
      }
    }
  };

  const filtered = (view: ViewKey, statusFilter: ConversationStatus | null) =>
    world.conversations.filter((c) => (statusFilter === null || c.status === statusFilter) && matches(c, view));

  const row = (c: MockConversation) => ({
    conversation: strip(c),
    contact_name: world.contacts.get(c.contact_id)?.name ?? '',
    inbox_name: inboxOf(c).name,
    channel: c.channel,
    assignee_name: agents.find((a) => a.id === c.assignee_id)?.name ?? null,
    unread: c.unread,
    pinned: c.pinned,
    pending: pendingIds.has(c.id),
    window: windowOf(c),
    sla_clock: slaClockOf(c),
  });

  /** As the shell's `sla_countdown`: the live clock falling due first, else a paused one. */
  const slaClockOf = (c: MockConversation) => {
    const clocks = c.sla?.clocks ?? [];
    const live = clocks
      .filter((clock) => ['running', 'paused', 'breached'].includes(clock.status) && clock.due_at !== null)
      .sort((a, b) => (a.due_at ?? 0) - (b.due_at ?? 0));
    return live[0] ?? clocks.find((clock) => clock.status === 'paused') ?? null;
  };
  const dueOf = (c: MockConversation) => slaClockOf(c)?.due_at ?? Infinity;

  const strip = (c: MockConversation) => {
    const { unread: _u, pinned: _p, mentioned: _m, channel: _c, generated: _g, ...conversation } = c;
    return conversation;
  };

  const pendingIds = new Set<string>();
  /** Simulates the outbox: the action is pending for a moment, then acknowledged. */
  const outbox = (id: string, kinds: EntityKind[], done?: () => void) => {
    pending += 1;
    pendingIds.add(id);
    pushStatus();
    changed(...kinds);
    setTimeout(() => {
      pending = Math.max(0, pending - 1);
      pendingIds.delete(id);
      lastSync = Date.now();
      done?.();
      pushStatus();
      changed(...kinds);
    }, connection === 'online' ? 900 : 60_000);
  };

  // A window of 50 on the thread, as the shell's `thread_window` answers it.
  const page = (all: Message[], from: number, to: number) => ({ messages: all.slice(from, to), older: from > 0 ? ('cached' as const) : ('none' as const), newer: to < all.length });
  const windowed = (all: Message[], range: ThreadRange | null) => {
    const at = (cursor: MessageCursor) => all.findIndex((m) => compareCursors(cursorOf(m), cursor) >= 0);
    if (range?.kind === 'loaded') {
      const from = Math.max(0, at(range.from));
      const to = range.to ? all.filter((m) => compareCursors(cursorOf(m), range.to!) <= 0).length : all.length;
      return page(all, from, Math.max(from, to));
    }
    const hit = range?.kind === 'around' ? all.findIndex((m) => m.id === range.message_id) : -1;
    if (hit >= 0) return page(all, Math.max(0, hit - 25), Math.min(all.length, Math.max(0, hit - 25) + 50));
    return page(all, Math.max(0, all.length - 50), all.length);
  };
  const threadPage = (c: MockConversation, direction: PageDirection, cursor: MessageCursor): ThreadPage => {
    const all = threadFor(world, c);
    const index = all.findIndex((m) => compareCursors(cursorOf(m), cursor) >= 0);
    const end = index < 0 ? all.length : index;
    if (direction === 'older') return page(all, Math.max(0, end - 50), end);
    const start = index < 0 ? all.length : compareCursors(cursorOf(all[index]), cursor) === 0 ? index + 1 : index;
    return page(all, start, Math.min(all.length, start + 50));
  };

  const thread = (id: string, range: ThreadRange | null = null): Thread => {
    const c = byId.get(id) ?? fail('not_found', 'no such conversation');
    const shown = windowed(threadFor(world, c), range);
    return {
      conversation: strip(c),
      contact: world.contacts.get(c.contact_id) ?? null,
      inbox: inboxOf(c),
      ...shown,
      window: windowOf(c),
      sla_clock: slaClockOf(c),
      pinned: c.pinned,
      other_conversations: world.conversations.filter((o) => o.contact_id === c.contact_id && o.id !== c.id).map(strip),
      typing: [],
      viewing: id === world.conversations[0].id ? [agents[1].id] : [],
      draft: drafts.get(id) ?? null,
    };
  };

  const render = (body: string, c: MockConversation | undefined): { text: string; placeholders: [number, number][] } => {
    const contact = c ? world.contacts.get(c.contact_id) : undefined;
    const values: Record<string, string | undefined> = {
      'contact.name': contact?.name,
      'contact.first_name': contact?.name.split(/\s+/)[0],
      'agent.name': me.name,
      'inbox.name': c ? inboxOf(c).name : undefined,
      'conversation.id': c?.id,
    };
    let text = '';
    const placeholders: [number, number][] = [];
    let rest = body;
    for (;;) {
      const open = rest.indexOf('{{');
      const close = open < 0 ? -1 : rest.indexOf('}}', open);
      if (open < 0 || close < 0) {
        text += rest;
        break;
      }
      text += rest.slice(0, open);
      const name = rest.slice(open + 2, close).trim();
      const value = values[name];
      if (value) text += value;
      else {
        const start = [...text].length;
        text += `{{${name}}}`;
        placeholders.push([start, [...text].length]);
      }
      rest = rest.slice(close + 2);
    }
    return { text, placeholders };
  };

  const fuzzy = (query: string, code: string): number[] | null => {
    const indices: number[] = [];
    let from = 0;
    for (const ch of query.toLowerCase()) {
      const at = code.toLowerCase().indexOf(ch, from);
      if (at < 0) return null;
      indices.push(at);
      from = at + 1;
    }
    return indices;
  };

  let twoFactorOn = false;
  let locked = false;
  const handlers: Record<string, (args: Args) => unknown> = {
    app_info: () => info(),
    two_factor_status: () => ({ enabled: twoFactorOn, recovery_codes_left: twoFactorOn ? 10 : 0, required: false }),
    begin_two_factor: () => ({
      secret: 'JBSWY3DPEHPK3PXP',
      otpauth_uri: 'otpauth://totp/Switchboard:sara%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Switchboard',
      qr_code: 'data:image/svg+xml;base64,PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIHdpZHRoPSIyMDAiIGhlaWdodD0iMjAwIi8+',
    }),
    confirm_two_factor: (args) => {
      if (String(args.code) !== '123456') fail('validation', 'that code doesn’t match');
      twoFactorOn = true;
      return Array.from({ length: 10 }, (_, i) => `MOCK${i}-0000${i}`);
    },
    disable_two_factor: () => {
      twoFactorOn = false;
    },
    start_screen: (): StartScreen => {
      if (!signedIn || locked) return { info: info(), inbox: null };
      const request: ListRequest = { view: { type: 'mine' }, status: 'open', sort: 'newest', offset: 0, limit: 100 };
      const page = handlers.list_conversations({ request }) as ListPage;
      return { info: info(), inbox: { directory: handlers.directory({}) as Directory, status: status(), request, page } };
    },
    sign_in: (args) => {
      const email = String(args.email ?? '');
      const password = String(args.password ?? '');
      if (!String(args.serverUrl ?? '').startsWith('http')) fail('invalid', 'the server URL must start with http:// or https://');
      if (email.includes('offline')) fail('offline', 'connection refused');
      if (email.includes('keychain')) fail('keychain_error', 'no secret service');
      if (password !== 'switchboard-demo' && password !== 'demo') fail('invalid_credentials', 'wrong email or password');
      signedIn = true;
      changed('agent', 'team', 'inbox', 'label', 'canned_response', 'conversation', 'message');
      return info();
    },
    lock_app: () => {
      locked = true;
    },
    unlock_app: (args) => {
      if (String(args.password) !== 'switchboard-demo' && String(args.password) !== 'demo') fail('invalid_credentials', 'wrong password');
      locked = false;
    },
    sign_out: () => {
      signedIn = false;
      locked = false;
      return info();
    },
    switch_account: () => info(),
    directory: (): Directory => {
      if (!signedIn) fail('signed_out', 'no account is signed in');
      return { me, server_url: 'http://127.0.0.1:7300', agents, teams, inboxes, labels, canned_responses: canned, saved_views: savedViews };
    },
    status: () => status(),
    sidebar: (args): SidebarEntry[] => {
      const statusFilter = (args.status ?? null) as ConversationStatus | null;
      const views: ViewKey[] = [
        { type: 'mine' }, { type: 'unassigned' }, { type: 'all' }, { type: 'mentions' }, { type: 'pinned' }, { type: 'breaching_soon' }, { type: 'escalated' }, { type: 'unattended' },
        ...savedViews.map((v) => ({ type: 'saved', id: v.id }) as ViewKey),
        ...teams.map((t) => ({ type: 'team', id: t.id }) as ViewKey),
        ...inboxes.map((i) => ({ type: 'inbox', id: i.id }) as ViewKey),
        ...labels.map((l) => ({ type: 'label', id: l.name }) as ViewKey),
      ];
      return views.map((view) => ({ view, count: filtered(view, statusFilter).length }));
    },
    list_conversations: (args) => {
      const request = args.request as ListRequest;
      const rows = filtered(request.view, request.status);
      const key = (c: MockConversation) => c.last_activity_at;
      const rank = (c: MockConversation) => ['none', 'low', 'medium', 'high', 'urgent'].indexOf(c.priority);
      if (request.sort === 'newest') rows.sort((a, b) => key(b) - key(a));
      else if (request.sort === 'oldest') rows.sort((a, b) => key(a) - key(b));
      else if (request.sort === 'breaching_soon') rows.sort((a, b) => dueOf(a) - dueOf(b) || key(b) - key(a));
      else if (request.sort === 'priority')
        rows.sort((a, b) => rank(b) - rank(a) || (a.waiting_since ?? Infinity) - (b.waiting_since ?? Infinity) || key(a) - key(b));
      else rows.sort((a, b) => (a.waiting_since ?? Infinity) - (b.waiting_since ?? Infinity) || key(a) - key(b));
      // Pinned ones on top of every list, as the cache lists them.
      rows.sort((a, b) => Number(b.pinned) - Number(a.pinned));
      return { total: rows.length, offset: request.offset, rows: rows.slice(request.offset, request.offset + Math.min(request.limit, 500)).map(row) };
    },
    open_conversation: (args) => {
      const id = String(args.id);
      openId = id;
      const c = byId.get(id);
      if (c?.unread) {
        c.unread = false;
        changed('read_marker');
      }
      return thread(id, (args.range as ThreadRange | null) ?? null);
    },
    thread: (args) => thread(String(args.id), (args.range as ThreadRange | null) ?? null),
    thread_page: (args) => threadPage(byId.get(String(args.id)) ?? fail('not_found', 'no such conversation'), args.direction as PageDirection, args.cursor as MessageCursor),
    close_conversation: (args) => {
      if (openId === args.id) openId = null;
    },
    typing: () => null,
    search: (args): SearchResults => {
      const query = String(args.query ?? '').trim().toLowerCase();
      if (!query) return { messages: [], contacts: [], conversations: [] };
      const messages = [];
      for (const c of world.conversations.slice(0, 400)) {
        for (const m of threadFor(world, c)) {
          const at = m.body.toLowerCase().indexOf(query);
          if (at < 0 || m.kind === 'activity') continue;
          const from = Math.max(0, at - 24);
          const snippet = `${from > 0 ? '…' : ''}${m.body.slice(from, at)}[${m.body.slice(at, at + query.length)}]${m.body.slice(at + query.length, at + query.length + 40)}…`;
          messages.push({ conversation_id: c.id, message_id: m.id, contact_name: world.contacts.get(c.contact_id)?.name ?? '', snippet, created_at: m.created_at });
          break;
        }
        if (messages.length >= 8) break;
      }
      const contacts = [...world.contacts.values()]
        .filter((c) => c.name.toLowerCase().includes(query) || c.phone?.includes(query) || c.email?.includes(query))
        .slice(0, 5);
      const conversations = world.conversations
        .filter((c) => (c.subject ?? '').toLowerCase().includes(query) || c.preview.toLowerCase().includes(query))
        .slice(0, 5)
        .map(strip);
      return { messages, contacts, conversations };
    },
    quick_replies: (args): QuickReply[] => {
      const query = String(args.query ?? '');
      const c = args.conversationId ? byId.get(String(args.conversationId)) : undefined;
      const found: { reply: QuickReply; score: number }[] = [];
      for (const response of canned) {
        const indices = fuzzy(query, response.short_code);
        const inBody = query && response.body.toLowerCase().includes(query.toLowerCase());
        if (!indices && !inBody) continue;
        const rendered = render(response.body, c);
        found.push({
          reply: { canned: response, text: rendered.text, placeholders: rendered.placeholders, short_code_indices: indices ?? [], usage: usages.get(response.id) ?? null },
          score: indices ? 100 - (indices[indices.length - 1] ?? 0) - response.short_code.length * 0.1 : 10,
        });
      }
      return found.sort((a, b) => b.score - a.score).map((f) => f.reply);
    },
    find_contacts: (args) => {
      const query = String(args.query ?? '');
      const all = [...world.contacts.values()];
      const found = query.trim() ? rankContacts(query, all, 20) : all.slice(0, 20);
      return found.map((contact) => ({
        contact,
        open_conversations: world.conversations
          .filter((c) => c.contact_id === contact.id && c.status !== 'resolved')
          .map((c) => ({ inbox_id: c.inbox_id, conversation_id: c.id })),
      }));
    },
    contact_profile: (args) => {
      const contact = world.contacts.get(String(args.contactId)) ?? fail('not_found', 'no such contact');
      const conversations = world.conversations.filter((c) => c.contact_id === contact.id).sort((a, b) => b.last_activity_at - a.last_activity_at);
      return { contact, conversations, fields: customFields };
    },
    custom_fields: () => customFields,
    add_contact: (args) => {
      const contact: Contact = { id: uuid(++seq, 5), name: String(args.name).trim(), phone: (args.phone as string | null) ?? null, email: (args.email as string | null) ?? null, identities: [], created_at: Date.now() };
      world.contacts.set(contact.id, contact);
      changed('contact');
      return contact.id;
    },
    edit_contact: (args) => {
      const contact = world.contacts.get(String(args.contactId)) ?? fail('not_found', 'no such contact');
      const update = args.update as UpdateContact;
      if (update.name !== undefined) contact.name = update.name;
      if (update.phone !== undefined) contact.phone = update.phone;
      if (update.email !== undefined) contact.email = update.email;
      if (update.notes !== undefined) contact.notes = update.notes ?? undefined;
      const fields = { ...(contact.fields ?? {}) };
      for (const [key, value] of Object.entries(update.fields ?? {})) {
        if (value === null) delete fields[key];
        else fields[key] = value;
      }
      contact.fields = fields;
      changed('contact');
    },
    merge_contacts: (args) => {
      const survivor = world.contacts.get(String(args.survivorId)) ?? fail('not_found', 'no such contact');
      const other = world.contacts.get(String(args.otherId)) ?? fail('not_found', 'no such contact');
      const moved = world.conversations.filter((c) => c.contact_id === other.id);
      for (const c of moved) c.contact_id = survivor.id;
      survivor.identities = [...survivor.identities, ...other.identities];
      world.contacts.delete(other.id);
      changed('contact', 'conversation');
      return { contact_id: survivor.id, moved: moved.map((c) => c.id), resolved: [] };
    },
    create_custom_field: (args) => {
      const field: CustomField = { id: uuid(++seq, 6), key: String(args.key), label: String(args.label), kind: args.kind as CustomField['kind'], options: (args.options as string[]) ?? [], created_at: Date.now() };
      customFields.push(field);
      changed('custom_field');
      return field;
    },
    delete_custom_field: (args) => {
      const at = customFields.findIndex((f) => f.id === args.fieldId);
      if (at >= 0) customFields.splice(at, 1);
      changed('custom_field');
    },
    start_conversation: (args) => {
      const input = args.input as StartConversationInput;
      const inbox = inboxes.find((i) => i.id === input.inbox_id) ?? fail('validation', 'no such inbox');
      let contact = input.contact_id ? world.contacts.get(input.contact_id) : undefined;
      if (!contact && input.new_contact) {
        contact = { id: uuid(++seq, 5), name: input.new_contact.name, phone: input.new_contact.phone, email: input.new_contact.email, identities: [], created_at: Date.now() };
        world.contacts.set(contact.id, contact);
      }
      if (!contact) fail('validation', 'pick or add a contact');
      const open = world.conversations.find((c) => c.contact_id === contact.id && c.inbox_id === inbox.id && c.status !== 'resolved');
      if (open) return { conversation_id: open.id, already_open: true };
      const template = input.template;
      const text = template
        ? (inbox.templates.find((t) => t.name === template.name)?.body ?? '').replace(/\{\{(\d+)\}\}/g, (_, n) => template.params[Number(n) - 1] ?? '')
        : input.body;
      const now = Date.now();
      const c: MockConversation = {
        id: uuid(++seq, 7), inbox_id: inbox.id, contact_id: contact.id, subject: input.subject, status: 'open', snoozed_until: null,
        assignee_id: me.id, team_id: null, priority: 'none', labels: [], created_at: now, last_activity_at: now, waiting_since: null,
        first_reply_at: now, last_incoming_at: null, preview: text, sla: null, escalation: null, unread: false, pinned: false,
        mentioned: false, channel: inbox.channel, generated: false,
      };
      world.conversations.unshift(c);
      byId.set(c.id, c);
      world.messages.set(c.id, [{ id: uuid(++seq, 9), conversation_id: c.id, kind: 'outgoing', body: text, sender: { type: 'agent', id: me.id }, attachments: [], template, delivery: 'queued', mentions: [], created_at: now }]);
      changed('contact', 'conversation', 'message');
      return { conversation_id: c.id, already_open: false };
    },
    send_message: (args) => {
      const c = byId.get(String(args.conversationId)) ?? fail('not_found', 'no such conversation');
      const kind = args.kind as SendKind;
      const template = (args.template ?? null) as TemplateRef | null;
      const body = String(args.body ?? '');
      const files = (args.stagedFileIds as string[]).map((id) => staged.get(id)).filter((f): f is StagedFile => !!f);
      if (!body.trim() && files.length === 0 && !template) fail('validation', 'write something, attach a file or pick a template');
      if (kind === 'reply' && !template && windowOf(c).state === 'closed') {
        // The real outbox rejects later; here it's immediate.
        setTimeout(() => event({ type: 'rejected', action: 'send', conversation_id: c.id, code: 'window_closed', message: 'reply window closed', current_assignee_id: null }), 300);
        return uuid(++seq, 9);
      }
      const list = threadFor(world, c);
      const message: Message = {
        id: uuid(++seq, 9),
        conversation_id: c.id,
        kind: kind === 'note' ? 'note' : 'outgoing',
        body: template ? (inboxOf(c).templates.find((t) => t.name === template.name)?.body ?? '').replace(/\{\{(\d+)\}\}/g, (_, n) => template.params[Number(n) - 1] ?? '') : body,
        sender: { type: 'agent', id: me.id },
        attachments: files.map((f): Attachment => ({ id: f.id, conversation_id: c.id, file_name: f.file_name, content_type: f.content_type, size: f.size, sha256: '00'.repeat(32) })),
        template,
        delivery: kind === 'note' ? 'delivered' : 'queued',
        mentions: [],
        created_at: Date.now(),
      };
      list.push(message);
      drafts.delete(c.id);
      if (kind === 'reply') {
        c.preview = message.body;
        c.last_activity_at = message.created_at;
        c.waiting_since = null;
      }
      outbox(c.id, ['message', 'conversation'], () => {
        if (message.delivery === 'queued') message.delivery = 'sent';
        setTimeout(() => {
          if (message.kind === 'outgoing') message.delivery = 'delivered';
          changed('message');
        }, 1500);
      });
      return message.id;
    },
    assign: (args) => {
      const ids = args.ids as string[];
      for (const id of ids) {
        const c = byId.get(id);
        if (!c) continue;
        if (args.claim) {
          if (c.assignee_id && c.assignee_id !== me.id) {
            setTimeout(() => event({ type: 'rejected', action: 'assign', conversation_id: id, code: 'assignment_conflict', message: 'already assigned', current_assignee_id: c.assignee_id }), 400);
            continue;
          }
          c.assignee_id = me.id;
        } else c.assignee_id = (args.assigneeId ?? null) as string | null;
        outbox(id, ['conversation']);
      }
    },
    set_team: (args) => {
      for (const id of args.ids as string[]) {
        const c = byId.get(id);
        if (c) c.team_id = (args.teamId ?? null) as string | null;
        outbox(id, ['conversation']);
      }
    },
    set_status: (args) => {
      for (const id of args.ids as string[]) {
        const c = byId.get(id);
        if (!c) continue;
        c.status = args.status as ConversationStatus;
        c.snoozed_until = (args.snoozedUntil ?? null) as number | null;
        // An escalation belongs to its cycle (as `proto::rules::apply_status` says).
        if (c.status === 'resolved') c.escalation = null;
        outbox(id, ['conversation']);
      }
    },
    edit_labels: (args) => {
      for (const id of args.ids as string[]) {
        const c = byId.get(id);
        if (!c) continue;
        const set = new Set(c.labels);
        for (const name of args.add as string[]) set.add(name);
        for (const name of args.remove as string[]) set.delete(name);
        c.labels = [...set].sort();
        outbox(id, ['conversation']);
      }
    },
    set_escalated: (args) => {
      for (const id of args.ids as string[]) {
        const c = byId.get(id);
        if (!c) continue;
        if (!args.escalated) c.escalation = null;
        else if (!c.escalation && c.status !== 'resolved') {
          c.escalation = { at: Date.now(), by: { type: 'agent', id: me.id }, note: (args.note ?? null) as string | null };
        }
        outbox(id, ['conversation']);
      }
    },
    set_priority: (args) => {
      for (const id of args.ids as string[]) {
        const c = byId.get(id);
        if (c) c.priority = args.priority as MockConversation['priority'];
        outbox(id, ['conversation']);
      }
    },
    create_view: (args) => {
      const id = crypto.randomUUID();
      const teamId = (args.teamId ?? null) as string | null;
      savedViews.push({
        id,
        name: String(args.name).trim(),
        filter: args.filter as ConversationFilter,
        owner_id: teamId ? null : me.id,
        team_id: teamId,
        created_by: me.id,
        created_at: Date.now(),
      });
      outbox(id, ['saved_view']);
      return id;
    },
    rename_view: (args) => {
      const view = savedViews.find((v) => v.id === args.viewId);
      if (view) view.name = String(args.name).trim();
      outbox(String(args.viewId), ['saved_view']);
    },
    update_view_filter: (args) => {
      const view = savedViews.find((v) => v.id === args.viewId);
      if (view) view.filter = args.filter as ConversationFilter;
      outbox(String(args.viewId), ['saved_view']);
    },
    delete_view: (args) => {
      const at = savedViews.findIndex((v) => v.id === args.viewId);
      if (at >= 0) savedViews.splice(at, 1);
      outbox(String(args.viewId), ['saved_view']);
    },
    set_pinned: (args) => {
      const c = byId.get(String(args.id));
      if (c) c.pinned = Boolean(args.pinned);
      outbox(String(args.id), ['pin']);
    },
    mark_unread: (args) => {
      const c = byId.get(String(args.id));
      if (c) c.unread = true;
      outbox(String(args.id), ['read_marker']);
    },
    retry_delivery: (args) => {
      const c = byId.get(String(args.conversationId));
      const message = c && threadFor(world, c).find((m) => m.id === args.messageId);
      if (!message || message.kind !== 'outgoing' || message.delivery !== 'failed') fail('validation', 'only a failed reply can be retried');
      message.delivery = 'queued';
      delete message.failure;
      outbox(String(args.conversationId), ['message'], () => {
        message.delivery = 'sent';
      });
    },
    save_draft: (args) => {
      const body = String(args.body ?? '');
      if (body) drafts.set(String(args.id), { kind: args.kind as SendKind, body });
      else drafts.delete(String(args.id));
    },
    stage_files: (args) =>
      (args.paths as string[]).map((path) => {
        const file: StagedFile = { id: uuid(++seq, 10), conversation_id: String(args.conversationId), file_name: path.split(/[\\/]/).pop() ?? path, content_type: 'application/octet-stream', size: 120_000 };
        staged.set(file.id, file);
        return file;
      }),
    unstage_file: (args) => {
      staged.delete(String(args.stagedId));
    },
    stage_pasted: (args) => {
      const size = Math.floor((String(args.dataBase64).length * 3) / 4);
      const name = String(args.fileName);
      const c = byId.get(String(args.conversationId));
      if (c && size > inboxOf(c).attachment_limit) fail('too_large', 'file too large for this channel');
      const file: StagedFile = {
        id: uuid(++seq, 10), conversation_id: String(args.conversationId), file_name: name,
        content_type: /\.(png|jpe?g|gif|webp)$/i.test(name) ? `image/${name.split('.').pop()}` : 'application/octet-stream', size,
      };
      staged.set(file.id, file);
      return file;
    },
    attachment_preview: (args) => {
      const attachment = args.attachment as Attachment;
      const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="480" height="320"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#c7d2fe"/><stop offset="1" stop-color="#fbcfe8"/></linearGradient></defs><rect width="480" height="320" fill="url(#g)"/><rect x="150" y="90" width="180" height="140" rx="8" fill="#a16207" opacity="0.8"/><text x="240" y="290" font-family="sans-serif" font-size="16" text-anchor="middle" fill="#1e1b4b">${attachment.file_name.replace(/[<&>]/g, '')}</text></svg>`;
      return `data:image/svg+xml;base64,${btoa(svg)}`;
    },
    open_attachment: (args) => console.info('[mock] open_attachment', (args.attachment as Attachment).file_name),
    set_do_not_disturb: (args) => {
      dnd = Boolean(args.on);
      return status();
    },
    set_availability: (args) => {
      if (connection !== 'online') fail('offline', 'availability can’t change until the server can be reached again');
      me.availability = args.availability as Availability;
      // The feed brings the agent's new version a moment later.
      setTimeout(() => changed('agent'), 300);
      return { ...me };
    },
    notification_settings: () => ({ ...notificationSettings }),
    launch_at_login: () => launchAtLogin,
    set_launch_at_login: (args) => (launchAtLogin = Boolean(args.on)),
    set_notification_settings: (args) => {
      notificationSettings = { ...(args.settings as NotificationSettings) };
      return { ...notificationSettings };
    },
    set_status_text: (args) => {
      if (connection !== 'online') fail('offline', 'your status can’t change until the server can be reached again');
      const text = String(args.text).trim();
      if (text) me.status_text = text;
      else delete me.status_text;
      setTimeout(() => changed('agent'), 300);
      return { ...me };
    },
    inbox_connector: (args) => {
      if (me.role !== 'admin') fail('forbidden', 'only admins read connector settings');
      inboxes.find((i) => i.id === args.inboxId) ?? fail('not_found', 'no such inbox');
      // The mock's inboxes are the demo's: its simulator.
      const connector = connectors.get(args.inboxId as string);
      if (connector) return { kind: connector.kind, simulated: false, webhook_path: `/api/v1/channels/${args.inboxId}/webhook`, details: {} };
      return { kind: 'simulator', simulated: true, webhook_path: null, details: {} };
    },
    create_inbox: (args) => {
      if (me.role !== 'admin') fail('forbidden', 'only admins create inboxes');
      const inbox = { ...inboxes[0], id: uuid(900 + inboxes.length, 2), name: String(args.name).trim(), channel: args.channel as Channel, member_agent_ids: [], member_team_ids: [], templates: [] };
      inboxes.push(inbox);
      if (args.connector) connectors.set(inbox.id, args.connector as ConnectorSettings);
      setTimeout(() => changed('inbox'), 300);
      return inbox;
    },
    save_inbox_connector: (args) => {
      if (me.role !== 'admin') fail('forbidden', 'only admins change inboxes');
      const inbox = inboxes.find((i) => i.id === args.inboxId) ?? fail('not_found', 'no such inbox');
      if (args.connector) connectors.set(inbox.id, args.connector as ConnectorSettings);
      else connectors.delete(inbox.id);
      return inbox;
    },
    test_inbox_connector: (args) => {
      const connector = connectors.get(args.inboxId as string);
      return connector
        ? { ok: false, detail: `the mock reaches no ${connector.kind} provider` }
        : { ok: true, detail: 'the demo’s simulated channel: replies go to the traffic simulator, nowhere else' };
    },
    save_inbox_settings: (args) => {
      if (connection !== 'online') fail('offline', 'the inbox’s settings can’t be saved until the server can be reached again');
      if (me.role !== 'admin') fail('forbidden', 'only admins change inboxes');
      const inbox = inboxes.find((i) => i.id === args.inboxId) ?? fail('not_found', 'no such inbox');
      const settings = args.settings as InboxSettings;
      const versions = inbox.hours?.versions ?? [];
      const last = versions[versions.length - 1];
      if (JSON.stringify(settings.hours) !== JSON.stringify(last?.calendar ?? null)) {
        inbox.hours = settings.hours
          ? { versions: [...versions, { version: (last?.version ?? 0) + 1, effective_from: Date.now(), calendar: settings.hours }] }
          : null;
      }
      inbox.routing = settings.routing;
      inbox.auto_replies = settings.auto_replies;
      inbox.visibility = settings.visibility;
      inbox.exports_need_approval = settings.exports_need_approval;
      setTimeout(() => changed('inbox'), 300);
      return structuredClone(inbox);
    },
    set_capacity: (args) => {
      if (connection !== 'online') fail('offline', 'the capacity can’t be saved until the server can be reached again');
      if (me.role !== 'admin') fail('forbidden', 'only admins change agents');
      const agent = agents.find((a) => a.id === args.agentId) ?? fail('not_found', 'no such agent');
      agent.capacity = (args.capacity as number | null) ?? null;
      setTimeout(() => changed('agent'), 300);
      return { ...agent };
    },
    workload: (): Workload => {
      if (connection !== 'online') fail('offline', 'the workload shows when the server can be reached again');
      const open = world.conversations.filter((c) => c.status === 'open');
      return {
        agents: agents.filter((a) => a.active).map((a) => {
          const theirs = open.filter((c) => c.assignee_id === a.id);
          const load = theirs.length;
          const waits = theirs.map((c) => c.waiting_since).filter((at): at is number => at !== null);
          return { agent_id: a.id, availability: a.availability, connected: a.availability !== 'offline', load, capacity: a.capacity, parked: 0,
            can_take_more: a.availability === 'online' && (a.capacity === null || load < a.capacity),
            oldest_waiting_since: waits.length ? Math.min(...waits) : null,
            breaching_soon: theirs.filter((c) => dueOf(c) <= Date.now() + 30 * 60_000).length };
        }),
        queued: open.filter((c) => c.assignee_id === null).length,
        oldest_waiting_since: Date.now() - 14 * 60_000,
      };
    },
    automation_rules: () => structuredClone(automationRules),
    save_rule: (args) => {
      if (connection !== 'online') fail('offline', 'the rule can’t be saved until the server can be reached again');
      if (me.role !== 'admin' && me.role !== 'lead') fail('forbidden', 'only leads and admins change rules');
      const input = args.input as AutomationRuleInput;
      const existing = automationRules.find((r) => r.id === args.ruleId);
      const rule: AutomationRule = {
        ...input, id: existing?.id ?? uuid(++seq, 8), position: existing?.position ?? automationRules.length + 1,
        version: (existing?.version ?? 0) + 1, needs_attention: null, updated_at: Date.now(),
      };
      if (existing) automationRules.splice(automationRules.indexOf(existing), 1, rule);
      else automationRules.push(rule);
      setTimeout(() => changed('automation_rule'), 300);
      return structuredClone(rule);
    },
    set_rule_enabled: (args) => {
      if (connection !== 'online') fail('offline', 'the rule can’t be saved until the server can be reached again');
      const rule = automationRules.find((r) => r.id === args.ruleId) ?? fail('not_found', 'no such rule');
      rule.enabled = Boolean(args.enabled);
      rule.version += 1;
      return structuredClone(rule);
    },
    delete_rule: (args) => {
      if (connection !== 'online') fail('offline', 'the rule’s deletion can’t be saved until the server can be reached again');
      const at = automationRules.findIndex((r) => r.id === args.ruleId);
      if (at < 0) fail('not_found', 'no such rule');
      automationRules.splice(at, 1);
    },
    move_rule: (args) => {
      if (connection !== 'online') fail('offline', 'the rules’ order can’t be saved until the server can be reached again');
      const from = automationRules.findIndex((r) => r.id === args.ruleId);
      const to = Math.max(0, Math.min(automationRules.length - 1, from + Number(args.offset)));
      if (from >= 0 && to !== from) automationRules.splice(to, 0, ...automationRules.splice(from, 1));
      automationRules.forEach((r, i) => (r.position = i + 1));
      return structuredClone(automationRules);
    },
    preview_rule: (args) => {
      if (connection !== 'online') fail('offline', 'the preview shows when the server can be reached again');
      const conditions = args.conditions as Condition;
      const latest = [...world.conversations].sort((a, b) => b.last_activity_at - a.last_activity_at).slice(0, 100);
      // A rough stand-in for the server's evaluation: status, channel, labels and priority leaves.
      const holds = (c: MockConversation, node: Condition): boolean => {
        if ('all' in node) return node.all.every((n) => holds(c, n));
        if ('any' in node) return node.any.some((n) => holds(c, n));
        if ('not' in node) return !holds(c, node.not);
        if ('status' in node) return node.status.includes(c.status);
        if ('channel' in node) return node.channel.includes(c.channel);
        if ('labels_any' in node) return node.labels_any.some((l) => c.labels.includes(l));
        if ('priority' in node) return node.priority.includes(c.priority);
        return true;
      };
      const matched: ConversationBrief[] = latest.filter((c) => holds(c, conditions)).map((c) => ({
        id: c.id, contact_name: world.contacts.get(c.contact_id)?.name ?? null, inbox_name: inboxOf(c).name, channel: c.channel, status: c.status, preview: c.preview, last_activity_at: c.last_activity_at,
      }));
      return { tried: latest.length, matched };
    },
    test_rule: (args) => {
      if (connection !== 'online') fail('offline', 'the dry run shows when the server can be reached again');
      const rule = automationRules.find((r) => r.id === args.ruleId) ?? fail('not_found', 'no such rule');
      return { matched: true, trace: [{ path: '$', result: true }], actions: rule.actions.map((action) => ({ action, status: 'ok', reason: null })) };
    },
    sla_policies: () => [],
    rule_runs: () => {
      if (connection !== 'online') fail('offline', 'the run log shows when the server can be reached again');
      return [];
    },
    // Reports: made-up figures in the server's shapes (the real ones are the server's).
    report_summary: (args) => {
      if (connection !== 'online') fail('offline', 'reports show when the server can be reached again');
      const query = args.query as { from: string; to: string; time_zone: string; group_by: string };
      const d = (m: number) => ({ mean: m, median: m, p90: m * 2, min: 60, max: m * 3 });
      const metrics = (n: number) => ({
        cycles_started: n, cycles_started_by_customers: n, messages_in: 3 * n, messages_out: 4 * n, resolutions: n - 1,
        conversations_resolved: n - 1, reopened: 0, first_response: { count: n, wall: d(240 + 60 * n), business: d(120 * n) },
        response: { count: n, wall: d(300), business: d(200) }, resolution: { count: n - 1, wall: d(7800), business: d(3600) },
        resolution_open: { count: n - 1, wall: d(5000), business: null },
      });
      const rows = agents.filter((a) => a.active).map((a, i) => ({ key: a.id, name: a.name, metrics: metrics(4 + i) }));
      return {
        report: { from: Date.parse(query.from), to: Date.parse(query.to), time_zone: query.time_zone, group_by: query.group_by, rows, previous: rows.slice(1).map((r) => ({ ...r, metrics: metrics(5) })) },
        as_of: Date.now(),
        offline: null,
      };
    },
    report_series: (args) => {
      if (connection !== 'online') fail('offline', 'reports show when the server can be reached again');
      const query = args.query as { from: string; to: string; time_zone: string; interval: string };
      const from = Date.parse(query.from);
      const to = Date.parse(query.to);
      const step = query.interval === 'hour' ? 3_600_000 : 86_400_000;
      const buckets = [];
      for (let at = from; at < to && buckets.length < 400; at += step) buckets.push({ start: at, end: at + step, label: new Date(at).toISOString() });
      const none = { count: 0, wall: null, business: null };
      const points = buckets.map((_, i) => ({
        cycles_started: 0, cycles_started_by_customers: 0, messages_in: 10 + ((i * 7) % 13), messages_out: 0, resolutions: 3 + (i % 4),
        conversations_resolved: 0, reopened: 0, first_response: { ...none, count: 6 + ((i * 5) % 7) }, response: none, resolution: none, resolution_open: none,
      }));
      return { report: { from, to, time_zone: query.time_zone, interval: query.interval, group_by: 'none', buckets, rows: [{ key: null, name: 'All', points }] }, as_of: Date.now(), offline: null };
    },
    live_figures: () => {
      if (connection !== 'online') fail('offline', 'reports show when the server can be reached again');
      const open = world.conversations.filter((c) => c.status === 'open');
      return {
        figures: {
          open: open.length, unassigned: open.filter((c) => !c.assignee_id).length, unattended: open.filter((c) => c.waiting_since !== null).length,
          waiting_longer: open.filter((c) => c.waiting_since !== null && Date.now() - c.waiting_since > 1_800_000).length, waiting_longer_than_secs: 1800,
          longest_wait_secs: 5400, parked: 0, sla_at_risk: 2, sla_at_risk_within_secs: 3600,
        },
        as_of: Date.now(),
        offline: null,
      };
    },
    export_report: (args) => `/home/sara/Downloads/switchboard-${String(args.export)}.csv`,
    request_export: (args) => {
      const request = {
        id: crypto.randomUUID(),
        requester_id: me.id,
        requester_name: me.name,
        inbox_id: byId.get(String(args.conversationId))?.inbox_id ?? '',
        conversation_id: String(args.conversationId),
        format: 'json' as const,
        reason: String(args.reason),
        status: 'pending' as const,
        created_at: Date.now(),
        decided_by: null,
        decided_at: null,
        note: null,
        expires_at: null,
        downloaded_at: null,
      };
      exportRequests.unshift(request);
      return structuredClone(request);
    },
    export_requests: (args) =>
      structuredClone(exportRequests.filter((r) => !args.pendingOnly || r.status === 'pending')),
    decide_export: (args) => {
      const request = exportRequests.find((r) => r.id === args.requestId) ?? fail('not_found', 'no such export request');
      if (request.status !== 'pending') fail('other', 'this request was already decided');
      request.status = args.approve ? 'approved' : 'declined';
      request.decided_by = me.id;
      request.decided_at = Date.now();
      request.note = (args.note as string | null) ?? null;
      request.expires_at = args.approve ? Date.now() + 24 * 3600_000 : null;
      return structuredClone(request);
    },
    save_approved_export: (args) => {
      const request = exportRequests.find((r) => r.id === args.requestId) ?? fail('not_found', 'no such export request');
      if (request.status !== 'approved') fail('expired', 'this approved export was already downloaded or has expired');
      request.status = 'downloaded';
      request.downloaded_at = Date.now();
      return `/home/sara/Downloads/transcript.${args.format === 'text' ? 'txt' : String(args.format)}`;
    },
    lock_policy: () => lockRequired,
    set_lock_policy: (args) => (lockRequired = (args.maxIdleMinutes as number | null) ?? null),
    export_transcript: (args) => `/home/sara/Downloads/transcript.${args.format === 'text' ? 'txt' : String(args.format)}`,
    time_zones: () => ['America/New_York', 'Asia/Tehran', 'Europe/Bucharest', 'Europe/London', 'Europe/Warsaw', 'UTC'],
    reconnect: () => {
      connection = 'connecting';
      pushStatus();
      setTimeout(() => {
        connection = 'online';
        lastSync = Date.now();
        pushStatus();
      }, 1200);
    },
    // Running the team: in memory, each change announced as the feed would.
    create_agent: (args) => {
      const request = args.request as { name: string; email: string; role: Agent['role']; team_ids: string[]; capacity: number | null };
      if (me.role !== 'admin') fail('forbidden', 'only an admin may do this');
      if (agents.some((a) => a.email === request.email.trim().toLowerCase())) fail('already_exists', 'an agent with this email exists');
      const agent: Agent = {
        id: uuid(++seq, 8), name: request.name.trim(), email: request.email.trim().toLowerCase(), role: request.role,
        availability: 'offline', active: true, team_ids: [...request.team_ids], capacity: request.capacity,
      };
      agents.push(agent);
      setTimeout(() => changed('agent'), 300);
      return { agent: { ...agent }, password: 'mockpw-abcdef-ghijkm' };
    },
    update_agent: (args) => {
      if (me.role !== 'admin') fail('forbidden', 'only an admin may do this');
      const agent = agents.find((a) => a.id === args.agentId) ?? fail('not_found', 'no such agent');
      const change = args.change as { name: string | null; role: Agent['role'] | null; team_ids: string[] | null; active: boolean | null };
      if (change.name !== null) agent.name = change.name;
      if (change.role !== null) agent.role = change.role;
      if (change.team_ids !== null) agent.team_ids = [...change.team_ids];
      if (change.active !== null) agent.active = change.active;
      setTimeout(() => changed('agent'), 300);
      return { ...agent };
    },
    reset_password: () => 'mockpw-zyxwvu-tsrqpn',
    sign_out_agent: () => 1,
    devices: () => agents.filter((a) => a.active).map((a, i) => ({
      id: uuid(900 + i, 8), agent_id: a.id, name: a.id === me.id ? 'This laptop' : `${a.name.split(' ')[0]}'s laptop`,
      created_at: Date.now() - 86_400_000 * (i + 1), last_seen_at: Date.now() - 60_000 * i, current: a.id === me.id,
    })),
    revoke_device: () => undefined,
    save_team: (args) => {
      const name = String(args.name);
      let team = teams.find((t) => t.id === args.teamId);
      if (team) team.name = name;
      else teams.push((team = { id: uuid(++seq, 8), name }));
      const id = team.id;
      for (const agent of agents) {
        const wanted = (args.memberIds as string[]).includes(agent.id);
        agent.team_ids = wanted ? [...new Set([...agent.team_ids, id])] : agent.team_ids.filter((t) => t !== id);
      }
      setTimeout(() => changed('team', 'agent'), 300);
      return { ...team };
    },
    set_inbox_members: (args) => {
      const inbox = inboxes.find((i) => i.id === args.inboxId) ?? fail('not_found', 'no such inbox');
      inbox.member_agent_ids = [...(args.agentIds as string[])];
      inbox.member_team_ids = [...(args.teamIds as string[])];
      setTimeout(() => changed('inbox'), 300);
      return structuredClone(inbox);
    },
    set_inbox_templates: (args) => {
      const inbox = inboxes.find((i) => i.id === args.inboxId) ?? fail('not_found', 'no such inbox');
      inbox.templates = structuredClone(args.templates as Inbox['templates']);
      setTimeout(() => changed('inbox'), 300);
      return structuredClone(inbox);
    },
    save_label: (args) => {
      const name = String(args.name).trim();
      let label = labels.find((l) => l.id === args.labelId);
      if (label) Object.assign(label, { name, color: String(args.color) });
      else labels.push((label = { id: uuid(++seq, 8), name, color: String(args.color) }));
      setTimeout(() => changed('label'), 300);
      return { ...label };
    },
    delete_label: (args) => {
      const at = labels.findIndex((l) => l.id === args.labelId);
      if (at < 0) fail('not_found', 'no such label');
      labels.splice(at, 1);
      setTimeout(() => changed('label'), 300);
    },
    save_quick_reply: (args) => {
      const reply = args.reply as { short_code: string; title: string; body: string };
      let found = canned.find((c) => c.id === args.id);
      if (found) Object.assign(found, reply);
      else canned.push((found = { id: uuid(++seq, 8), ...reply, owner_id: null }));
      setTimeout(() => changed('canned_response'), 300);
      return { ...found };
    },
    delete_quick_reply: (args) => {
      const at = canned.findIndex((c) => c.id === args.id);
      if (at >= 0) canned.splice(at, 1);
      setTimeout(() => changed('canned_response'), 300);
    },
    save_my_quick_reply: (args) => {
      const reply = args.reply as { short_code: string; title: string; body: string };
      let found = canned.find((c) => c.id === args.id);
      if (found) Object.assign(found, reply);
      else canned.push((found = { id: uuid(++seq, 8), ...reply, owner_id: me.id }));
      setTimeout(() => changed('canned_response'), 100);
      return found.id;
    },
    delete_my_quick_reply: (args) => {
      const at = canned.findIndex((c) => c.id === args.id);
      if (at >= 0) canned.splice(at, 1);
      usages.delete(String(args.id));
      setTimeout(() => changed('canned_response', 'quick_reply_usage'), 100);
    },
    bind_quick_reply: (args) => {
      const id = String(args.id);
      const slot = (args.slot ?? null) as number | null;
      for (const held of usages.values()) if (slot !== null && held.slot === slot) held.slot = null;
      usages.set(id, { ...(usages.get(id) ?? freshUsage(id)), slot });
      setTimeout(() => changed('quick_reply_usage'), 100);
    },
    use_quick_reply: (args) => {
      const id = String(args.id);
      const now = Date.now();
      const usage = usages.get(id) ?? freshUsage(id);
      const score = (usage.last_used_at === null ? 0 : usage.score * Math.pow(2, -(now - usage.last_used_at) / (7 * 86_400_000))) + 1;
      usages.set(id, { ...usage, uses: usage.uses + 1, score, last_used_at: now });
      setTimeout(() => changed('quick_reply_usage'), 100);
    },
    promote_quick_reply: (args) => {
      const found = canned.find((c) => c.id === args.id);
      if (found) found.owner_id = null;
      setTimeout(() => changed('canned_response'), 100);
    },
    open_link: (args) => console.info('[mock] open_link', args.url),
    first_paint: (args) => console.info('[mock] SWITCHBOARD_FIRST_PAINT', args.millisSinceStart, args.marks),
  };

  mockWindows('main');
  mockIPC(
    async (cmd, args) => {
      const handler = handlers[cmd];
      if (!handler) fail('internal', `the mock has no command ${cmd}`);
      await new Promise((resolve) => setTimeout(resolve, 8 + Math.random() * 20));
      return handler((args ?? {}) as Args);
    },
    { shouldMockEvents: true },
  );

  const script = params.get('do');
  if (script) import('./driver').then(({ runScript }) => runScript(script));

  // A little life: a colleague types in the open conversation, customers write in.
  if (!params.has('still')) {
    setInterval(() => {
      if (!signedIn || !openId) return;
      event({ type: 'typing', conversation_id: openId, agent_id: agents[2].id, active: true });
      setTimeout(() => openId && event({ type: 'typing', conversation_id: openId, agent_id: agents[2].id, active: false }), 4000);
    }, 25_000);
    setInterval(() => {
      if (!signedIn) return;
      const c = world.conversations[Math.floor(Math.random() * Math.min(40, world.conversations.length))];
      const list = threadFor(world, c);
      const body = 'Any update on this? 🙂';
      list.push({ id: uuid(++seq, 9), conversation_id: c.id, kind: 'incoming', body, sender: { type: 'contact', id: c.contact_id }, attachments: [], template: null, delivery: 'delivered', mentions: [], created_at: Date.now() });
      c.preview = body;
      c.last_activity_at = Date.now();
      c.last_incoming_at = Date.now();
      c.waiting_since ??= Date.now();
      c.unread = c.id !== openId;
      if (c.status !== 'open') c.status = 'open';
      lastSync = Date.now();
      changed('message', 'conversation');
      pushStatus();
    }, 45_000);
  }
}
