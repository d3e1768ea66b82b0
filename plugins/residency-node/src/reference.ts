/*
 * Image reference parsing by the OCI distribution grammar, plus `oci:` layout paths.
 *
 * Written by hand (rather than with a general-purpose parser package) because the grammar
 * is small, and because we need stricter rules than the reference implementation has:
 * no control characters, no `user@host`, no non-canonical IP literals, hard length caps,
 * and a typed `bad_reference` error for every failure (never an untyped exception).
 */
import { isIPv6 } from 'node:net';
import { SourceError, type ImageReference } from './source/types';

/** Longest reference text accepted (4 KiB). */
export const MAX_REFERENCE_LENGTH = 4096;
/** Longest single host or path component accepted. */
export const MAX_COMPONENT_LENGTH = 255;

const DEFAULT_REGISTRY = 'docker.io';
const DOCKER_HUB_ALIASES = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
]);

/** Lowercase path component: alnum runs joined by `.`, `_`, `__` or one or more `-`. */
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DOMAIN_COMPONENT = /^(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
const PORT = /^[0-9]{1,5}$/;
const DIGEST_PATTERNS: Record<string, RegExp> = {
  sha256: /^[a-f0-9]{64}$/,
  sha512: /^[a-f0-9]{128}$/,
};

function bad(text: string, why: string): SourceError {
  // The reference itself may be hostile (huge, control characters): keep only a short,
  // printable prefix in the details.
  const shown = text.slice(0, 120).replace(/[^\x20-\x7e]/g, '?');
  return new SourceError('bad_reference', `Invalid image reference: ${why}`, {
    reference: shown,
    problem: why,
  });
}

/** True for a valid `sha256:<64 hex>` or `sha512:<128 hex>` digest (lowercase hex only). */
export function isValidDigest(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const i = value.indexOf(':');
  if (i < 0) return false;
  const pattern = DIGEST_PATTERNS[value.slice(0, i)];
  return !!pattern && pattern.test(value.slice(i + 1));
}

/** Validates a digest string, throwing `bad_reference` with the reason otherwise. */
export function parseDigest(
  value: string,
  text: string = value,
): { algorithm: 'sha256' | 'sha512'; hex: string } {
  const i = value.indexOf(':');
  if (i <= 0) throw bad(text, 'digest must be <algorithm>:<hex>');
  const algorithm = value.slice(0, i);
  const hex = value.slice(i + 1);
  const pattern = Object.prototype.hasOwnProperty.call(
    DIGEST_PATTERNS,
    algorithm,
  )
    ? DIGEST_PATTERNS[algorithm]
    : undefined;
  if (!pattern) {
    throw bad(text, `unsupported digest algorithm "${algorithm.slice(0, 20)}"`);
  }
  if (!pattern.test(hex)) {
    throw bad(
      text,
      `${algorithm} digest must be ${
        algorithm === 'sha256' ? 64 : 128
      } lowercase hex characters`,
    );
  }
  return { algorithm: algorithm as 'sha256' | 'sha512', hex };
}

function isCanonicalIPv4(host: string): boolean {
  const parts = host.split('.');
  return (
    parts.length === 4 &&
    parts.every(p => /^(?:0|[1-9][0-9]{0,2})$/.test(p) && Number(p) <= 255)
  );
}

/**
 * Validates and normalises a registry host[:port]. Hostnames are case-insensitive and
 * lowercased. Numeric hosts must be canonical dotted-quad IPv4 (so `0x7f000001`,
 * `2130706433`, `0177.0.0.1` and `127.1` are rejected rather than reinterpreted), and
 * bracketed IPv6 must be valid and not an IPv4-mapped address.
 */
function parseHost(raw: string, text: string): string {
  if (raw.length > MAX_COMPONENT_LENGTH)
    throw bad(text, 'registry host too long');
  let host = raw;
  let port: string | undefined;
  if (raw.startsWith('[')) {
    const end = raw.indexOf(']');
    if (end < 0) throw bad(text, 'unterminated IPv6 literal');
    const inner = raw.slice(1, end).toLowerCase();
    const rest = raw.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) throw bad(text, 'malformed host');
    if (rest) port = rest.slice(1);
    if (!isIPv6(inner) || inner.includes('%'))
      throw bad(text, 'invalid IPv6 literal');
    if (/(^|:)ffff:(\d|[0-9a-f]{1,4}:)/.test(inner) || inner.includes('.')) {
      throw bad(text, 'IPv4-mapped IPv6 literals are not accepted');
    }
    host = `[${inner}]`;
  } else {
    const colon = raw.indexOf(':');
    if (colon >= 0) {
      host = raw.slice(0, colon);
      port = raw.slice(colon + 1);
    }
    host = host.toLowerCase();
    if (host === '') throw bad(text, 'empty registry host');
    const labels = host.split('.');
    if (labels.some(l => !DOMAIN_COMPONENT.test(l))) {
      throw bad(text, 'invalid registry host');
    }
    const numericLooking = labels.every(l =>
      /^(?:0x[0-9a-f]*|[0-9]+)$/.test(l),
    );
    if (numericLooking && !isCanonicalIPv4(host)) {
      throw bad(text, 'non-canonical numeric host (IP literal trick)');
    }
  }
  if (port !== undefined) {
    if (!PORT.test(port) || Number(port) < 1 || Number(port) > 65535) {
      throw bad(text, 'invalid port');
    }
    if (port.length > 1 && port.startsWith('0'))
      throw bad(text, 'invalid port');
    return `${host}:${port}`;
  }
  return host;
}

function checkText(text: unknown): string {
  if (typeof text !== 'string') {
    throw new SourceError(
      'bad_reference',
      'Invalid image reference: not a string',
    );
  }
  if (text.length === 0) throw bad(text, 'empty reference');
  if (text.length > MAX_REFERENCE_LENGTH) {
    throw bad(text, `longer than ${MAX_REFERENCE_LENGTH} characters`);
  }
  // Printable ASCII only: control characters, DEL, spaces and non-ASCII (homoglyphs,
  // bidi overrides) have no place in a reference.
  if (/[^\x21-\x7e]/.test(text)) {
    throw bad(text, 'contains whitespace, control or non-ASCII characters');
  }
  return text;
}

function parseLayout(text: string): ImageReference {
  let rest = text.slice('oci:'.length);
  let digest: string | undefined;
  const at = rest.lastIndexOf('@');
  if (at >= 0 && /^[a-z0-9]+:/.test(rest.slice(at + 1))) {
    digest = rest.slice(at + 1);
    parseDigest(digest, text);
    rest = rest.slice(0, at);
  }
  // Like skopeo's `oci:` transport, the first colon separates the path from the tag.
  let tag: string | undefined;
  const colon = rest.indexOf(':');
  let path = rest;
  if (colon >= 0) {
    path = rest.slice(0, colon);
    tag = rest.slice(colon + 1);
    if (!TAG.test(tag)) throw bad(text, 'invalid layout tag');
  }
  if (path === '') throw bad(text, 'empty layout path');
  if (!tag && !digest) tag = 'latest';
  return {
    original: text,
    kind: 'layout',
    registry: path,
    repository: tag ?? '',
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

/**
 * Parses an image reference: `[host[:port]/]repo/path[:tag][@digest]` or
 * `oci:<path>[:<tag>|@<digest>]`. Bare names are normalised to `docker.io` (and
 * `library/` for single-component names); with neither tag nor digest the tag is
 * `latest`. When both are given the digest wins (the tag is kept for display only).
 *
 * @throws SourceError with code `bad_reference` for anything else.
 */
export function parseImageReference(input: string): ImageReference {
  const text = checkText(input);
  if (text.startsWith('oci:')) return parseLayout(text);

  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    if (rest.indexOf('@', at + 1) >= 0) throw bad(text, 'more than one "@"');
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (/[/]/.test(digest)) {
      throw bad(text, 'userinfo ("user@host") is not allowed in references');
    }
    parseDigest(digest, text);
  }

  // Split host from the path: the first component is a host when it contains `.` or
  // `:`, starts with `[`, or is `localhost` (the rule the docker CLI uses).
  let host = DEFAULT_REGISTRY;
  let path = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first.includes('.') ||
      first.includes(':') ||
      first.startsWith('[') ||
      first === 'localhost'
    ) {
      host = parseHost(first, text);
      path = rest.slice(slash + 1);
    }
  }
  if (path === '') throw bad(text, 'empty repository');

  let tag: string | undefined;
  const lastSlash = path.lastIndexOf('/');
  const colon = path.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = path.slice(colon + 1);
    path = path.slice(0, colon);
    if (!TAG.test(tag)) throw bad(text, 'invalid tag');
  }

  const components = path.split('/');
  for (const c of components) {
    if (c === '') throw bad(text, 'empty path component');
    if (c.length > MAX_COMPONENT_LENGTH)
      throw bad(text, 'path component too long');
    if (!PATH_COMPONENT.test(c)) {
      throw bad(
        text,
        c !== c.toLowerCase()
          ? 'repository must be lowercase'
          : 'invalid repository path component',
      );
    }
  }

  if (DOCKER_HUB_ALIASES.has(host)) {
    host = DEFAULT_REGISTRY;
    if (components.length === 1) path = `library/${path}`;
  }
  if (!tag && !digest) tag = 'latest';
  return {
    original: text,
    kind: 'registry',
    registry: host,
    repository: path,
    ...(tag ? { tag } : {}),
    ...(digest ? { digest } : {}),
  };
}

/** True for a valid repository path (lowercase components joined by `/`, each <= 255 chars). */
export function isValidRepository(value: unknown): value is string {
  if (
    typeof value !== 'string' ||
    value.length === 0 ||
    value.length > MAX_REFERENCE_LENGTH
  ) {
    return false;
  }
  return value
    .split('/')
    .every(
      c =>
        c.length > 0 &&
        c.length <= MAX_COMPONENT_LENGTH &&
        PATH_COMPONENT.test(c),
    );
}

/** True for a valid tag (`[\w][\w.-]{0,127}`). */
export function isValidTag(value: unknown): value is string {
  return typeof value === 'string' && TAG.test(value);
}

/** Canonical text of a parsed reference (digest form when a digest is known). */
export function formatImageReference(ref: ImageReference): string {
  if (ref.kind === 'layout') {
    const tagPart = ref.tag ? `:${ref.tag}` : '';
    return `oci:${ref.registry}${tagPart}${ref.digest ? `@${ref.digest}` : ''}`;
  }
  const base = `${ref.registry}/${ref.repository}`;
  if (ref.digest) return `${base}@${ref.digest}`;
  return `${base}:${ref.tag ?? 'latest'}`;
}

/** Splits the `residency.dev/images` annotation (the rule lives in residency-common). */
export { splitImagesAnnotation } from '@residency-dev/plugin-residency-common';
