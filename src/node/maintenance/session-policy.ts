import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { RelupError } from '../../errors.ts';
import type { SessionPolicy } from '../../services/session-policy.ts';
import type { MaintenanceEntry } from '../lifecycle.ts';

const digest = (s: string) => createHash('sha256').update(s).digest();
const mac = (token: string, session: string) =>
  createHmac('sha256', token).update(`superadmin ${session}`).digest('base64url');

/**
 * The node's policy. A super-admin proves it with a configured token (compared in constant
 * time on its sha256): a claimed role alone grants nothing. In maintenance everyone else is
 * refused, told why and until when if known.
 */
export function sessionPolicy(
  tokens: readonly string[],
  maintenance: () => MaintenanceEntry[],
): SessionPolicy {
  const known = tokens.map(digest);
  const equal = (a: string, b: string) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length === y.length && timingSafeEqual(x, y);
  };
  const isSuperAdmin = (payload: Record<string, unknown>): boolean => {
    if (payload.role !== 'superadmin') return false;
    const token = payload.token;
    if (typeof token !== 'string' || token.length === 0) return false;
    const d = digest(token);
    return known.some((k) => timingSafeEqual(k, d));
  };
  const refusal = (): RelupError | undefined => {
    const entries = maintenance();
    if (entries.length === 0) return undefined;
    const first = entries[0] as MaintenanceEntry;
    const until = entries.find((e) => e.until)?.until;
    return new RelupError('MAINTENANCE', `${first.message}${until ? ` (until ${until})` : ''}`, {
      reasons: entries.map((e) => e.reason),
      ...(until && { until }),
    });
  };
  return {
    admit(payload) {
      if (payload.role === 'superadmin' && !isSuperAdmin(payload))
        throw new RelupError('SESSION_REFUSED', 'the super-admin credential is not valid');
      const superAdmin = isSuperAdmin(payload);
      if (!superAdmin) {
        const refused = refusal();
        if (refused) throw refused;
      }
      return { superAdmin };
    },
    proof(payload, session) {
      return isSuperAdmin(payload) ? mac(payload.token as string, session) : undefined;
    },
    honours(proof, session) {
      return tokens.some((t) => equal(mac(t, session), proof));
    },
    refusal,
  };
}
