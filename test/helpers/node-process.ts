import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { NatsConnection } from '@nats-io/nats-core';
import { afterAll } from 'vitest';
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
  /** Sends a signal by pid; resolves when the process has exited. */
  signal(sig: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts real `relup node` processes and stops every one of them by pid after the test file,
 * also when a test fails.
 */
export function useNodeProcesses(): {
  start(opts: {
    nats: string;
    node: string;
    release?: string;
    env?: Record<string, string>;
  }): Promise<NodeProcess>;
} {
  const live = new Set<ChildProcess>();
  afterAll(() => {
    for (const child of live) if (child.pid && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
  });
  return {
    async start(opts) {
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
      live.add(child);
      let out = '';
      const exited = new Promise<number | null>((resolve) =>
        child.once('exit', (code) => {
          live.delete(child);
          resolve(code);
        }),
      );
      await new Promise<void>((resolve, reject) => {
        const onData = (d: Buffer) => {
          out += d.toString();
          if (out.includes('accepting operator commands')) resolve();
        };
        child.stdout?.on('data', onData);
        child.stderr?.on('data', onData);
        void exited.then((code) =>
          reject(new Error(`relup node exited (${code}) before it was ready:\n${out}`)),
        );
      });
      return {
        id: opts.node,
        pid: child.pid as number,
        output: () => out,
        exited,
        signal(sig) {
          if (child.exitCode === null && child.signalCode === null) process.kill(child.pid as number, sig);
          return exited;
        },
      };
    },
  };
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
