import { describe, expect, it } from 'vitest';
import { callbackNote, callbackUrl, draftFromInfo, emptyDraft, kindsFor, toConnector, validate } from './channelForm';

describe('channel settings form', () => {
  it('offers the channel its own connector or none', () => {
    expect(kindsFor('whatsapp')).toEqual(['whatsapp', 'none']);
    expect(kindsFor('webchat')).toEqual(['widget', 'api', 'none']);
  });

  it('needs every secret when creating, none when a connector of the kind is stored', () => {
    const draft = { ...emptyDraft('whatsapp'), phone_number_id: '106540352242922', verify_token: '' };
    expect(validate(draft, false).map((i) => i.field)).toEqual(['access_token', 'app_secret', 'verify_token']);
    expect(validate(draft, true)).toEqual([]);
    expect(validate({ ...draft, phone_number_id: ' ' }, true)).toEqual([{ field: 'phone_number_id', kind: 'required' }]);
  });

  it('generates a webhook secret Telegram accepts, and refuses one it would not', () => {
    const draft = { ...emptyDraft('telegram'), bot_token: '123:abc' };
    expect(draft.webhook_secret).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(validate(draft, false)).toEqual([]);
    expect(validate({ ...draft, webhook_secret: 'has spaces' }, false)).toEqual([{ field: 'webhook_secret', kind: 'secretChars' }]);
    expect(validate({ ...draft, api_base_url: 'api.telegram.org' }, false)).toEqual([{ field: 'api_base_url', kind: 'url' }]);
  });

  it('checks email ports and the address', () => {
    const draft = {
      ...emptyDraft('email'), address: 'help@shop.test', imap_host: 'imap.shop.test', smtp_host: 'smtp.shop.test',
      username: 'help@shop.test', password: 'app-password',
    };
    expect(validate(draft, false)).toEqual([]);
    expect(validate({ ...draft, imap_port: '99999', address: 'help' }, false)).toEqual([
      { field: 'address', kind: 'email' }, { field: 'imap_port', kind: 'port' },
    ]);
  });

  it('builds the settings the server takes, blank optionals as null and a blank secret kept blank', () => {
    const draft = { ...emptyDraft('telegram'), bot_token: ' 123:abc ', webhook_secret: 's_1', api_base_url: ' ' };
    expect(toConnector(draft)).toEqual({ kind: 'telegram', bot_token: '123:abc', webhook_secret: 's_1', api_base_url: null, mode: 'webhook' });
    // Long polling needs no webhook secret.
    const polling = { ...emptyDraft('telegram'), bot_token: '123:abc', webhook_secret: '', telegram_mode: 'polling' as const };
    expect(validate(polling, false)).toEqual([]);
    expect(validate({ ...polling, telegram_mode: 'webhook' }, false)).toEqual([{ field: 'webhook_secret', kind: 'required' }]);
    expect(toConnector(polling)).toMatchObject({ kind: 'telegram', mode: 'polling' });
    const email = toConnector({ ...emptyDraft('email'), address: 'a@b.c', imap_host: 'i', smtp_host: 's', smtp_port: '587', smtp_security: 'starttls', username: 'u' });
    expect(email).toMatchObject({ kind: 'email', imap: { host: 'i', port: 993, security: 'tls' }, smtp: { port: 587, security: 'starttls' }, password: '', mailbox: null });
    expect(toConnector(emptyDraft('none'))).toBeNull();
  });

  it('fills the edit form from what the server read back, secrets blank', () => {
    const draft = draftFromInfo({
      kind: 'whatsapp', simulated: false, webhook_path: '/api/v1/channels/x/webhook',
      details: { phone_number_id: '1065', graph_base_url: 'https://graph.facebook.com', api_version: 'v23.0' },
    });
    expect(draft).toMatchObject({ kind: 'whatsapp', phone_number_id: '1065', api_version: 'v23.0', access_token: '', verify_token: '' });
    const email = draftFromInfo({
      kind: 'email', simulated: false, webhook_path: null,
      details: { address: 'a@b.c', imap: { host: 'i', port: 143, security: 'starttls' }, smtp: { host: 's', port: 25, security: 'none' }, username: 'u', mailbox: 'INBOX', new_subject: 'new_conversation' },
    });
    expect(email).toMatchObject({ imap_port: '143', imap_security: 'starttls', smtp_security: 'none', new_subject: 'new_conversation', password: '' });
    expect(draftFromInfo({ kind: 'simulator', simulated: true, webhook_path: null, details: {} }).kind).toBe('none');
  });

  it('makes a Messenger inbox on a facebook channel and an Instagram one, with the HUMAN_AGENT choice', () => {
    expect(kindsFor('facebook')).toEqual(['messenger', 'none']);
    expect(kindsFor('instagram')).toEqual(['instagram', 'none']);
    const draft = { ...emptyDraft('messenger'), account_id: ' 102290129340398 ', access_token: 'EAAB', app_secret: 's', human_agent: true };
    expect(draft.verify_token).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(validate(draft, false)).toEqual([]);
    expect(validate({ ...draft, account_id: '' }, true)).toEqual([{ field: 'account_id', kind: 'required' }]);
    expect(toConnector(draft)).toEqual({
      kind: 'messenger', account_id: '102290129340398', access_token: 'EAAB', app_secret: 's',
      verify_token: draft.verify_token, human_agent: true, graph_base_url: null, api_version: null,
    });
    const back = draftFromInfo({ kind: 'instagram', simulated: false, webhook_path: '/api/v1/channels/x/webhook',
      details: { account_id: '17841400123456789', human_agent: true, graph_base_url: 'https://graph.facebook.com', api_version: 'v23.0' } });
    expect([back.kind, back.account_id, back.human_agent, back.access_token, back.verify_token]).toEqual(['instagram', '17841400123456789', true, '', '']);
  });

  it('joins the server URL and the callback path', () => {
    expect(callbackUrl('https://desk.shop.test/', '/api/v1/channels/1/webhook')).toBe('https://desk.shop.test/api/v1/channels/1/webhook');
  });

  it('shows the callback Telegram was given by the server, never one to paste there', () => {
    const path = '/api/v1/channels/1/webhook';
    const server = 'http://127.0.0.1:8080';
    const registered = 'https://desk.shop.test/api/v1/channels/1/webhook';
    expect(callbackNote(server, { kind: 'whatsapp', webhook_path: path, details: {} })).toEqual({ kind: 'paste', url: server + path });
    expect(callbackNote(server, { kind: 'telegram', webhook_path: path, details: { mode: 'webhook', registered_webhook_url: registered } })).toEqual({
      kind: 'registered',
      url: registered,
    });
    // Not registered yet (saved before the server registered callbacks): the next save does it.
    expect(callbackNote(server, { kind: 'telegram', webhook_path: path, details: { mode: 'webhook' } })).toEqual({ kind: 'will_register', url: server + path });
    expect(callbackNote(server, { kind: 'telegram', webhook_path: path, details: { mode: 'polling' } })).toEqual({ kind: 'polling' });
    expect(callbackNote(server, { kind: 'email', webhook_path: null, details: {} })).toEqual({ kind: 'none' });
  });
});
