import { Command, Option } from 'commander';
import { renderError } from '../errors.ts';
import { registerCheck } from './commands/check.ts';
import { registerDowngrade } from './commands/downgrade.ts';
import { registerEvents } from './commands/events.ts';
import { registerMaintenance } from './commands/maintenance.ts';
import { registerMakePermanent } from './commands/make-permanent.ts';
import { registerObserve } from './commands/observe.ts';
import { duration } from './commands/options.ts';
import { registerPair } from './commands/pair.ts';
import { registerPlan } from './commands/plan.ts';
import { registerRelease } from './commands/release.ts';
import { registerReleases } from './commands/releases.ts';
import { registerStatus } from './commands/status.ts';
import { registerUpgrade } from './commands/upgrade.ts';

/** Builds the `relupctl` command line (exported for tests). */
export function relupctlProgram(): Command {
  const program = new Command('relupctl')
    .description('operate a relup cluster over NATS: plans, status, checks, hot upgrades, releases')
    .exitOverride((err) => {
      // Usage errors exit 2, as the README promises; --help and --version exit 0.
      process.exit(err.exitCode === 0 ? 0 : 2);
    })
    // Subcommands inherit these settings, so every --help lists the global options too.
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run with --help for usage)')
    .addOption(
      new Option('--nats <url>', 'NATS server URL(s), comma-separated (or NATS_URL)').env('RELUP_NATS'),
    )
    .addOption(
      new Option('--nats-user <user>', 'NATS user (the operator user of docker/nats-auth.conf)').env(
        'RELUP_NATS_USER',
      ),
    )
    .addOption(new Option('--nats-pass <password>', 'NATS password').env('RELUP_NATS_PASS'))
    .addOption(
      new Option(
        '--creds <file>',
        'NATS credentials file (JWT auth: operator.creds of npm run auth:keys)',
      ).env('RELUP_NATS_CREDS'),
    )
    .addOption(new Option('--prefix <prefix>', 'subject prefix').env('RELUP_PREFIX').default('relup'))
    .addOption(
      new Option(
        '--seed-file <file>',
        'operator nkey seed to sign commands with (or RELUP_OPERATOR_SEED)',
      ).env('RELUP_OPERATOR_SEED_FILE'),
    )
    .addOption(new Option('--timeout <duration>', 'reply timeout, e.g. 5s or 3000 (ms)').argParser(duration))
    .addOption(new Option('--json', 'machine-readable output: one JSON document on stdout'));
  registerPlan(program);
  registerStatus(program);
  registerReleases(program);
  registerCheck(program);
  registerUpgrade(program);
  registerDowngrade(program);
  registerMakePermanent(program);
  registerMaintenance(program);
  registerPair(program);
  registerEvents(program);
  registerRelease(program);
  registerObserve(program);
  return program;
}

/** Runs the CLI; a command's failure has already printed `CODE: message`, its exit code is 1. */
export async function main(argv = process.argv): Promise<void> {
  try {
    await relupctlProgram().parseAsync(argv);
  } catch (err) {
    process.stderr.write(`relupctl: ${renderError(err)}\n`);
    process.exitCode = 1;
  }
  // Nothing should keep the process alive after a command; a stray timer must not hang a script.
  process.exit(process.exitCode ?? 0);
}
