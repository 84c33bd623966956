import { Command, InvalidArgumentError, Option } from 'commander';
import { renderError } from '../errors.ts';
import { startNode } from '../node/relup-node.ts';

const TOKEN = /^[A-Za-z0-9_-]+$/;

function nodeId(value: string): string {
  if (!TOKEN.test(value)) throw new InvalidArgumentError('must be a subject-safe token ([A-Za-z0-9_-]+)');
  return value;
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
    .action(
      async (opts: { nats: string; node: string; releases: string; release?: string; prefix: string }) => {
        const node = await startNode({
          nats: opts.nats,
          nodeId: opts.node,
          releasesDir: opts.releases,
          release: opts.release,
          prefix: opts.prefix,
        });
        const stop = (signal: string) => {
          node.log.info({ signal }, 'signal received: stopping gracefully');
          node.stop().then(
            () => process.exit(0),
            (err: unknown) => {
              process.stderr.write(`${renderError(err)}\n`);
              process.exit(1);
            },
          );
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      },
    );
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
