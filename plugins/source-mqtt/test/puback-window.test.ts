import { describe, expect, it } from 'vitest';
import { PubackWindow } from '../src/puback-window.js';

const windowSending = (capacity = 4) => {
  const sent: number[] = [];
  let flushes = 0;
  const window = new PubackWindow(capacity, {
    send: (id) => {
      sent.push(id);
      return true;
    },
    flushed: () => flushes++,
  });
  return { window, sent, flushes: () => flushes };
};

/** The order check every case uses: PUBACKs in receipt order, each only after it and all before it are done. */
const expectReceiptOrder = (sent: number[], received: number[]) => expect(sent).toEqual(received.slice(0, sent.length));

describe('PubackWindow', () => {
  it('keeps QoS 1 PUBACKs and QoS 2 PUBRECs in one receipt order, each sent as its own kind', () => {
    const sent: Array<[number, number]> = [];
    const window = new PubackWindow(4, { send: (id, _epoch, qos) => sent.push([id, qos]) > 0, flushed: () => {} });
    const [a, b, c] = [window.add(1, 1, 2), window.add(2, 1), window.add(3, 1, 2)];
    window.complete(b);
    window.complete(c);
    expect(sent, 'nothing before the head is done').toEqual([]);
    window.complete(a);
    expect(sent).toEqual([
      [1, 2],
      [2, 1],
      [3, 2],
    ]);
  });

  it('sends PUBACKs from the head only, in receipt order, whatever order Danube finishes in', () => {
    const { window, sent } = windowSending();
    const [a, b, c] = [window.add(1, 1), window.add(2, 1), window.add(3, 1)];
    window.complete(c);
    expect(sent).toEqual([]);
    window.complete(a);
    expect(sent).toEqual([1]);
    window.complete(b);
    expect(sent).toEqual([1, 2, 3]);
    expectReceiptOrder(sent, [1, 2, 3]);
    expect(window.size).toBe(0);
  });

  it('the order check fails for a window that acknowledges in completion order (the deliberately wrong case)', () => {
    const naive: number[] = [];
    for (const id of [3, 1, 2]) naive.push(id); // acknowledging as Danube finishes
    expect(() => expectReceiptOrder(naive, [1, 2, 3])).toThrow();
  });

  it('is full at capacity, and stays full until the head is acknowledged', () => {
    const { window } = windowSending(2);
    window.add(1, 1);
    expect(window.full).toBe(false);
    const second = window.add(2, 1);
    expect(window.full).toBe(true);
    window.complete(second);
    expect(window.full).toBe(true); // the head (1) is not done: nothing leaves
    expect(window.maxSize).toBe(2);
  });

  it('drops the entries of a closed connection and never sends their PUBACKs on a later one', () => {
    const { window, sent } = windowSending();
    const old = window.add(7, 1);
    const current = window.add(7, 2); // the same packet id, redelivered on connection 2
    expect(window.dropEpoch(1)).toEqual([old]);
    let waited = 0;
    old.onDone = () => waited++;
    window.complete(old);
    expect(sent).toEqual([]);
    expect(waited).toBe(1);
    window.complete(old);
    expect(waited, 'onDone once').toBe(1);
    window.complete(current);
    expect(sent).toEqual([7]);
  });
});
