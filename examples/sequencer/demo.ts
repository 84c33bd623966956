// `npm run demo:pair`: a service that must run once in the cluster, live through a forced
// failover and a hard failure. A local nats-server (or NATS_URL), two `relup node` processes
// (n1 primary, n2 backup) serving examples/sequencer as a warm redundant pair, and a client
// asking for the next number as fast as it can. The demo forces a failover to n2, then kills
// n2 with SIGKILL, and prints how long the client waited each time and whether the numbers it
// got stayed strictly increasing, none handed out twice. Exit 0 when they did.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/nats-core';
import { decode, encode } from '../../src/nats/codec.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { type LocalNats, startNats } from '../../src/nats/local-server.ts';
import { Session } from '../../src/services/client.ts';
import { type NodeProcess, spawnNode } from '../../test/helpers/node-spawn.ts';

const releasesDir = fileURLToPath(new URL('./releases', import.meta.url));
const say = (line: string) => process.stdout.write(`${line}\n`);

/** The pair state a node reports for the sequencer. */
async function pairState(nc: NatsConnection, node: string): Promise<string> {
  const msg = await nc.request(`relup.pair.sequencer.${node}`, encode({ op: 'status' }), { timeout: 2000 });
  return decode<{ status?: { state: string } }>(msg.data).status?.state ?? 'unknown';
}

async function main(): Promise<number> {
  const server: LocalNats | undefined = process.env.NATS_URL ? undefined : await startNats();
  const url = process.env.NATS_URL ?? (server as LocalNats).url;
  const logs = mkdtempSync(join(tmpdir(), 'relup-pair-demo-'));
  const nodes: NodeProcess[] = [];
  try {
    say(`nats: ${url}`);
    const boot = (node: string) =>
      spawnNode({
        nats: url,
        node,
        release: '1.0.0',
        env: { RELUP_RELEASES: releasesDir, SEQUENCER_HOOK_LOG: join(logs, 'hooks.log') },
        onSpawn: (p) => nodes.push(p),
      });
    const [n1, n2] = await Promise.all([boot('n1'), boot('n2')]);
    const nc = await connectNats({ servers: url, name: 'pair-demo' });
    for (let i = 0; (await pairState(nc, 'n1')) !== 'active on scan'; i++) {
      if (i > 100) throw new Error('n1 never became active');
      await new Promise((r) => setTimeout(r, 50));
    }
    say(`n1 (pid ${n1.pid}): ${await pairState(nc, 'n1')}; n2 (pid ${n2.pid}): ${await pairState(nc, 'n2')}`);

    const session = await Session.open(nc, 'sequencer', {}, { timeoutMs: 1000 });
    const got: number[] = [];
    // When each number was acknowledged: the longest gap between two is the pause the client saw.
    const at: number[] = [];
    let running = true;
    // Asks for numbers one after another; a failed ask (the active went away) resumes the
    // session on whichever node is active now and asks again.
    const client = (async () => {
      while (running) {
        try {
          const { n } = (await session.request({ type: 'next' })) as { n: number };
          got.push(n);
          at.push(performance.now());
        } catch {
          await nc
            .request('relup.svc.sequencer.connect', encode({ session: session.id }), { timeout: 1000 })
            .catch(() => undefined);
        }
      }
    })();
    const gapAfter = async (what: string, act: () => Promise<unknown>) => {
      await new Promise((r) => setTimeout(r, 500));
      const from = at.length;
      await act();
      // The phase ends once the client has had 50 more numbers after the action.
      const after = got.length;
      while (got.length < after + 50) await new Promise((r) => setTimeout(r, 10));
      let pause = 0;
      for (let i = Math.max(1, from); i < at.length; i++)
        pause = Math.max(pause, (at[i] as number) - (at[i - 1] as number));
      say(`${what}: the client's longest wait between two numbers: ${pause.toFixed(0)} ms`);
    };
    await gapAfter('forced failover n1 → n2', () =>
      nc.request('relup.pair.sequencer.n1', encode({ op: 'failover' }), { timeout: 10_000 }),
    );
    await gapAfter('SIGKILL of n2 (the active)', () => n2.signal('SIGKILL'));
    running = false;
    await client;
    // A number whose reply was in flight when its node died was handed out but never
    // acknowledged: a gap, not a loss. An acknowledged number never comes back, so the numbers
    // the client got must only grow.
    const inOrder = got.every((n, i) => i === 0 || n > (got[i - 1] as number));
    const twice = got.length - new Set(got).size;
    const unacknowledged = (got.at(-1) ?? 0) - (got[0] ?? 0) + 1 - got.length;
    say(
      `numbers acknowledged: ${got.length}, from ${got[0]} to ${got.at(-1)}, ${inOrder ? 'strictly increasing' : 'OUT OF ORDER'}; handed out twice: ${twice}; handed out but unacknowledged (reply in flight at a failure): ${unacknowledged}`,
    );
    await nc.close();
    return inOrder && twice === 0 ? 0 : 1;
  } finally {
    await Promise.all(nodes.map((p) => p.signal('SIGKILL')));
    await server?.stop();
    rmSync(logs, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
