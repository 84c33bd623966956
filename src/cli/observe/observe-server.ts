import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { ControlClient } from '../../control/control-client.ts';
import { RelupError, toRelupError } from '../../errors.ts';
import { parseAction, runAction } from './observe-actions.ts';
import { ObserveBridge } from './observe-bridge.ts';

/** Options of the operator page's server. */
export interface ObserveOptions {
  /** TCP port on 127.0.0.1, default 0 (a free one). */
  port?: number;
  /** Lets the page run actions (upgrade, check, make permanent, maintenance); default read-only. */
  actions?: boolean;
  /** Period of discovery, default 1000 ms. */
  pollMs?: number;
}

/** A running page server. */
export interface ObserveServer {
  /** Where the page is, e.g. `http://127.0.0.1:8099/`. */
  readonly url: string;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);
const page = (name: string) => fileURLToPath(new URL(`./page/${name}`, import.meta.url));

/** The files the page is made of: path → [file, content type]. uPlot comes from node_modules. */
const ASSETS: Record<string, [() => string, string]> = {
  '/': [() => page('index.html'), 'text/html; charset=utf-8'],
  '/app.js': [() => page('app.js'), 'text/javascript; charset=utf-8'],
  '/app.css': [() => page('app.css'), 'text/css; charset=utf-8'],
  '/vendor/uplot.js': [
    () => require.resolve('uplot/dist/uPlot.iife.min.js'),
    'text/javascript; charset=utf-8',
  ],
  '/vendor/uplot.css': [() => require.resolve('uplot/dist/uPlot.min.css'), 'text/css; charset=utf-8'],
};

/** The largest action body accepted; actions are a few fields. */
const MAX_BODY = 4096;
/** Pages open at once; each holds one live channel. */
const MAX_PAGES = 64;

/**
 * Serves the operator page on 127.0.0.1: static assets, `GET /live` (server-sent events bridged
 * to NATS) and, with `actions`, `POST /action` (JSON, same origin only, confirmed by the page).
 */
export async function startObserveServer(
  client: ControlClient,
  opts: ObserveOptions = {},
): Promise<ObserveServer> {
  const bridge = new ObserveBridge(client, { pollMs: opts.pollMs });
  await bridge.start();
  const actions = opts.actions === true;
  const pages = new Set<ServerResponse>();
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => reply(res, 500, { ok: false, error: toRelupError(err).toJSON() }));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Only the loopback names: a page of another site that rebinds its name to 127.0.0.1 is refused.
    const host = req.headers.host ?? '';
    if (!/^(127\.0\.0\.1|localhost|\[::1\]):\d+$/.test(host)) return reply(res, 403, { ok: false });
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method === 'GET' && path === '/config')
      return reply(res, 200, { actions, prefix: client.prefix });
    if (req.method === 'GET' && path === '/live') return live(res);
    if (req.method === 'POST' && path === '/action') return action(req, res, host);
    const asset = req.method === 'GET' ? ASSETS[path] : undefined;
    if (!asset) return reply(res, 404, { ok: false });
    const body = await readFile(asset[0]());
    res.writeHead(200, { 'content-type': asset[1], 'cache-control': 'no-cache' });
    res.end(body);
  }

  function live(res: ServerResponse): void {
    if (pages.size >= MAX_PAGES) {
      reply(res, 503, { ok: false });
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    res.write(': relup observe\n\n');
    pages.add(res);
    const off = bridge.subscribe((m) => res.write(`event: ${m.event}\ndata: ${JSON.stringify(m.data)}\n\n`));
    res.on('close', () => {
      off();
      pages.delete(res);
    });
  }

  async function action(req: IncomingMessage, res: ServerResponse, host: string): Promise<void> {
    if (!actions)
      return reply(res, 403, {
        ok: false,
        error: { code: 'BAD_COMMAND', message: 'the page is read-only: start relupctl observe --actions' },
      });
    // Same origin only: a form or script of another page cannot act for the operator.
    if (
      req.headers.origin !== `http://${host}` ||
      !req.headers['content-type']?.startsWith('application/json')
    )
      return reply(res, 403, {
        ok: false,
        error: { code: 'BAD_COMMAND', message: 'cross-origin action refused' },
      });
    let text = '';
    for await (const chunk of req) {
      text += chunk;
      if (text.length > MAX_BODY)
        return reply(res, 413, { ok: false, error: { code: 'BAD_MESSAGE', message: 'action too large' } });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return reply(res, 400, { ok: false, error: new RelupError('BAD_MESSAGE', 'not JSON').toJSON() });
    }
    try {
      const result = await runAction(client, parseAction(body));
      reply(res, 200, { ok: true, result });
    } catch (err) {
      const e = toRelupError(err, 'STEP_FAILED');
      reply(res, e.code === 'BAD_COMMAND' ? 400 : 502, { ok: false, error: e.toJSON() });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new RelupError('LISTEN_FAILED', `cannot listen on 127.0.0.1:${opts.port ?? 0}: ${err.message}`)),
    );
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    async stop() {
      await bridge.stop();
      for (const res of pages) res.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(body));
}
