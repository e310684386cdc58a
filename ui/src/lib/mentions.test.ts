import { describe, expect, it } from 'vitest';
import type { Agent } from './bindings';
import { uniqueMentionHandle } from './mentions';

function agent(name: string, email: string, active = true): Agent {
  return { id: email, name, email, role: 'agent', availability: 'online', active, team_ids: [], capacity: null } as Agent;
}

// The same workspace as the Rust tests of `mention_handle` (crates/proto/src/rules.rs).
const team = [
  agent('Sara Karimi', 'sara.k@example.com'),
  agent('Sara Lee', 'slee@example.com'),
  agent('Ali Rezaei', 'ali@example.com'),
  agent('Omid Ali', 'omid@example.com'),
  agent('Mina Ahmadi', 'mina@example.com'),
  agent('Gone Person', 'gone@example.com', false),
];

describe('uniqueMentionHandle', () => {
  it.each([
    ['sara.k@example.com', 'SaraKarimi'],
    ['slee@example.com', 'SaraLee'],
    ['ali@example.com', 'Ali'],
    ['omid@example.com', 'Omid'],
    ['mina@example.com', 'Mina'],
  ])('gives %s a handle that names them alone: %s', (email, expected) => {
    const who = team.find((a) => a.email === email)!;
    expect(uniqueMentionHandle(who, team)).toBe(expected);
  });

  it('skips a first name that is another agent’s local part', () => {
    const agents = [agent('Omid Rahimi', 'or@example.com'), agent('Xan Yee', 'omid@example.com')];
    expect(uniqueMentionHandle(agents[0], agents)).toBe('OmidRahimi');
    expect(uniqueMentionHandle(agents[1], agents)).toBe('Xan');
  });

  it('counts combining marks as letters, as the server does', () => {
    const agents = [agent('مُحمد رحیمی', 'm.rahimi@example.com'), agent('Zwnj Case', 'z@example.com')];
    expect(uniqueMentionHandle(agents[0], agents)).toBe('مُحمد');
  });

  it('never offers a handle that does not read back', () => {
    const agents = [agent("O'Brien Kelly", 'obk@example.com')];
    expect(uniqueMentionHandle(agents[0], agents)).toBe('obk');
  });

  it('falls back to the local part when nothing tells two agents apart', () => {
    const twins = [agent('Sam Li', 'sam@a.example'), agent('Sam Li', 'sam@b.example')];
    expect(uniqueMentionHandle(twins[0], twins)).toBe('sam');
  });
});
