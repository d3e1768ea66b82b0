import { render, screen } from '@testing-library/react';
import { MemoryRouter } from 'react-router-dom';
import { SafeLink, displayValue, safeHttpUrl } from './SafeLink';
import { shortDigest } from './ShortDigest';
import { statusView } from './status';

describe('safeHttpUrl', () => {
  it.each([
    ['javascript', 'alert(1)'],
    ['JaVaScRiPt', 'alert(1)'],
    ['data', 'text/html,<script>alert(1)</script>'],
    ['vbscript', 'msgbox'],
    ['file', '///etc/passwd'],
  ])('refuses the %s: scheme', (scheme, rest) => {
    expect(safeHttpUrl(`${scheme}:${rest}`)).toBeUndefined();
  });

  it('refuses relative, non-string and oversized values', () => {
    expect(safeHttpUrl('/catalog')).toBeUndefined();
    expect(safeHttpUrl(42)).toBeUndefined();
    expect(
      safeHttpUrl(`https://example.com/${'a'.repeat(3000)}`),
    ).toBeUndefined();
  });

  it('accepts http and https', () => {
    expect(safeHttpUrl('https://example.com/x')).toBe('https://example.com/x');
    expect(safeHttpUrl('http://example.com')).toBe('http://example.com/');
  });
});

describe('SafeLink', () => {
  it('renders a script URL with leading whitespace as text, never as a link', () => {
    const value = ` ${['javascript', 'alert(1)'].join(':')}`;
    render(
      <MemoryRouter>
        <SafeLink value={value} />
      </MemoryRouter>,
    );
    expect(screen.queryByRole('link')).toBeNull();
    expect(document.body.textContent).toBe(value);
  });
});

describe('display helpers', () => {
  it('bounds long values and puts structured details in words, not JSON', () => {
    expect(displayValue('x'.repeat(600))).toHaveLength(501);
    expect(displayValue({ a: 1 })).toBe('a: 1');
    expect(
      displayValue({
        name: 'eu-sovereign',
        regions: ['eusc-de-east-1', 'eu-central-1'],
        owner: { team: 'platform', contact: null },
      }),
    ).toBe(
      'name: eu-sovereign; regions: eusc-de-east-1, eu-central-1; owner: (team: platform)',
    );
    expect(displayValue({ a: { b: { c: { d: 1 } } } })).toBe('a: (b: (c: …))');
    expect(displayValue(undefined)).toBe('');
  });

  it('shortens digests to twelve hex characters', () => {
    expect(shortDigest(`sha256:${'0123456789abcdef'.repeat(4)}`)).toBe(
      'sha256:0123456789ab',
    );
  });

  it('never shows unknown, invalid or stale as resident', () => {
    expect(statusView('unknown').label).toBe('Unknown');
    expect(statusView('invalid').label).toBe('Not resident');
    expect(statusView('compliant', true).label).toBe('Stale');
    expect(statusView('compliant').label).toBe('Resident');
  });
});
