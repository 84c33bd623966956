import { readFile } from 'node:fs/promises';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Command } from 'commander';
import { ControlClient, type OperatorSeed } from '../../control/control-client.ts';
import { RelupError, renderError, toRelupError } from '../../errors.ts';
import { connectNats, OPERATOR_INBOX } from '../../nats/connect.ts';

/** The options every relupctl command takes (set on the root program). */
export interface GlobalOptions {
  nats?: string;
  natsUser?: string;
  natsPass?: string;
  creds?: string;
  prefix: string;
  seedFile?: string;
  timeout?: number;
  json?: boolean;
}

/** What a command's body gets: its options, output, and a NATS connection made on first use. */
export interface Ctl {
  readonly opts: GlobalOptions;
  readonly json: boolean;
  /** The connection to NATS; a usage error (exit 2) when no server was given. */
  nc(): Promise<NatsConnection>;
  /** A control client on that connection, signing with the operator seed when one was given. */
  client(): Promise<ControlClient>;
  /** The operator seed (`--seed-file`, RELUP_OPERATOR_SEED), undefined when none was given. */
  seed(): Promise<OperatorSeed | undefined>;
  /** `--timeout`, else the command's default. */
  timeout(defaultMs: number): number;
  /** Writes a line to stdout. */
  print(text: string): void;
  /** Writes a value as one JSON document to stdout. */
  printJson(value: unknown): void;
  /** Reports a failure the command already showed its result for: `relupctl: CODE: message` on stderr; returns exit code 1. */
  fail(err: unknown): number;
  /** Stops with a usage error (exit 2). */
  usage(message: string): never;
}

/**
 * Runs a command's body: connects on demand, closes the connection after, and turns a thrown
 * error into `relupctl: CODE: message` on stderr (and `{ ok: false, error }` on stdout with
 * `--json`) with exit code 1. The body returns its exit code.
 */
export async function run(cmd: Command, body: (ctl: Ctl) => Promise<number | undefined>): Promise<void> {
  const opts = cmd.optsWithGlobals<GlobalOptions>();
  let conn: Promise<NatsConnection> | undefined;
  let client: Promise<ControlClient> | undefined;
  const ctl: Ctl = {
    opts,
    json: opts.json === true,
    nc() {
      const servers = opts.nats ?? process.env.NATS_URL;
      if (!servers) ctl.usage('--nats <url> (or RELUP_NATS / NATS_URL) is required for this command');
      conn ??= connectNats({
        servers,
        name: 'relupctl',
        user: opts.natsUser,
        pass: opts.natsPass,
        ...(opts.creds !== undefined && { credsFile: opts.creds }),
        inboxPrefix: OPERATOR_INBOX,
      });
      return conn;
    },
    client() {
      client ??= (async () => {
        const seed = await operatorSeed(ctl);
        return new ControlClient(await ctl.nc(), {
          prefix: opts.prefix,
          inboxPrefix: OPERATOR_INBOX,
          ...(seed !== undefined && { seed }),
        });
      })();
      return client;
    },
    seed: () => operatorSeed(ctl),
    timeout: (defaultMs) => opts.timeout ?? defaultMs,
    print: (text) => process.stdout.write(`${text}\n`),
    printJson: (value) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    fail(err) {
      process.stderr.write(`relupctl: ${renderError(err)}\n`);
      return 1;
    },
    usage: (message) => cmd.error(`error: ${message}`, { exitCode: 2, code: 'relupctl.usage' }),
  };
  let code: number | undefined;
  try {
    code = await body(ctl);
  } catch (err) {
    if (ctl.json) ctl.printJson({ ok: false, error: toRelupError(err).toJSON() });
    code = ctl.fail(err);
  } finally {
    if (conn) await conn.then((nc) => nc.close()).catch(() => {});
  }
  if (code) process.exitCode = code;
}

/** The operator seed from `--seed-file` (RELUP_OPERATOR_SEED_FILE), else RELUP_OPERATOR_SEED; none: unsigned. */
async function operatorSeed(ctl: Ctl): Promise<OperatorSeed | undefined> {
  if (ctl.opts.seedFile) {
    try {
      return (await readFile(ctl.opts.seedFile, 'utf8')).trim();
    } catch (err) {
      ctl.usage(`cannot read the seed file ${ctl.opts.seedFile}: ${(err as Error).message}`);
    }
  }
  const env = process.env.RELUP_OPERATOR_SEED?.trim();
  return env ? env : undefined;
}

/** A RelupError for a node's upgrade that did not end `done`, from its report's error. */
export function reportError(
  node: string,
  error: { code: string; message: string } | undefined,
  outcome: string,
) {
  return new RelupError(
    (error?.code ?? 'STEP_FAILED') as RelupError['code'],
    `${node}: ${outcome}${error ? `: ${error.message}` : ''}`,
  );
}
