import { describe, expect, it } from 'vitest';
import { labelColors, labelKey } from './labels';

describe('labelKey', () => {
  it('is the server’s key: case, spacing, NFC and Arabic letter forms ignored', () => {
    expect(labelKey(' New   Lead ')).toBe(labelKey('new lead'));
    expect(labelKey('Cafe\u0301')).toBe(labelKey('CAFÉ'));
    expect(labelKey('پشتيباني باز')).toBe(labelKey('پشتیبانی باز'));
    expect(labelKey('New Lead')).not.toBe(labelKey('NewLead'));
  });
});

describe('labelColors', () => {
  it('finds a label with a space or in Persian by any spelling', () => {
    const color = labelColors([
      { id: '1', name: 'New Lead', color: '#ff0000' },
      { id: '2', name: 'پشتیبانی باز', color: '#00ff00' },
    ]);
    expect(color('New Lead')).toBe('#ff0000');
    expect(color('new  lead')).toBe('#ff0000');
    expect(color('پشتيباني باز')).toBe('#00ff00');
    expect(color('vip')).toBeNull();
  });
});
