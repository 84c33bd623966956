import type { ControlClient, ObservedEvent } from '../../control/control-client.ts';
import type { DiscoveredNode } from '../../control/discovery.ts';
import { renderError } from '../../errors.ts';

/** What the page receives on its live channel: a name and a JSON body. */
export interface LiveMessage {
  event: 'statuses' | 'event' | 'history' | 'releases';
  data: unknown;
}

/** A listener of the bridge (one per open page). */
export type LiveListener = (message: LiveMessage) => void;

/** How often the bridge asks the cluster for statuses. */
export interface BridgeOptions {
  /** Period of discovery, default 1000 ms. */
  pollMs?: number;
  /** How many recent events a page that opens later is given, default 1000. */
  keepEvents?: number;
}

/** How many discoveries in a row a node may miss before the page stops showing it. */
const STALE_POLLS = 3;

/** The commands that write the upgrade journal. */
const JOURNALED = new Set(['upgrade', 'downgrade', 'check', 'retry', 'skip']);
// Only these change which release runs or is permanent. Refreshing after any other command would
// answer the page's own `releases` query with another one: two pages then doubled each other's
// traffic without end.
const CHANGES_RELEASES = new Set(['upgrade', 'downgrade', 'make_permanent', 'retry', 'skip']);

/**
 * Feeds pages from NATS with the documented protocol only: discovery every `pollMs` (statuses,
 * with the traffic counters), every node's events as they come, and per node the upgrade
 * journal (`upgrades`) and the releases (`releases`), each fetched again when a command that
 * changes it ends. A page that connects later gets the latest of each and the recent events first.
 */
export class ObserveBridge {
  private readonly listeners = new Set<LiveListener>();
  private readonly recent: LiveMessage[] = [];
  private statuses: LiveMessage | undefined;
  private readonly histories = new Map<string, LiveMessage>();
  private releases: LiveMessage | undefined;
  private readonly seen = new Map<string, { status: DiscoveredNode; missed: number }>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;
  private readonly events;
  private pump: Promise<void> | undefined;
  private readonly pollMs: number;
  private readonly keepEvents: number;

  constructor(
    private readonly client: ControlClient,
    opts: BridgeOptions = {},
  ) {
    this.pollMs = opts.pollMs ?? 1000;
    this.keepEvents = opts.keepEvents ?? 1000;
    this.events = client.events('*');
  }

  /** Subscribes to events, takes a first discovery and starts polling. */
  async start(): Promise<void> {
    await this.events.ready;
    this.pump = (async () => {
      for await (const e of this.events) this.onEvent(e);
    })();
    await this.poll();
  }

  /** Adds a page: it gets what is known now, then every message; returns the unsubscribe function. */
  subscribe(listener: LiveListener): () => void {
    if (this.statuses) listener(this.statuses);
    if (this.releases) listener(this.releases);
    for (const h of this.histories.values()) listener(h);
    for (const m of this.recent) listener(m);
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Stops polling and unsubscribes from events. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.events.close();
    await this.pump?.catch(() => {});
  }

  private send(message: LiveMessage): void {
    for (const l of this.listeners) l(message);
  }

  private onEvent(e: ObservedEvent): void {
    const message: LiveMessage = { event: 'event', data: e };
    this.recent.push(message);
    if (this.recent.length > this.keepEvents) this.recent.splice(0, this.recent.length - this.keepEvents);
    this.send(message);
    // A command ends after its upgrade's journal is written: the history then has the report.
    if (e.type !== 'command_finished') return;
    if (typeof e.cmd !== 'string') return;
    if (JOURNALED.has(e.cmd)) void this.refreshHistory(e.node);
    if (CHANGES_RELEASES.has(e.cmd)) void this.refreshReleases(e.node);
  }

  private async poll(): Promise<void> {
    let nodes: DiscoveredNode[] = [];
    try {
      // The first answer may take a while on a busy machine; the quiet period ends it early.
      nodes = await this.client.discover({ quietMs: 100, maxWaitMs: Math.max(1500, this.pollMs) });
    } catch (err) {
      this.send({ event: 'statuses', data: { at: Date.now(), nodes: [], error: renderError(err) } });
    }
    if (this.stopped) return;
    // A node that missed one discovery (busy, or a slow machine) stays, marked stale, for a few polls.
    for (const n of nodes) this.seen.set(n.node, { status: n, missed: 0 });
    for (const [id, entry] of this.seen)
      if (!nodes.some((n) => n.node === id) && ++entry.missed > STALE_POLLS) this.seen.delete(id);
    const shown = [...this.seen.values()]
      .map((e) => (e.missed > 0 ? { ...e.status, stale: true } : e.status))
      .sort((a, b) => a.node.localeCompare(b.node));
    this.statuses = { event: 'statuses', data: { at: Date.now(), nodes: shown } };
    this.send(this.statuses);
    const first = nodes[0];
    if (first && !this.releases) await this.refreshReleases(first.node);
    for (const n of nodes) if (!this.histories.has(n.node)) await this.refreshHistory(n.node);
    if (!this.stopped) this.timer = setTimeout(() => void this.poll(), this.pollMs);
  }

  private async refreshHistory(node: string): Promise<void> {
    let data: unknown;
    try {
      data = await this.client.request(node, 'upgrades', { limit: 20 });
    } catch (err) {
      data = { node, upgrades: [], error: renderError(err) };
    }
    const message: LiveMessage = { event: 'history', data };
    this.histories.set(node, message);
    this.send(message);
  }

  private async refreshReleases(node: string): Promise<void> {
    try {
      this.releases = { event: 'releases', data: await this.client.request(node, 'releases') };
      this.send(this.releases);
    } catch {
      // The releases only add the permanent release and what is on disk; the next event retries.
    }
  }
}
