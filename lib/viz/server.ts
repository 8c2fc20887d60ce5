// `trm viz`'s HTTP server (node:http, no framework): the page's static assets from
// lib/viz/assets and a small JSON API over the served folders. Every handler's error becomes a
// JSON {error} the page shows; nothing a request does can take the server down.
import * as fs from 'fs';
import * as http from 'http';
import * as path from 'path';
import { AddressInfo } from 'net';
import { describeDataset, getPuzzle, listPuzzles } from './dataset';
import { readCurves } from './metrics';
import { Filter, getPredictions } from './predictions';
import { Source, UserError, discover, findSource } from './sources';
import { getSubmission } from './submission';

export interface VizServerOptions {
  /** Dataset folders, run folders, or folders holding them (searched a few levels down). */
  dirs: string[];
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** How often the curves view re-reads metrics.jsonl, in ms (default 2000). */
  pollMs?: number;
}

export interface VizServer {
  url: string;
  close(): Promise<void>;
}

/** The assets folder: beside this file when run from source, ../../../lib/viz/assets from dist/lib/viz. */
export function assetsDir(): string {
  const candidates = [path.join(__dirname, 'assets'), path.resolve(__dirname, '../../../lib/viz/assets')];
  const dir = candidates.find((d) => fs.existsSync(path.join(d, 'index.html')));
  if (!dir) throw new Error(`trm viz: page assets not found (looked in ${candidates.join(', ')}); reinstall @trm/core`);
  return dir;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.ico': 'image/x-icon',
};

function send(res: http.ServerResponse, status: number, body: string | Buffer, type: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

const json = (res: http.ServerResponse, status: number, value: unknown) => send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');

function intParam(q: URLSearchParams, name: string, def: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = q.get(name);
  if (v === null || v === '') return def;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UserError(`Expected a non-negative integer for ${name} but received ${JSON.stringify(v)}`);
  return Math.min(n, max);
}

function filterParam(q: URLSearchParams): Filter {
  const f = q.get('filter') ?? 'all';
  if (f !== 'all' && f !== 'right' && f !== 'wrong') throw new UserError(`Expected all, right or wrong for filter but received ${JSON.stringify(f)}`);
  return f;
}

function summarize(sources: Source[]) {
  return sources.map((s) => {
    if (s.kind !== 'dataset') return s;
    return { ...s, ...describeDataset(s) };
  });
}

function api(route: string, q: URLSearchParams, dirs: string[], pollMs: number): unknown {
  const sources = discover(dirs);
  const param = (name: string) => {
    const v = q.get(name);
    if (!v) throw new UserError(`missing parameter ${name}`);
    return v;
  };
  switch (route) {
    case 'sources':
      return { dirs, pollMs, sources: summarize(sources) };
    case 'dataset/puzzles':
      return listPuzzles(findSource(sources, q.get('dir'), 'dataset'), param('split'), param('set'), intParam(q, 'offset', 0), intParam(q, 'limit', 50, 500), q.get('q') ?? '');
    case 'dataset/puzzle': {
      const name = q.get('name');
      return getPuzzle(findSource(sources, q.get('dir'), 'dataset'), param('split'), param('set'), name ? null : intParam(q, 'index', 0), name);
    }
    case 'predictions':
      return getPredictions(findSource(sources, q.get('dir'), 'run'), sources, param('file'), filterParam(q), intParam(q, 'offset', 0), intParam(q, 'limit', 20, 200));
    case 'submission':
      return getSubmission(findSource(sources, q.get('dir'), 'run'), sources, param('file'), filterParam(q), intParam(q, 'offset', 0), intParam(q, 'limit', 20, 200));
    case 'curves': {
      const wanted = q.getAll('dir');
      if (wanted.length === 0) throw new UserError('missing parameter dir (one per run)');
      return {
        runs: wanted.map((d) => {
          try {
            return readCurves(findSource(sources, d, 'run'));
          } catch (e) {
            return { path: d, error: (e as Error).message };
          }
        }),
      };
    }
    default:
      throw new UserError(`no API endpoint /api/${route}`, 404);
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function startVizServer(options: VizServerOptions): Promise<VizServer> {
  const dirs = (options.dirs.length ? options.dirs : ['.']).map((d) => path.resolve(d));
  const host = options.host ?? '127.0.0.1';
  const pollMs = options.pollMs ?? 2000;
  const assets = assetsDir();
  const loopback = host === '127.0.0.1' || host === 'localhost' || host === '::1';

  const server = http.createServer((req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      // Bound to loopback, refuse other Host names so a web page elsewhere cannot rebind DNS to us.
      const hostName = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (loopback && !LOOPBACK_HOSTS.has(hostName)) return send(res, 403, 'forbidden host', 'text/plain');
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed', 'text/plain');
      if (url.pathname.startsWith('/api/')) {
        try {
          return json(res, 200, api(url.pathname.slice(5), url.searchParams, dirs, pollMs));
        } catch (e) {
          const err = e as Error & { status?: number };
          const known = err instanceof UserError || ['DatasetError', 'SerializationError'].includes(err.name);
          return json(res, known ? (err.status ?? 400) : 500, { error: err.message || String(e) });
        }
      }
      const name = url.pathname === '/' ? 'index.html' : url.pathname.replace(/^\/assets\//, '');
      if (!/^[A-Za-z0-9_-]+\.[a-z]+$/.test(name) || !fs.existsSync(path.join(assets, name))) return send(res, 404, 'not found', 'text/plain');
      return send(res, 200, fs.readFileSync(path.join(assets, name)), TYPES[path.extname(name)] ?? 'application/octet-stream');
    } catch (e) {
      if (!res.headersSent) json(res, 500, { error: (e as Error).message });
      else res.destroy();
    }
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}/`,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
