import { describe, expect, it } from 'vitest';
import { duplicateCount, formatRanges, missingRecords, orderViolation, parseNumber, violation } from '../../src/conformance/delivery-checks.js';

const on = (key: string, ...numbers: number[]) => numbers.map((number) => ({ number, key }));

describe('delivery checks', () => {
  it('reads only decimal record numbers', () => {
    expect([parseNumber('0'), parseNumber('42'), parseNumber('042'), parseNumber('4 2'), parseNumber('-1'), parseNumber('')]).toEqual([0, 42, undefined, undefined, undefined, undefined]);
  });

  it('names missing records as ranges', () => {
    expect(missingRecords(8, on('', 0, 3, 4, 6))).toEqual([1, 2, 5, 7]);
    expect(formatRanges([7, 1, 2, 5, 2])).toBe('1-2, 5, 7');
    expect(formatRanges([1, 3, 5, 7], 2)).toBe('1, 3, … (2 more ranges)');
  });

  it('counts repeated deliveries as duplicates', () => {
    expect(duplicateCount(on('', 0, 1, 2, 1, 2, 3))).toBe(2);
  });

  it('accepts redeliveries after later records, and keys interleaved in any way', () => {
    expect(orderViolation([...on('a', 0, 2, 4), ...on('b', 1, 3), ...on('a', 2, 4, 6)])).toBeUndefined();
  });

  it('finds a record that first arrived after a later record of its key', () => {
    expect(orderViolation([...on('a', 0, 4), ...on('b', 1), ...on('a', 2)])).toBe('key "a": record 2 arrived first after record 4, which was produced after it');
  });

  it('labels a violation with its guarantee', () => {
    expect(violation('per-key order', 'x').message).toBe('[per-key order] x');
  });
});
