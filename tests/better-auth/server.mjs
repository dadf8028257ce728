// A small Better Auth app with the JWT plugin, as a Next.js frontend would configure it, to prove
// that tasks-api accepts its tokens. It listens on PORT (0: any free port) and prints
// "listening on http://127.0.0.1:<port>" once it serves; its SQLite file is DATABASE_PATH.
import http from "node:http";
import Database from "better-sqlite3";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { toNodeHandler } from "better-auth/node";
import { jwt } from "better-auth/plugins/jwt";

const databasePath = process.env.DATABASE_PATH ?? "better-auth.db";
const secret = process.env.BETTER_AUTH_SECRET;
if (!secret) {
  console.error("BETTER_AUTH_SECRET is required");
  process.exit(1);
}

let handle;
const server = http.createServer((req, res) => handle(req, res));
server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", async () => {
  // The base URL is the issuer and audience of every token, so it is known only once bound.
  const baseURL = `http://127.0.0.1:${server.address().port}`;
  const options = {
    baseURL,
    secret,
    database: new Database(databasePath),
    emailAndPassword: { enabled: true },
    plugins: [jwt()],
  };
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
  handle = toNodeHandler(betterAuth(options));
  // On standard error, where the Rust tests read a service's "listening on" line.
  console.error(`listening on ${baseURL}`);
});
