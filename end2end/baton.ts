// Starts the release build of Baton on a free port with a fresh SQLite database and
// waits until it answers. The suite's shared server (global-setup.ts) and specs that
// need a Baton of their own (one whose demo chatbot they may change) both use it.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const ADMIN_EMAIL = 'admin@e2e.test';
export const ADMIN_PASSWORD = 'e2e-admin-password-1';

export type Baton = { url: string; stop: () => Promise<void> };

export async function startBaton(extraEnv: Record<string, string> = {}): Promise<Baton> {
  const root = path.resolve(__dirname, '..');
  const binary = path.join(root, 'target', 'release', 'server');
  if (!existsSync(binary)) {
    throw new Error(`${binary} is missing: run \`make build\` first (make test does).`);
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
    // Every visitor and agent of the suite comes from 127.0.0.1, as if behind one
    // office NAT: the per-address limits (tested in the Rust suite) are raised.
    BATON_STARTS_PER_ADDRESS_PER_MINUTE: '1000',
    BATON_LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: '1000',
    RUST_LOG: env.RUST_LOG ?? 'warn',
    ...extraEnv,
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

  return {
    url,
    stop: async () => {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
