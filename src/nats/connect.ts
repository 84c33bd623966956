import { readFileSync } from 'node:fs';
import { credsAuthenticator, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { RelupError } from '../errors.ts';

/** How a node or client reaches NATS. */
export interface NatsOptions {
  /** One URL or a comma-separated list, e.g. `nats://127.0.0.1:4222`. */
  servers: string | string[];
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** A credentials file (user JWT and seed) of decentralized JWT auth, see scripts/auth-keys.ts. */
  credsFile?: string;
  /** Where replies to this connection's requests arrive, default `_INBOX` (see OPERATOR_INBOX). */
  inboxPrefix?: string;
  /** How long to wait before trying a server again after it failed (ms, default the client's 2 s); a node running redundant pairs wants it well below the lease. */
  reconnectTimeWaitMs?: number;
}

/** The inbox prefix of operators: replies to commands never land where clients may subscribe. */
export const OPERATOR_INBOX = '_INBOX_OPS';

/** Connects to NATS, mapping a refused connection to NATS_UNAVAILABLE with the servers tried. */
export async function connectNats(opts: NatsOptions): Promise<NatsConnection> {
  const servers = Array.isArray(opts.servers) ? opts.servers : opts.servers.split(',').map((s) => s.trim());
  const creds = opts.credsFile === undefined ? undefined : readCreds(opts.credsFile);
  try {
    return await connect({
      servers,
      name: opts.name,
      user: opts.user,
      pass: opts.pass,
      token: opts.token,
      ...(opts.inboxPrefix !== undefined && { inboxPrefix: opts.inboxPrefix }),
      ...(creds !== undefined && { authenticator: credsAuthenticator(creds) }),
      maxReconnectAttempts: -1,
      ...(opts.reconnectTimeWaitMs !== undefined && { reconnectTimeWait: opts.reconnectTimeWaitMs }),
    });
  } catch (err) {
    throw new RelupError(
      'NATS_UNAVAILABLE',
      `cannot connect to ${servers.join(', ')}: ${(err as Error).message}`,
      {
        servers,
      },
    );
  }
}

function readCreds(file: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new RelupError(
      'BAD_OPTIONS',
      `cannot read the credentials file ${file}: ${(err as Error).message}`,
    );
  }
}
