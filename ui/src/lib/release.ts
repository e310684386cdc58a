// When routing will release an unavailable agent's waiting customers: the shortest release delay
// of the routed inboxes they work, counted from when they stopped being available (the server's
// `release:<agent>` timer counts the same way; see README, Routing → release). The app only says
// when; the server does it.
import type { Directory } from './bindings';

/** The instant the agent's waiting customers go back to the queue, or null when nothing will. */
export function releaseAt(directory: Directory | null): number | null {
  const me = directory?.me;
  if (!me || me.availability === 'online' || me.availability_since == null) return null;
  const delays = directory.inboxes
    .filter((inbox) => inbox.routing.mode !== 'manual' && inbox.routing.release_after_secs !== null)
    .filter((inbox) => inbox.member_agent_ids.includes(me.id) || inbox.member_team_ids.some((team) => me.team_ids.includes(team)))
    .map((inbox) => inbox.routing.release_after_secs as number);
  if (delays.length === 0) return null;
  return me.availability_since + Math.min(...delays) * 1000;
}
