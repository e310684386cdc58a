// What an agent's avatar shows: their availability as they set it (busy and offline win), and
// online only while one of their devices has the stream open; the status text they wrote, if any.
import type { Agent, Availability } from './bindings';

export function presenceOf(agent: Pick<Agent, 'availability'>, connected: boolean): Availability {
  if (agent.availability !== 'online') return agent.availability;
  return connected ? 'online' : 'offline';
}

/** The line under an agent's name where agents are listed: their status text, else `fallback`. */
export function statusLine(agent: Pick<Agent, 'status_text'>, fallback?: string): string | undefined {
  const text = agent.status_text?.trim();
  return text ? text : fallback;
}
