import { afterEach, describe, expect, it, vi } from 'vitest';
import { locale, setLocale, t } from './index';
import { chooseLanguage, languagePreference, storedPreference } from './preference';

function memoryStorage(): Storage {
  const items = new Map<string, string>();
  return {
    get length() {
      return items.size;
    },
    clear: () => items.clear(),
    getItem: (key) => items.get(key) ?? null,
    key: (index) => [...items.keys()][index] ?? null,
    removeItem: (key) => void items.delete(key),
    setItem: (key, value) => void items.set(key, value),
  };
}

afterEach(() => {
  vi.unstubAllGlobals();
  setLocale('en');
});

describe('choosing the language', () => {
  it('applies at once, is remembered, and "follow the system" forgets it', () => {
    const storage = memoryStorage();
    vi.stubGlobal('localStorage', storage);
    vi.stubGlobal('navigator', { language: 'pl-PL', languages: ['pl-PL', 'en'] });
    expect(storedPreference()).toBe('system');

    chooseLanguage('ar');
    expect(locale()).toBe('ar');
    expect(languagePreference()).toBe('ar');
    expect(t('settings.title')).toBe('الإعدادات');
    expect(storage.getItem('switchboard.language')).toBe('ar');
    expect(storedPreference()).toBe('ar');

    chooseLanguage('system');
    expect(storage.getItem('switchboard.language')).toBeNull();
    expect(languagePreference()).toBe('system');
    expect(locale()).toBe('pl');
  });

  it('falls back to the system when the stored language is unknown or storage is unavailable', () => {
    const storage = memoryStorage();
    storage.setItem('switchboard.language', 'tlh');
    vi.stubGlobal('localStorage', storage);
    expect(storedPreference()).toBe('system');
    vi.stubGlobal('localStorage', undefined);
    expect(storedPreference()).toBe('system');
    chooseLanguage('fa');
    expect(locale()).toBe('fa');
  });
});
