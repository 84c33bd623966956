import { headers, type MsgHdrs } from '@nats-io/nats-core';

/** The header carrying `<service>:<term>` on every message an active sends. */
export const TERM_HEADER = 'Relup-Term';
/** The header carrying the id of the node that sent as the active. */
export const HOLDER_HEADER = 'Relup-Holder';

/** The fencing token of an active: which pair, in which term, held by whom. */
export interface TermStamp {
  service: string;
  term: number;
  holder: string;
}

/** Adds the term headers to `h` (a new header set when absent) and returns it. */
export function stampTerm(stamp: TermStamp, h: MsgHdrs = headers()): MsgHdrs {
  h.set(TERM_HEADER, `${stamp.service}:${stamp.term}`);
  h.set(HOLDER_HEADER, stamp.holder);
  return h;
}

/** Reads the term headers of a message; undefined when it carries none or a malformed one. */
export function readTerm(h: MsgHdrs | undefined): TermStamp | undefined {
  const raw = h?.get(TERM_HEADER);
  if (!raw) return undefined;
  const m = /^([A-Za-z0-9_-]{1,64}):(\d{1,15})$/.exec(raw);
  if (!m) return undefined;
  return { service: m[1] as string, term: Number(m[2]), holder: h?.get(HOLDER_HEADER) ?? '' };
}
