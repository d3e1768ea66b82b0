/*
 * The per-registry concurrency limit (p-limit, wrapped for abort signals).
 */
import { createLimiter } from './pool';

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>(r => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('createLimiter', () => {
  it('runs at most `size` tasks at once, in order', async () => {
    const limit = createLimiter(2);
    const signal = new AbortController().signal;
    let running = 0;
    let peak = 0;
    const order: number[] = [];
    const gates = Array.from({ length: 5 }, deferred);
    const runs = gates.map((g, i) =>
      limit(signal, async () => {
        running++;
        peak = Math.max(peak, running);
        order.push(i);
        await g.promise;
        running--;
        return i;
      }),
    );
    for (const g of gates) {
      await new Promise(r => setImmediate(r));
      g.resolve();
    }
    expect(await Promise.all(runs)).toEqual([0, 1, 2, 3, 4]);
    expect(peak).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
  });

  it('a queued caller whose signal aborts leaves at once and its task never runs', async () => {
    const limit = createLimiter(1);
    const gate = deferred();
    const holder = limit(new AbortController().signal, () => gate.promise);
    const ac = new AbortController();
    let ran = false;
    const queued = limit(ac.signal, async () => {
      ran = true;
    });
    ac.abort(new Error('caller gave up'));
    await expect(queued).rejects.toThrow('caller gave up');
    gate.resolve();
    await holder;
    // The slot is free again and the aborted task was skipped.
    await limit(new AbortController().signal, async () => undefined);
    expect(ran).toBe(false);
  });

  it('an already aborted signal is refused without queueing', async () => {
    const ac = new AbortController();
    ac.abort(new Error('late'));
    await expect(
      createLimiter(1)(ac.signal, async () => 'ran'),
    ).rejects.toThrow('late');
  });
});
