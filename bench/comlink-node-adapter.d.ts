// comlink ships this adapter's types as node-adapter.d.ts, which TypeScript does not pair with
// the .mjs file the package's ESM build uses; point it there.
declare module "comlink/dist/esm/node-adapter.mjs" {
  export { default } from "comlink/dist/esm/node-adapter";
}
