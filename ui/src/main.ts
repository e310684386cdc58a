import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { followSystemLanguage, storedPreference } from './lib/i18n/preference';

// The chosen language (Settings → Language), or the system's; `?lang=xx` overrides both. Sets the
// document's `lang` and `dir` too.
followSystemLanguage(storedPreference());
// The platform's UI font where `system-ui` names it cheaply (see `--font` in app.css).
if (!navigator.userAgent.includes('Linux')) document.documentElement.style.setProperty('--font', 'system-ui, sans-serif');

async function boot() {
  // The in-memory backend for working on the UI in a browser; stripped from production builds.
  if (import.meta.env.DEV && new URLSearchParams(location.search).has('mock')) {
    const { installMock } = await import('./lib/mock');
    installMock(new URLSearchParams(location.search));
  }
  mount(App, { target: document.getElementById('app')! });
}

boot();
