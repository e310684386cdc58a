import { describe, expect, it } from 'vitest';
import type { Directory, Inbox } from './bindings';
import { releaseAt } from './release';
import { directory } from './state/testing';

function withRouting(base: Directory, routing: Partial<Inbox['routing']>, me: Partial<Directory['me']>): Directory {
  return {
    ...base,
    me: { ...base.me, ...me },
    inboxes: base.inboxes.map((inbox) => ({ ...inbox, member_agent_ids: [base.me.id], routing: { ...inbox.routing, ...routing } })),
  };
}

describe('releaseAt', () => {
  it('counts the shortest release delay of routed inboxes from when the agent stopped being available', () => {
    const busy = withRouting(directory, { mode: 'least_loaded', release_after_secs: 300 }, { availability: 'busy', availability_since: 1_000 });
    expect(releaseAt(busy)).toBe(301_000);
  });

  it('says nothing while online, without routing, without a delay, or outside the inbox', () => {
    const since = { availability: 'busy' as const, availability_since: 1_000 };
    expect(releaseAt(withRouting(directory, { mode: 'least_loaded' }, { availability: 'online', availability_since: 1_000 }))).toBeNull();
    expect(releaseAt(withRouting(directory, { mode: 'manual' }, since))).toBeNull();
    expect(releaseAt(withRouting(directory, { mode: 'least_loaded', release_after_secs: null }, since))).toBeNull();
    const elsewhere = withRouting(directory, { mode: 'least_loaded' }, since);
    elsewhere.inboxes = elsewhere.inboxes.map((inbox) => ({ ...inbox, member_agent_ids: [] }));
    expect(releaseAt(elsewhere)).toBeNull();
  });
});
