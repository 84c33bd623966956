// `npm run bench [-- --quick] [-- --only a,b]`: runs the benchmarks one after another in this
// process (re-executed with --expose-gc), writes BENCHMARKS.md and bench/results.json. Exits
// non-zero only when a benchmark broke; a missed target is a result, reported as not met.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { bulkSuspendBench } from './bulk-suspend.ts';
import { codeGrowth } from './code-growth.ts';
import { durability } from './durability.ts';
import { hotVsCold } from './hot-vs-cold.ts';
import { machine, machineLine } from './lib/machine.ts';
import { renderMarkdown, type SectionRun } from './lib/report.ts';
import type { Bench } from './lib/result.ts';
import { memory } from './memory.ts';
import { peerMoleculer } from './peer-moleculer.ts';
import { peers } from './peers.ts';
import { redundancy } from './redundancy.ts';
import { redundancyNodes } from './redundancy-nodes.ts';
import { requestReply } from './request-reply.ts';
import { runtime } from './runtime.ts';
import { soak } from './soak.ts';
import { throughput } from './throughput.ts';
import { upgradePause } from './upgrade-pause.ts';

const BENCHES: Bench[] = [
  throughput,
  requestReply,
  peerMoleculer,
  peers,
  runtime,
  memory,
  bulkSuspendBench,
  upgradePause,
  hotVsCold,
  codeGrowth,
  durability,
  soak,
  redundancy,
  redundancyNodes,
];

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyAt = args.indexOf('--only');
const only = onlyAt >= 0 ? new Set((args[onlyAt + 1] ?? '').split(',')) : undefined;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

async function main(): Promise<number> {
  const command = `npm run bench${quick ? ' -- --quick' : ''}${only ? ` -- --only ${[...only].join(',')}` : ''}`;
  const m = machine();
  log(`relup benchmarks (${quick ? 'quick' : 'full'}): ${machineLine(m)}`);
  const loadBefore = loadavg()[0] ?? 0;
  const started = Date.now();
  const sections: SectionRun[] = [];
  for (const bench of BENCHES) {
    if (only && !only.has(bench.id)) continue;
    (globalThis as { gc?: () => void }).gc?.();
    log(`\n== ${bench.title} (heap after gc ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1)} MB)`);
    const t0 = Date.now();
    const section: SectionRun = { id: bench.id, title: bench.title, seconds: 0, results: [], notes: [] };
    try {
      section.results = await bench.run({ quick, runs: quick ? 3 : 5, log, notes: section.notes });
      for (const r of section.results)
        log(
          `  ${r.name}: ${r.value.toPrecision(4)} ${r.unit}` +
            (r.baseline !== null
              ? ` (baseline ${r.baseline.toPrecision(4)}, ratio ${r.ratio?.toFixed(3)})`
              : '') +
            (r.target ? ` target ${r.target}: ${r.met ? 'met' : 'NOT met'}` : ''),
        );
    } catch (err) {
      section.error = String((err as Error)?.stack ?? err);
      log(`  BROKEN: ${section.error}`);
    }
    section.seconds = (Date.now() - t0) / 1000;
    log(`  (${section.seconds.toFixed(1)} s)`);
    sections.push(section);
  }
  const seconds = (Date.now() - started) / 1000;
  const results = sections.flatMap((s) => s.results);
  const broken = sections.filter((s) => s.error !== undefined);
  const json = {
    command,
    machine: m,
    machineLine: machineLine(m),
    date: new Date().toISOString(),
    quick,
    seconds,
    loadAverage: { before: loadBefore, after: loadavg()[0] ?? 0 },
    results,
    errors: broken.map((s) => ({ bench: s.id, error: s.error })),
  };
  writeFileSync(`${root}bench/results.json`, `${JSON.stringify(json, null, 2)}\n`);
  const analysisFile = `${root}bench/analysis.md`;
  const analysis = existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8') : '';
  writeFileSync(
    `${root}BENCHMARKS.md`,
    renderMarkdown({
      command,
      machineLine: machineLine(m),
      date: json.date,
      seconds,
      loadAverage: json.loadAverage,
      sections,
      analysis,
    }),
  );
  log(`\nwrote BENCHMARKS.md and bench/results.json in ${seconds.toFixed(0)} s`);
  if (broken.length > 0) log(`broken: ${broken.map((s) => s.id).join(', ')}`);
  return broken.length > 0 ? 1 : 0;
}

// The memory figures need gc(): run again under `node --expose-gc --import tsx` when it is missing.
if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url), ...args],
    { stdio: 'inherit', cwd: root },
  );
  process.exit(r.status ?? 1);
} else {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      log(`bench runner failed: ${String((err as Error)?.stack ?? err)}`);
      process.exit(1);
    },
  );
}
