/** The tick after a market event: synthetic depth merged with accounts' resting orders, taken levels gone. */
import { describe, expect, it } from "vitest";
import type { TickData } from "../../sim/index.ts";
import { setup, VT } from "./helpers.ts";

const FIVE = {
  bids: [[99, 5], [98, 5], [97, 5], [96, 5], [95, 5]] as Array<[number, number]>,
  asks: [[100, 5], [101, 5], [102, 5], [103, 5], [104, 5]] as Array<[number, number]>,
};

async function ticking() {
  const s = await setup();
  await s.gateways.A!.subscribe({ symbol: "T1", exchange: "LOCAL" });
  const last = (): TickData => {
    const ticks = s.events.filter((e) => e.type === `eTick.${VT}` && (e.data as TickData).gatewayName === "A");
    return ticks[ticks.length - 1]!.data as TickData;
  };
  return { ...s, last };
}

describe("ticks", () => {
  it("reports the five synthetic levels as they came", async () => {
    const s = await ticking();
    s.market(FIVE);
    expect(s.last()).toMatchObject({
      bidPrice1: 99, bidPrice5: 95, bidVolume1: 5, bidVolume5: 5, askPrice1: 100, askPrice5: 104, askVolume5: 5,
    });
  });

  it("adds an account's resting order to the level at its price", async () => {
    const s = await ticking();
    s.market(FIVE);
    s.send(s.gateways.B!, { price: 99, volume: 2 });
    s.market(FIVE);
    expect(s.last()).toMatchObject({ bidPrice1: 99, bidVolume1: 7, bidVolume2: 5 });
  });

  it("leaves out a level an order took, until the next snapshot", async () => {
    const s = await ticking();
    s.market(FIVE);
    s.send(s.gateways.B!, { price: 100, volume: 5 });
    s.market(FIVE);
    expect(s.last()).toMatchObject({ askPrice1: 101, askPrice4: 104, askPrice5: 0, askVolume5: 0, bidVolume1: 5 });
  });
});
