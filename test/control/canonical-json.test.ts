import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/release/canonical-json.ts';

describe('canonicalJson', () => {
  it('sorts keys at every depth and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe(
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('sorts integer-like keys as strings, not in JS property order', () => {
    expect(canonicalJson({ 10: 'a', 2: 'b', a: 'c' })).toBe('{"10":"a","2":"b","a":"c"}');
  });

  it('writes what JSON.stringify writes for everything but the order', () => {
    const value = { s: 'é"\n', n: 1.5, t: true, z: null, u: undefined, arr: [undefined, 1], d: new Date(0) };
    expect(JSON.parse(canonicalJson(value))).toEqual(JSON.parse(JSON.stringify(value)));
    expect(canonicalJson(value)).toBe(
      '{"arr":[null,1],"d":"1970-01-01T00:00:00.000Z","n":1.5,"s":"é\\"\\n","t":true,"z":null}',
    );
  });

  it('is the same for equal values whatever the key order', () => {
    expect(canonicalJson({ id: '1', cmd: 'x', args: { b: 2, a: 1 } })).toBe(
      canonicalJson({ args: { a: 1, b: 2 }, cmd: 'x', id: '1' }),
    );
  });
});
