/**
 * The few messages the page and the exchange worker exchange outside RPC, to start it with a
 * seed. They carry a `playground` tag; the MessagePort transport ignores messages without its own.
 */
export interface WorkerRequest {
  playground: "init";
  seed: number;
}

export interface WorkerReady {
  playground: "ready";
  seed: number;
  /** The gateway the service routes requests to. */
  gatewayName: string;
  /** Functions the RpcServer serves. */
  functions: string[];
}

export interface WorkerFailed {
  playground: "failed";
  message: string;
}

export type WorkerResponse = WorkerReady | WorkerFailed;
