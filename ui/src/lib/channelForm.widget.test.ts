import { describe, expect, it } from 'vitest';
import { draftFromInfo, emptyDraft, kindsFor, toConnector, validate, widgetSnippet } from './channelForm';

describe('the website widget in the channel form', () => {
  it('is the connector of a webchat inbox', () => {
    expect(kindsFor('webchat')).toEqual(['widget', 'api', 'none']);
  });

  it('sends the origins as a list, the greeting and the colour', () => {
    const draft = { ...emptyDraft('widget'), allowed_origins: 'https://shop.example.com, http://localhost:8080\nhttps://b.example', greeting: ' Hi! ' };
    expect(validate(draft, false)).toEqual([]);
    expect(toConnector(draft)).toEqual({
      kind: 'widget',
      allowed_origins: ['https://shop.example.com', 'http://localhost:8080', 'https://b.example'],
      greeting: 'Hi!',
      color: '#2563eb',
    });
  });

  it('refuses what is not an origin, a bad colour and no site at all', () => {
    const draft = { ...emptyDraft('widget'), allowed_origins: 'https://a.example/shop', color: 'teal' };
    expect(validate(draft, false)).toEqual([
      { field: 'allowed_origins', kind: 'origin' },
      { field: 'color', kind: 'color' },
    ]);
    expect(validate(emptyDraft('widget'), false)).toEqual([{ field: 'allowed_origins', kind: 'required' }]);
  });

  it('fills the edit form from what the server read back, and makes the snippet', () => {
    const draft = draftFromInfo({
      kind: 'widget',
      simulated: false,
      webhook_path: null,
      details: { allowed_origins: ['https://a.example', 'https://b.example'], greeting: 'Hello', color: '#0f766e', script_path: '/widget/x.js' },
    });
    expect([draft.kind, draft.allowed_origins, draft.greeting, draft.color]).toEqual(['widget', 'https://a.example\nhttps://b.example', 'Hello', '#0f766e']);
    expect(widgetSnippet('https://chat.example.com/', '/widget/x.js')).toBe('<script src="https://chat.example.com/widget/x.js" async></script>');
  });
});
