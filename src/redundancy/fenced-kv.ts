import type { KV } from '@nats-io/kv';
import { RelupError } from '../errors.ts';
import { decode, encode } from '../nats/codec.ts';
import type { TermStamp } from '../nats/term-header.ts';
import { isCasConflict } from './cas-conflict.ts';

/** A value written under a term: the store keeps the term beside it. */
export interface FencedValue<T> {
  term: number;
  holder: string;
  value: T;
}

/** The active's right to write now: its stamp and the self-fence check it must pass. */
export interface Fence extends TermStamp {
  /** False once the active may have lost its lease (renew deadline passed, or superseded). */
  canAct(): boolean;
}

// Two writers of one term never race; a conflict is a lower-term write landing in between.
const MAX_ATTEMPTS = 3;

/**
 * Term-fenced writes to a KV bucket: every value carries the writer's term and every write is
 * a compare-and-set on the key's revision that first checks the stored term. A deposed active
 * cannot overwrite what a newer term wrote (FENCED), and an active past its renew deadline does
 * not write at all (FENCED). NATS KV has no multi-key transaction, so a key the new term has
 * not written yet is guarded by the self-fence alone; a new active therefore writes its keys
 * (or {@link claim}s them) before taking work.
 */
export class FencedKv {
  constructor(private readonly kv: KV) {}

  /** Writes `value` under `key` in the fence's term; FENCED when a newer term owns it or the fence may be lost. */
  async put<T>(key: string, value: T, fence: Fence): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      if (!fence.canAct())
        throw new RelupError('FENCED', `${fence.holder} may no longer act in term ${fence.term}`, {
          key,
          term: fence.term,
        });
      const entry = await this.kv.get(key);
      const current =
        entry && entry.operation === 'PUT' ? decode<FencedValue<unknown>>(entry.value) : undefined;
      if (current && current.term > fence.term)
        throw new RelupError('FENCED', `${key} was written in term ${current.term}, after ${fence.term}`, {
          key,
          term: fence.term,
          stored: current.term,
        });
      const body = encode({ term: fence.term, holder: fence.holder, value } satisfies FencedValue<T>);
      try {
        return entry ? await this.kv.update(key, body, entry.revision) : await this.kv.create(key, body);
      } catch (err) {
        if (!isCasConflict(err) || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  }

  /** Reads a value with the term it was written in. */
  async get<T>(key: string): Promise<FencedValue<T> | undefined> {
    const entry = await this.kv.get(key);
    return entry && entry.operation === 'PUT' ? decode<FencedValue<T>>(entry.value) : undefined;
  }
}
