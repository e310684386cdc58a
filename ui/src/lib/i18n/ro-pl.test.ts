// Romanian and Polish plurals as a reader sees them: the right CLDR form for each count, with
// the locale's digits and separators (the shape of the tables is checked in i18n.test.ts).
import { afterEach, describe, expect, it } from 'vitest';
import { conditionText } from '../rules';
import { setLocale, t } from './index';

afterEach(() => setLocale('en'));

describe('Romanian', () => {
  it('says one, few, and "de" from twenty on', () => {
    setLocale('ro');
    expect(t('list.total', { count: 1 })).toBe('1 conversație');
    expect(t('list.total', { count: 0 })).toBe('0 conversații');
    expect(t('list.total', { count: 19 })).toBe('19 conversații');
    expect(t('list.total', { count: 20 })).toBe('20 de conversații');
    expect(t('list.total', { count: 101 })).toBe('101 conversații');
    expect(t('filters.hours', { count: 2 })).toBe('2 ore');
    expect(t('filters.hours', { count: 24 })).toBe('24 de ore');
    expect(t('lock.minutes', { count: 30 })).toBe('30 de minute de inactivitate');
  });

  it('writes the comma-below letters, never the cedilla ones', () => {
    setLocale('ro');
    const sample = [t('list.total', { count: 2 }), t('settings.title'), t('status.snoozed'), t('reports.live.title')].join(' ');
    expect(sample).toMatch(/[șț]/);
    expect(sample).not.toMatch(/[şţŞŢ]/);
  });
});

describe('Polish', () => {
  it('says one, few, many, and the fraction form', () => {
    setLocale('pl');
    expect(t('list.total', { count: 1 })).toBe('1 rozmowa');
    expect(t('list.total', { count: 3 })).toBe('3 rozmowy');
    expect(t('list.total', { count: 5 })).toBe('5 rozmów');
    expect(t('list.total', { count: 12 })).toBe('12 rozmów');
    expect(t('list.total', { count: 22 })).toBe('22 rozmowy');
    expect(t('list.total', { count: 0 })).toBe('0 rozmów');
    expect(t('list.total', { count: 1.5 })).toBe('1,5 rozmowy');
    expect(t('filters.days', { count: 1 })).toBe('1 dzień');
    expect(t('filters.days', { count: 7 })).toBe('7 dni');
    expect(t('rules.conditionCount', { count: 24 })).toBe('24 warunki');
    expect(t('rules.conditionCount', { count: 25 })).toBe('25 warunków');
  });
});

describe('quoted values', () => {
  it('use each language’s quotation marks in a rule’s words', () => {
    const labels = { labels_any: ['vip', 'refund'] };
    expect(conditionText(labels, null)).toBe('Has a label “vip” or “refund”');
    setLocale('ro');
    expect(conditionText(labels, null)).toBe('Are o etichetă „vip” sau „refund”');
    setLocale('pl');
    expect(conditionText({ text_contains: ['zwrot'] }, null)).toBe('Wiadomość klienta zawiera „zwrot”');
    setLocale('fa');
    expect(conditionText(labels, null)).toContain('«vip»');
  });
});
