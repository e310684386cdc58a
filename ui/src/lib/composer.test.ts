import { afterEach, describe, expect, it } from 'vitest';
import {
  IDLE_TYPING, canSend, checkAttachment, composerView, draftDecision, humanAgentDeadline, mentionTrigger,
  renderTemplate, replyRules, templateParamCount, templateParts, templateRequired, toBase64, typingDecision,
  windowClosedText, type SendState,
} from './composer';
import type { ReplyRules } from './bindings';
import { setLocale } from './i18n';

const template = { name: 'order_update', language: 'en', body: 'Hi {{1}}, order {{2}} is on its way' };
const base: SendState = { kind: 'reply', body: '', stagedCount: 0, uploading: 0, window: { state: 'always' }, template: null, params: [], sending: false };

describe('mode rules', () => {
  it('requires a template for replies once the window closed', () => {
    expect(templateRequired({ state: 'closed' }, 'reply')).toBe(true);
    expect(composerView({ state: 'closed' }, 'reply')).toBe('template');
  });
  it('keeps notes free text, and replies free while the window is open', () => {
    expect(templateRequired({ state: 'closed' }, 'note')).toBe(false);
    expect(composerView({ state: 'closed' }, 'note')).toBe('text');
    expect(templateRequired({ state: 'open_until', until: 1 }, 'reply')).toBe(false);
    expect(templateRequired({ state: 'always' }, 'reply')).toBe(false);
    expect(templateRequired(null, 'reply')).toBe(false);
  });
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// What the server puts on the inbox entity from each connector's capabilities.
const whatsappRules: ReplyRules = { window_ms: DAY, person_window_ms: DAY, templates: true };
const metaRules: ReplyRules = { window_ms: DAY, person_window_ms: DAY, templates: false };
const humanAgentRules: ReplyRules = { window_ms: DAY, person_window_ms: 7 * DAY, templates: false };

describe("the inbox's reply rules", () => {
  afterEach(() => setLocale('en'));
  it("come from the inbox entity; an inbox without them keeps templates past the window", () => {
    expect(replyRules({ reply_rules: metaRules })).toEqual(metaRules);
    expect(replyRules({}).templates).toBe(true);
    expect(replyRules(null).templates).toBe(true);
  });
  it('never offer templates on Messenger or Instagram, whatever the inbox carries', () => {
    expect(replyRules({ channel: 'facebook' }).templates).toBe(false);
    expect(replyRules({ channel: 'instagram', reply_rules: whatsappRules }).templates).toBe(false);
    expect(replyRules({ channel: 'instagram', reply_rules: humanAgentRules })).toEqual(humanAgentRules);
    expect(replyRules({ channel: 'whatsapp' }).templates).toBe(true);
    expect(composerView({ state: 'closed' }, 'reply', replyRules({ channel: 'facebook' }))).toBe('closed');
  });
  it('show the template picker past the window only where the connector sends templates', () => {
    expect(composerView({ state: 'closed' }, 'reply', whatsappRules)).toBe('template');
    expect(composerView({ state: 'closed' }, 'reply', metaRules)).toBe('closed');
    expect(composerView({ state: 'closed' }, 'note', metaRules)).toBe('text');
    expect(composerView({ state: 'open_until', until: 5 }, 'reply', metaRules)).toBe('text');
  });
  it('send nothing on a closed Meta window, not even a template', () => {
    const closed: SendState = { ...base, window: { state: 'closed' }, templates: false, template, params: ['Ana', '#42'] };
    expect(canSend(closed)).toBe(false);
    expect(canSend({ ...closed, templates: true })).toBe(true);
  });
  it('say a template is the way on WhatsApp, and that the customer must write first on Meta', () => {
    expect(windowClosedText(whatsappRules, 'whatsapp')).toContain('pre-approved template');
    expect(windowClosedText(metaRules, 'facebook')).toBe(
      'The reply window has closed, and Messenger has no templates: the customer must write first.',
    );
    const week = windowClosedText(humanAgentRules, 'instagram');
    expect(week).toContain('More than 7 days');
    expect(week).toContain('the customer must write first');
    expect(week).not.toContain('template message');
  });
  it('in every language', () => {
    for (const lang of ['fa', 'ar', 'ro', 'pl'] as const) {
      setLocale(lang);
      const closed = windowClosedText(metaRules, 'instagram');
      const week = windowClosedText(humanAgentRules, 'instagram');
      expect(closed).not.toContain('composer.');
      expect(week).not.toContain('composer.');
      expect(week).not.toEqual(closed);
    }
  });
  it("give the HUMAN_AGENT deadline only in a person's extra time", () => {
    const last = 1_000;
    expect(humanAgentDeadline(humanAgentRules, last, last + HOUR)).toBeNull();
    expect(humanAgentDeadline(humanAgentRules, last, last + DAY)).toBe(last + 7 * DAY);
    expect(humanAgentDeadline(humanAgentRules, last, last + 7 * DAY - 1)).toBe(last + 7 * DAY);
    expect(humanAgentDeadline(humanAgentRules, last, last + 7 * DAY)).toBeNull();
    expect(humanAgentDeadline(metaRules, last, last + 2 * HOUR)).toBeNull();
    expect(humanAgentDeadline(whatsappRules, last, last + DAY + 1)).toBeNull();
    expect(humanAgentDeadline(humanAgentRules, null, last)).toBeNull();
  });
});

describe('send enabled', () => {
  it('needs text or a staged file', () => {
    expect(canSend(base)).toBe(false);
    expect(canSend({ ...base, body: '   ' })).toBe(false);
    expect(canSend({ ...base, body: 'Hello' })).toBe(true);
    expect(canSend({ ...base, stagedCount: 1 })).toBe(true);
  });
  it('waits for uploads and for a send in flight', () => {
    expect(canSend({ ...base, body: 'Hello', uploading: 1 })).toBe(false);
    expect(canSend({ ...base, body: 'Hello', sending: true })).toBe(false);
  });
  it('needs a template with every parameter when the window closed', () => {
    const closed = { ...base, window: { state: 'closed' } as const, body: 'free text is not enough' };
    expect(canSend(closed)).toBe(false);
    expect(canSend({ ...closed, template, params: ['Ana'] })).toBe(false);
    expect(canSend({ ...closed, template, params: ['Ana', ' '] })).toBe(false);
    expect(canSend({ ...closed, template, params: ['Ana', '#42'] })).toBe(true);
  });
  it('lets notes through in a closed window', () => {
    expect(canSend({ ...base, kind: 'note', window: { state: 'closed' }, body: 'FYI' })).toBe(true);
  });
});

describe('templates', () => {
  it('counts parameters like the server (highest n)', () => {
    expect(templateParamCount(template.body)).toBe(2);
    expect(templateParamCount('Hello {{3}}')).toBe(3);
    expect(templateParamCount('No params')).toBe(0);
  });
  it('renders filled parameters and leaves the rest', () => {
    expect(renderTemplate(template.body, ['Ana', '#42'])).toBe('Hi Ana, order #42 is on its way');
    expect(renderTemplate(template.body, ['Ana'])).toBe('Hi Ana, order {{2}} is on its way');
    expect(renderTemplate('{{1}} and {{1}}', ['x'])).toBe('x and x');
  });
  it('splits the body into text and parameter slots', () => {
    expect(templateParts(template.body)).toEqual([
      { kind: 'text', text: 'Hi ' }, { kind: 'param', index: 0 }, { kind: 'text', text: ', order ' },
      { kind: 'param', index: 1 }, { kind: 'text', text: ' is on its way' },
    ]);
  });
});

describe('attachment checks', () => {
  const inbox = { name: 'WhatsApp Sales', attachment_limit: 16 * 1024 * 1024 };
  it('accepts files within the limit', () => {
    expect(checkAttachment({ name: 'a.pdf', size: 16 * 1024 * 1024 }, inbox)).toBeNull();
  });
  it('refuses larger files naming the limit in MB', () => {
    expect(checkAttachment({ name: 'video.mp4', size: 20 * 1024 * 1024 }, inbox)).toBe(
      '“video.mp4” is 20 MB: WhatsApp Sales accepts files up to 16 MB.',
    );
  });
  it('refuses empty files', () => {
    expect(checkAttachment({ name: 'x', size: 0 }, inbox)).toMatch(/empty/);
  });
});

describe('draft saving', () => {
  const saved = { kind: 'reply' as const, body: 'Hel' };
  it('waits for a 400 ms pause', () => {
    expect(draftDecision({ saved, current: { kind: 'reply', body: 'Hello' }, lastEditAt: 1000 }, 1100)).toEqual({ action: 'wait', ms: 300 });
    expect(draftDecision({ saved, current: { kind: 'reply', body: 'Hello' }, lastEditAt: 1000 }, 1400)).toEqual({ action: 'save' });
  });
  it('saves at once when forced (switching conversations)', () => {
    expect(draftDecision({ saved, current: { kind: 'reply', body: 'Hello' }, lastEditAt: 1000 }, 1001, true)).toEqual({ action: 'save' });
  });
  it('does nothing when nothing changed', () => {
    expect(draftDecision({ saved, current: saved, lastEditAt: 0 }, 5000, true)).toEqual({ action: 'none' });
    expect(draftDecision({ saved: { kind: 'reply', body: '' }, current: { kind: 'note', body: '' }, lastEditAt: 0 }, 5000)).toEqual({ action: 'none' });
  });
  it('saves a mode change with text', () => {
    expect(draftDecision({ saved, current: { kind: 'note', body: 'Hel' }, lastEditAt: 0 }, 5000)).toEqual({ action: 'save' });
  });
});

describe('typing indicator', () => {
  it('announces on the first input only', () => {
    const first = typingDecision(IDLE_TYPING, 'input', 1000);
    expect(first.send).toBe(true);
    const second = typingDecision(first.state, 'input', 1500);
    expect(second.send).toBeNull();
  });
  it('stops after 3 s idle', () => {
    const typing = typingDecision(IDLE_TYPING, 'input', 1000).state;
    expect(typingDecision(typing, 'tick', 3999).send).toBeNull();
    const idle = typingDecision(typing, 'tick', 4000);
    expect(idle.send).toBe(false);
    expect(idle.state.active).toBe(false);
    expect(typingDecision(idle.state, 'tick', 9000).send).toBeNull();
  });
  it('stops on send and re-announces on the next input', () => {
    const typing = typingDecision(IDLE_TYPING, 'input', 1000).state;
    const sent = typingDecision(typing, 'send', 1200);
    expect(sent.send).toBe(false);
    expect(typingDecision(sent.state, 'input', 1300).send).toBe(true);
    expect(typingDecision(IDLE_TYPING, 'send', 1).send).toBeNull();
  });
  it('refreshes during long continuous typing', () => {
    let state = typingDecision(IDLE_TYPING, 'input', 0).state;
    state = typingDecision(state, 'input', 5000).state;
    expect(typingDecision(state, 'input', 10_000).send).toBe(true);
  });
});

describe('mentions and encoding', () => {
  it('finds an @name being typed', () => {
    expect(mentionTrigger('ask @om', 7)).toEqual({ query: 'om', start: 4 });
    expect(mentionTrigger('@', 1)).toEqual({ query: '', start: 0 });
    expect(mentionTrigger('mail me@home', 12)).toBeNull();
  });
  it('encodes bytes as base64', () => {
    expect(toBase64(new TextEncoder().encode('hello'))).toBe('aGVsbG8=');
  });
});
