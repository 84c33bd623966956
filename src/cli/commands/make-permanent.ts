import { type Command, Option } from 'commander';
import { allDone, type NodeSummary, summaryOfError } from '../../control/cluster-summary.ts';
import { RelupError } from '../../errors.ts';
import { run } from './context.ts';
import { allOption, nodeOption, version } from './options.ts';
import { renderSummary, renderValue } from './render.ts';

/** `relupctl make-permanent --version V (--node N | --all)`: the release nodes boot from now on. */
export function registerMakePermanent(program: Command): void {
  program
    .command('make-permanent')
    .description('make a running release the one nodes boot')
    .addOption(new Option('--version <version>', 'the release').argParser(version).makeOptionMandatory())
    .addOption(nodeOption('the node that runs it'))
    .addOption(allOption())
    .action((opts: { version: string; node?: string; all?: boolean }, cmd: Command) =>
      run(cmd, async (ctl) => {
        if (!opts.node && !opts.all) ctl.usage('give --node <id> or --all');
        const client = await ctl.client();
        const timeoutMs = ctl.timeout(10_000);
        if (opts.node) {
          const result = await client.request(
            opts.node,
            'make_permanent',
            { version: opts.version },
            { timeoutMs },
          );
          if (ctl.json) ctl.printJson(result);
          else
            ctl.print(
              `${opts.node}: ${opts.version} is permanent${result ? `\n${renderValue(result)}` : ''}`,
            );
          return 0;
        }
        const nodes = (await client.discover()).map((s) => s.node);
        // One after the other: the permanent release is a compare-and-set, concurrent writers would only conflict.
        if (nodes.length === 0) throw new RelupError('UNKNOWN_NODE', 'no node answered discovery');
        const summaries: NodeSummary[] = [];
        for (const node of nodes) {
          try {
            await client.request(node, 'make_permanent', { version: opts.version }, { timeoutMs });
            summaries.push({ node, outcome: 'done' });
          } catch (err) {
            summaries.push(summaryOfError(node, err));
          }
        }
        const ok = allDone(summaries);
        if (ctl.json) ctl.printJson({ version: opts.version, ok, nodes: summaries });
        else ctl.print(renderSummary(summaries));
        return ok
          ? 0
          : ctl.fail(
              new RelupError(
                'UPGRADE_INCOMPLETE',
                `${opts.version} could not be made permanent on every node`,
              ),
            );
      }),
    );
}
