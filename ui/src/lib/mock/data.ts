// Dev-only fake workspace for `?mock`: deterministic, multilingual, with a few traps
// (markup in a message, a closed WhatsApp window, links, attachments).
import type {
  Agent,
  AutomationRule,
  CannedResponse,
  Channel,
  Contact,
  Conversation,
  ConversationStatus,
  Inbox,
  Label,
  Message,
  Priority,
  Team,
} from '../bindings';

/** A small seeded PRNG (mulberry32), so every reload shows the same workspace. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uuid(n: number, kind: number): string {
  const hex = (n >>> 0).toString(16).padStart(12, '0');
  return `00000000-0000-4${kind.toString(16).padStart(3, '0')}-8000-${hex}`;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

export const agents: Agent[] = [
  { id: uuid(1, 1), name: 'Sara Karimi', email: 'sara@switchboard.demo', role: 'agent', availability: 'online', active: true, team_ids: [uuid(1, 2)], capacity: null },
  { id: uuid(2, 1), name: 'Omid Rahimi', email: 'omid@switchboard.demo', role: 'lead', availability: 'online', active: true, team_ids: [uuid(1, 2), uuid(2, 2)], capacity: null },
  { id: uuid(3, 1), name: 'Layla Haddad', email: 'layla@switchboard.demo', role: 'agent', availability: 'busy', active: true, team_ids: [uuid(2, 2)], capacity: null },
  { id: uuid(4, 1), name: 'Andrei Popescu', email: 'andrei@switchboard.demo', role: 'agent', availability: 'online', active: true, team_ids: [uuid(1, 2)], capacity: null },
  { id: uuid(5, 1), name: 'Zofia Nowak', email: 'zofia@switchboard.demo', role: 'agent', availability: 'offline', active: true, team_ids: [uuid(2, 2)], capacity: null },
  { id: uuid(6, 1), name: 'Maya Chen', email: 'maya@switchboard.demo', role: 'admin', availability: 'online', active: true, team_ids: [], capacity: null },
  { id: uuid(7, 1), name: 'Tom Former', email: 'tom@switchboard.demo', role: 'agent', availability: 'offline', active: false, team_ids: [], capacity: null },
];
export const me = agents[0];

export const teams: Team[] = [
  { id: uuid(1, 2), name: 'Sales' },
  { id: uuid(2, 2), name: 'Support' },
];

const MIB = 1024 * 1024;
export const inboxes: Inbox[] = [
  {
    id: uuid(1, 3), name: 'WhatsApp Sales', channel: 'whatsapp', member_agent_ids: [], member_team_ids: [uuid(1, 2)],
    attachment_limit: 16 * MIB,
    hours: null, routing: { mode: 'manual', release_after_secs: 300, reassign_after_secs: null, max_handovers: 2 }, auto_replies: { greeting: null, away: null, keywords: [] }, visibility: 'everything', exports_need_approval: false,
    templates: [
      { name: 'order_update', language: 'en', body: 'Hi {{1}}, your order {{2}} is on its way. Reply to this message if you have any questions.' },
      { name: 'follow_up', language: 'en', body: 'Hello {{1}}, we wanted to follow up on your last message. Are you still there?' },
      { name: 'payment_reminder', language: 'en', body: 'Hi {{1}}, a friendly reminder that invoice {{2}} for {{3}} is due.' },
    ],
  },
  { id: uuid(2, 3), name: 'Instagram Shop', channel: 'instagram', member_agent_ids: [], member_team_ids: [uuid(1, 2)], attachment_limit: 8 * MIB, templates: [], hours: null, routing: { mode: 'manual', release_after_secs: 300, reassign_after_secs: null, max_handovers: 2 }, auto_replies: { greeting: null, away: null, keywords: [] }, visibility: 'everything', exports_need_approval: false },
  { id: uuid(3, 3), name: 'Telegram Support', channel: 'telegram', member_agent_ids: [], member_team_ids: [uuid(2, 2)], attachment_limit: 50 * MIB, templates: [], hours: null, routing: { mode: 'manual', release_after_secs: 300, reassign_after_secs: null, max_handovers: 2 }, auto_replies: { greeting: null, away: null, keywords: [] }, visibility: 'everything', exports_need_approval: false },
  { id: uuid(4, 3), name: 'Email Support', channel: 'email', member_agent_ids: [], member_team_ids: [uuid(2, 2)], attachment_limit: 25 * MIB, templates: [], hours: null, routing: { mode: 'manual', release_after_secs: 300, reassign_after_secs: null, max_handovers: 2 }, auto_replies: { greeting: null, away: null, keywords: [] }, visibility: 'everything', exports_need_approval: false },
  { id: uuid(5, 3), name: 'Website Chat', channel: 'webchat', member_agent_ids: [], member_team_ids: [uuid(1, 2), uuid(2, 2)], attachment_limit: 25 * MIB, templates: [], hours: null, routing: { mode: 'manual', release_after_secs: 300, reassign_after_secs: null, max_handovers: 2 }, auto_replies: { greeting: null, away: null, keywords: [] }, visibility: 'everything', exports_need_approval: false },
  { id: uuid(6, 3), name: 'Partner API', channel: 'api', member_agent_ids: [], member_team_ids: [], attachment_limit: 25 * MIB, templates: [], hours: null, routing: { mode: 'manual', release_after_secs: 300, reassign_after_secs: null, max_handovers: 2 }, auto_replies: { greeting: null, away: null, keywords: [] }, visibility: 'everything', exports_need_approval: false },
];

export const labels: Label[] = [
  { id: uuid(1, 4), name: 'vip', color: '#d97706' },
  { id: uuid(2, 4), name: 'refund', color: '#dc2626' },
  { id: uuid(3, 4), name: 'shipping', color: '#2563eb' },
  { id: uuid(4, 4), name: 'bug', color: '#7c3aed' },
  { id: uuid(5, 4), name: 'billing', color: '#059669' },
  { id: uuid(6, 4), name: 'feedback', color: '#db2777' },
];

export const canned: CannedResponse[] = [
  { id: uuid(1, 5), short_code: 'greeting', title: 'Hello', body: 'Hi {{contact.first_name}}, thanks for reaching out! I’m {{agent.name}} from {{inbox.name}} — how can I help?', owner_id: null },
  { id: uuid(2, 5), short_code: 'refund-policy', title: 'Refund policy', body: 'Hi {{contact.first_name}}, you can return any item within 30 days for a full refund. I’ve started the return for order {{order.number}}; you’ll get a label by email.', owner_id: null },
  { id: uuid(3, 5), short_code: 'shipping-status', title: 'Shipping status', body: 'Good news {{contact.first_name}}: order {{order.number}} shipped today. Track it here: {{tracking.url}}', owner_id: null },
  { id: uuid(4, 5), short_code: 'closing', title: 'Anything else?', body: 'Is there anything else I can help you with today, {{contact.first_name}}?', owner_id: null },
  { id: uuid(5, 5), short_code: 'escalate', title: 'Escalating to a specialist', body: 'Thanks for your patience. I’ve passed this to our specialist team; they’ll reply within {{hours}} hours.', owner_id: null },
  { id: uuid(6, 5), short_code: 'fa-thanks', title: 'با تشکر از تماس شما', body: 'سلام {{contact.name}}، از تماس شما متشکریم. همکاران ما به‌زودی پاسخ می‌دهند.', owner_id: null },
  { id: uuid(7, 5), short_code: 'my-signature', title: 'My sign-off', body: 'Best,\n{{agent.name}}', owner_id: me.id },
];

const FIRST = ['Ana', 'Ben', 'Chloe', 'Daniel', 'Elena', 'Farid', 'Grace', 'Hugo', 'Iris', 'Jonas', 'Kira', 'Leo', 'Mila', 'Noah', 'Olga', 'Pavel', 'Quinn', 'Rosa', 'Sami', 'Tara'];
const LAST = ['Silva', 'Moreau', 'Kowalski', 'Ionescu', 'Schmidt', 'Okafor', 'Tanaka', 'García', 'Novak', 'Berg'];
const FA_NAMES = ['سارا محمدی', 'علی رضایی', 'مریم احمدی', 'رضا حسینی', 'نگار کریمی', 'امیر جعفری'];
const AR_NAMES = ['أحمد خالد', 'فاطمة الزهراء', 'يوسف منصور', 'ليلى حداد'];

type Line = { text: string; lang: string };
const CUSTOMER: Line[] = [
  { lang: 'en', text: 'Hi! My order hasn’t arrived yet — it’s been 8 days. Can you check?' },
  { lang: 'en', text: 'Do you ship to Portugal? And how long does it usually take?' },
  { lang: 'en', text: 'I was charged twice for the same invoice. Please refund one of them.' },
  { lang: 'en', text: 'The app crashes when I open the settings page on Android 14.' },
  { lang: 'en', text: 'Can I change the delivery address for order #48213?' },
  { lang: 'en', text: 'Thanks, that worked perfectly!' },
  { lang: 'en', text: 'Is the blue jacket available in size M?' },
  { lang: 'en', text: 'Where can I find my invoice? I need it for my accounting.' },
  { lang: 'fa', text: 'سلام، سفارش من هنوز نرسیده. لطفاً بررسی کنید.' },
  { lang: 'fa', text: 'ممنون از راهنمایی‌تون، مشکل حل شد 🙏' },
  { lang: 'fa', text: 'آیا امکان تعویض سایز وجود دارد؟' },
  { lang: 'ar', text: 'مرحباً، أريد إرجاع المنتج لأنه وصل تالفاً.' },
  { lang: 'ar', text: 'متى سيتم شحن طلبي؟' },
  { lang: 'ro', text: 'Bună ziua, comanda mea a ajuns deteriorată. Ce pot face?' },
  { lang: 'pl', text: 'Dzień dobry, czy mogę zmienić adres dostawy?' },
];
const REPLIES = [
  'Thanks for waiting! I’ve checked with the warehouse: your parcel left yesterday. Tracking: https://track.example.com/AB12345?lang=en',
  'Happy to help. Could you send me the order number so I can look it up?',
  'I’ve refunded the duplicate charge; it should show on your statement within 3–5 business days.',
  'Yes, we ship to Portugal — usually 3 to 5 working days.',
  'Sorry about that! Our developers are on it. I’ll update you as soon as there’s a fix.',
];
const NOTES = [
  '@Omid can you approve a refund over €200 here?',
  'Customer is a repeat buyer (12 orders). Be generous.',
  'Checked Stripe: the second charge is a pending authorisation, not a capture.',
];

export type MockConversation = Conversation & { unread: boolean; pinned: boolean; mentioned: boolean; channel: Channel; generated: boolean };

export type World = {
  now: number;
  contacts: Map<string, Contact>;
  conversations: MockConversation[];
  messages: Map<string, Message[]>;
};

const STATUS_WEIGHTS: [ConversationStatus, number][] = [['open', 0.62], ['pending', 0.14], ['snoozed', 0.08], ['resolved', 0.16]];
const PRIORITIES: Priority[] = ['none', 'none', 'none', 'low', 'medium', 'high', 'urgent'];

function pick<T>(random: () => number, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)];
}

function weighted<T>(random: () => number, items: [T, number][]): T {
  let roll = random();
  for (const [item, weight] of items) {
    roll -= weight;
    if (roll <= 0) return item;
  }
  return items[items.length - 1][0];
}

export function buildWorld(count: number, now: number): World {
  const random = rng(42);
  const contacts = new Map<string, Contact>();
  const conversations: MockConversation[] = [];
  for (let i = 0; i < count; i += 1) {
    const inbox = i < 6 ? inboxes[i % inboxes.length] : pick(random, inboxes);
    const lineIndex = Math.floor(random() * CUSTOMER.length);
    const line = CUSTOMER[lineIndex];
    const name =
      line.lang === 'fa' ? pick(random, FA_NAMES) : line.lang === 'ar' ? pick(random, AR_NAMES) : `${pick(random, FIRST)} ${pick(random, LAST)}`;
    const contact: Contact = {
      id: uuid(i + 1, 6),
      name,
      phone: inbox.channel === 'whatsapp' || inbox.channel === 'telegram' ? `+98 912 ${String(100_0000 + i * 7919).slice(-7)}` : null,
      email: inbox.channel === 'email' || inbox.channel === 'webchat' ? `${name.split(' ')[0].toLowerCase()}.${i}@example.com` : null,
      identities: [{ inbox_id: inbox.id, channel: inbox.channel, external_id: `ext-${i}` }],
      created_at: now - (30 + i) * DAY,
    };
    contacts.set(contact.id, contact);
    const age = i < 12 ? i * 7 * MIN + random() * 5 * MIN : Math.pow(random(), 2) * 20 * DAY;
    const lastActivity = Math.round(now - age);
    const status = i < 10 ? 'open' : weighted(random, STATUS_WEIGHTS);
    const incomingLast = random() < 0.65;
    const assignee = random() < 0.3 ? null : pick(random, agents.slice(0, 6)).id;
    const chosenLabels = labels.filter(() => random() < 0.12).map((label) => label.name).sort();
    conversations.push({
      id: uuid(i + 1, 7),
      inbox_id: inbox.id,
      contact_id: contact.id,
      subject: inbox.channel === 'email' ? 'Question about my order' : null,
      status,
      snoozed_until: status === 'snoozed' ? now + Math.round(random() * 3 * DAY) : null,
      assignee_id: i < 8 ? (i % 3 === 0 ? null : me.id) : assignee,
      team_id: pick(random, [...teams.map((team) => team.id), null]),
      priority: pick(random, PRIORITIES),
      labels: chosenLabels,
      created_at: lastActivity - 2 * DAY,
      last_activity_at: lastActivity,
      waiting_since: incomingLast && status !== 'resolved' ? lastActivity : null,
      first_reply_at: lastActivity - DAY,
      last_incoming_at: incomingLast ? lastActivity : lastActivity - 2 * HOUR,
      preview: incomingLast ? line.text : pick(random, REPLIES),
      sla: null,
      escalation: null,
      unread: incomingLast && random() < 0.45,
      pinned: random() < 0.04,
      mentioned: random() < 0.05,
      channel: inbox.channel,
      generated: false,
    });
  }
  // Fixed traps for testing, near the top of "Mine".
  const hostile = conversations[1];
  hostile.preview = '<img src=x onerror=alert(1)>';
  hostile.assignee_id = me.id;
  hostile.inbox_id = inboxes[4].id;
  hostile.channel = 'webchat';
  const closed = conversations[2];
  closed.inbox_id = inboxes[0].id;
  closed.channel = 'whatsapp';
  closed.assignee_id = me.id;
  closed.status = 'open';
  closed.last_incoming_at = now - 30 * HOUR;
  closed.waiting_since = now - 30 * HOUR;
  closed.last_activity_at = now - 30 * HOUR + 5 * MIN;
  const persian = conversations[0];
  persian.inbox_id = inboxes[0].id;
  persian.channel = 'whatsapp';
  persian.assignee_id = me.id;
  persian.last_incoming_at = now - 21 * HOUR;
  const persianContact = contacts.get(persian.contact_id)!;
  persianContact.name = 'سارا محمدی';
  persianContact.phone = '+98 912 555 0134';
  persian.preview = 'سلام، سفارش من هنوز نرسیده. لطفاً بررسی کنید.';
  persian.labels = ['shipping', 'vip'];
  persian.unread = true;
  persian.pinned = true;
  // Two escalated ones, for the board's Escalated column: by the SLA and by a colleague.
  for (const [n, by, note] of [[5, { type: 'sla' }, 'Standard: first response overdue'], [9, { type: 'agent', id: me.id }, 'VIP, second complaint']] as const) {
    const c = conversations[n];
    if (c && c.status !== 'resolved') c.escalation = { at: now - (n + 1) * 7 * MIN, by, note };
  }
  const arabic = conversations[3];
  contacts.get(arabic.contact_id)!.name = 'فاطمة الزهراء';
  arabic.preview = 'مرحباً، أريد إرجاع المنتج لأنه وصل تالفاً.';
  // The Persian customer has an older, resolved conversation too.
  const older = conversations[count - 1];
  older.contact_id = persian.contact_id;
  older.status = 'resolved';
  return { now, contacts, conversations, messages: new Map() };
}

/** The messages of a conversation, made up on first use. */
export function threadFor(world: World, conversation: MockConversation): Message[] {
  const existing = world.messages.get(conversation.id);
  if (existing) return existing;
  const random = rng(parseInt(conversation.id.slice(-8), 16));
  const contact = world.contacts.get(conversation.contact_id)!;
  const list: Message[] = [];
  let n = 0;
  const add = (kind: Message['kind'], body: string, at: number, extra: Partial<Message> = {}) => {
    n += 1;
    list.push({
      id: uuid(parseInt(conversation.id.slice(-12), 16) * 1000 + n, 8),
      conversation_id: conversation.id,
      kind,
      body,
      sender: kind === 'incoming' ? { type: 'contact', id: contact.id } : kind === 'activity' ? { type: 'system' } : { type: 'agent', id: conversation.assignee_id ?? agents[1].id },
      attachments: [],
      template: null,
      delivery: kind === 'outgoing' ? 'read' : 'delivered',
      mentions: [],
      created_at: at,
      ...extra,
    });
  };
  const end = conversation.last_activity_at;
  const start = end - 26 * HOUR - Math.round(random() * 3 * HOUR);
  const isFa = /[\u0600-\u06FF]/.test(contact.name);
  add('incoming', isFa ? 'سلام وقت بخیر' : 'Hello there', start);
  add('incoming', isFa ? 'یک سوال درباره سفارشم داشتم' : 'I have a question about my order.', start + 40_000);
  add('activity', `Assigned to ${agents.find((a) => a.id === conversation.assignee_id)?.name ?? 'nobody'} by Omid Rahimi`, start + 5 * MIN);
  add('outgoing', REPLIES[1], start + 9 * MIN, { sender: { type: 'agent', id: conversation.assignee_id ?? agents[1].id } });
  add('incoming', 'Sure — it’s #48213. Here’s the photo of the box.', start + 15 * MIN, {
    attachments: [
      { id: uuid(parseInt(conversation.id.slice(-12), 16) * 10 + 1, 11), conversation_id: conversation.id, file_name: 'box-photo.jpg', content_type: 'image/jpeg', size: 284_112, sha256: 'ab'.repeat(32) },
    ],
  });
  add('note', pick(random, NOTES), start + 17 * MIN, { sender: { type: 'agent', id: agents[2].id }, mentions: [agents[1].id] });
  add('outgoing', REPLIES[0], start + 20 * MIN, {
    attachments: [
      { id: uuid(parseInt(conversation.id.slice(-12), 16) * 10 + 2, 11), conversation_id: conversation.id, file_name: 'invoice-48213.pdf', content_type: 'application/pdf', size: 96_400, sha256: 'cd'.repeat(32) },
    ],
  });
  add('outgoing', 'Let me know if anything else comes up!', start + 21 * MIN, { delivery: 'delivered' });
  if (conversation === world.conversations[1]) {
    add('incoming', '<img src=x onerror=alert(1)>', end - 2 * MIN);
    add('incoming', '<script>alert("xss")</script> and <b>not bold</b>', end - MIN);
    add('incoming', 'Also see javascript:alert(1) and https://example.com/<script>', end);
  } else if (isFa) {
    add('incoming', conversation.preview, end - 3 * MIN);
    add('incoming', 'شماره سفارش: ۴۸۲۱۳ — لینک پیگیری: https://track.example.com/fa/48213', end);
  } else if (conversation.preview) {
    if (conversation.waiting_since) add('incoming', conversation.preview, end);
    else {
      const delivery = random() < 0.2 ? 'failed' : random() < 0.5 ? 'sent' : 'read';
      // The demo's failures are the provider giving up, with its last error for the tooltip.
      const failure = delivery === 'failed' ? { kind: 'gave_up' as const, reason: 'gave up after 8 attempts: connection timed out' } : undefined;
      add('outgoing', conversation.preview, end, { delivery, failure });
    }
  }
  world.messages.set(conversation.id, list);
  conversation.generated = true;
  return list;
}

/** A few automation rules, in run order (one needs attention). */
export const automationRules: AutomationRule[] = [
  {
    id: uuid(1, 8), name: 'Refund questions go to billing', enabled: true, position: 1, version: 3,
    trigger: { type: 'event', events: ['message_received', 'conversation_created'] },
    conditions: { all: [{ text_contains: ['refund', 'money back', 'بازپرداخت'] }, { not: { labels_any: ['billing'] } }] },
    actions: [{ type: 'add_labels', labels: ['refund', 'billing'] }, { type: 'set_team', team_id: uuid(2, 2) }],
    stop_processing: false, run_limit: { type: 'once_per_cycle' }, allow_rule_origin: false, needs_attention: null, updated_at: Date.now() - 3 * DAY,
  },
  {
    id: uuid(2, 8), name: 'VIP waiting 15 minutes: tell the lead', enabled: true, position: 2, version: 1,
    trigger: { type: 'customer_waiting', after_secs: 900, business_hours: true },
    conditions: { all: [{ labels_any: ['vip'] }, { status: ['open'] }] },
    actions: [{ type: 'set_priority', priority: 'urgent' }, { type: 'add_note', body: '@omid a VIP has waited 15 minutes' }],
    stop_processing: false, run_limit: { type: 'every_time' }, allow_rule_origin: false, needs_attention: null, updated_at: Date.now() - DAY,
  },
  {
    id: uuid(3, 8), name: 'Night shift: route WhatsApp to Support', enabled: false, position: 3, version: 2,
    trigger: { type: 'event', events: ['conversation_created'] },
    conditions: { all: [{ channel: ['whatsapp'] }, { within_business_hours: false }] },
    actions: [{ type: 'set_team', team_id: uuid(2, 2) }, { type: 'route' }],
    stop_processing: true, run_limit: { type: 'every_time' }, allow_rule_origin: false, needs_attention: 'actions[0].team_id: the team was deleted', updated_at: Date.now() - 7 * DAY,
  },
];
