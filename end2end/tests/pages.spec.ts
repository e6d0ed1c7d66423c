import { test, expect, openHydrated } from './fixtures';

const pages = [
  { path: '/', heading: 'Hand the chat to a human, without losing the thread.' },
  { path: '/widget/demo', heading: 'Acme support' },
  { path: '/inbox', heading: 'Sign in to Baton' },
  { path: '/settings', heading: 'Sign in to Baton' },
];

for (const { path, heading } of pages) {
  test(`${path} renders, hydrates and logs no error`, async ({ page }) => {
    const response = await openHydrated(page, path);
    expect(response?.status()).toBe(200);
    await expect(page.getByRole('heading', { level: 1, name: heading })).toBeVisible();
  });
}

test('an unknown address answers 404 with a page that links home', async ({ page, allowConsoleError }) => {
  // Chromium reports the 404 document itself on the console; nothing else may fail.
  allowConsoleError(/status of 404 .*\/no\/such\/page\)$/);
  const response = await openHydrated(page, '/no/such/page');
  expect(response?.status()).toBe(404);
  await expect(page.getByRole('heading', { name: 'Page not found' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Back to the start' })).toHaveAttribute('href', '/');
});

test('navigation links lead from the home page to the Inbox', async ({ page }) => {
  await openHydrated(page, '/');
  await page.getByRole('link', { name: 'Open the Inbox' }).click();
  await expect(page).toHaveURL(/\/inbox$/);
  await expect(page.getByRole('heading', { name: 'Sign in to Baton' })).toBeVisible();
});

test('the widget page hydrates with the widget bundle, and other pages with the whole app', async ({ page }) => {
  const wasm: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('.wasm')) wasm.push(new URL(request.url()).pathname);
  });
  await openHydrated(page, '/widget/demo');
  await expect(page.getByLabel('Message')).toBeEditable();
  // Named by content (`{bundle}.{16 hex digits}.wasm`), so browsers may keep them for a year.
  expect(wasm).toEqual([expect.stringMatching(/^\/pkg\/widget\.[0-9a-f]{16}\.wasm$/)]);

  wasm.length = 0;
  await openHydrated(page, '/inbox');
  expect(wasm).toEqual([expect.stringMatching(/^\/pkg\/baton\.[0-9a-f]{16}\.wasm$/)]);
});
