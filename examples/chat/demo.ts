// `npm start`: the whole story on a fresh clone. A local nats-server (or NATS_URL), two relup
// nodes serving examples/chat 1.0.0, simulated clients chatting, and — while they chat — an
// upgrade to 1.1.0 published on NATS as an operator would, with live progress. It ends with
// one line: messages sent, received, lost, sessions dropped, and the pause clients saw.
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { clusterUpgrade } from '../../src/control/cluster-upgrade.ts';
import { ControlClient } from '../../src/control/control-client.ts';
import { type ControlServer, startControlServer } from '../../src/control/control-server.ts';
import { renderError } from '../../src/errors.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { type LocalNats, startNats } from '../../src/nats/local-server.ts';
import { type RelupNode, startNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';

const releasesDir = fileURLToPath(new URL('./releases', import.meta.url));
const relupsDir = fileURLToPath(new URL('../../relups', import.meta.url));
const say = (line: string) => process.stdout.write(`${line}\n`);
const USERS = Number(process.env.DEMO_USERS ?? 12);

async function main(): Promise<void> {
  const server: LocalNats | undefined = process.env.NATS_URL ? undefined : await startNats();
  const url = process.env.NATS_URL ?? (server as LocalNats).url;
  say(`nats: ${url}${server ? ` (local nats-server, pid ${server.pid})` : ''}`);
  const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
  const nodes: RelupNode[] = [];
  const controls: ControlServer[] = [];
  for (const id of ['demo-1', 'demo-2']) {
    const node = await startNode({ nats: url, nodeId: id, releasesDir, relupsDir, release: '1.0.0', logger });
    nodes.push(node);
    controls.push(await startControlServer(node));
    say(`node ${id} serving chat ${node.release.version}`);
  }

  // Clients: each connects through the queue group (so they spread over both nodes) and keeps
  // saying numbered messages, one at a time, until told to stop.
  const nc = await connectNats({ servers: url, name: 'demo-clients' });
  let sent = 0;
  let received = 0;
  let pushes = 0;
  let dropped = 0;
  // Our own closes at the end push `closed` too: only a close we did not ask for is a drop.
  let closing = false;
  const rooms = ['lobby', 'dev'];
  const sessions = await Promise.all(
    Array.from({ length: USERS }, (_, i) =>
      Session.open(
        nc,
        'chat',
        { user: `user${i}`, room: rooms[i % rooms.length] },
        {
          onPush: (m) => {
            if (m.type === 'message') pushes++;
            if (m.type === 'closed' && !closing) dropped++;
          },
        },
      ),
    ),
  );
  const perNode = nodes.map((n) => `${n.id}: ${n.services.get('chat')?.sessionCount ?? 0}`).join(', ');
  say(`${USERS} clients connected (${perNode}), chatting in ${rooms.join(' and ')}`);
  let chatting = true;
  const lastSeq = new Map<string, number>();
  let outOfOrder = 0;
  const clients = sessions.map(async (s, i) => {
    for (let k = 0; chatting; k++) {
      sent++;
      const r = await s.request({ type: 'say', text: `message ${k} from user${i}` });
      received++;
      const room = rooms[i % rooms.length] as string;
      if ((r.seq as number) <= (lastSeq.get(`${room}:${i}`) ?? 0)) outOfOrder++;
      lastSeq.set(`${room}:${i}`, r.seq as number);
    }
  });
  // Let them chat a little before the operator acts.
  while (received < USERS * 20) await new Promise((r) => setImmediate(r));
  say(
    `chatting: ${received} messages so far; publishing the upgrade to 1.1.0 on NATS (rolling, node by node)`,
  );

  const operator = new ControlClient(await connectNats({ servers: url, name: 'demo-operator' }), {
    timeoutMs: 60_000,
  });
  const events = operator.events('*');
  const progress = (async () => {
    for await (const e of events) {
      if (e.type === 'step_completed' || e.type === 'step_failed')
        say(
          `  ${e.node}  ${e.type === 'step_failed' ? '✗' : '✓'} ${e.step}${e.durationMs !== undefined ? ` (${Number(e.durationMs).toFixed(1)} ms)` : ''}`,
        );
      else if (e.type === 'state') say(`  ${e.node}  → ${e.state}`);
    }
  })();
  await events.ready;
  const started = Date.now();
  const result = await clusterUpgrade(operator, { to: '1.1.0', mode: 'rolling' });
  const upgradeMs = Date.now() - started;
  // Keep chatting a moment under the new code, then stop and settle.
  const afterUpgrade = received;
  while (received < afterUpgrade + USERS * 10) await new Promise((r) => setImmediate(r));
  chatting = false;
  await Promise.all(clients);
  const topic = await sessions[0]?.request({ type: 'topic', text: 'hot upgrades' });
  events.close();
  await progress;

  for (const n of result.nodes)
    say(
      `${n.node}: ${n.outcome}${n.pauseMs !== undefined ? `, pause ${n.pauseMs.toFixed(1)} ms` : ''}${n.error ? ` (${n.error.code})` : ''}`,
    );
  say(`new code live for existing sessions: topic → ${JSON.stringify(topic)}`);
  const pause = Math.max(...result.nodes.map((n) => n.pauseMs ?? 0));
  const lost = sent - received;
  say(
    `messages sent ${sent}, received ${received}, lost ${lost}, out of order ${outOfOrder}, pushes ${pushes}, sessions dropped ${dropped}, pause ${pause.toFixed(1)} ms (upgrade ${upgradeMs} ms, ${result.ok ? 'all nodes on 1.1.0' : 'NOT all nodes upgraded'})`,
  );
  await operator.nc.close();
  closing = true;
  for (const s of sessions) await s.close();
  await nc.close();
  for (const c of controls) await c.stop();
  for (const n of nodes) await n.stop();
  await server?.stop();
  if (!result.ok || lost !== 0 || dropped !== 0) process.exit(1);
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${renderError(err)}\n`);
  process.exit(1);
});
