import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startChatNode } from '../helpers/chat-node.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';

const flag = globalThis as { restartHookFault?: 'throw' | 'hang' };

describe("a service's own restart hook that fails", () => {
  const nats = useNats();
  let sandbox: ReleaseSandbox;
  beforeAll(async () => {
    sandbox = releaseSandbox();
    // The hook reads its fault from a global the test sets, so one release covers both faults.
    await sandbox.derive('1.0.0', '1.0.20', (src) =>
      src.replace(
        'channel,\n  actors: { room },',
        `channel,
  actors: { room },
  cleanUpOnRestart() {
    if (globalThis.restartHookFault === 'throw') throw new Error('lock file is busy');
    if (globalThis.restartHookFault === 'hang') return new Promise(() => {});
  },`,
      ),
    );
  });
  afterAll(() => {
    delete flag.restartHookFault;
    sandbox.remove();
  });
  const start = (extra = {}) =>
    startChatNode(nats.server().url, 'hook-fail', {
      releasesDir: sandbox.releasesDir,
      relupsDir: sandbox.relupsDir,
      release: '1.0.20',
      ...extra,
    });

  it('stops the boot with RESTART_HOOK_FAILED when it throws or outlasts its timeout; a first run never calls it', async () => {
    flag.restartHookFault = 'throw';
    // The first run of the node id: there is nothing to clean up after, so the hook does not run.
    const first = await start();
    await first.stop();
    await expect(start()).rejects.toMatchObject({
      code: 'RESTART_HOOK_FAILED',
      message: 'cleanUpOnRestart of chat failed: lock file is busy',
      details: { service: 'chat', hook: 'cleanUpOnRestart' },
    });
    flag.restartHookFault = 'hang';
    await expect(start({ restartHookTimeoutMs: 200 })).rejects.toMatchObject({
      code: 'RESTART_HOOK_FAILED',
      message: 'cleanUpOnRestart of chat did not finish in 200 ms',
    });
    flag.restartHookFault = undefined;
    const again = await start();
    expect(again.status().incarnation).toBe(4);
    await again.stop();
  });
});
