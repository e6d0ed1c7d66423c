import { test, expect, openHydrated } from './fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../global-setup';

test('a wrong password is refused with a clear message', async ({ page, allowConsoleError }) => {
  // The refused sign-in is a 401, which Chromium reports on the console.
  allowConsoleError(/status of 401 .*\/api\/v1\/auth\/login\)$/);
  await openHydrated(page, '/inbox');
  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill('not the password');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText(/wrong email or password/);
  await expect(page.getByRole('heading', { name: 'Sign in to Baton' })).toBeVisible();
});

test('an admin signs in, sees the live queue, and signs out', async ({ page, request }) => {
  // A visitor who gave their email up front asks for a person through the public API.
  const start = await request.post('/api/v1/widget/start', {
    data: { bot_id: 'demo', name: 'Jordan', email: 'jordan@acme.com' },
  });
  expect(start.ok()).toBeTruthy();
  const { conversation_id, visitor_token } = await start.json();
  const send = await request.post('/api/v1/widget/send', {
    headers: { authorization: `Bearer ${visitor_token}` },
    data: { conversation_id, client_id: 'e2e-1', text: 'Can I talk to a human?' },
  });
  expect(send.ok()).toBeTruthy();
  await expect
    .poll(async () => {
      const history = await request.post('/api/v1/widget/history', {
        headers: { authorization: `Bearer ${visitor_token}` },
        data: { conversation_id, after_seq: 0 },
      });
      return (await history.json()).state;
    })
    .toBe('needs_human');

  await openHydrated(page, '/inbox');
  await page.getByLabel('Email').fill(ADMIN_EMAIL);
  await page.getByLabel('Password').fill(ADMIN_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page.getByRole('heading', { name: 'Needs human' })).toBeVisible();
  const row = page.getByRole('row', { name: /Jordan/ });
  await expect(row).toContainText('Asked for a person');
  await expect(row).toContainText('Customer asked to talk to a person');

  // The session survives a reload (server-rendered as signed in).
  await openHydrated(page, '/inbox');
  await expect(page.getByRole('heading', { name: 'Needs human' })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to Baton' })).toBeVisible();
});
