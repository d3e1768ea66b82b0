import { Link } from '@backstage/core-components';

/** The URL when it is an absolute http(s) URL, otherwise undefined. */
export function safeHttpUrl(value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length > 2048) {
    return undefined;
  }
  try {
    const url = new URL(value);
    if (url.protocol === 'http:' || url.protocol === 'https:') {
      return url.toString();
    }
  } catch {
    // not a URL
  }
  return undefined;
}

/**
 * Renders untrusted text (from a registry, an annotation or a signed
 * predicate): a link only when it is an http(s) URL, otherwise plain text.
 */
export function SafeLink(props: { value: unknown }) {
  const text = displayValue(props.value);
  const href = safeHttpUrl(props.value);
  if (!href) {
    return <span>{text}</span>;
  }
  return (
    <Link to={href} target="_blank" rel="noopener noreferrer">
      {text}
    </Link>
  );
}

/** Any value as text, bounded in length. */
export function displayValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') {
    text = value;
  } else if (value === undefined || value === null) {
    text = '';
  } else if (typeof value === 'object') {
    text = plainWords(value, 0);
  } else {
    text = String(value);
  }
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

/**
 * A structured detail (a boundary, a list of regions) in words rather than JSON:
 * lists joined by commas, objects as `key: value` pairs separated by semicolons,
 * nested objects in parentheses. Deeper than three levels, the rest is elided.
 */
function plainWords(value: unknown, depth: number): string {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'object') return String(value);
  if (depth >= 3) return '…';
  if (Array.isArray(value)) {
    return value.map(v => plainWords(v, depth + 1)).join(', ');
  }
  const pairs = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => {
      const words = plainWords(v, depth + 1);
      const nested = typeof v === 'object' && !Array.isArray(v);
      return `${k}: ${nested && words !== '…' ? `(${words})` : words}`;
    });
  return pairs.join('; ');
}
