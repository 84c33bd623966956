import { describe, expect, it } from 'vitest';
import { standbysFirst } from '../../src/control/pair-order.ts';
import type { ReleaseInfo } from '../../src/relup/release-info.ts';
import { compile, planOps, relupError, relupYaml, v100, v110 } from './compile-fixtures.ts';

// chat runs as a redundant pair in both releases.
const pairOf = (r: ReleaseInfo): ReleaseInfo => ({
  ...r,
  services: r.services.map((s) =>
    s.name === 'chat' ? { ...s, redundant: { primary: 'n1', backup: 'n2', mode: 'warm' } } : s,
  ),
});
const UP = '  - update: chat\n    extra: { defaultTopic: general }\n  - add: presence\n  - remove: legacy';

describe('switch_over: a redundant service is handed to its partner before its code changes', () => {
  it('the standard plan hands a redundant service over right after the point of no return, before anything is suspended, in both directions', () => {
    const { plan, down } = compile(relupYaml(UP), { from: pairOf(v100), to: pairOf(v110) });
    for (const p of [plan, down]) {
      const steps = planOps(p);
      const at = steps.indexOf('switch_over chat');
      expect(at).toBe(steps.indexOf('point_of_no_return') + 1);
      expect(at).toBeLessThan(steps.indexOf('suspend_acceptors'));
      expect(steps.filter((s) => s.startsWith('switch_over'))).toEqual(['switch_over chat']);
    }
  });

  it('adds none for `pairs: in_place`, nor for a service that is not redundant', () => {
    const inPlace = compile(relupYaml(UP, 'options: { pairs: in_place }'), {
      from: pairOf(v100),
      to: pairOf(v110),
    });
    expect(planOps(inPlace.plan).some((s) => s.startsWith('switch_over'))).toBe(false);
    expect(planOps(compile(relupYaml(UP)).plan).some((s) => s.startsWith('switch_over'))).toBe(false);
  });

  it('an unknown `pairs` value is BAD_RELUP', () => {
    const err = relupError(() =>
      compile(relupYaml(UP, 'options: { pairs: both }'), { from: pairOf(v100), to: pairOf(v110) }),
    );
    expect(err.code).toBe('BAD_RELUP');
    expect(JSON.stringify(err.details)).toContain('pairs');
  });

  it('a rolling upgrade takes the actives of pairs last, the rest in the order given', () => {
    const status = (node: string, holder?: string) => ({
      node,
      redundancy: holder === undefined ? [] : [{ holder } as never],
    });
    expect(
      standbysFirst([status('a', 'a'), status('b', 'a'), status('c'), status('d', 'd')]).map((n) => n.node),
    ).toEqual(['b', 'c', 'a', 'd']);
  });
});
