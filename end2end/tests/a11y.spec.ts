// Accessibility checked by a machine on every surface: axe-core's WCAG 2.1 A and AA
// rules, in Chromium, failing on any serious or critical violation.
import AxeBuilder from '@axe-core/playwright';
import { Page } from '@playwright/test';
import { test, expect, openHydrated } from './fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../global-setup';

async function expectAccessible(page: Page, where: string) {
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  const grave = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
  expect(grave, `${where}: serious or critical accessibility violations`).toEqual([]);
}

for (const path of ['/', '/widget/demo', '/inbox', '/settings']) {
  test(`${path} has no serious accessibility violation`, async ({ page }) => {
    await openHydrated(page, path);
    await expectAccessible(page, path);
  });
}

test('the demo website with the widget open has no serious accessibility violation', async ({ page }) => {
  await page.goto('/demo');
  await expectAccessible(page, '/demo, closed');
  await page.locator('baton-chat').getByRole('button', { name: /chat/ }).click();
  await expect(page.frameLocator('baton-chat iframe').locator('html[data-hydrated="true"]')).toHaveCount(1);
  await expectAccessible(page, '/demo, open');
});

test('the signed-in Inbox with a conversation open has no serious accessibility violation', async ({ page, request }) => {
  const start = await request.post('/api/v1/widget/start', { data: { bot_id: 'demo', email: 'axe.visitor@example.com' } });
  const { conversation_id: id, visitor_token: token } = await start.json();
  const sent = await request.post('/api/v1/widget/send', {
    headers: { Authorization: `Bearer ${token}` },
    data: { conversation_id: id, client_id: 'axe-1', text: 'Can I talk to a human please?' },
  });
  expect(sent.ok()).toBeTruthy();
  const login = await page.request.post('/api/v1/auth/login', { data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  expect(login.ok()).toBeTruthy();
  await openHydrated(page, `/inbox?view=all&c=${id}`);
  await expect(page.locator('.transcript .line').first()).toBeVisible();
  await expectAccessible(page, 'the Inbox with a conversation open');
});

test("an admin's Settings with a Connect form open has no serious accessibility violation", async ({ page }) => {
  const login = await page.request.post('/api/v1/auth/login', { data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  expect(login.ok()).toBeTruthy();
  await openHydrated(page, '/settings?bot=demo&section=integrations');
  const zoho = page.getByRole('article', { name: 'Zoho Desk' });
  await zoho.getByRole('button', { name: 'Connect' }).click();
  await expect(zoho.getByLabel('Data centre')).toHaveValue('com');
  await expectAccessible(page, 'Settings → Integrations with the Zoho Desk form open');
  await openHydrated(page, '/settings?bot=demo&section=instructions');
  await expect(page.getByRole('heading', { name: 'Instructions' })).toBeVisible();
  await expectAccessible(page, 'Settings → Instructions');
  await openHydrated(page, '/settings?bot=demo&section=team');
  await page.getByLabel('Set the password myself').check();
  await expect(page.getByLabel('Password', { exact: true })).toBeVisible();
  await expectAccessible(page, 'Settings → Team with the Add form asking for a password');
  await openHydrated(page, '/settings?bot=demo&section=knowledge');
  await expect(page.getByRole('heading', { name: 'Knowledge', exact: true })).toBeVisible();
  await expectAccessible(page, 'Settings → Knowledge');
  await openHydrated(page, '/settings?section=activity');
  await expect(page.getByRole('heading', { name: 'Activity', exact: true })).toBeVisible();
  await expectAccessible(page, 'Settings → Activity');
  await openHydrated(page, '/settings?bot=demo&section=general');
  await expect(page.getByRole('heading', { name: 'General', exact: true })).toBeVisible();
  await expectAccessible(page, 'Settings → General');
  await openHydrated(page, '/settings?bot=demo&section=widget');
  await expect(page.getByRole('heading', { name: 'Widget', exact: true })).toBeVisible();
  await expectAccessible(page, 'Settings → Widget with its preview');
  await openHydrated(page, '/settings?bot=demo&section=model');
  // The endpoint's fields, shown but not saved: the a11y run changes nothing.
  await page.getByLabel('An OpenAI-compatible endpoint').check();
  await expect(page.getByLabel('Base URL')).toBeVisible();
  await expectAccessible(page, 'Settings → AI model with the endpoint form');
  // The Playground stores nothing, so one turn there changes nothing either.
  await openHydrated(page, '/settings?bot=demo&section=playground');
  await page.getByLabel('Message', { exact: true }).fill('I want a person');
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Turn 1: Ask for the email' })).toBeVisible();
  await expectAccessible(page, 'Settings → Playground after a turn');
});
