/**
 * The canonical JSON of a value: object keys sorted by UTF-16 code units at every depth, no
 * whitespace, otherwise what JSON.stringify writes (toJSON honoured, `undefined` members
 * dropped, `undefined` in arrays as null). Signer and verifier produce the same bytes from
 * equal values whatever the key order on the wire.
 */
export function canonicalJson(value: unknown): string {
  return write(value) ?? 'null';
}

// Written by hand rather than by sorting keys into a new object: JS objects list integer-like
// keys first in numeric order ("2" before "10"), which is not the sorted order a verifier in
// another language computes.
function write(input: unknown): string | undefined {
  const value =
    input !== null &&
    typeof input === 'object' &&
    typeof (input as { toJSON?: unknown }).toJSON === 'function'
      ? (input as { toJSON(): unknown }).toJSON()
      : input;
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => write(v) ?? 'null').join(',')}]`;
  const record = value as Record<string, unknown>;
  const members: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const v = write(record[key]);
    if (v !== undefined) members.push(`${JSON.stringify(key)}:${v}`);
  }
  return `{${members.join(',')}}`;
}
