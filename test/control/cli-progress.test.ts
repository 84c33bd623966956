import { describe, expect, it } from 'vitest';
import { progressText } from '../../src/cli/progress-bar.ts';
import { eventLine } from '../../src/cli/progress-lines.ts';
import { applyEvent, initialProgress } from '../../src/cli/progress-state.ts';
import type { ObservedEvent } from '../../src/control/control-client.ts';

const ev = (type: string, fields: Partial<ObservedEvent> = {}): ObservedEvent => ({
  node: 'n1',
  time: '2026-01-01T00:00:00.000Z',
  type,
  upgrade: 'u1',
  ...fields,
});

describe('upgrade progress display', () => {
  it('folds events into steps done, the current step, channels suspended and elapsed time', () => {
    let p = initialProgress('n1', 12);
    const feed = (e: ObservedEvent, now: number) => {
      p = applyEvent(p, e, now);
    };
    feed(ev('state', { state: 'checking', total: 13 }), 1000);
    feed(ev('step_started', { step: 'check_acceptors' }), 1000);
    expect(progressText(p, 1500)).toBe(
      'n1 ░░░░░░░░░░░░░░░░░░░░ 0/13 steps | check_acceptors | channels 0/12 suspended | 0.5s',
    );
    feed(ev('step_completed', { step: 'check_acceptors', result: 'ok' }), 1100);
    feed(ev('step_started', { step: 'suspend_channels' }), 1200);
    feed(
      ev('step_completed', { step: 'suspend_channels', result: 'ok', bulk: { result: 'ok', count: 11 } }),
      1300,
    );
    expect(p).toMatchObject({ done: 2, suspended: 11, current: undefined });
    feed(ev('step_completed', { step: 'resume_channels', result: 'ok' }), 1400);
    expect(p.suspended).toBe(0);
    feed(ev('state', { state: 'done' }), 3000);
    // Elapsed stops at the end of the upgrade.
    expect(progressText(p, 9000)).toMatch(
      /^n1 █{5}░{15} 3\/13 steps \| done \| channels 0\/12 suspended \| 2\.0s$/,
    );
  });

  it('without a bulk count, a completed suspend_channels suspends every channel the status counted', () => {
    const p = applyEvent(initialProgress('n1', 4), ev('step_completed', { step: 'suspend_channels' }));
    expect(p.suspended).toBe(4);
    expect(progressText(p)).toContain('1/? steps');
  });

  it('shows a failure and counts undone steps back', () => {
    let p = initialProgress('n1');
    p = applyEvent(p, ev('step_completed', { step: 'load_object_code:chat' }));
    p = applyEvent(
      p,
      ev('step_failed', {
        step: 'preflight_code_change:chat',
        error: { code: 'PREFLIGHT_FAILED', message: 'x' },
      }),
    );
    p = applyEvent(p, ev('step_undone', { step: 'load_object_code:chat' }));
    expect(p).toMatchObject({ done: 0, failed: 'preflight_code_change:chat: PREFLIGHT_FAILED' });
    expect(progressText(p)).toContain('failed at preflight_code_change:chat: PREFLIGHT_FAILED');
  });

  it('renders one plain line per event', () => {
    expect(eventLine(ev('step_completed', { step: 'suspend_channels', result: 'ok', durationMs: 3 }))).toBe(
      '2026-01-01T00:00:00.000Z n1 step_completed suspend_channels ok (3 ms)',
    );
    expect(eventLine(ev('state', { state: 'aborted', error: { code: 'CHECK_FAILED', message: 'no' } }))).toBe(
      '2026-01-01T00:00:00.000Z n1 state aborted CHECK_FAILED: no',
    );
  });
});
