/*
 * A tiny loopback HTTP(S) server for registry behaviours a real registry cannot show
 * (lying digests, endless bodies, 429s, foreign realms, stalls, redirects).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import {
  createServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
}

export interface HostileServer {
  host: string;
  url: string;
  port: number;
  requests: SeenRequest[];
  /** Bytes written by handlers through `res.write` (for endless-body tests). */
  inflight: { current: number; max: number };
  close(): Promise<void>;
}

export type Handler = (
  req: IncomingMessage,
  res: ServerResponse,
  server: HostileServer,
) => void | Promise<void>;

async function listen(
  server: Server,
  handler: Handler,
  scheme: 'http' | 'https',
  hostname = '127.0.0.1',
): Promise<HostileServer> {
  const state: HostileServer = {
    host: '',
    url: '',
    port: 0,
    requests: [],
    inflight: { current: 0, max: 0 },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>(resolve => server.close(() => resolve()));
    },
  };
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    state.requests.push({
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
    });
    state.inflight.current++;
    state.inflight.max = Math.max(state.inflight.max, state.inflight.current);
    const done = () => {
      state.inflight.current--;
    };
    res.once('close', done);
    res.on('error', () => undefined);
    Promise.resolve(handler(req, res, state)).catch(() => res.destroy());
  });
  await new Promise<void>(resolve =>
    server.listen(0, '127.0.0.1', () => resolve()),
  );
  const addr = server.address();
  state.port = typeof addr === 'object' && addr ? addr.port : 0;
  state.host = `${hostname}:${state.port}`;
  state.url = `${scheme}://${state.host}`;
  return state;
}

export function startHostile(
  handler: Handler,
  hostname?: string,
): Promise<HostileServer> {
  return listen(createServer(), handler, 'http', hostname);
}

/** Self-signed certificate for 127.0.0.1, made with the openssl CLI. */
export function selfSigned(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'residency-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function startHostileTls(
  handler: Handler,
  tls: { key: string; cert: string },
): Promise<HostileServer> {
  return listen(createHttpsServer(tls) as unknown as Server, handler, 'https');
}
