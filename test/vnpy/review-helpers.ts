/** Reading a VeighNa-wire reply `[<empty>, pickle([ok, value])]` in tests. */
import { fromVnpy } from "../../transports/vnpy/model.ts";
import { readPickle } from "../../transports/vnpy/pickle-reader.ts";

export function readPickleReply(frames: Uint8Array[]): [boolean, unknown] {
  const body = frames[frames.length - 1]!;
  return fromVnpy(readPickle(body)) as [boolean, unknown];
}
