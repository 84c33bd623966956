import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultKind } from './faults.ts';
import type { FaultPoint } from './points.ts';
import { type Rig, startRig } from './rig.ts';
import { runScenario, scenarioName } from './scenario.ts';

/**
 * One chaos scenario per fault kind, so CI guards each: 40 chat clients over two real `relup
 * node` processes on a real 3-server cluster, on one rig (each scenario its own rooms). Every
 * fault lands under load; the last lands inside an upgrade's before-hook. The full matrix, with
 * every fault at every point, is `npm run chaos` (CHAOS.md).
 */
describe('chaos: nothing acknowledged is lost, no session silently gone', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  }, 120_000);
  afterAll(async () => {
    await rig?.stop();
  }, 60_000);

  const cells: [FaultKind, FaultPoint][] = [
    ['server-of-node', 'steady'],
    ['meta-leader', 'steady'],
    ['stream-leader', 'steady'],
    ['restart-all', 'steady'],
    ['server-sigstop', 'steady'],
    ['node-cut', 'steady'],
    ['node-sigterm', 'steady'],
    ['node-sigkill', 'in-hook'],
  ];
  for (const [fault, point] of cells)
    it(scenarioName({ fault, point }), async () => {
      const r = await runScenario(
        { fault, point },
        { rig, roomPrefix: `${fault}-${point}-`, timeoutMs: 110_000 },
      );
      expect(r.problems).toEqual([]);
      expect(r.acked).toBeGreaterThan(0);
      expect({ lost: r.lost, duplicated: r.duplicated, dropped: r.dropped }).toEqual({
        lost: 0,
        duplicated: 0,
        dropped: 0,
      });
      expect(r.recoverMs).not.toBeNull();
    }, 120_000);
});
