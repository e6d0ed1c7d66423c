// Settings as an admin uses it, on a Baton of its own (the test changes the demo
// chatbot): the Instructions section saves an always-escalate phrase that the very
// next visitor message follows, and leaving a section with unsaved edits asks first.
import { Page } from '@playwright/test';
import { test, expect, openHydrated, collectErrors } from './fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD, Baton, startBaton } from '../baton';

let baton: Baton;

test.beforeAll(async () => {
  baton = await startBaton();
});

test.afterAll(async () => {
  await baton?.stop();
});

async function signedIn(page: Page, path: string) {
  const login = await page.request.post(`${baton.url}/api/v1/auth/login`, {
    data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
  });
  expect(login.ok()).toBeTruthy();
  await openHydrated(page, `${baton.url}${path}`);
}

test('an always-escalate phrase saved in Instructions hands the next message to a person', async ({ page, browser }) => {
  await signedIn(page, '/settings?bot=demo&section=instructions');
  await expect(page.getByRole('heading', { name: 'Instructions' })).toBeVisible();
  const always = page.getByLabel('Always hand over when a message contains');
  await always.fill('Lawyer\n\nlawyer');
  const status = page.locator('.instructions-form [role="status"]');
  await expect(status).toHaveText('Unsaved changes');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(status).toHaveText('Saved');
  await expect(always).toHaveValue('lawyer');

  // The server renders what was saved.
  await openHydrated(page, `${baton.url}/settings?bot=demo&section=instructions`);
  await expect(page.getByLabel('Always hand over when a message contains')).toHaveValue('lawyer');

  const visitor = await browser.newPage();
  const errors = collectErrors(visitor);
  await openHydrated(visitor, `${baton.url}/widget/demo`);
  const box = visitor.getByLabel('Message');
  await box.fill('Our lawyer has a question about where files are stored');
  await box.press('Enter');
  await expect(visitor.getByLabel('Your email')).toBeVisible();
  await visitor.close();
  expect(errors, 'the widget logged errors').toEqual([]);
});

test('leaving a section with unsaved edits asks first', async ({ page }) => {
  await signedIn(page, '/settings?bot=demo&section=instructions');
  const text = page.getByLabel('Instructions for the AI');
  await text.fill('Answer in one sentence.');
  const integrations = page.getByRole('navigation', { name: 'Chatbot settings' }).getByRole('link', { name: 'Integrations' });

  const asked: string[] = [];
  page.once('dialog', (dialog) => {
    asked.push(dialog.message());
    void dialog.dismiss();
  });
  await integrations.click();
  await expect.poll(() => asked.length).toBe(1);
  expect(asked[0]).toContain('unsaved changes');
  await expect(text).toHaveValue('Answer in one sentence.');
  await expect(page.getByRole('heading', { name: 'Instructions' })).toBeVisible();

  page.once('dialog', (dialog) => void dialog.accept());
  await integrations.click();
  await expect(page.getByRole('heading', { name: 'Integrations' })).toBeVisible();
  await expect(page).toHaveURL(/section=integrations/);
});
