import { afterEach, describe, expect, it } from 'vitest';
import { isRtl, pickLocale, setLocale, t } from './index';

afterEach(() => setLocale('en'));

describe('i18n', () => {
  it('fills parameters and picks plurals', () => {
    expect(t('list.waiting', { duration: '2h' })).toBe('waiting 2h');
    expect(t('list.total', { count: 1 })).toBe('1 conversation');
    expect(t('list.total', { count: 3 })).toBe('3 conversations');
  });
  it('picks the locale from ?lang, then the browser, else English', () => {
    expect(pickLocale('en-US', '?lang=fa')).toBe('fa');
    expect(pickLocale('fa-IR', '')).toBe('fa');
    expect(pickLocale('de-DE', '')).toBe('en');
    expect(pickLocale(undefined, '?mock')).toBe('en');
  });
  it('falls back to English for strings a locale lacks', () => {
    setLocale('fa');
    expect(t('signin.submit')).toBe('ورود');
    expect(t('statusbar.retry')).toBe('تلاش دوباره');
    expect(t('composer.send')).toBe('Send');
    expect(t('availability.busy')).toBe('مشغول');
  });
  it('knows which languages are right-to-left', () => {
    expect(isRtl('fa')).toBe(true);
    expect(isRtl('ar-EG')).toBe(true);
    expect(isRtl('en')).toBe(false);
  });
});
