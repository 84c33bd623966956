import { type Command, Option } from 'commander';
import { fetchRelease } from '../../release/fetch-release.ts';
import { sealRelease } from '../../release/manifest.ts';
import { publishRelease } from '../../release/object-store.ts';
import { signRelease } from '../../release/release-signature.ts';
import { run } from './context.ts';
import { version } from './options.ts';

/** `relupctl release seal|publish|fetch`: prepares and distributes release folders. */
export function registerRelease(program: Command): void {
  const release = program.command('release').description('seal, publish and fetch release folders');
  release
    .command('seal')
    .description("write the sha256 of every module file into the folder's release.json (local, no NATS)")
    .argument('<dir>', 'the release folder, e.g. releases/1.1.0')
    .option('--sign', 'sign the manifest with the operator seed (--seed-file or RELUP_OPERATOR_SEED)')
    .action((dir: string, opts: { sign?: boolean }, cmd: Command) =>
      run(cmd, async (ctl) => {
        const seed = opts.sign ? await ctl.seed() : undefined;
        if (opts.sign && seed === undefined) ctl.usage('--sign needs --seed-file or RELUP_OPERATOR_SEED');
        const m = await sealRelease(dir);
        const signature = seed === undefined ? undefined : await signRelease(dir, seed);
        if (ctl.json) ctl.printJson(signature ? { ...m, signature } : m);
        else
          ctl.print(
            `${dir}: ${m.name}@${m.version}, ${Object.keys(m.files).length} file(s) sealed${signature ? `, signed by ${signature.key}` : ''}`,
          );
        return 0;
      }),
    );
  release
    .command('publish')
    .description(
      'verify a sealed release folder and store it in the JetStream object store, for nodes to fetch',
    )
    .argument('<dir>', 'the release folder')
    .action((dir: string, _opts: unknown, cmd: Command) =>
      run(cmd, async (ctl) => {
        const published = await publishRelease(await ctl.nc(), dir);
        if (ctl.json) ctl.printJson(published);
        else
          ctl.print(
            published.changed
              ? `${published.name}@${published.version}: ${published.objects.length} object(s) published`
              : `${published.name}@${published.version}: already published, unchanged`,
          );
        return 0;
      }),
    );
  release
    .command('fetch')
    .description('download a published release into <releases>/<version>/, verified, all or nothing')
    .argument('<name>', 'the release name, e.g. chat')
    .argument('<version>', 'the version', version)
    .addOption(
      new Option('--releases <dir>', 'folder holding <version>/release.json')
        .env('RELUP_RELEASES')
        .makeOptionMandatory(),
    )
    .action((name: string, v: string, opts: { releases: string }, cmd: Command) =>
      run(cmd, async (ctl) => {
        const m = await fetchRelease(await ctl.nc(), name, v, opts.releases);
        if (ctl.json) ctl.printJson(m);
        else ctl.print(`${m.name}@${m.version} fetched into ${opts.releases}/${m.version}`);
        return 0;
      }),
    );
}
