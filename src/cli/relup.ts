import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { startControlServer } from '../control/control-server.ts';
import { RelupError, renderError } from '../errors.ts';
import { parseReplicas } from '../nats/replicas.ts';
import { startNode } from '../node/relup-node.ts';
import { nodeId } from './commands/options.ts';

interface NodeCliOptions {
  nats: string;
  node: string;
  releases: string;
  release?: string;
  prefix: string;
  relups: string;
  natsUser?: string;
  natsPass?: string;
  operatorKeys?: string;
  superadminTokens?: string;
  replicas?: number;
  clusterKey?: string;
  creds?: string;
  sessionSignerFile?: string;
  sessionAccount?: string;
  releaseKeys?: string;
  stopTimeout: number;
}

const list = (s: string | undefined): string[] =>
  (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

function replicas(value: string): number {
  try {
    return parseReplicas(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

function milliseconds(value: string): number {
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 1 || ms > 3_600_000)
    throw new InvalidArgumentError('expected whole milliseconds between 1 and 3600000');
  return ms;
}

/** Builds the `relup` command line (exported for tests). */
export function relupProgram(): Command {
  const program = new Command('relup')
    .description('relup runtime: supervised actors on NATS with hot upgrades')
    .exitOverride((err) => {
      // Usage errors exit 2, as the README promises; --help and --version exit 0.
      process.exit(err.exitCode === 0 ? 0 : 2);
    });
  program
    .command('node')
    .description('run a node serving a release')
    .addOption(
      new Option('--nats <url>', 'NATS server URL(s), comma-separated')
        .env('RELUP_NATS')
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--node <id>', 'node id, unique in the cluster')
        .env('RELUP_NODE')
        .argParser(nodeId)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--releases <dir>', 'folder holding <version>/release.json')
        .env('RELUP_RELEASES')
        .makeOptionMandatory(),
    )
    .addOption(
      new Option('--release <version>', 'release to boot (default: the permanent one, else the newest)').env(
        'RELUP_RELEASE',
      ),
    )
    .addOption(new Option('--prefix <prefix>', 'subject prefix').env('RELUP_PREFIX').default('relup'))
    .addOption(
      new Option('--relups <dir>', 'folder holding <release>/<from>-<to>.yaml')
        .env('RELUP_RELUPS')
        .default('relups'),
    )
    .addOption(new Option('--nats-user <user>', 'NATS user').env('RELUP_NATS_USER'))
    .addOption(new Option('--nats-pass <password>', 'NATS password').env('RELUP_NATS_PASS'))
    .addOption(
      new Option(
        '--operator-keys <keys>',
        'trusted operator public nkeys (comma-separated): commands must be signed',
      ).env('RELUP_OPERATOR_KEYS'),
    )
    .addOption(
      new Option(
        '--superadmin-tokens <tokens>',
        'tokens that let super-admins in during maintenance (comma-separated)',
      ).env('RELUP_SUPERADMIN_TOKENS'),
    )
    .addOption(
      new Option(
        '--replicas <n>',
        "copies JetStream keeps of relup's buckets (default: 1 on one server, up to 3 in a cluster)",
      )
        .env('RELUP_REPLICAS')
        .argParser(replicas),
    )
    .addOption(
      new Option(
        '--release-keys <keys>',
        'public nkeys trusted to sign releases (comma-separated): only releases one of them signed boot, fetch or upgrade',
      ).env('RELUP_RELEASE_KEYS'),
    )
    .addOption(
      new Option('--creds <file>', "the node's NATS credentials file (JWT auth, see npm run auth:keys)").env(
        'RELUP_NATS_CREDS',
      ),
    )
    .addOption(
      new Option(
        '--session-signer-file <file>',
        'account signing key seed: each session gets NATS credentials of its own (with --session-account)',
      ).env('RELUP_SESSION_SIGNER_FILE'),
    )
    .addOption(
      new Option('--session-account <key>', 'public key of the account the session credentials are for').env(
        'RELUP_SESSION_ACCOUNT',
      ),
    )
    .addOption(
      new Option(
        '--cluster-key <secret>',
        "a secret every node holds and no client does: named actors then take only nodes' messages",
      ).env('RELUP_CLUSTER_KEY'),
    )
    .addOption(
      new Option(
        '--stop-timeout <ms>',
        'longest a graceful stop (SIGTERM, SIGINT) may take before the node exits',
      )
        .env('RELUP_STOP_TIMEOUT')
        .argParser(milliseconds)
        .default(10_000),
    )
    .action(async (opts: NodeCliOptions) => {
      const node = await startNode({
        nats: {
          servers: opts.nats,
          user: opts.natsUser,
          pass: opts.natsPass,
          ...(opts.creds !== undefined && { credsFile: opts.creds }),
        },
        nodeId: opts.node,
        releasesDir: opts.releases,
        release: opts.release,
        prefix: opts.prefix,
        relupsDir: opts.relups,
        superAdminTokens: list(opts.superadminTokens),
        replicas: opts.replicas,
        clusterKey: opts.clusterKey,
        ...(list(opts.releaseKeys).length > 0 && { releaseKeys: list(opts.releaseKeys) }),
        ...(opts.sessionSignerFile !== undefined && {
          sessionSigner: {
            seed: readFileSync(opts.sessionSignerFile, 'utf8'),
            account: opts.sessionAccount ?? '',
          },
        }),
      });
      const keys = list(opts.operatorKeys);
      const control = await startControlServer(node, keys.length > 0 ? { operatorKeys: keys } : {});
      node.log.info({ subject: node.subjects.control(node.id) }, 'accepting operator commands');
      const stop = (signal: string) => {
        node.log.info({ signal }, 'signal received: stopping gracefully');
        // A stop that waits on a NATS server that is gone must not hold the process forever:
        // past the timeout the node exits and says what was left unfinished.
        const deadline = setTimeout(() => {
          const still = node.stopStage ?? 'stopping the control server';
          process.stderr.write(
            `${renderError(new RelupError('STOP_TIMEOUT', `the graceful stop did not finish within ${opts.stopTimeout} ms (still: ${still})`))}\n`,
          );
          process.exit(1);
        }, opts.stopTimeout);
        deadline.unref();
        // The control server goes first, so commands in flight still get their replies.
        control
          .stop()
          .then(() => node.stop())
          .then(
            () => process.exit(0),
            (err: unknown) => {
              process.stderr.write(`${renderError(err)}\n`);
              process.exit(1);
            },
          );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  return program;
}

/** Runs the CLI; runtime failures print `CODE: message` and exit 1. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await relupProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`relup: ${renderError(err)}\n`);
    process.exit(1);
  }
}
