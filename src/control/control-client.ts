import { type NatsConnection, nuid, type Subscription, TimeoutError } from '@nats-io/nats-core';
import { type ErrorBody, RelupError } from '../errors.ts';
import { decode, encode } from '../nats/codec.ts';
import { isNoResponders } from '../nats/no-responders.ts';
import { subjects as makeSubjects, type Subjects } from '../nats/subjects.ts';
import type { UpgradeEvent } from '../relup/upgrade-report.ts';
import { type DiscoveredNode, type DiscoverOptions, discover as discoverNodes } from './discovery.ts';
import { signCommand } from './signature.ts';

/** The operator commands a node's control server answers (more can be registered on the node). */
export type ControlCommandName =
  | 'status'
  | 'releases'
  | 'check'
  | 'upgrade'
  | 'downgrade'
  | 'make_permanent'
  | (string & {});

/** A command as it goes over `<prefix>.ctl.<node>`. */
export interface ControlCommand {
  id: string;
  cmd: string;
  args: Record<string, unknown>;
  auth?: unknown;
}

/** A control reply: the command's result, or the error it failed with. */
export type ControlReply =
  | { id: string; ok: true; result: unknown }
  | { id: string; ok: false; error: ErrorBody };

/** An event of `<prefix>.evt.<node>`: an upgrade event (or a lifecycle one) stamped with its node and time. */
export interface ObservedEvent {
  node: string;
  time: string;
  type: UpgradeEvent['type'] | (string & {});
  /** The upgrade the event belongs to. */
  upgrade?: string;
  /** The control command that started it. */
  command?: string;
  step?: string;
  state?: UpgradeEvent['state'];
  durationMs?: number;
  result?: UpgradeEvent['result'];
  error?: UpgradeEvent['error'];
  [field: string]: unknown;
}

/** An operator's signing key: an nkey seed, as text or bytes. */
export type OperatorSeed = Uint8Array | string;

/** Defaults of a control client. */
export interface ControlClientOptions {
  /** Subject prefix, default `relup`. */
  prefix?: string;
  /** Reply timeout of a request, default 5000 ms. */
  timeoutMs?: number;
  /** When set, every command is signed with this operator seed. */
  seed?: OperatorSeed;
  /** The connection's inbox prefix, for discovery's own inbox (default `_INBOX`). */
  inboxPrefix?: string;
}

/** Per-request overrides. */
export interface RequestOptions {
  timeoutMs?: number;
  seed?: OperatorSeed;
  /** The command id, default a fresh nuid (node events of the command carry it as `command`). */
  id?: string;
}

/** How long discovery listens. */
/** A live feed of node events; subscribe before sending the command whose events you want. */
export interface EventStream extends AsyncIterable<ObservedEvent> {
  /** Resolves once the server knows the subscription, so no later event is missed. */
  readonly ready: Promise<void>;
  close(): void;
}

/** The operator's side of the control protocol: commands, discovery and events over NATS. */
export class ControlClient {
  readonly subjects: Subjects;
  private readonly timeoutMs: number;
  private readonly seed: OperatorSeed | undefined;

  constructor(
    readonly nc: NatsConnection,
    readonly opts: ControlClientOptions = {},
  ) {
    this.subjects = makeSubjects(opts.prefix);
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.seed = opts.seed;
  }

  /** The subject prefix. */
  get prefix(): string {
    return this.opts.prefix ?? 'relup';
  }

  /**
   * Sends a command to one node and returns its result. An error reply throws a RelupError with
   * the reply's code; nobody listening is UNKNOWN_NODE; no reply in time is TIMEOUT.
   */
  async request<T = unknown>(
    node: string,
    cmd: ControlCommandName,
    args: Record<string, unknown> = {},
    opts: RequestOptions = {},
  ): Promise<T> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const seed = opts.seed ?? this.seed;
    const plain: ControlCommand = { id: opts.id ?? nuid.next(), cmd, args };
    const command = seed === undefined ? plain : signCommand(plain, node, seed);
    const subject = this.subjects.control(node);
    let data: Uint8Array;
    try {
      data = (await this.nc.request(subject, encode(command), { timeout: timeoutMs })).data;
    } catch (err) {
      throw requestError(err, node, cmd, timeoutMs);
    }
    const reply = decode<Partial<ControlReply>>(data);
    if (reply.ok === false && reply.error && typeof reply.error.code === 'string')
      throw new RelupError(reply.error.code, reply.error.message, reply.error.details);
    if (reply.ok !== true || !('result' in reply))
      throw new RelupError('BAD_MESSAGE', `node ${node} answered ${cmd} with a malformed reply`, {
        node,
        reply: reply as unknown,
      });
    return reply.result as T;
  }

  /** Every node's status, collected until replies stop coming for a quiet period; sorted by node. */
  discover(opts: Pick<DiscoverOptions, 'quietMs' | 'maxWaitMs'> = {}): Promise<DiscoveredNode[]> {
    return discoverNodes(this.nc, {
      ...opts,
      prefix: this.prefix,
      ...(this.opts.inboxPrefix !== undefined && { inboxPrefix: this.opts.inboxPrefix }),
    });
  }

  /** Events of one node, or of every node with `'*'`, in arrival order; malformed ones are skipped. */
  events(node: string): EventStream {
    const sub: Subscription = this.nc.subscribe(this.subjects.events(node === '*' ? '*' : node));
    const ready = this.nc.flush();
    async function* iterate(): AsyncGenerator<ObservedEvent> {
      for await (const msg of sub) {
        let event: ObservedEvent;
        try {
          event = decode<ObservedEvent>(msg.data);
        } catch {
          continue;
        }
        if (event && typeof event === 'object' && typeof event.type === 'string') yield event;
      }
    }
    const iterator = iterate();
    return {
      ready,
      close: () => sub.unsubscribe(),
      [Symbol.asyncIterator]: () => iterator,
    };
  }
}

function requestError(err: unknown, node: string, cmd: string, timeoutMs: number): RelupError {
  if (isNoResponders(err))
    return new RelupError('UNKNOWN_NODE', `no node ${node} answers on its control subject`, { node });
  if (err instanceof TimeoutError || (err as Error | undefined)?.name === 'TimeoutError')
    return new RelupError('TIMEOUT', `node ${node} did not answer ${cmd} within ${timeoutMs} ms`, {
      node,
      cmd,
      timeoutMs,
    });
  return new RelupError(
    'NATS_UNAVAILABLE',
    `${cmd} to node ${node} failed: ${(err as Error).message}`,
    { node },
    { cause: err },
  );
}
