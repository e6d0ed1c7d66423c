// Starts the suite's Baton (the release build, a fresh SQLite database, a free port)
// and hands its URL to the tests. Returns the teardown.
import { startBaton } from './baton';

export { ADMIN_EMAIL, ADMIN_PASSWORD } from './baton';

export default async function globalSetup() {
  const baton = await startBaton();
  process.env.BATON_E2E_URL = baton.url;
  return baton.stop;
}
