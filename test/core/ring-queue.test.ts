import { describe, expect, it } from "vitest";
import { RingQueue } from "../../lib/ring-queue.ts";

function drain(queue: RingQueue<number>): number[] {
  const out: number[] = [];
  for (let v = queue.shift(); v !== undefined; v = queue.shift()) out.push(v);
  return out;
}

describe("RingQueue", () => {
  it("gives values back in the order they came, across wrap-around and growth", () => {
    const queue = new RingQueue<number>();
    expect(queue.peek()).toBeUndefined();
    expect(queue.shift()).toBeUndefined();
    // Turn the ring part-way first, so it grows while its head is not at slot 0.
    for (let i = 0; i < 5; i++) queue.push(i);
    expect(drain(queue)).toEqual([0, 1, 2, 3, 4]);
    for (let i = 0; i < 100; i++) queue.push(i);
    expect(queue.length).toBe(100);
    expect(queue.peek()).toBe(0);
    expect(drain(queue)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(queue.length).toBe(0);
  });

  it("retains the accepted values in order, and keeps working after", () => {
    const queue = new RingQueue<number>();
    for (let i = 0; i < 6; i++) queue.push(i);
    queue.shift();
    queue.shift(); // head at slot 2
    for (let i = 6; i < 12; i++) queue.push(i); // wraps around the 8 slots
    queue.retain((v) => v % 3 === 0);
    expect(queue.length).toBe(3);
    queue.push(12);
    queue.push(13);
    expect(drain(queue)).toEqual([3, 6, 9, 12, 13]);
  });
});
