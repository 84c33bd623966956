import { type Command, Option } from 'commander';
import { run } from './context.ts';
import { nodeOption } from './options.ts';
import { renderValue } from './render.ts';

/** Sends one command to one node and prints its result (the maintenance commands share this shape). */
function nodeCommand(
  program: Command,
  name: string,
  description: string,
  options: Option[],
  toArgs: (
    opts: Record<string, unknown>,
    operands: string[],
  ) => { cmd: string; args: Record<string, unknown> },
  operands = '',
): void {
  const command = program.command(`${name}${operands ? ` ${operands}` : ''}`).description(description);
  command.addOption(nodeOption('the node').makeOptionMandatory());
  for (const o of options) command.addOption(o);
  command.action((...params: unknown[]) => {
    const cmd = params[params.length - 1] as Command;
    const opts = params[params.length - 2] as Record<string, unknown>;
    const given = params.slice(0, -2) as string[];
    return run(cmd, async (ctl) => {
      const { cmd: wire, args } = toArgs(opts, given);
      const result = await (await ctl.client()).request(String(opts.node), wire, args, {
        timeoutMs: ctl.timeout(120_000),
      });
      if (ctl.json) ctl.printJson(result);
      else ctl.print(`${String(opts.node)}: ${wire} done\n${renderValue(result)}`);
      return 0;
    });
  });
}

/** `relupctl maintenance on|off`, `notify`, `disconnect`, `disable-service`, `start-waiting`, `retry`, `skip`. */
export function registerMaintenance(program: Command): void {
  nodeCommand(
    program,
    'maintenance',
    'maintenance mode on (notify, grace, disconnect, refuse) or off',
    [
      new Option('--message <text>', 'what clients are told'),
      new Option('--grace <duration>', 'how long clients have before they are disconnected, e.g. 2m'),
      new Option('--until <iso>', 'when maintenance is expected to end (ISO 8601)'),
    ],
    (opts, [state]) => ({
      cmd: 'maintenance',
      args: {
        on: state === 'on',
        ...(state === 'on' && opts.message !== undefined && { message: opts.message }),
        ...(state === 'on' && opts.grace !== undefined && { grace: opts.grace }),
        ...(state === 'on' && opts.until !== undefined && { until: opts.until }),
      },
    }),
    '<on|off>',
  );
  nodeCommand(
    program,
    'notify',
    'push a notice to every client',
    [],
    (_o, [message]) => ({
      cmd: 'notify',
      args: { message },
    }),
    '<message>',
  );
  nodeCommand(
    program,
    'disconnect',
    "disconnect every client but super-admins'",
    [new Option('--except <sessions>', 'session ids to keep, comma-separated')],
    (opts) => ({
      cmd: 'disconnect_clients',
      args: opts.except ? { except: String(opts.except).split(',') } : {},
    }),
  );
  nodeCommand(
    program,
    'disable-service',
    'disable a service with a dependency error',
    [],
    (_o, [service]) => ({
      cmd: 'disable_service',
      args: { service },
    }),
    '<service>',
  );
  nodeCommand(
    program,
    'start-waiting',
    'start a service its restart mode (cleanup) left waiting at boot',
    [],
    (_o, [service]) => ({ cmd: 'start_waiting', args: { service } }),
    '<service>',
  );
  nodeCommand(program, 'retry', 'run again the upgrade whose migration script failed', [], () => ({
    cmd: 'retry',
    args: {},
  }));
  nodeCommand(program, 'skip', 'run the upgrade whose migration script failed, without it', [], () => ({
    cmd: 'skip',
    args: {},
  }));
}
