/**
 * `tradewire/web`: the web door as a library. `startWebDoor` runs it on Node (HTTP through
 * @hono/node-server, sockets through `ws`), `startWebDoorOnDeno` on Deno (`Deno.serve`);
 * `createWebDoor` is the door itself (a hono app and an upgrade check) for any other server.
 * Users, roles and the signing secret come from a deployment folder that `tradewire web
 * adduser` writes.
 */
export {
  createWebDoor,
  TOKEN_PROTOCOL_PREFIX,
  WS_PATH,
  WS_PROTOCOL,
  type UpgradeCheck,
  type WebDoor,
  type WebDoorOptions,
} from "./door.ts";
export { serveWebDoor, startWebDoor, type RunningWebDoor, type StartWebDoorOptions } from "./node.ts";
export { startWebDoor as startWebDoorOnDeno } from "./deno.ts";
export { EVERY_ACCOUNT, Holdings } from "./accounts.ts";
export {
  DEFAULT_ROLES,
  deploymentFiles,
  loadDeployment,
  ROLES,
  SetupError,
  type DeploymentFiles,
  type Role,
  type RolePolicy,
  parseAccounts,
  type UserRecord,
  type WebConfig,
} from "./config.ts";
