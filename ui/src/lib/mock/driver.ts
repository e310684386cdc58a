// Dev-only: a tiny script runner for screenshots of states a headless browser can't click to.
// `?mock&do=click:[data-testid="conversation-row"]|wait:300|key:ctrl+k|type:omid`
export function runScript(script: string): void {
  const steps = script.split('|').filter(Boolean);
  let delay = 600;
  for (const step of steps) {
    const [verb, ...rest] = step.split(':');
    const arg = rest.join(':');
    if (verb === 'wait') {
      delay += Number(arg);
      continue;
    }
    setTimeout(() => perform(verb, arg), delay);
    delay += 150;
  }
}

function perform(verb: string, arg: string): void {
  const active = (document.activeElement ?? document.body) as HTMLElement;
  switch (verb) {
    case 'click': {
      const [selector, nth] = arg.split('@');
      const element = document.querySelectorAll<HTMLElement>(selector)[Number(nth ?? 0)];
      element?.click();
      break;
    }
    case 'ctrlclick':
    case 'shiftclick': {
      const [selector, nth] = arg.split('@');
      const element = document.querySelectorAll<HTMLElement>(selector)[Number(nth ?? 0)];
      element?.dispatchEvent(new MouseEvent('click', { bubbles: true, cancelable: true, ctrlKey: verb === 'ctrlclick', shiftKey: verb === 'shiftclick' }));
      break;
    }
    case 'scroll': {
      const [selector, top] = arg.split('@');
      const element = document.querySelector<HTMLElement>(selector);
      if (element) element.scrollTop = Number(top);
      break;
    }
    case 'attach': {
      const [name, size] = arg.split('@');
      const input = document.querySelector<HTMLInputElement>('[data-testid="attach-input"]');
      if (!input) break;
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(Number(size ?? 1000))], name));
      input.files = transfer.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
      break;
    }
    case 'select': {
      const [selector, value] = arg.split('@');
      const element = document.querySelector<HTMLSelectElement>(selector);
      if (!element) break;
      element.value = value;
      element.dispatchEvent(new Event('change', { bubbles: true }));
      break;
    }
    case 'focus':
      document.querySelector<HTMLElement>(arg)?.focus();
      break;
    case 'key': {
      const parts = arg.split(/[+ ]/);
      const key = parts.pop() ?? '';
      const init: KeyboardEventInit = {
        key: key === 'space' ? ' ' : key,
        code: /^[a-z]$/i.test(key) ? `Key${key.toUpperCase()}` : key === '/' ? 'Slash' : key,
        ctrlKey: parts.includes('ctrl'),
        metaKey: parts.includes('meta'),
        shiftKey: parts.includes('shift'),
        altKey: parts.includes('alt'),
        bubbles: true,
        cancelable: true,
      };
      active.dispatchEvent(new KeyboardEvent('keydown', init));
      break;
    }
    case 'type': {
      const field = active as HTMLInputElement | HTMLTextAreaElement;
      if (!('value' in field)) break;
      const start = field.selectionStart ?? field.value.length;
      const end = field.selectionEnd ?? start;
      field.value = field.value.slice(0, start) + arg + field.value.slice(end);
      try {
        field.setSelectionRange(start + arg.length, start + arg.length);
      } catch {
        // email and url inputs have no selection
      }
      field.dispatchEvent(new Event('input', { bubbles: true }));
      break;
    }
  }
}
