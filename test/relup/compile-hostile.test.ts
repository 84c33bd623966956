import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Problem } from '../../src/problems.ts';
import { RELUP_LIMITS } from '../../src/relup/parse.ts';
import { CHAT_RELEASES } from '../helpers/chat-node.ts';
import { relupctl } from '../helpers/relupctl.ts';
import { compile, relupError, relupYaml } from './compile-fixtures.ts';

/** The entries a relup from 1.0.0 to 1.1.0 needs to cover every change. */
const COVERED = '  - update: chat\n  - add: presence\n  - remove: legacy';

/** The problems of the BAD_RELUP a source fails with. */
const problemsOf = (source: string): Problem[] => {
  const err = relupError(() => compile(source));
  expect(err.code).toBe('BAD_RELUP');
  return (err.details as { problems: Problem[] }).problems;
};

/**
 * Compiles a source five times: the median CPU time in ms (the time it holds the thread, whatever
 * else shares the cores), and `ok` or the code it is rejected with.
 */
function timedCompile(source: string): { ms: number; outcome: string } {
  let outcome = 'ok';
  const times = Array.from({ length: 5 }, () => {
    const start = process.cpuUsage();
    try {
      compile(source);
    } catch (err) {
      outcome = relupError(() => {
        throw err;
      }).code;
    }
    const used = process.cpuUsage(start);
    return (used.user + used.system) / 1000;
  });
  return { ms: times.sort((a, b) => a - b)[2] ?? Number.POSITIVE_INFINITY, outcome };
}

describe('relup files as hostile input: apply modules', () => {
  it.each([
    ['../../../etc/passwd', 'leaves the release folder'],
    ['/etc/passwd', 'leaves the release folder'],
    ['migrations/missing.ts', 'is not a file of release 1.1.0'],
    ['constructor', 'is not a file of release 1.1.0'],
  ])('rejects apply module %s at compile time', (module, reason) => {
    const problems = problemsOf(relupYaml(`${COVERED}\n  - apply: { module: ${module} }`));
    expect(problems).toEqual([
      expect.objectContaining({
        path: 'up[3].apply.module',
        line: 8,
        message: expect.stringContaining(reason),
      }),
    ]);
  });

  it('rejects a down module outside the release, and the low-level op: apply form too', () => {
    const problems = problemsOf(
      relupYaml(
        `${COVERED}\n  - apply: { module: migrations/a.ts, down: ../b.ts }\n  - { op: apply, args: { module: /tmp/x.ts } }`,
      ),
    );
    expect(problems.map((p) => [p.path, p.line])).toEqual([
      ['up[3].apply.down', 8],
      ['up[4].args.module', 9],
    ]);
  });

  it('accepts modules the newer release lists, also in an explicit down list', () => {
    const { down } = compile(
      relupYaml(
        `${COVERED}\n  - apply: { module: migrations/a.ts, down: migrations/b.ts }`,
        'down:\n  - remove: presence\n  - update: chat\n  - add: legacy\n  - apply: { module: migrations/b.ts }\n',
      ),
    );
    expect(down.after.some((s) => s.id === 'apply:migrations/b.ts')).toBe(true);
  });
});

describe('relup files as hostile input: size', () => {
  it('rejects a 10 MB file with many keys at once, before parsing it', () => {
    const keys = Array.from({ length: 800_000 }, (_, i) => `  k${i}: ${i}`).join('\n');
    const source = relupYaml(COVERED, `extra:\n${keys}\n`);
    expect(source.length).toBeGreaterThan(10_000_000);
    const start = performance.now();
    expect(problemsOf(source)).toEqual([
      expect.objectContaining({
        file: 'relups/chat/test.yaml',
        message: expect.stringMatching(/bytes; a relup file may have 65536$/),
      }),
    ]);
    // Answered at once: parsing it took minutes before the limits.
    expect(performance.now() - start).toBeLessThan(1000);
  });

  it('rejects too many nodes and too many lines, each with its reason', () => {
    const nodes = Array.from({ length: RELUP_LIMITS.nodes }, (_, i) => `k${i}`).join(', ');
    expect(problemsOf(relupYaml(COVERED, `options: { modifications: [${nodes}] }\n`))[0]?.message).toBe(
      `the file has more than ${RELUP_LIMITS.nodes} YAML nodes (keys, values, items)`,
    );
    expect(problemsOf(relupYaml(COVERED, '#\n'.repeat(RELUP_LIMITS.lines)))[0]?.message).toBe(
      `the file has more than ${RELUP_LIMITS.lines} lines`,
    );
  });

  it('rejects nesting deeper than the limit, in flow, compact and indented form, with its line', () => {
    const deep = RELUP_LIMITS.depth + 1;
    const indented = Array.from({ length: deep }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    for (const rest of [
      `x: ${'['.repeat(deep)}${']'.repeat(deep)}\n`,
      `x:\n${'- '.repeat(deep)}y\n`,
      `${indented} y\n`,
    ])
      expect(problemsOf(relupYaml(COVERED, rest))).toEqual([
        expect.objectContaining({ message: `the file nests deeper than ${RELUP_LIMITS.depth} levels` }),
      ]);
    expect(problemsOf(relupYaml(COVERED, `x: ${'['.repeat(deep)}${']'.repeat(deep)}\n`))[0]?.line).toBe(8);
  });

  it('compiles (or rejects) every worst-case file within the limits in well under 100 ms (median of 5)', () => {
    const valid = (extra: string, rest = '') => relupYaml(`${COVERED}\n${extra}`, rest);
    const withExtra = (extra: string) =>
      relupYaml(`  - update: chat\n    extra: ${extra}\n  - add: presence\n  - remove: legacy`);
    const worst = {
      // Each `k: v` is three nodes (key, indicator, value); each `- info: m` four.
      manyKeys: relupYaml(
        `  - update: chat\n    extra:\n${Array.from({ length: 320 }, (_, i) => `      k${i}: ${i}`).join('\n')}\n  - add: presence\n  - remove: legacy`,
      ),
      manySteps: valid(Array.from({ length: 235 }, (_, i) => `  - info: m${i}`).join('\n')),
      manyProblems: valid(Array.from({ length: 235 }, (_, i) => `  - frob${i}: x`).join('\n')),
      unknownFields: valid('', Array.from({ length: 320 }, (_, i) => `u${i}: ${i}`).join('\n')),
      deepNesting: withExtra(
        `{ x: ${'['.repeat(RELUP_LIMITS.depth - 8)}${']'.repeat(RELUP_LIMITS.depth - 8)} }`,
      ),
      manyLines: valid('', '#\n'.repeat(RELUP_LIMITS.lines - 20)),
      aliases: withExtra(`{ a: &a [${'1,'.repeat(99)}1], b: [${'*a,'.repeat(90)}*a] }`),
      longString: valid(`  - info: "${'x'.repeat(RELUP_LIMITS.bytes - 200)}"`),
    };
    const rejected: ReadonlySet<string> = new Set(['manyProblems', 'unknownFields']);
    for (const [name, source] of Object.entries(worst)) {
      const { ms, outcome } = timedCompile(source);
      expect(outcome, name).toBe(rejected.has(name) ? 'BAD_RELUP' : 'ok');
      expect(ms, name).toBeLessThan(100);
    }
  });
});

describe('relup files as hostile input: aliases', () => {
  const BOMB = [
    'release: chat',
    'from: 1.0.0',
    'to: 1.1.0',
    'up:',
    '  - update: chat',
    '    extra:',
    '      a: &a [x, x, x, x, x, x, x, x, x, x]',
    '      b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]',
    '      c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]',
    '      d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]',
    '      e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]',
    '      f: [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]',
    '  - add: presence',
    '  - remove: legacy',
    '',
  ].join('\n');

  it('rejects an alias bomb with file and line', () => {
    expect(problemsOf(BOMB)).toEqual([
      {
        file: 'relups/chat/test.yaml',
        path: '',
        line: 10,
        message: `aliases expand the file to more than ${RELUP_LIMITS.expandedNodes} nodes`,
      },
    ]);
  });

  it('rejects a recursive alias with file and line', () => {
    const source = relupYaml(
      `  - update: chat\n    extra: &x { self: *x }\n  - add: presence\n  - remove: legacy`,
    );
    expect(problemsOf(source)).toEqual([
      {
        file: 'relups/chat/test.yaml',
        path: '',
        line: 6,
        message: 'alias *x refers to a node that contains it (a recursive structure)',
      },
    ]);
  });

  it('still accepts plain aliases (the same mapping twice)', () => {
    const source = relupYaml(
      `  - update: chat\n    extra: &e { topic: general }\n  - add: presence\n  - remove: legacy\n  - apply: { module: migrations/a.ts, args: *e }`,
    );
    expect(compile(source).plan.after.find((s) => s.op === 'apply')?.args['args']).toEqual({
      topic: 'general',
    });
  });

  describe('relupctl plan answers the same BAD_RELUP with file and line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'relup-hostile-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const plan = (file: string) => relupctl(['plan', file, '--releases', CHAT_RELEASES]);

    it.each([
      ['bomb', BOMB, 10, 'aliases expand the file'],
      [
        'recursive',
        relupYaml('  - update: chat\n    extra: &x { self: *x }'),
        6,
        'alias *x refers to a node',
      ],
    ])('%s', async (name, source, line, reason) => {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(file, source);
      const r = await plan(file);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('relupctl: BAD_RELUP: invalid relup (1 problem)');
      expect(r.stderr).toContain(`${file}:${line}: (root): ${reason}`);
    });
  });
});

describe('relup files as hostile input: repeated steps', () => {
  it('rejects the same step twice, and a step an update already has', () => {
    const twice = problemsOf(
      relupYaml(`${COVERED}\n  - suspend: chat\n  - resume: chat\n  - suspend: chat\n  - resume: chat`),
    );
    expect(twice.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'up[3]: suspend:chat repeats the same step of up[0]',
      'up[4]: resume:chat repeats the same step of up[0]',
      'up[5]: suspend:chat repeats the same step of up[0]',
      'up[6]: resume:chat repeats the same step of up[0]',
    ]);
    const infos = problemsOf(relupYaml(`${COVERED}\n  - info: hello\n  - info: hello`));
    expect(infos.map((p) => p.path)).toEqual(['up[4]']);
  });

  it('accepts steps of the same instruction that differ in target or arguments', () => {
    const { plan } = compile(
      relupYaml(`${COVERED}\n  - info: one\n  - info: two\n  - maintenance: on\n  - maintenance: off`),
    );
    expect(plan.after.filter((s) => s.op === 'info' || s.op === 'maintenance')).toHaveLength(4);
  });
});
