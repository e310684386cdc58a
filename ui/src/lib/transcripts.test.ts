import { describe, expect, it } from 'vitest';
import { agentTimeZone, defaultTranscriptChoice, TRANSCRIPT_FORMATS } from './transcripts';

describe('transcript choices', () => {
  it('leaves internal notes out unless the agent ticks them', () => {
    expect(defaultTranscriptChoice()).toEqual({ format: 'text', includeNotes: false });
  });

  it('offers every format the shell writes, once', () => {
    expect([...TRANSCRIPT_FORMATS].sort()).toEqual(['json', 'pdf', 'text']);
  });

  it('writes times in the window’s zone, UTC when it has none', () => {
    expect(agentTimeZone(() => 'Asia/Tehran')).toBe('Asia/Tehran');
    expect(agentTimeZone(() => undefined)).toBe('UTC');
    expect(agentTimeZone(() => {
      throw new Error('no Intl');
    })).toBe('UTC');
  });
});
