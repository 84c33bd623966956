import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import semver from 'semver';
import { RelupError } from '../../errors.ts';
import { readManifest } from '../../release/manifest.ts';
import { compileRelup } from '../../relup/compile.ts';
import { formatPlan } from '../../relup/format-plan.ts';
import { releasesBeside } from '../../relup/locate.ts';
import { type ParsedRelup, parseRelup } from '../../relup/parse.ts';
import { run } from './context.ts';

const RELEASES_REQUIRED =
  '--releases <dir> (or RELUP_RELEASES) is required: plan needs both manifests, and no releases/ folder beside the relups holds them';

/** `relupctl plan <relup-file>`: compiles a relup locally and prints both plans; touches no node and no NATS. */
export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('compile a relup file and print its up and down plans, the point of no return marked')
    .argument('<relup-file>', 'the relup file, e.g. relups/chat/1.0.0-1.1.0.yaml')
    .addOption(
      new Option(
        '--releases <dir>',
        'folder holding <version>/release.json of both releases (default: releases/ beside relups/)',
      ).env('RELUP_RELEASES'),
    )
    .action((file: string, opts: { releases?: string }, cmd: Command) =>
      run(cmd, async (ctl) => {
        const source = await readFile(file, 'utf8').catch((err: Error) => {
          if (!opts.releases) ctl.usage(RELEASES_REQUIRED);
          throw new RelupError('FILE_UNREADABLE', `cannot read ${file}: ${err.message}`, { file });
        });
        const parsed = parseRelup(source, file);
        const { from, to } = ends(parsed, file);
        const releases =
          opts.releases ?? (await releasesBeside(file, from, to)) ?? ctl.usage(RELEASES_REQUIRED);
        const [fromManifest, toManifest] = await Promise.all([
          readManifest(join(releases, from)),
          readManifest(join(releases, to)),
        ]);
        const compiled = compileRelup({ source, file, parsed, fromManifest, toManifest });
        if (ctl.json) ctl.printJson({ file, plan: compiled.plan, down: compiled.down });
        else ctl.print(`${formatPlan(compiled.plan)}\n\n${formatPlan(compiled.down)}`);
        return 0;
      }),
    );
}

/** The `from` and `to` versions a relup file joins, read before compiling since compiling needs their manifests. */
function ends(parsed: ParsedRelup, file: string): { from: string; to: string } {
  const data = parsed.data as { from?: unknown; to?: unknown } | null;
  const from = data?.from;
  const to = data?.to;
  if (typeof from !== 'string' || typeof to !== 'string' || !semver.valid(from) || !semver.valid(to))
    throw new RelupError('BAD_RELUP', `${file}: from and to must name the two release versions`, {
      problems: [`${file}: from/to: must be semver versions`],
    });
  return { from, to };
}
