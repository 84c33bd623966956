import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ObserveServer, startObserveServer } from '../../src/cli/observe/observe-server.ts';
import { ControlClient } from '../../src/control/control-client.ts';
import { connectNats } from '../../src/nats/connect.ts';
import { type NodePair, PairRig } from '../redundancy/node-pair-fixture.ts';
import { HAS_BROWSER, keepScreenshot, openBrowser } from './browser.ts';

describe.skipIf(!HAS_BROWSER)('relupctl observe: a redundant pair in a real browser', () => {
  let rig: PairRig;
  let pair: NodePair;
  let observe: ObserveServer | undefined;
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    rig = await PairRig.create();
    const deployed = await rig.deployedPair();
    pair = deployed.pair;
    const nc = await connectNats({ servers: deployed.nats.url });
    rig.conns.push(nc);
    observe = await startObserveServer(new ControlClient(nc), { actions: false, pollMs: 300 });
    ({ browser, page } = await openBrowser());
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await observe?.stop();
    await rig?.cleanUp();
    rig?.sandbox.remove();
  });

  const side = (node: string) => page.locator(`[data-testid=node-${node}] [data-testid=pair-chat]`);
  const shown = async (node: string) => ({
    state: await side(node).getAttribute('data-state'),
    term: Number(await side(node).getAttribute('data-term')),
  });

  it('shows each side’s role, state and term, and follows a forced failover', async () => {
    await page.goto(observe!.url);
    await expect.poll(() => shown('s1'), { timeout: 20_000 }).toMatchObject({ state: 'active on scan' });
    await expect.poll(() => shown('s2'), { timeout: 20_000 }).toMatchObject({ state: 'standby' });
    // Shown on the card itself, not only inside the collapsed service details.
    await expect.poll(() => side('s1').isVisible()).toBe(true);
    const before = (await shown('s1')).term;
    expect(before).toBeGreaterThan(0);
    expect(await side('s1').textContent()).toMatch(
      /pair warm · primary · active on scan · term \d+ · lease s1/,
    );
    expect(await side('s2').textContent()).toMatch(/pair warm · backup · standby/);

    expect(await pair.pair('s1', 'failover')).toMatchObject({ ok: true });
    // The page follows: s2 takes the service under a newer term, s1 stands by.
    await expect
      .poll(() => shown('s2'), { timeout: 30_000 })
      .toMatchObject({ state: 'active on scan', term: before + 1 });
    await expect.poll(() => shown('s1'), { timeout: 30_000 }).toMatchObject({ state: 'standby' });
    expect(await side('s2').textContent()).toMatch(/lease s2 · last /);
    await keepScreenshot(page, 'observe-pair-after-failover');
  }, 180_000);
});
