import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ObserveServer, startObserveServer } from '../../src/cli/observe/observe-server.ts';
import { ControlClient } from '../../src/control/control-client.ts';
import { startControlServer } from '../../src/control/control-server.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A raw HTTP request, so the test sets the Host and Origin headers a browser would. */
function http(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }),
      );
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Reads the server-sent events of a page server until the text matches `until`. */
function liveUntil(server: ObserveServer, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}live`, (res) => {
      expect(res.headers['content-type']).toBe('text/event-stream');
      let text = '';
      res.on('data', (d) => {
        text += d;
        if (until.test(text)) {
          req.destroy();
          resolve(text);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

// A shared machine can starve this process for seconds: timeouts are generous, nothing is timed.
describe('relupctl observe: the page server', { timeout: 180_000 }, () => {
  const nats = useNats();
  let node: RelupNode;
  let stopControl: () => Promise<void>;
  let readOnly: ObserveServer;
  let acting: ObserveServer;

  beforeAll(async () => {
    node = await startChatNode(nats.server().url, 'obs-1');
    const control = await startControlServer(node);
    stopControl = () => control.stop();
    readOnly = await startObserveServer(new ControlClient(await nats.connect()), { pollMs: 200 });
    acting = await startObserveServer(new ControlClient(await nats.connect()), {
      pollMs: 200,
      actions: true,
    });
  });
  afterAll(async () => {
    await readOnly?.stop();
    await acting?.stop();
    await stopControl?.();
    await node?.stop();
  });

  const json = (server: ObserveServer, body: unknown, headers: Record<string, string> = {}) => {
    const origin = server.url.replace(/\/$/, '');
    return http(`${server.url}action`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  };

  it('serves the page, its script and uPlot from node_modules, on 127.0.0.1', async () => {
    expect(readOnly.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await http(readOnly.url);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<script src="/vendor/uplot.js">');
    const uplot = await http(`${readOnly.url}vendor/uplot.js`);
    expect(uplot.type).toMatch(/javascript/);
    expect(uplot.body).toContain('uPlot');
    expect((await http(`${readOnly.url}nothing`)).status).toBe(404);
  });

  it('streams statuses with traffic counters over server-sent events', async () => {
    const got = await liveUntil(readOnly, /event: statuses\ndata: [^\n]*"stats"/);
    const data = /event: statuses\ndata: ([^\n]*"stats"[^\n]*)/.exec(got)?.[1] ?? '';
    const statuses = JSON.parse(data);
    expect(statuses.nodes.map((n: { node: string }) => n.node)).toEqual(['obs-1']);
    expect(statuses.nodes[0].services[0].stats).toMatchObject({ requests: expect.any(Number) });
  });

  it('fetches the releases again only after a command that changes them, so two pages never feed each other', async () => {
    // Each page's own `releases` query ends in a command_finished event; answering every such
    // event with another query made two pages double each other's traffic until the node starved.
    await liveUntil(readOnly, /event: releases\n/);
    await liveUntil(acting, /event: releases\n/);
    const client = new ControlClient(await nats.connect());
    const events = client.events('obs-1');
    await events.ready;
    const seen: string[] = [];
    const pump = (async () => {
      for await (const e of events) if (e.type === 'command_received') seen.push(String(e.cmd));
    })();
    // Five read-only commands in a row: with the loop, each page answers each finish with a query.
    for (let i = 0; i < 5; i++) await client.request('obs-1', 'status');
    await client.request('obs-1', 'releases');
    events.close();
    await pump;
    expect(seen.filter((c) => c === 'status')).toHaveLength(5);
    // Only this test's own `releases` query: the pages asked for none.
    expect(seen.filter((c) => c === 'releases')).toEqual(['releases']);
  });

  it('refuses actions when read-only, and a foreign Host or Origin always', async () => {
    const body = { action: 'check', node: 'obs-1', to: '1.1.0', confirm: true };
    const refused = await json(readOnly, body);
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error.message).toMatch(/read-only/);
    expect((await json(acting, body, { origin: 'http://evil.example' })).status).toBe(403);
    expect((await http(acting.url, { headers: { host: 'evil.example:80' } })).status).toBe(403);
  });

  it('answers a bad action BAD_COMMAND with its problems, an oversized one 413, and runs nothing', async () => {
    const unconfirmed = await json(acting, { action: 'upgrade', node: 'obs-1', to: '1.1.0' });
    expect(unconfirmed.status).toBe(400);
    expect(JSON.parse(unconfirmed.body).error).toMatchObject({ code: 'BAD_COMMAND' });
    const badVersion = await json(acting, { action: 'upgrade', node: 'obs-1', to: 'latest', confirm: true });
    expect(JSON.parse(badVersion.body).error.details.problems[0].path).toBe('to');
    expect((await json(acting, 'not json')).status).toBe(400);
    expect((await json(acting, 'x'.repeat(10_000))).status).toBe(413);
    expect(node.release.version).toBe('1.0.0');
  });

  it('runs a confirmed check through the control protocol', async () => {
    const r = await json(acting, { action: 'check', node: 'obs-1', to: '1.1.0', confirm: true });
    expect(r.status, r.body).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ ok: true, result: { outcome: 'done', to: '1.1.0' } });
    expect(node.release.version).toBe('1.0.0');
  });

  it('`relupctl observe --port 0` prints the address and serves until SIGTERM', async () => {
    const child = spawn('node', ['bin/relupctl.js', 'observe', '--port', '0', '--nats', nats.server().url], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        const onData = (d: Buffer) => {
          out += d;
          const m = /observe: (http:\/\/127\.0\.0\.1:\d+\/) \(read-only/.exec(out);
          if (m?.[1]) resolve(m[1]);
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        void exited.then((code) => reject(new Error(`relupctl exited ${code}: ${out}`)));
      });
      expect(JSON.parse((await http(`${url}config`)).body)).toEqual({ actions: false, prefix: 'relup' });
    } finally {
      if (child.exitCode === null) process.kill(child.pid as number, 'SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
