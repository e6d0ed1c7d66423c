// Starts the release build of Baton on a free port with a fresh SQLite database,
// waits until it answers, and hands its URL to the tests. Returns the teardown.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ADMIN_EMAIL = 'admin@e2e.test';
export const ADMIN_PASSWORD = 'e2e-admin-password-1';

export default async function globalSetup() {
  const root = path.resolve(__dirname, '..');
  const binary = path.join(root, 'target', 'release', 'server');
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: run \`cargo leptos build --release\` first (make test does).`);
  }
  const dataDir = mkdtempSync(path.join(tmpdir(), 'baton-e2e-'));
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith('LEPTOS_')) delete env[key];
  delete env.DATABASE_URL;
  Object.assign(env, {
    BATON_ADDR: '127.0.0.1:0',
    BATON_DATA_DIR: dataDir,
    BATON_ADMIN_EMAIL: ADMIN_EMAIL,
    BATON_ADMIN_PASSWORD: ADMIN_PASSWORD,
    RUST_LOG: env.RUST_LOG ?? 'warn',
  });
  const server = spawn(binary, [], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });

  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start in 60 s:\n${out}`)), 60_000);
    server.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const found = out.match(/Baton is running at (http:\/\/\S+)/);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    });
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before it was ready:\n${out}`));
    });
  });
  server.stdout!.resume();

  // The banner prints once the socket is bound; poll until the app answers too.
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/readyz`);
      if (res.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`${url}/readyz never answered 200`);
    await new Promise((r) => setTimeout(r, 100));
  }
  process.env.BATON_E2E_URL = url;

  return async () => {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  };
}
