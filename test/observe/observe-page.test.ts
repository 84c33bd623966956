import type { NatsConnection } from '@nats-io/nats-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ObserveServer, startObserveServer } from '../../src/cli/observe/observe-server.ts';
import { ControlClient } from '../../src/control/control-client.ts';
import { Session } from '../../src/services/client.ts';
import { useNats } from '../helpers/nats-fixture.ts';
import { useNodeProcesses } from '../helpers/node-process.ts';
import { type ReleaseSandbox, releaseSandbox } from '../helpers/release-sandbox.ts';
import { HAS_BROWSER, keepScreenshot, openBrowser } from './browser.ts';

// The chat example's relup with a short wait among the checks, so the page can be seen mid-upgrade.
const SLOW_CHECKS = `release: chat
from: 1.0.0
to: 1.1.0
hooks:
  before:
    - sleep: 3s
up:
  - update: chat
    extra: { defaultTopic: general }
down: auto
options:
  suspendTimeout: 5s
  modifications: [standard]
`;

// Runs in the page (as text: the test is compiled without the DOM's types).
const RECORD_RENDERS = `
  window.renders = [];
  new MutationObserver(() => {
    for (const card of document.querySelectorAll('[data-testid=upgrade]'))
      window.renders.push({
        node: card.dataset.node,
        states: [...card.querySelectorAll('li')].map((li) => li.dataset.state),
      });
  }).observe(document.getElementById('upgrade-list'), { childList: true, subtree: true });
`;

describe.skipIf(!HAS_BROWSER)('relupctl observe: the operator page in a real browser', () => {
  const nats = useNats();
  const nodes = useNodeProcesses();
  let sandbox: ReleaseSandbox;
  let observe: ObserveServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let nc: NatsConnection;
  let chatting = true;
  let clients: Promise<void>[] = [];
  const sessions: Session[] = [];

  beforeAll(async () => {
    sandbox = releaseSandbox();
    sandbox.relup('1.0.0-1.1.0', SLOW_CHECKS);
    const env = { RELUP_RELEASES: sandbox.releasesDir, RELUP_RELUPS: sandbox.relupsDir };
    for (const node of ['web-1', 'web-2'])
      await nodes.start({ nats: nats.server().url, node, release: '1.0.0', env });
    nc = await nats.connect();
    // Clients chat all along, so the traffic chart has something to show.
    for (let i = 0; i < 3; i++)
      sessions.push(await Session.open(nc, 'chat', { user: `u${i}`, room: i % 2 ? 'lobby' : 'dev' }));
    clients = sessions.map(async (s, i) => {
      for (let k = 0; chatting && k < 100_000; k++) {
        await s.request({ type: 'say', text: `m${k} from u${i}` });
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    observe = await startObserveServer(new ControlClient(await nats.connect()), {
      actions: true,
      pollMs: 500,
    });
    ({ browser, page } = await openBrowser());
  }, 60_000);

  afterAll(async () => {
    chatting = false;
    await Promise.all(clients).catch(() => {});
    for (const s of sessions) await s.close().catch(() => {});
    await browser?.close();
    await observe?.stop();
    sandbox?.remove();
  });

  it('shows both nodes, runs a rolling upgrade from the page, its steps in order and the outcome', async () => {
    await page.goto(observe!.url);
    for (const node of ['web-1', 'web-2'])
      await expect
        .poll(() => page.locator(`[data-testid=node-${node}] [data-testid=release]`).textContent(), {
          timeout: 15_000,
        })
        .toBe('1.0.0');
    await expect.poll(() => page.locator('#link').textContent()).toBe('live');
    await expect
      .poll(() => page.locator('[data-testid=node-web-1] summary').first().textContent())
      .toMatch(/chat 1\.0\.0/);
    // A few polls of traffic before the upgrade.
    await page.waitForTimeout(1500);

    // Every render of an upgrade's steps is recorded: at each one, the completed steps must be a
    // prefix of the plan, followed by at most one running step and the pending rest.
    await page.evaluate(RECORD_RENDERS);
    page.on('dialog', (d) => void d.accept());
    const done = page.waitForResponse((r) => r.url().endsWith('/action'), { timeout: 180_000 });
    await page.locator('#cluster-actions button[data-action=upgrade][data-mode=rolling]').click();
    // Mid-upgrade: the first node's plan is listed while its checks run.
    const first = page.locator('[data-testid=upgrade][data-node=web-1]');
    await first.locator('[data-testid=steps] li').first().waitFor({ timeout: 15_000 });
    await keepScreenshot(page, 'observe-during-upgrade');
    const answer = await (await done).json();
    expect(answer.ok, JSON.stringify(answer)).toBe(true);
    expect(answer.result.ok).toBe(true);

    const journal = new ControlClient(nc);
    for (const node of ['web-1', 'web-2']) {
      const card = page.locator(`[data-testid=upgrade][data-node=${node}]`);
      await expect
        .poll(() => card.locator('[data-testid=outcome]').textContent(), { timeout: 20_000 })
        .toBe('done');
      // The steps are listed in the plan's order, every one completed, the point of no return marked.
      const { upgrades } = await journal.request<{ upgrades: { steps: { id: string }[] }[] }>(
        node,
        'upgrades',
      );
      const planned = upgrades[0]!.steps.map((s) => s.id);
      expect(
        await card
          .locator('[data-testid=steps] li')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-step'))),
      ).toEqual(planned);
      expect(
        await card
          .locator('[data-testid=steps] li')
          .evaluateAll((els) => els.map((e) => e.getAttribute('data-state'))),
      ).toEqual(planned.map(() => 'completed'));
      expect(await card.locator('li.ponr').count()).toBe(1);
      await expect
        .poll(() => card.locator('[data-testid=pause]').textContent(), { timeout: 10_000 })
        .toMatch(/pause \d/);
      await expect
        .poll(() => page.locator(`[data-testid=node-${node}] [data-testid=release]`).textContent(), {
          timeout: 10_000,
        })
        .toBe('1.1.0');
    }
    const renders = (await page.evaluate('window.renders')) as { node: string; states: string[] }[];
    for (const node of ['web-1', 'web-2']) {
      const mine = renders.filter((r) => r.node === node);
      for (const r of mine) expect(r.states.join(' ')).toMatch(/^(completed ?)*(running ?)?(pending ?)*$/);
      // The page showed the upgrade in progress, not only its end.
      expect(mine.some((r) => r.states.includes('running'))).toBe(true);
    }
    // The journal's history lists both upgrades; the chart has drawn.
    await expect
      .poll(() => page.locator('[data-testid=history] tr[data-upgrade]').count(), { timeout: 10_000 })
      .toBe(2);
    expect(await page.locator('#chart-rate canvas').count()).toBe(1);
    await page.waitForTimeout(1200);
    await keepScreenshot(page, 'observe-after-upgrade');
  }, 300_000);
});
