// Generates the decentralized JWT auth of a deployment in one command:
//   npm run auth:keys -- <out dir> <node id>...
// Writes nats-jwt.conf (include it in the nats-server config), guest.creds, operator.creds,
// node-<id>.creds, session-signer.nk (the account signing key nodes issue sessions with) and
// relup.env (RELUP_SESSION_ACCOUNT, RELUP_CLUSTER_KEY). Every file but nats-jwt.conf is secret.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createDeploymentAuth } from '../src/nats/deployment-auth.ts';

const [out, ...nodes] = process.argv.slice(2);
if (!out || nodes.length === 0) {
  process.stderr.write('usage: npm run auth:keys -- <out dir> <node id>...\n');
  process.exit(2);
}
const auth = await createDeploymentAuth(nodes);
mkdirSync(out, { recursive: true });
const secret = (name: string, body: string) => writeFileSync(join(out, name), body, { mode: 0o600 });
writeFileSync(join(out, 'nats-jwt.conf'), auth.serverConfig);
secret('guest.creds', auth.guestCreds);
secret('operator.creds', auth.operatorCreds);
for (const [node, creds] of Object.entries(auth.nodeCreds)) secret(`node-${node}.creds`, creds);
secret('session-signer.nk', `${auth.signerSeed}\n`);
secret(
  'relup.env',
  `RELUP_SESSION_ACCOUNT=${auth.account}\nRELUP_CLUSTER_KEY=${randomBytes(24).toString('base64url')}\n`,
);
process.stdout.write(`${out}: operator, accounts and keys for ${nodes.join(', ')}\n`);
