import { describe, expect, it } from 'vitest';
import type { Problem } from '../../src/problems.ts';
import { parseDuration } from '../../src/relup/duration.ts';
import { compile, relupError, relupYaml, v100, v110 } from './compile-fixtures.ts';

const problemsOf = (source: string): Problem[] => {
  const err = relupError(() => compile(source));
  expect(err.code).toBe('BAD_RELUP');
  return (err.details as { problems: Problem[] }).problems;
};

describe('validation', () => {
  it('lists every problem at once, each with its path and line', () => {
    const source = [
      'release: chat',
      'from: 1.0.1',
      'up:',
      '  - update: chatt',
      '  - frobnicate: chat',
      '  - apply: { module: migrations/x.ts, priority: urgent }',
      '  - apply: { priority: low }',
      '  - sleep: 5 parsecs',
      '  - { op: suspend, target: ghost }',
      'options: { suspendTimeout: soon, modifications: [standard, fancy] }',
      '',
    ].join('\n');
    const problems = problemsOf(source);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p]));
    expect(byPath['to']).toMatchObject({ message: 'missing field', file: 'relups/chat/test.yaml' });
    expect(byPath['from']).toMatchObject({ line: 2, message: expect.stringContaining('version mismatch') });
    expect(byPath['up[0].update']).toMatchObject({
      line: 4,
      message: expect.stringContaining('unknown service "chatt"'),
    });
    expect(byPath['up[1].frobnicate']).toMatchObject({
      line: 5,
      message: expect.stringContaining('unknown instruction "frobnicate"'),
    });
    expect(byPath['up[2].apply.priority']).toMatchObject({ line: 6 });
    expect(byPath['up[3].apply.module']).toMatchObject({ line: 7, message: 'missing field' });
    expect(byPath['up[4].sleep']).toMatchObject({
      line: 8,
      message: expect.stringContaining('bad duration'),
    });
    expect(byPath['up[5].target']).toMatchObject({ line: 9, message: expect.stringContaining('"ghost"') });
    expect(byPath['options.suspendTimeout']).toMatchObject({
      line: 10,
      message: expect.stringContaining('bad duration'),
    });
    expect(byPath['options.modifications[1]']).toMatchObject({
      message: 'unknown modification "fancy" (known: standard)',
    });
    expect(problems).toHaveLength(10);
  });

  it('puts the problems in the message too, one per line', () => {
    const err = relupError(() => compile(relupYaml('  - update: chatt', '', '1.0.0', '2.0.0')));
    expect(err.message).toContain('relups/chat/test.yaml:3: to: version mismatch: 2.0.0');
    expect(err.message).toContain('relups/chat/test.yaml:5: up[0].update: unknown service "chatt"');
  });

  it('checks each change against the releases it goes between', () => {
    const problems = problemsOf(
      relupYaml(
        [
          '  - update: presence',
          '  - add: chat',
          '  - remove: chat',
          '  - update: legacy',
          '  - add: presence',
          '  - add: presence',
        ].join('\n'),
      ),
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'up[0].update: presence is not in release 1.0.0; use add',
      'up[1].add: chat is already in release 1.0.0; use update',
      'up[2].remove: chat is still in release 1.1.0; use update',
      'up[3].update: legacy is not in release 1.1.0; use remove',
      'up[5].add: presence is already changed by up[4]',
    ]);
  });

  it('reports unknown fields, wrong types and misshapen entries', () => {
    const problems = problemsOf(
      `release: chat\nfrom: 1.0.0\nto: 1.1.0\nup:\n  - update: chat\n    extras: {}\n  - 42\n  - { sleep: 1s, info: hi }\n  - { op: load, target: chat, args: { version: 1.1.0 } }\ndown: sometimes\ncolour: blue\n`,
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'down: must be "auto" or a list of entries',
      'colour: unknown field',
      'up[0].extras: unknown field',
      'up[1]: an entry must be a mapping, e.g. "- update: chat"',
      'up[2]: one instruction per entry; found sleep, info',
      'up[3]: load needs a string argument "from"',
    ]);
  });

  it('validates an explicit down list against the releases swapped', () => {
    const problems = problemsOf(
      relupYaml(
        '  - update: chat\n  - add: presence\n  - remove: legacy',
        'down:\n  - add: presence\n  - remove: legacy\n',
      ),
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      'down[0].add: presence is already in release 1.1.0; use update',
      'down[1].remove: legacy is still in release 1.0.0; use update',
    ]);
  });

  it('reports YAML syntax errors with their line', () => {
    const problems = problemsOf('release: chat\nup:\n  - update: [chat\n');
    expect(problems[0]).toMatchObject({ path: '', line: expect.any(Number) });
    expect(problems[0]?.message).toBeTruthy();
  });

  it('accepts manifests of another release name only when the relup names it', () => {
    const other = { ...v110, name: 'shop' };
    const err = relupError(() => compile(relupYaml('  - update: chat'), { from: v100, to: other }));
    expect(err.details).toMatchObject({ problems: [{ path: 'release', line: 1 }] });
  });
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    [100, 100],
    [0, 0],
  ])('reads %s as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['5', '5 years', '-1s', 's', '', null, -5, Number.NaN, {}])('refuses %s', (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });
});
