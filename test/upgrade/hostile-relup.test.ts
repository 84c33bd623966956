import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import type { RelupNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';
import { command } from '../control/control-helpers.ts';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';

const relup = (to: string, up: string, rest = '') =>
  `release: chat\nfrom: 1.0.0\nto: ${to}\nup:\n  - update: chat\n${up}down: auto\n${rest}`;

/** Each hostile relup from 1.0.0, by the release it leads to: its first problem, and the line it is reported at. */
const HOSTILE: Record<string, { yaml: string; line?: number; reason: RegExp }> = {
  // An apply module outside the release: it used to fail only after the point of no return.
  '1.7.0': {
    yaml: relup('1.7.0', '  - apply: { module: ../../../etc/passwd }\n'),
    line: 6,
    reason: /leaves the release folder/,
  },
  '1.7.1': {
    yaml: relup('1.7.1', '  - apply: { module: migrations/missing.ts }\n'),
    line: 6,
    reason: /is not a file of release 1.7.1/,
  },
  '1.7.2': {
    yaml: relup('1.7.2', '    extra: &x { self: *x }\n'),
    line: 6,
    reason: /alias \*x refers to a node that contains it/,
  },
  '1.7.3': {
    yaml: relup(
      '1.7.3',
      '    extra:\n      a: &a [x, x, x, x, x, x, x, x, x, x]\n      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n      d: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
    ),
    line: 10,
    reason: /aliases expand the file/,
  },
  // Accepted silently before: chat suspended and resumed twice.
  '1.7.4': {
    yaml: relup('1.7.4', '  - suspend: chat\n  - resume: chat\n'),
    reason: /suspend:chat repeats the same step of up\[0\]/,
  },
  // 10 MB of keys: parsing it used to hold the event loop for minutes.
  '1.7.5': {
    yaml: relup(
      '1.7.5',
      '',
      `extra:\n${Array.from({ length: 800_000 }, (_, i) => `  k${i}: ${i}`).join('\n')}\n`,
    ),
    reason: /bytes; a relup file may have/,
  },
};

describe('a node answers a hostile relup with BAD_RELUP and changes nothing (real NATS)', () => {
  const nats = useNats();
  let sandbox: ReleaseSandbox;
  let node: RelupNode;
  let server: ControlServer;
  let nc: NatsConnection;
  let session: Session;

  beforeAll(async () => {
    sandbox = releaseSandbox();
    for (const [version, { yaml }] of Object.entries(HOSTILE)) {
      await sandbox.derive('1.1.0', version, undefined, { 'migrations/ok.ts': 'export default () => {};\n' });
      sandbox.relup(`1.0.0-${version}`, yaml);
    }
    node = await startChatNode(nats.server().url, 'hostile', {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
    });
    server = await startControlServer(node, {});
    nc = await nats.connect();
    session = await Session.open(nc, 'chat', { user: 'ada', room: 'hostile' });
    await session.request({ type: 'say', text: 'before' });
  });
  afterAll(async () => {
    await session?.close();
    await server?.stop();
    await node?.stop();
    sandbox?.remove();
  });

  it.each(Object.keys(HOSTILE))('check and upgrade to %s fail at compile time', async (version) => {
    const { line, reason } = HOSTILE[version]!;
    const file = `${sandbox.relupsDir}/chat/1.0.0-${version}.yaml`;
    const before = node.status();
    for (const cmd of ['check', 'upgrade']) {
      const r = await command(nc, 'hostile', cmd, { to: version });
      expect(r.ok, cmd).toBe(false);
      expect(r.error?.code, cmd).toBe('BAD_RELUP');
      expect(r.error?.details.problems[0]).toEqual(
        expect.objectContaining({ file, message: expect.stringMatching(reason), ...(line && { line }) }),
      );
    }
    const after = node.status();
    expect(after.release).toBe('1.0.0');
    expect(after.maintenance).toEqual([]);
    expect(after.state).toBe(before.state);
    expect(after.services).toEqual(before.services);
    expect(after.lastUpgrade).toBeUndefined();
    expect((await session.request({ type: 'say', text: `after ${version}` })).ok).toBe(true);
  });
});
