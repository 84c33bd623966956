import {
  Algorithms,
  encodeAccount,
  encodeOperator,
  encodeUser,
  fmtCreds,
  type Permissions,
} from '@nats-io/jwt';
import { createAccount, createOperator, createUser, type KeyPair } from '@nats-io/nkeys';
import { OPERATOR_INBOX } from './connect.ts';
import { assertSubjectToken } from './subjects.ts';

/** The name of the account every relup user lives in. */
const ACCOUNT = 'RELUP';

/** Everything a deployment with decentralized JWT auth needs, as text to write to files. */
export interface DeploymentAuth {
  /** nats-server configuration: the operator, and a memory resolver preloaded with the accounts. */
  serverConfig: string;
  /** The public key of the relup account (sessions' JWTs name it as their issuer account). */
  account: string;
  /** The seed of the account signing key nodes issue session credentials with (`SA…`). */
  signerSeed: string;
  /** Credentials of the guest user: may only ask `<prefix>.svc.*.connect`. */
  guestCreds: string;
  /** Credentials of the operators' user (relupctl). */
  operatorCreds: string;
  /** Credentials of each node, by node id: a node answers only on its own control subject. */
  nodeCreds: Record<string, string>;
}

const text = new TextDecoder();
const seedOf = (kp: KeyPair) => text.decode(kp.getSeed());

/** What a node may do: serve sessions, named actors, barriers and JetStream, and only its own commands and events. */
export function nodePermissions(node: string, prefix = 'relup'): Permissions {
  return {
    pub: {
      allow: [
        `${prefix}.ses.*.push`,
        `${prefix}.actor.>`,
        `${prefix}.evt.${node}`,
        `${prefix}.barrier.*.ready`,
        'relup_events.>',
        '$JS.API.>',
        '$JS.ACK.>',
        '$JS.FC.>',
        '$KV.>',
        '$O.>',
        '_INBOX.>',
      ],
    },
    sub: {
      allow: [
        `${prefix}.svc.*.connect`,
        `${prefix}.ses.*`,
        `${prefix}.actor.>`,
        `${prefix}.ctl.${node}`,
        `${prefix}.discover`,
        `${prefix}.barrier.*.go`,
        `${prefix}.barrier.*.abort`,
        '_INBOX.>',
        '$SRV.>',
      ],
    },
    // Replies to whatever reply subject a request named: commands, discovery, connects.
    resp: { max: 1, ttl: 0 },
  };
}

/** What operators may do: command nodes, run barriers, publish releases; replies on their own inbox prefix. */
function operatorPermissions(prefix: string): Permissions {
  return {
    pub: {
      allow: [
        `${prefix}.ctl.>`,
        `${prefix}.discover`,
        `${prefix}.barrier.*.go`,
        `${prefix}.barrier.*.abort`,
        '$SRV.>',
        '$JS.API.>',
        '$JS.ACK.>',
        '$JS.FC.>',
        '$KV.>',
        '$O.>',
      ],
    },
    sub: { allow: [`${prefix}.evt.>`, `${prefix}.barrier.*.ready`, `${OPERATOR_INBOX}.>`] },
  };
}

/**
 * Creates the keys and JWTs of a deployment: an operator, a system account and the relup
 * account (JetStream enabled) with a signing key; users for the guests, the operators and each
 * node. Nothing is shared between nodes but the signing key that issues session credentials.
 */
export async function createDeploymentAuth(
  nodes: readonly string[],
  prefix = 'relup',
): Promise<DeploymentAuth> {
  for (const node of nodes) assertSubjectToken('node id', node);
  const opts = { algorithm: Algorithms.v2 };
  const operator = createOperator();
  const system = createAccount();
  const account = createAccount();
  const signer = createAccount();
  const operatorJwt = await encodeOperator(
    'relup',
    operator,
    { system_account: system.getPublicKey() },
    opts,
  );
  const systemJwt = await encodeAccount('SYS', system, {}, { ...opts, signer: operator });
  const accountJwt = await encodeAccount(
    ACCOUNT,
    account,
    {
      signing_keys: [signer.getPublicKey()],
      limits: {
        subs: -1,
        data: -1,
        payload: -1,
        imports: -1,
        exports: -1,
        wildcards: true,
        conn: -1,
        leaf: -1,
        mem_storage: -1,
        disk_storage: -1,
        streams: -1,
        consumer: -1,
      },
    },
    { ...opts, signer: operator },
  );
  const user = async (name: string, permissions: Permissions): Promise<string> => {
    const kp = createUser();
    const jwt = await encodeUser(name, kp, account, permissions, { ...opts, signer });
    return text.decode(fmtCreds(jwt, kp));
  };
  const nodeCreds: Record<string, string> = {};
  for (const node of nodes) nodeCreds[node] = await user(`node-${node}`, nodePermissions(node, prefix));
  return {
    serverConfig: [
      '# Decentralized JWT auth of a relup deployment (generated: keep the seeds secret).',
      `operator: ${operatorJwt}`,
      `system_account: ${system.getPublicKey()}`,
      'resolver: MEMORY',
      'resolver_preload: {',
      `  ${system.getPublicKey()}: ${systemJwt}`,
      `  ${account.getPublicKey()}: ${accountJwt}`,
      '}',
      '',
    ].join('\n'),
    account: account.getPublicKey(),
    signerSeed: seedOf(signer),
    guestCreds: await user('guest', {
      pub: { allow: [`${prefix}.svc.*.connect`] },
      sub: { allow: ['_INBOX.>'] },
    }),
    operatorCreds: await user('operator', operatorPermissions(prefix)),
    nodeCreds,
  };
}
