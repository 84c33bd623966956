// `npm start`: a local nats-server (or NATS_URL), a relup node serving the chat example, and a
// few simulated clients chatting; prints what happens.
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { renderError } from '../../src/errors.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { type LocalNats, startNats } from '../../src/nats/local-server.ts';
import { startNode } from '../../src/node/relup-node.ts';
import { Session } from '../../src/services/client.ts';

const releasesDir = fileURLToPath(new URL('./releases', import.meta.url));
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const server: LocalNats | undefined = process.env.NATS_URL ? undefined : await startNats();
  const url = process.env.NATS_URL ?? (server as LocalNats).url;
  say(`nats: ${url}${server ? ` (local nats-server, pid ${server.pid})` : ''}`);
  const node = await startNode({
    nats: url,
    nodeId: 'demo-1',
    releasesDir,
    release: '1.0.0',
    logger: pino({ level: process.env.LOG_LEVEL ?? 'warn' }),
  });
  say(`node demo-1 serving chat ${node.release.version}`);
  const nc = await connectNats({ servers: url, name: 'demo-clients' });
  const users = ['ada', 'grace', 'linus'];
  const received = new Map<string, number>();
  const sessions = await Promise.all(
    users.map((user) =>
      Session.open(
        nc,
        'chat',
        { user, room: 'lobby' },
        { onPush: (m) => received.set(user, (received.get(user) ?? 0) + (m.type === 'message' ? 1 : 0)) },
      ),
    ),
  );
  for (const [i, s] of sessions.entries()) say(`${users[i]} connected: session ${s.id}`);
  let sent = 0;
  for (let round = 1; round <= 3; round++) {
    for (const [i, s] of sessions.entries()) {
      const r = await s.request({ type: 'say', text: `round ${round} from ${users[i]}` });
      sent++;
      say(`${users[i]} said "round ${round}" → seq ${r.seq}`);
    }
  }
  const history = await sessions[0]?.request({ type: 'history', since: sent - 3 });
  say(`last messages: ${JSON.stringify(history?.messages)}`);
  await nc.flush();
  say(
    `sent ${sent}, pushes received ${[...received.values()].reduce((a, b) => a + b, 0)} (${users.length} members each)`,
  );
  say(`status: ${JSON.stringify(node.status())}`);
  for (const s of sessions) await s.close();
  await nc.close();
  await node.stop();
  await server?.stop();
  say('done');
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${renderError(err)}\n`);
  process.exit(1);
});
