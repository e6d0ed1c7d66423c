// Settings as an admin uses it, on a Baton of its own (the tests change the demo
// chatbot and the team): the Instructions section saves an always-escalate phrase
// that the very next visitor message follows; leaving a section with unsaved edits
// asks first; Team adds an agent (who is then refused Settings), keeps the last
// admin one, and removes a member; Knowledge adds, imports, answers and deletes;
// Activity lists what was just done.
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
  allowConsoleError(/status of 400 .*\/api\/v1\/team\/members\)$/);
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

test('Knowledge: two entries by hand and one from a file, and the bot answers from the right one', async ({ page }) => {
  await signedIn(page, '/settings?bot=demo&section=knowledge');
  await expect(page.getByRole('heading', { name: 'Knowledge', exact: true })).toBeVisible();
  const form = page.getByRole('form', { name: 'Add an entry' });
  const add = async (question: string, answer: string) => {
    await form.getByLabel('Question').fill(question);
    await form.getByLabel('Answer').fill(answer);
    await form.getByRole('button', { name: 'Add entry' }).click();
    await expect(page.getByRole('button', { name: `Edit “${question}”` })).toBeVisible();
  };
  await add('How long is the Zorblax warranty?', 'Every Zorblax carries a 7-year warranty.');
  await add('Does the Zorblax float?', 'Yes, in fresh water.');
  await expect(form.getByLabel('Question'), 'the form empties for the next entry').toHaveValue('');

  await page.getByLabel('Import a file').setInputFiles({
    name: 'zorblax.md',
    mimeType: 'text/markdown',
    buffer: Buffer.from('# Zorblax\n\n## Which colours does the Zorblax come in?\nRed and teal, both matte.\n'),
  });
  await expect(page.getByText('Imported 1 entry from zorblax.md.')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Edit “Which colours does the Zorblax come in?”' })).toBeVisible();

  await page.getByLabel('What would the bot answer?').fill('what colours can I get my zorblax in');
  await page.getByRole('button', { name: 'Ask', exact: true }).click();
  await expect(page.locator('.probe-verdict')).toContainText('“Which colours does the Zorblax come in?”');
  await expect(page.locator('.knowledge-ask')).toContainText('Red and teal, both matte.');

  await page.getByLabel('Search entries').fill('float');
  await expect(page.getByRole('button', { name: /^Edit “/ })).toHaveCount(1);
  await page.getByRole('button', { name: 'Delete “Does the Zorblax float?”' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete this entry?' });
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByText('No entry holds “float”.')).toBeVisible();

  // What was saved is what the server renders next time.
  await openHydrated(page, `${baton.url}/settings?bot=demo&section=knowledge`);
  await expect(page.getByRole('button', { name: 'Edit “How long is the Zorblax warranty?”' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Edit “Does the Zorblax float?”' })).toHaveCount(0);
});

test('Activity lists the changes just made, and narrows to one member', async ({ page }) => {
  await signedIn(page, '/settings?bot=demo&section=instructions');
  // A visitor who gives an email and asks for a person: a conversation's move, by no member.
  const started = await page.request.post(`${baton.url}/api/v1/widget/start`, {
    data: { bot_id: 'demo', email: 'pat@example.com' },
  });
  expect(started.ok()).toBeTruthy();
  const { conversation_id, visitor_token } = await started.json();
  const visitor = { authorization: `Bearer ${visitor_token}` };
  const sent = await page.request.post(`${baton.url}/api/v1/widget/send`, {
    headers: visitor,
    data: { conversation_id, client_id: 'activity-1', text: 'I want to talk to a person' },
  });
  expect(sent.ok()).toBeTruthy();
  await expect
    .poll(async () => {
      const history = await page.request.post(`${baton.url}/api/v1/widget/history`, {
        headers: visitor,
        data: { conversation_id, after_seq: 0 },
      });
      return (await history.json()).state;
    })
    .toBe('needs_human');

  await page.getByLabel('Instructions for the AI').fill('Answer in two sentences at most.');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('.instructions-form [role="status"]')).toHaveText('Saved');

  await page.getByRole('navigation', { name: 'Workspace settings' }).getByRole('link', { name: 'Activity' }).click();
  await expect(page.getByRole('heading', { name: 'Activity', exact: true })).toBeVisible();
  await expect(page).toHaveURL(/section=activity/);
  const newest = page.locator('table.activity tbody tr').first();
  await expect(newest).toContainText('Changed the instructions');
  await expect(newest).toContainText('Acme support');

  const automatic = page.locator('table.activity tbody tr').filter({ hasText: '(automatic)' });
  await expect(automatic.first()).toContainText('Conversation went from with the bot to waiting for a person');
  await page.getByLabel('Member').selectOption({ label: 'Admin' });
  await expect(page.locator('table.activity tbody tr').first()).toContainText('Admin');
  await expect(automatic).toHaveCount(0);
});

test('General creates a chatbot, whose Widget section saves a colour, and archiving it closes its widget', async ({
  page,
  browser,
}) => {
  await signedIn(page, '/settings?bot=demo&section=general');
  await expect(page.getByRole('heading', { name: 'General', exact: true })).toBeVisible();
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Acme support');
  await page.getByLabel("New chatbot's name").fill('Globex Help');
  await page.getByRole('button', { name: 'Create chatbot' }).click();
  await expect(page).toHaveURL(/bot=globex-help-[a-z0-9]{6}&section=general/);
  await expect(page.getByLabel('Name', { exact: true })).toHaveValue('Globex Help');
  const botId = new URL(page.url()).searchParams.get('bot') ?? '';
  await expect(page.getByLabel(/^Embed tag/)).toHaveValue(
    `<script src="${baton.url}/embed.js" data-bot="${botId}" async></script>`,
  );
  await expect(page.getByLabel('Chatbot', { exact: true })).toHaveValue(botId);

  await page.getByRole('navigation', { name: 'Chatbot settings' }).getByRole('link', { name: 'Widget' }).click();
  await expect(page.getByRole('heading', { name: 'Widget', exact: true })).toBeVisible();
  await page.getByLabel('Brand colour', { exact: true }).fill('#fde047');
  await expect(page.locator('#widget-color-ink')).toContainText('Dark text on it');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('.widget-form [role="status"]')).toHaveText('Saved');

  await page.getByRole('navigation', { name: 'Chatbot settings' }).getByRole('link', { name: 'General' }).click();
  await page.getByRole('button', { name: 'Archive this chatbot' }).click();
  const dialog = page.getByRole('dialog', { name: 'Archive this chatbot?' });
  await dialog.getByRole('button', { name: 'Archive' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByText('Archived.')).toBeVisible();

  const visitor = await browser.newPage();
  const errors = collectErrors(visitor);
  await openHydrated(visitor, `${baton.url}/widget/${botId}`);
  await expect(visitor.getByText('This chat is closed')).toBeVisible();
  await expect(visitor.getByLabel('Message')).toHaveCount(0);
  await visitor.close();
  expect(errors, 'the widget logged errors').toEqual([]);
});
