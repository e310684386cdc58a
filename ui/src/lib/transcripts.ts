// The transcript export's choices: the formats offered (in this order), what the dialog starts
// from (plain text, internal notes left out: a transcript most often goes to a customer or to
// billing), and the agent's time zone the shell writes times in.
import type { TranscriptFormat } from './bindings';

export const TRANSCRIPT_FORMATS: TranscriptFormat[] = ['text', 'pdf', 'json'];

export type TranscriptChoice = { format: TranscriptFormat; includeNotes: boolean };

export function defaultTranscriptChoice(): TranscriptChoice {
  return { format: 'text', includeNotes: false };
}

/** The window's IANA zone (the one its clock shows), or UTC when the runtime can't say. */
export function agentTimeZone(resolve: () => string | undefined = () => Intl.DateTimeFormat().resolvedOptions().timeZone): string {
  try {
    return resolve() || 'UTC';
  } catch {
    return 'UTC';
  }
}
