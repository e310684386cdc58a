import { describe, expect, it } from 'vitest';
import { splitQuoted } from './quotes';

describe('the folded quote of an email reply', () => {
  it('cuts the trailing run of quoted lines off the new text', () => {
    const body = 'Thanks, that worked.\n\n> On Monday you wrote:\n> Try restarting it.\n>\n> Sara';
    expect(splitQuoted(body)).toEqual({
      fresh: 'Thanks, that worked.',
      quoted: '> On Monday you wrote:\n> Try restarting it.\n>\n> Sara',
    });
  });

  it('keeps quoted lines that fresh text follows (an inline answer)', () => {
    const body = '> Which plan are you on?\nThe yearly one.\n> And since when?\nMarch.';
    expect(splitQuoted(body)).toEqual({ fresh: body, quoted: '' });
  });

  it('leaves a body without a quote whole, trailing blank lines trimmed', () => {
    expect(splitQuoted('Hello\nthere\n\n')).toEqual({ fresh: 'Hello\nthere', quoted: '' });
  });

  it('handles CRLF line ends and a quote-only body', () => {
    expect(splitQuoted('Yes.\r\n\r\n> Is it on?\r\n')).toEqual({ fresh: 'Yes.', quoted: '> Is it on?' });
    expect(splitQuoted('> only a quote')).toEqual({ fresh: '', quoted: '> only a quote' });
  });

  it('keeps right-to-left text before the quote intact', () => {
    const body = 'ممنون، درست شد.\n\n> سفارش شما ارسال شد.';
    expect(splitQuoted(body)).toEqual({ fresh: 'ممنون، درست شد.', quoted: '> سفارش شما ارسال شد.' });
  });
});
