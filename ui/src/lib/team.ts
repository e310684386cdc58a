// Running the team from the settings screen, the pure part: who may change what (the server's
// roles), the checks a form makes before anything is sent (the server's own rules, so a refusal
// is rare and the field says why at once), and how devices are grouped per agent.
import type { Agent, DeviceInfo, Label, Role } from './bindings';
import { labelKey } from './labels';

/** The team pages of the settings screen. */
export type TeamPage = 'people' | 'teams' | 'labels' | 'quickReplies';

/** Whether `role` may change what `page` shows: labels and team-wide quick replies are a lead's
 * too; agents, devices, teams and inbox members only an admin's (`crates/server/src/policy.rs`). */
export function canManage(role: Role | undefined, page: TeamPage): boolean {
  if (role === 'admin') return true;
  return role === 'lead' && (page === 'labels' || page === 'quickReplies');
}

export type LabelIssue = { kind: 'empty' | 'tooLong' | 'lineBreak' } | { kind: 'exists'; name: string };

/** Why a label name can't be saved (`null`: it can). Kept as written, so only what the server
 * refuses is refused: empty, over 50 characters, line breaks, or another label's name by key
 * (case, spacing, Arabic letter forms aside). `editing` is the label being renamed, whose own
 * name (in any spelling) is no clash. */
export function labelIssue(name: string, labels: Label[], editing: string | null = null): LabelIssue | null {
  const shown = name.trim().normalize('NFC');
  if (shown === '') return { kind: 'empty' };
  if ([...shown].length > 50) return { kind: 'tooLong' };
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/u.test(shown)) return { kind: 'lineBreak' };
  const key = labelKey(shown);
  const clash = labels.find((label) => label.id !== editing && labelKey(label.name) === key);
  return clash ? { kind: 'exists', name: clash.name } : null;
}

/** `#rrggbb`, as the server stores a colour. */
export function validColor(color: string): boolean {
  return /^#[0-9a-fA-F]{6}$/.test(color.trim());
}

/** An email the server takes: something@domain.with-a-dot, no spaces. */
export function validEmail(email: string): boolean {
  const trimmed = email.trim();
  const at = trimmed.indexOf('@');
  return at > 0 && trimmed.slice(at + 1).includes('.') && !/\s/.test(trimmed) && trimmed.length <= 254;
}

/** A quick reply's short code as the server takes it: 1–40 letters (any script), digits, - or _. */
export function validShortCode(code: string): boolean {
  const trimmed = code.trim();
  return trimmed.length > 0 && [...trimmed].length <= 40 && /^[\p{L}\p{N}_-]+$/u.test(trimmed);
}

/** Whether an inbox's templates can be saved: each needs a name and a body (the server's rule),
 * and two templates may not share a name and language (which one would an agent be sending?). */
export function templatesValid(templates: { name: string; language: string; body: string }[]): boolean {
  const keys = templates.map((template) => `${template.name.trim()}\u0000${template.language.trim()}`);
  return (
    templates.every((template) => template.name.trim() !== '' && template.body.trim() !== '') && new Set(keys).size === keys.length
  );
}

/** `ids` with `id` added or taken out. */
export function toggled(ids: string[], id: string, on: boolean): string[] {
  const without = ids.filter((other) => other !== id);
  return on ? [...without, id] : without;
}

/** Each agent's devices, most recently seen first; agents in the directory's order, then any
 * device whose agent the directory doesn't know (kept, so it can still be signed out). */
export function devicesByAgent(devices: DeviceInfo[], agents: Agent[]): { agent: Agent | null; agentId: string; devices: DeviceInfo[] }[] {
  const groups = new Map<string, DeviceInfo[]>();
  for (const device of [...devices].sort((a, b) => b.last_seen_at - a.last_seen_at)) {
    groups.set(device.agent_id, [...(groups.get(device.agent_id) ?? []), device]);
  }
  const known = agents.filter((agent) => groups.has(agent.id)).map((agent) => ({ agent, agentId: agent.id, devices: groups.get(agent.id) ?? [] }));
  const unknown = [...groups.keys()]
    .filter((id) => !agents.some((agent) => agent.id === id))
    .map((id) => ({ agent: null, agentId: id, devices: groups.get(id) ?? [] }));
  return [...known, ...unknown];
}

/** How many active admins would be left if `agent` became `role`/`active`: the server refuses
 * to leave none, and the page says so before asking. */
export function leavesNoAdmin(agents: Agent[], agentId: string, role: Role, active: boolean): boolean {
  const admins = agents.filter((agent) => agent.active && agent.role === 'admin' && agent.id !== agentId).length;
  return admins === 0 && !(role === 'admin' && active);
}

/** A form's edit of something the directory holds: what it began from, and what is typed. */
export type Draft<T> = { base: T; value: T };

function normalised(value: unknown): unknown {
  if (Array.isArray(value)) return value.every((item) => typeof item === 'string') ? [...value].sort() : value.map(normalised);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, normalised(item)]));
  }
  return value;
}

/** Equal as a form sees it: lists of ids in any order are the same list. */
export function sameValue<T>(a: T, b: T): boolean {
  return JSON.stringify(normalised(a)) === JSON.stringify(normalised(b));
}

/** The draft a form should hold now that the directory says `current`: a new one when there is
 * none, or when the old one was untouched (or already says what the server now has) and the
 * server's value moved on — a save, or a colleague's change, shows as soon as the feed brings
 * it — else `null`: keep what is being typed. */
export function follow<T>(draft: Draft<T> | undefined, current: T): Draft<T> | null {
  // A JSON copy: the directory's objects may be reactive proxies, which structuredClone refuses.
  const copy = (): T => JSON.parse(JSON.stringify(current)) as T;
  const fresh = () => ({ base: copy(), value: copy() });
  if (!draft) return fresh();
  if (sameValue(draft.base, current)) return null;
  return sameValue(draft.value, draft.base) || sameValue(draft.value, current) ? fresh() : null;
}
