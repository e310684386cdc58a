// Which @handle the composer inserts for an agent: one the server resolves to that agent alone.
// This restates `mention_handle` in `crates/proto/src/rules.rs` (the server's `parse_mentions`
// mentions an agent only when a handle names exactly one active agent); the cases in
// mentions.test.ts are the Rust tests' cases.
import type { Agent } from './bindings';

// Rust's `char::is_alphanumeric` is Alphabetic or Numeric (N*), hence not \p{L}.
const HANDLE_CHAR = /^[\p{Alphabetic}\p{N}._-]$/u;

/** First name, full name without spaces, email local part: what an agent answers to. */
function handlesOf(agent: Agent): string[] {
  const words = agent.name.trim().split(/\s+/).filter((w) => w !== '');
  return [words[0] ?? '', words.join(''), agent.email.split('@')[0] ?? ''];
}

/** Whether `@handle` reads back as exactly `handle` (the server's parser stops at other characters). */
function readsBack(handle: string): boolean {
  return handle !== '' && [...handle].every((c) => HANDLE_CHAR.test(c)) && !/[._-]$/.test(handle);
}

/** The one active agent answering to `handle`, if exactly one does. */
function resolve(handle: string, agents: readonly Agent[]): Agent | null {
  const wanted = handle.toLowerCase();
  const found = agents.filter((a) => a.active && handlesOf(a).some((h) => h.toLowerCase() === wanted));
  return found.length === 1 ? found[0] : null;
}

/**
 * The handle (without "@") that mentions `agent` and nobody else among `agents` (pass the whole
 * workspace): the first name if that is unique, else the full name without spaces, else the email's
 * local part; the local part if nothing is unique (it then mentions nobody, rather than the wrong
 * person).
 */
export function uniqueMentionHandle(agent: Agent, agents: readonly Agent[]): string {
  const candidates = handlesOf(agent);
  return candidates.find((h) => readsBack(h) && resolve(h, agents)?.id === agent.id) ?? candidates[2];
}
