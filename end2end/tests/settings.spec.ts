// Settings as an admin uses it, on a Baton of its own (the tests change the demo
// chatbot and the team): the Instructions section saves an always-escalate phrase
// that the very next visitor message follows; leaving a section with unsaved edits
// asks first; Team adds an agent (who is then refused Settings), keeps the last
// admin one, and removes a member.
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


test('Team adds an agent who is refused Settings, keeps the last admin, and removes a member', async ({
  page,
  browser,
  allowConsoleError,
}) => {
  allowConsoleError(/status of 409/);
  await signedIn(page, '/settings?bot=demo&section=team');
  await expect(page.getByRole('heading', { name: 'Team', exact: true })).toBeVisible();
  const me = page.getByRole('row').filter({ hasText: ADMIN_EMAIL });
  await me.getByLabel(/^Role of /).selectOption('agent');
  await expect(me.getByRole('alert')).toContainText('last admin');
  await expect(me.getByLabel(/^Role of /)).toHaveValue('admin');

  await page.getByLabel('Name', { exact: true }).fill('Sam Lee');
  await page.getByLabel('Email', { exact: true }).fill('not-an-email');
  await page.getByRole('button', { name: 'Add member' }).click();
  await expect(page.locator('#member-email-error')).toContainText('not a valid email address');
  await page.getByLabel('Email', { exact: true }).fill('sam@acme.test');
  await page.getByRole('button', { name: 'Add member' }).click();
  const oneTime = page.getByLabel('One-time password');
  await expect(oneTime).toBeVisible();
  const password = await oneTime.inputValue();
  expect(password.length).toBeGreaterThanOrEqual(12);
  const sam = page.getByRole('row').filter({ hasText: 'sam@acme.test' });
  await expect(sam).toContainText('Never');
  await expect(sam.getByLabel('Role of Sam Lee')).toHaveValue('agent');

  const agentContext = await browser.newContext();
  const agent = await agentContext.newPage();
  const errors = collectErrors(agent);
  await openHydrated(agent, `${baton.url}/settings?section=team`);
  await agent.getByLabel('Email').fill('sam@acme.test');
  await agent.getByLabel('Password').fill(password);
  await agent.getByRole('button', { name: 'Sign in' }).click();
  await expect(agent.getByRole('heading', { name: 'Settings is for admins' })).toBeVisible();
  await expect(agent.getByText('Sam Lee')).toBeVisible();
  const refused = await agent.request.post(`${baton.url}/api/v1/team/list`, { data: {} });
  expect(refused.status()).toBe(403);

  await sam.getByRole('button', { name: 'Remove' }).click();
  const dialog = page.getByRole('dialog', { name: 'Remove this member?' });
  await expect(dialog).toContainText('Sam Lee');
  await dialog.getByRole('button', { name: 'Remove' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole('row').filter({ hasText: 'sam@acme.test' })).toHaveCount(0);
  const after = await agent.request.post(`${baton.url}/api/v1/auth/me`, { data: {} });
  expect((await after.json()).member, "the removed agent's session has ended").toBeNull();
  await agentContext.close();
  expect(errors, "the agent's page logged errors").toEqual([]);
});
