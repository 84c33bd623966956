import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/nats-core';
import { decode, encode } from '../../src/nats/codec.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = `${ROOT}bin/relup.js`;

/** A `relup node` child process. */
export interface NodeProcess {
  readonly id: string;
  readonly pid: number;
  /** Everything the process wrote on stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** Whether the process still runs. */
  alive(): boolean;
  /** Sends a signal by pid; resolves when the process has exited. */
  signal(sig: NodeJS.Signals): Promise<number | null>;
}

/** How {@link spawnNode} starts a node: its NATS URL(s), id, release to boot and extra environment. */
export interface SpawnNodeOptions {
  nats: string;
  node: string;
  release?: string;
  env?: Record<string, string>;
  /** Called with the process as soon as it is spawned, before it is ready (to track it for cleanup). */
  onSpawn?: (proc: NodeProcess) => void;
}

/**
 * Spawns a real `relup node` process and resolves once it accepts operator commands; rejects
 * with its output when it exits before. Stopping it is the caller's job (by its pid).
 */
export async function spawnNode(opts: SpawnNodeOptions): Promise<NodeProcess> {
  const child = spawn('node', [BIN, 'node'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      RELUP_NATS: opts.nats,
      RELUP_NODE: opts.node,
      RELUP_RELEASES: 'examples/chat/releases',
      ...(opts.release && { RELUP_RELEASE: opts.release }),
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const proc: NodeProcess = {
    id: opts.node,
    pid: child.pid as number,
    output: () => out,
    exited,
    alive,
    signal(sig) {
      if (alive()) process.kill(child.pid as number, sig);
      return exited;
    },
  };
  opts.onSpawn?.(proc);
  await new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes('accepting operator commands')) resolve();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then((code) => reject(new Error(`relup node exited (${code}) before it was ready:\n${out}`)));
  });
  return proc;
}

/** Sends an operator command to a node and returns its result; a failed command throws with its error. */
export async function command(
  nc: NatsConnection,
  node: string,
  cmd: string,
  args: Record<string, unknown> = {},
  timeout = 30_000,
): Promise<Record<string, unknown>> {
  const msg = await nc.request(`relup.ctl.${node}`, encode({ id: `t-${Date.now()}`, cmd, args }), {
    timeout,
  });
  const reply = decode<{ ok: boolean; result?: Record<string, unknown>; error?: unknown }>(msg.data);
  if (!reply.ok) throw Object.assign(new Error(`${cmd} failed: ${JSON.stringify(reply.error)}`), reply.error);
  return reply.result as Record<string, unknown>;
}
