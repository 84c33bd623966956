// The compiled runtime (dist/): `relup node` runs what tsc emitted and still loads TypeScript
// release modules. A clean clone has no build, so this file builds once when dist/ is missing
// or older than src/ (other test files meanwhile run the bins on the sources: a build removes
// its stamp before tsc writes anything).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useDist } from '../../bin/runtime.js';
import { decode, encode } from '../../src/nats/codec.ts';
import { subjects } from '../../src/nats/subjects.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { useNodeProcesses } from '../helpers/node-process.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('compiled runtime', () => {
  const nats = useNats();
  const nodes = useNodeProcesses();

  beforeAll(() => {
    if (useDist()) return;
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
  }, 600_000);

  it('boots `relup node` from dist/ and serves a TypeScript release', { timeout: 120_000 }, async () => {
    expect(useDist()).toBe(true);
    const node = await nodes.start({
      nats: nats.server().url,
      node: 'compiled1',
      release: '1.0.0',
      env: { RELUP_RUNTIME: 'dist' },
    });
    const nc = await nats.connect();
    const s = subjects();
    const connect = decode<{ session?: string }>(
      (await nc.request(s.connect('chat'), encode({ user: 'ann', room: 'lobby' }), { timeout: 10_000 })).data,
    );
    expect(connect.session).toBeTypeOf('string');
    const said = decode<{ ok: boolean; seq?: number }>(
      (
        await nc.request(s.session(connect.session as string), encode({ type: 'say', text: 'hi' }), {
          timeout: 10_000,
        })
      ).data,
    );
    expect(said).toMatchObject({ ok: true, seq: 1 });
    expect(await node.signal('SIGTERM')).toBe(0);
  });
});
