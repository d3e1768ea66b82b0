/*
 * A fault-injecting HTTP proxy for tests: sits on a loopback port in front of a real
 * registry (e.g. `startTestRegistry()`), forwards every request unchanged, and on
 * request injects one of the faults a registry shows in the wild: refused
 * connections, resets mid-body, stalls after the headers or mid-body, slow drip,
 * 5xx, 429 with Retry-After (seconds or an HTTP date), a lying
 * Docker-Content-Digest, a redirect to another host, a bearer realm on another host.
 * Written by hand: no maintained library injects registry-shaped faults.
 */
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';

/** One fault; applied to requests matching the rule it belongs to. */
export type Fault =
  /** The proxy stops listening: new connections are refused (ECONNREFUSED). */
  | { kind: 'refuse' }
  /** Forward headers and `afterBytes` of the body, then reset the connection. */
  | { kind: 'reset-mid-body'; afterBytes?: number }
  /** Accept the request and never answer. */
  | { kind: 'stall-headers' }
  /** Forward the headers and `afterBytes` of the body, then go silent. */
  | { kind: 'stall-body'; afterBytes?: number }
  /** Forward the body one byte every `intervalMs` (under any idle timeout). */
  | { kind: 'drip'; intervalMs: number }
  /** Answer this status (500, 502, 503, 429...) with these headers, e.g. Retry-After. */
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  /** Forward, but replace Docker-Content-Digest with this digest. */
  | { kind: 'lying-digest'; digest: string }
  /** Answer 307 to `location` (absolute URL; `{path}` is replaced by the request path). */
  | { kind: 'redirect'; location: string }
  /** Answer 401 with a bearer challenge whose realm is `realm`. */
  | { kind: 'bearer-realm'; realm: string; service?: string };

/** When a fault applies: method and a path pattern; `times` limits how often. */
export interface FaultRule {
  fault: Fault;
  /** Matched against the request path and query; all requests when absent. */
  path?: RegExp;
  method?: string;
  /** Apply to the first N matching requests only, then forward them unchanged. */
  times?: number;
}

/** A request the proxy saw, and what it did with it. */
export interface ProxiedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The fault injected, or `forward`. */
  action: Fault['kind'] | 'forward';
}

/** A running fault proxy. */
export interface FaultProxy {
  /** `127.0.0.1:<port>`, as written in image references. */
  host: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** Every request that reached the proxy, in order. */
  requests: ProxiedRequest[];
  /** Replaces the fault rules (none: a transparent proxy). */
  setFaults(rules: FaultRule[]): Promise<void>;
  close(): Promise<void>;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** The upstream base URL, e.g. the test registry's `http://127.0.0.1:5000`. */
  target: string;
  /** Initial fault rules. */
  faults?: FaultRule[];
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
]);

function forwardHeaders(
  headers: IncomingHttpHeaders,
  replace: Record<string, string> = {},
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  return { ...out, ...replace };
}

/** Starts the proxy on a free loopback port. */
export async function startFaultProxy(
  options: FaultProxyOptions,
): Promise<FaultProxy> {
  const target = new URL(options.target);
  let rules: (FaultRule & { used: number })[] = [];
  const sockets = new Set<Socket>();
  const requests: ProxiedRequest[] = [];

  function faultFor(req: IncomingMessage): Fault | undefined {
    for (const rule of rules) {
      if (rule.method && rule.method !== req.method) continue;
      if (rule.path && !rule.path.test(req.url ?? '')) continue;
      if (rule.times !== undefined && rule.used >= rule.times) continue;
      rule.used++;
      return rule.fault;
    }
    return undefined;
  }

  /** Forwards the request upstream and hands the response to `respond`. */
  function upstream(
    req: IncomingMessage,
    res: ServerResponse,
    respond: (up: IncomingMessage) => void,
  ) {
    const up = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: forwardHeaders(req.headers, { host: target.host }),
      },
      respond,
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  }

  function cutAfter(
    up: IncomingMessage,
    res: ServerResponse,
    afterBytes: number,
    then: () => void,
  ) {
    res.writeHead(up.statusCode ?? 502, forwardHeaders(up.headers));
    let sent = 0;
    up.on('data', (chunk: Buffer) => {
      if (sent >= afterBytes) return;
      const part = chunk.subarray(0, afterBytes - sent);
      sent += part.length;
      res.write(part);
      if (sent >= afterBytes) {
        up.destroy();
        then();
      }
    });
    up.on('end', () => {
      if (sent < afterBytes) then();
    });
  }

  function drip(up: IncomingMessage, res: ServerResponse, intervalMs: number) {
    res.writeHead(up.statusCode ?? 502, forwardHeaders(up.headers));
    const chunks: Buffer[] = [];
    up.on('data', (c: Buffer) => chunks.push(c));
    up.on('end', () => {
      const body = Buffer.concat(chunks);
      let i = 0;
      const timer = setInterval(() => {
        if (res.destroyed || i >= body.length) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write(body.subarray(i, i + 1));
        i++;
      }, intervalMs);
      res.once('close', () => clearInterval(timer));
    });
  }

  function inject(fault: Fault, req: IncomingMessage, res: ServerResponse) {
    switch (fault.kind) {
      case 'refuse':
        // Only reached by a request on a connection opened before the refusal.
        res.socket?.destroy();
        return;
      case 'stall-headers':
        return;
      case 'status':
        res.writeHead(fault.status, fault.headers ?? {});
        res.end();
        return;
      case 'redirect':
        res.writeHead(307, {
          location: fault.location.replace('{path}', req.url ?? '/'),
        });
        res.end();
        return;
      case 'bearer-realm':
        res.writeHead(401, {
          'www-authenticate': `Bearer realm="${fault.realm}",service="${
            fault.service ?? 'registry'
          }"`,
        });
        res.end();
        return;
      case 'reset-mid-body':
        upstream(req, res, up =>
          cutAfter(up, res, fault.afterBytes ?? 1, () => {
            const s = res.socket as
              | (Socket & { resetAndDestroy?: () => void })
              | null;
            if (s?.resetAndDestroy) s.resetAndDestroy();
            else s?.destroy();
          }),
        );
        return;
      case 'stall-body':
        upstream(req, res, up =>
          cutAfter(up, res, fault.afterBytes ?? 1, () => undefined),
        );
        return;
      case 'drip':
        upstream(req, res, up => drip(up, res, fault.intervalMs));
        return;
      case 'lying-digest':
        upstream(req, res, up => {
          const headers = forwardHeaders(
            up.headers,
            up.headers['docker-content-digest']
              ? { 'docker-content-digest': fault.digest }
              : {},
          );
          res.writeHead(up.statusCode ?? 502, headers);
          up.pipe(res);
        });
        return;
      default:
        res.writeHead(500);
        res.end();
    }
  }

  const server = createServer((req, res) => {
    res.on('error', () => undefined);
    const fault = faultFor(req);
    requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      action: fault?.kind ?? 'forward',
    });
    if (fault) {
      inject(fault, req, res);
      return;
    }
    upstream(req, res, up => {
      res.writeHead(up.statusCode ?? 502, forwardHeaders(up.headers));
      up.pipe(res);
    });
  });
  server.on('connection', socket => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });

  let port = 0;
  let listening = false;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        const a = server.address();
        port = typeof a === 'object' && a ? a.port : port;
        listening = true;
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>(resolve => {
      if (!listening) {
        resolve();
        return;
      }
      listening = false;
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });

  async function setFaults(next: FaultRule[]): Promise<void> {
    rules = next.map(r => ({ ...r, used: 0 }));
    const refuse = rules.some(r => r.fault.kind === 'refuse' && !r.path);
    if (refuse) await stopListening();
    else if (!listening) await listen();
  }

  await listen();
  await setFaults(options.faults ?? []);
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setFaults,
    close: async () => {
      rules = [];
      await stopListening();
    },
  };
}
