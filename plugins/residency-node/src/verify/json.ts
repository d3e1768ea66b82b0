/*
 * A strict JSON parser for signed payloads. Hand-written on purpose: JSON.parse
 * silently keeps the last of duplicate keys, so a payload with two `subject`s or
 * two `docker-manifest-digest`s could be read differently by the signer's tooling
 * and by us. Here duplicates, excessive depth and oversized input are typed errors.
 */

/** Thrown for any input that is not strict JSON within the caps. */
export class StrictJsonError extends Error {
  readonly name = 'StrictJsonError';
  constructor(
    readonly problem: 'too_large' | 'syntax' | 'duplicate_key' | 'too_deep',
    message: string,
  ) {
    super(message);
  }
}

export interface StrictJsonOptions {
  /** Maximum input length in UTF-16 code units (default 4 MiB). */
  maxLength?: number;
  /** Maximum nesting depth (default 64). */
  maxDepth?: number;
}

/** Fatal on malformed UTF-8; one instance for all calls (a call without `stream` starts afresh). */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Parses bytes or text as strict JSON (UTF-8, no BOM, no duplicate keys). */
export function parseStrictJson(
  input: Uint8Array | string,
  options?: StrictJsonOptions,
): unknown {
  const maxLength = options?.maxLength ?? 4 * 1024 * 1024;
  const maxDepth = options?.maxDepth ?? 64;
  let text: string;
  if (typeof input !== 'string') {
    if (input.byteLength > maxLength) {
      throw new StrictJsonError(
        'too_large',
        `JSON larger than ${maxLength} bytes`,
      );
    }
    try {
      text = UTF8.decode(input);
    } catch {
      throw new StrictJsonError('syntax', 'JSON is not valid UTF-8');
    }
  } else {
    text = input;
  }
  if (text.length > maxLength) {
    throw new StrictJsonError(
      'too_large',
      `JSON larger than ${maxLength} bytes`,
    );
  }
  // Fast path: the native parser builds the value, and one scan over the (then
  // known valid) text checks what JSON.parse does not: duplicate keys, depth and
  // number range. Anything the scan does not pass goes through the hand-written
  // parser below, which throws the precise error (or accepts, when the scan was
  // merely cautious), so both paths accept and reject exactly the same inputs.
  let fast: unknown;
  let parsed = false;
  try {
    fast = JSON.parse(text);
    parsed = true;
  } catch {
    // The strict parser reports where and why.
  }
  if (parsed && scanIsStrict(text, maxDepth)) {
    return fast;
  }
  return parseSlowly(text, maxDepth);
}

/**
 * On text JSON.parse accepted: true when no object repeats a key, nesting stays
 * below `maxDepth` and every number is finite and short. False means "let the
 * strict parser decide", never "invalid".
 */
function scanIsStrict(text: string, maxDepth: number): boolean {
  // One entry per open container: the keys seen so far (objects) or null (arrays).
  // Most objects of a signed payload have a handful of keys: a list searched
  // linearly, turned into a Set once it grows (cheaper than a Set per object).
  const stack: (string[] | Set<string> | null)[] = [];
  let expectKey = false;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      let end = i + 1;
      for (;;) {
        end = text.indexOf('"', end);
        if (end < 0) return false;
        let backslashes = 0;
        for (let k = end - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
        if (backslashes % 2 === 0) break;
        end++;
      }
      if (expectKey) {
        const keys = stack[stack.length - 1];
        const raw = text.slice(i + 1, end);
        // Escaped spellings of one key ("a", "\u0061") are the same key.
        const key = raw.includes('\\')
          ? (JSON.parse(text.slice(i, end + 1)) as string)
          : raw;
        if (!keys) return false;
        if (Array.isArray(keys)) {
          if (keys.includes(key)) return false;
          if (keys.length < 16) keys.push(key);
          else stack[stack.length - 1] = new Set(keys).add(key);
        } else {
          if (keys.has(key)) return false;
          keys.add(key);
        }
        expectKey = false;
      }
      i = end + 1;
      continue;
    }
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      if (stack.length + 1 >= maxDepth) return false;
      const opensObject = c === 0x7b;
      stack.push(opensObject ? [] : null);
      expectKey = opensObject;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      stack.pop();
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = stack[stack.length - 1] !== null;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      let end = i + 1;
      let exponent = false;
      for (; end < n; end++) {
        const d = text.charCodeAt(end);
        if (d === 0x65 || d === 0x45) exponent = true;
        else if (
          !(d >= 0x30 && d <= 0x39) &&
          d !== 0x2e &&
          d !== 0x2b &&
          d !== 0x2d
        )
          break;
      }
      if (end - i > 300) return false;
      if (exponent && !Number.isFinite(Number(text.slice(i, end)))) {
        return false;
      }
      i = end;
      continue;
    }
    i++;
  }
  return true;
}

/** The strict parser proper: builds the value itself and stops at the first fault. */
function parseSlowly(text: string, maxDepth: number): unknown {
  let i = 0;

  const err = (msg: string): never => {
    throw new StrictJsonError('syntax', `${msg} at offset ${i}`);
  };
  const ws = () => {
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else break;
    }
  };
  const str = (): string => {
    // text[i] === '"'
    i++;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) err('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) err('control character in string');
      if (c === 0x5c) {
        out += text.slice(start, i);
        i++;
        const e = text[i];
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = text.slice(i + 1, i + 5);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) err('bad \\u escape');
            out += String.fromCharCode(parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            err('bad escape');
        }
        i++;
        start = i;
        continue;
      }
      i++;
    }
  };
  const num = (): number => {
    const m = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(
      text.slice(i, i + 400),
    );
    if (!m) return err('bad number');
    i += m[0].length;
    const n = Number(m[0]);
    if (!Number.isFinite(n)) err('number out of range');
    return n;
  };
  const value = (depth: number): unknown => {
    if (depth > maxDepth)
      throw new StrictJsonError(
        'too_deep',
        `JSON nested deeper than ${maxDepth}`,
      );
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, unknown> = Object.create(null);
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return toPlain(obj);
      }
      for (;;) {
        ws();
        if (text[i] !== '"') err('expected key');
        const k = str();
        if (seen.has(k)) {
          throw new StrictJsonError(
            'duplicate_key',
            `duplicate key "${k.slice(0, 64)}"`,
          );
        }
        seen.add(k);
        ws();
        if (text[i] !== ':') err('expected ":"');
        i++;
        obj[k] = value(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return toPlain(obj);
        }
        err('expected "," or "}"');
      }
    }
    if (c === '[') {
      i++;
      const arr: unknown[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        err('expected "," or "]"');
      }
    }
    if (c === '"') return str();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    if (c === '-' || (c >= '0' && c <= '9')) return num();
    return err('unexpected character');
  };
  const out = value(0);
  ws();
  if (i !== text.length) err('trailing data');
  return out;
}

/** Null-prototype objects become plain objects (safe: `__proto__` is a normal own key). */
function toPlain(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) {
    Object.defineProperty(out, k, {
      value: obj[k],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/** Type guard for a plain JSON object. */
export function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
