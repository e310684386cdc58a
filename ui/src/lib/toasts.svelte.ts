// Transient messages at the bottom corner (role="status"); they dismiss themselves.
export type Toast = { id: number; text: string; tone: 'info' | 'error' | 'success' };

const LIFETIME_MS = 6000;
let counter = 0;

class Toasts {
  items = $state<Toast[]>([]);

  show(text: string, tone: Toast['tone'] = 'info'): void {
    const id = ++counter;
    // The same words twice in a row (a burst of identical rejections) show once.
    if (this.items.some((toast) => toast.text === text)) return;
    this.items = [...this.items.slice(-3), { id, text, tone }];
    setTimeout(() => this.dismiss(id), LIFETIME_MS);
  }

  dismiss(id: number): void {
    this.items = this.items.filter((toast) => toast.id !== id);
  }

  clear(): void {
    this.items = [];
  }
}

export const toasts = new Toasts();
