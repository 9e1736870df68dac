/**
 * Start the playground's Vite dev server and print its address.
 *
 *   npx tsx playground/serve.ts [--port 5173] [--host 127.0.0.1]
 *
 * The same as `vite --config playground/vite.config.ts`, for scripts (`npm start`) that want one
 * line to read the address from: "Playground at http://127.0.0.1:5173/". Ctrl+C stops it.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createServer } from "vite";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "5173" },
    host: { type: "string", default: "127.0.0.1" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log("Usage: tsx playground/serve.ts [--port 5173] [--host 127.0.0.1]\nStarts the playground's Vite dev server and prints its address.");
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`Port must be an integer from 0 to 65535, not ${values.port}`);
  process.exit(2);
}

const server = await createServer({
  configFile: fileURLToPath(new URL("./vite.config.ts", import.meta.url)),
  server: { port, host: values.host, strictPort: false },
  logLevel: "warn",
});
await server.listen();
const url = server.resolvedUrls?.local[0] ?? `http://${values.host}:${port}/`;
console.log(`Playground at ${url}`);

const stop = async () => {
  await server.close();
  process.exit(0);
};
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
