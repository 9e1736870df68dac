/**
 * One RpcServer on several server transports at once: tradewire's own wire and VeighNa's, say.
 * Requests from every transport reach the core with the transport's index in front of the peer
 * id (`"1/…"`), so replies go back the way they came; broadcasts go out on all of them.
 * If one transport cannot listen, the ones already listening are closed and the error thrown.
 */
import type { PeerId, ServerSink, ServerTransport } from "../../lib/transport.ts";

export function fanInServer(transports: readonly ServerTransport[]): ServerTransport {
  if (transports.length === 0) throw new RangeError("fanInServer needs at least one transport");
  const list = [...transports];
  return {
    async listen(sink: ServerSink): Promise<void> {
      const started: ServerTransport[] = [];
      try {
        for (const [index, t] of list.entries()) {
          await t.listen({
            request: (frame, peer) => sink.request(frame, `${index}/${peer}`),
            peerClosed: (peer) => sink.peerClosed?.(`${index}/${peer}`),
          });
          started.push(t);
        }
      } catch (error) {
        await Promise.all(started.map((t) => t.close()));
        throw error;
      }
    },
    reply(peer: PeerId, frame: Uint8Array): void {
      const slash = peer.indexOf("/");
      list[Number(peer.slice(0, slash))]?.reply(peer.slice(slash + 1), frame);
    },
    publish(topic: string, frame: Uint8Array, latestValue?: boolean): void {
      for (const t of list) t.publish(topic, frame, latestValue);
    },
    async close(): Promise<void> {
      await Promise.all(list.map((t) => t.close()));
    },
    /** The first transport's counters as they are, the others' prefixed with their index (`1.calls`). */
    get stats(): Readonly<Record<string, number>> {
      const out: Record<string, number> = { ...list[0]!.stats };
      for (let i = 1; i < list.length; i++) for (const [k, v] of Object.entries(list[i]!.stats ?? {})) out[`${i}.${k}`] = v;
      return out;
    },
  };
}
