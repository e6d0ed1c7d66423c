// Settings as an admin uses it, on a Baton of its own (the tests change the demo
// chatbot and the team): the Instructions section saves an always-escalate phrase
// that the very next visitor message follows; leaving a section with unsaved edits
// asks first; Team adds an agent (who is then refused Settings), keeps the last
// admin one, and removes a member; Knowledge adds, imports, answers and deletes;
// Activity lists what was just done; General and Widget create, colour and archive
// a chatbot; AI model tests and saves a chatbot's own endpoint, which then answers;
// the Playground answers, asks for the email, stores nothing and follows a new phrase.
import http from 'node:http';
import { AddressInfo } from 'node:net';
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

/** A local OpenAI-compatible endpoint: answers `reply` to the key `key`, 401 to any other. */
async function fakeModel(key: string, reply: string) {
  const seen: string[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      seen.push(body);
      response.setHeader('content-type', 'application/json');
      if (request.headers.authorization !== `Bearer ${key}`) {
        response.statusCode = 401;
        response.end(JSON.stringify({ error: { message: 'Incorrect API key provided', type: 'invalid_request_error' } }));
        return;
      }
      const asked = JSON.parse(body).messages.at(-1).content as string;
      const content = asked.startsWith('Reply with the single word OK') ? 'OK' : reply;
      response.end(JSON.stringify({
        id: 'chatcmpl-e2e', object: 'chat.completion', created: 1700000000, model: 'e2e-model',
        choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
      }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}/v1`, seen, close: () => new Promise((r) => server.close(r)) };
}

test("AI model: a chatbot's own endpoint is tested, saved with a write-only key, and answers its visitors", async ({
  page,
  browser,
  allowConsoleError,
}) => {
  allowConsoleError(/status of 422 .*\/api\/v1\/settings\/model\/test\)$/);
  allowConsoleError(/status of 400 .*\/api\/v1\/settings\/model\/save\)$/);
  const model = await fakeModel('sk-e2e-0123456789wxyz', 'Hello from the chatbot’s own model.');
  // The fake is on loopback, which Baton refuses unless the operator allows it.
  const own = await startBaton({ BATON_ALLOWED_INTERNAL_HOSTS: new URL(model.baseUrl).host });
  const login = await page.request.post(`${own.url}/api/v1/auth/login`, {
    data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD },
  });
  expect(login.ok()).toBeTruthy();
  const created = await page.request.post(`${own.url}/api/v1/settings/chatbots/create`, { data: { name: 'Model Bot' } });
  expect(created.ok()).toBeTruthy();
  const botId = (await created.json()).chatbot.bot_id as string;

  await openHydrated(page, `${own.url}/settings?bot=${botId}&section=model`);
  await expect(page.getByRole('heading', { name: 'AI model', exact: true })).toBeVisible();
  await expect(page.getByLabel(/^The server's default: the built-in AI/)).toBeChecked();
  await page.getByLabel('An OpenAI-compatible endpoint').check();
  // An address inside the network (here the cloud metadata one) is refused at the field, before any call.
  await page.getByLabel('Base URL').fill('http://169.254.169.254/v1');
  await page.getByLabel('Model', { exact: true }).fill('e2e-model');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('#model-base-url-error')).toContainText('link-local address');
  await page.getByLabel('Base URL').fill(model.baseUrl);
  await page.getByLabel('Model', { exact: true }).fill('e2e-model');
  await page.getByLabel('API key').fill('sk-e2e-wrong-key-0000');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'The test failed' })).toContainText('refused the API key');

  await page.getByLabel('API key').fill('sk-e2e-0123456789wxyz');
  await page.getByRole('button', { name: 'Test connection' }).click();
  await expect(page.locator('.tested')).toContainText('Connected: e2e-model answered “OK”');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('.model-form .form-actions [role="status"]')).toHaveText('Saved');
  await expect(page.getByLabel('API key')).toHaveValue('');
  await expect(page.locator('#model-key-hint')).toContainText('A key ending wxyz is stored');

  // The server renders what was saved, without the key.
  await openHydrated(page, `${own.url}/settings?bot=${botId}&section=model`);
  await expect(page.getByLabel('An OpenAI-compatible endpoint')).toBeChecked();
  await expect(page.getByLabel('Base URL')).toHaveValue(model.baseUrl);
  expect(await page.content()).not.toContain('0123456789wxyz');

  const visitor = await browser.newPage();
  const errors = collectErrors(visitor);
  await openHydrated(visitor, `${own.url}/widget/${botId}`);
  const box = visitor.getByLabel('Message');
  await box.fill('What can you do for me?');
  await box.press('Enter');
  await expect(visitor.getByText('Hello from the chatbot’s own model.')).toBeVisible();
  await visitor.close();
  expect(errors, 'the widget logged errors').toEqual([]);
  await model.close();
  await own.stop();
});

test('Playground: knowledge answers, a request for a person asks for the email, nothing reaches the Inbox, and a new phrase applies without a reload', async ({
  page,
}) => {
  await signedIn(page, '/settings?section=general');
  const created = await page.request.post(`${baton.url}/api/v1/settings/chatbots/create`, {
    data: { name: 'Playground Bot' },
  });
  expect(created.ok()).toBeTruthy();
  const botId = (await created.json()).chatbot.bot_id as string;
  const saved = await page.request.post(`${baton.url}/api/v1/settings/knowledge/save`, {
    data: {
      bot_id: botId,
      entry: { kind: 'qa', title: 'How long is the Flumox warranty?', body: 'Every Flumox carries a 9-year warranty.' },
    },
  });
  expect(saved.ok()).toBeTruthy();

  const counts = async () => {
    const answer = await page.request.post(`${baton.url}/api/v1/inbox/counts`, { data: {} });
    expect(answer.ok()).toBeTruthy();
    return answer.json();
  };
  const before = await counts();

  await openHydrated(page, `${baton.url}/settings?bot=${botId}&section=playground`);
  await expect(page.getByRole('heading', { name: 'Playground', exact: true })).toBeVisible();
  const chat = page.getByRole('region', { name: 'Playground chat' });
  const why = page.getByRole('region', { name: 'Why the bot did it' });
  await expect(why).toContainText('Send a message');
  const send = async (text: string) => {
    await page.getByLabel('Message', { exact: true }).fill(text);
    await page.getByRole('button', { name: 'Send', exact: true }).click();
  };

  await send('how long is the warranty on a flumox?');
  const turn1 = why.getByRole('listitem', { name: 'Turn 1' });
  await expect(turn1.getByRole('heading')).toHaveText('Turn 1: Answer');
  await expect(turn1).toContainText('Answers from “How long is the Flumox warranty?”');
  await expect(chat.locator('.line.bot').last()).toContainText('Every Flumox carries a 9-year warranty.');

  await send('I want a person');
  const turn2 = why.getByRole('listitem', { name: 'Turn 2' });
  await expect(turn2.getByRole('heading')).toHaveText('Turn 2: Ask for the email');
  await expect(turn2.locator('[data-reason]')).toHaveText('Reason: Asked for a person explicit_request');
  await expect(turn2.locator('[data-signal="explicit_request"]')).toBeVisible();
  await expect(chat.locator('.line.bot').last()).toContainText('email');

  await send('not an email');
  await expect(why.getByRole('listitem', { name: 'Turn 3' }).getByRole('heading')).toHaveText(
    'Turn 3: Ask for the email again',
  );
  await send('pat@example.com');
  await expect(why.getByRole('listitem', { name: 'Turn 4' }).getByRole('heading')).toHaveText(
    'Turn 4: Hand over to a person',
  );
  await expect(chat.getByRole('status')).toContainText('Here a person would take over');
  await expect(page.getByLabel('Message', { exact: true })).toBeDisabled();

  // Nothing of it exists for the team.
  const listed = await page.request.post(`${baton.url}/api/v1/inbox/conversations`, { data: { filter: 'all' } });
  expect(listed.ok()).toBeTruthy();
  const conversations = (await listed.json()).conversations as { bot_id: string }[];
  expect(conversations.filter((c) => c.bot_id === botId)).toEqual([]);
  expect(await counts(), 'the Inbox counts did not move').toEqual(before);

  await page.getByRole('button', { name: 'Reset' }).click();
  await expect(why).toContainText('Send a message');
  await expect(chat.locator('.line')).toHaveCount(1);
  await expect(page.getByLabel('Message', { exact: true })).toBeEnabled();

  // Before the phrase, a shipping question is the bot's to answer (it does not know).
  await send('Do you ship the Flumox to Canada?');
  await expect(why.getByRole('listitem', { name: 'Turn 1' }).getByRole('heading')).toHaveText(
    /^Turn 1: (Answer|Don't know)$/,
  );

  // An always-escalate phrase saved in another tab: the very next Playground turn follows it.
  await page.evaluate(() => ((window as unknown as { stillHere: boolean }).stillHere = true));
  const other = await page.context().newPage();
  await openHydrated(other, `${baton.url}/settings?bot=${botId}&section=instructions`);
  await other.getByLabel('Always hand over when a message contains').fill('canada');
  await other.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(other.locator('.instructions-form [role="status"]')).toHaveText('Saved');
  await other.close();

  await send('Do you ship the Flumox to Canada?');
  const turn2again = why.getByRole('listitem', { name: 'Turn 2' });
  await expect(turn2again.getByRole('heading')).toHaveText('Turn 2: Ask for the email');
  await expect(turn2again.locator('[data-signal="always_phrase"]')).toContainText('“canada”');
  expect(await page.evaluate(() => (window as unknown as { stillHere?: boolean }).stillHere)).toBe(true);
});
