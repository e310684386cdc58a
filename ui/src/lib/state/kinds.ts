// Which kinds of entity each part of the window shows: a `cache_changed` event names the kinds a
// sync touched, and only the parts that show one of them are read again.
import type { EntityKind } from '../bindings';

// A record over the generated `EntityKind` union, so a kind added in Rust fails the type check here
// until it is listed (a union has no runtime list to take it from).
const EVERY_KIND: Record<EntityKind, true> = {
  agent: true,
  team: true,
  inbox: true,
  contact: true,
  conversation: true,
  message: true,
  label: true,
  canned_response: true,
  mention: true,
  pin: true,
  read_marker: true,
  sla_policy: true,
  automation_rule: true,
  saved_view: true,
  quick_reply_usage: true,
  custom_field: true,
  lock_policy: true,
};

export const ALL_KINDS = Object.keys(EVERY_KIND) as EntityKind[];
export const DIRECTORY_KINDS: EntityKind[] = ['agent', 'team', 'inbox', 'label', 'canned_response', 'saved_view'];
export const SIDEBAR_KINDS: EntityKind[] = ['conversation', 'mention', 'pin', 'read_marker', 'label', 'team', 'inbox', 'agent', 'saved_view'];
export const LIST_KINDS: EntityKind[] = ['conversation', 'contact', 'message', 'pin', 'read_marker', 'agent', 'inbox', 'mention', 'label', 'saved_view'];
/** The rules section of the settings screen. */
export const RULES_KINDS: EntityKind[] = ['automation_rule', 'sla_policy'];
export const THREAD_KINDS: EntityKind[] = ['conversation', 'contact', 'message', 'pin', 'agent', 'inbox', 'label'];

/** The agent's quick replies (the manager dialog and the composer's menu). */
export const QUICK_REPLY_KINDS: EntityKind[] = ['canned_response', 'quick_reply_usage'];

/** Whether any of `changed` is among `shown`. */
export function touches(changed: Iterable<EntityKind>, shown: EntityKind[]): boolean {
  for (const kind of changed) if (shown.includes(kind)) return true;
  return false;
}
