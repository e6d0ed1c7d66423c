// What a visitor and an agent see around a handoff: the widget keeps the newest
// message in view (on a desktop and a phone, embedded and reopened), the email field
// takes a natural answer, and the Inbox names the visitor the way the bot did.
import { APIRequestContext, FrameLocator, Page } from '@playwright/test';
import { test, expect, openHydrated } from './fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../global-setup';

type Scope = Page | FrameLocator;

/** Whether the last line of the transcript lies inside its scroll area. */
async function newestInView(scope: Scope): Promise<boolean> {
  return scope.locator('.messages').evaluate((list) => {
    const last = list.lastElementChild;
    if (!last) return true;
    const area = list.getBoundingClientRect();
    const line = last.getBoundingClientRect();
    return line.bottom <= area.bottom + 1 && (line.top >= area.top - 1 || line.height > area.height);
  });
}

async function expectNewestInView(scope: Scope, what: string) {
  await expect.poll(() => newestInView(scope), { message: `the newest line is in view after ${what}` }).toBe(true);
}

async function say(scope: Scope, text: string) {
  const box = scope.getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(scope.locator('.message.visitor:not(.pending) .bubble').last()).toHaveText(text);
}

/** A long enough transcript that it scrolls. */
async function fill(scope: Scope) {
  for (const question of ['How much is the Team plan?', 'How do I turn on two-factor authentication?', 'Do you have SSO?']) {
    const before = await scope.locator('.message.bot').count();
    await say(scope, question);
    await expect(scope.locator('.message.bot')).toHaveCount(before + 1);
  }
}

async function agentFor(playwright: { request: { newContext: (o: object) => Promise<APIRequestContext> } }, baseURL: string) {
  const agent = await playwright.request.newContext({ baseURL });
  const login = await agent.post('/api/v1/auth/login', { data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  expect(login.ok()).toBeTruthy();
  return agent;
}

async function conversationIn(scope: Scope): Promise<string> {
  return scope.locator('body').evaluate(() => JSON.parse(localStorage.getItem('baton.chat.demo')!).conversation_id);
}

async function claimAndReply(agent: APIRequestContext, id: string, clientId: string, text: string) {
  await agent.post('/api/v1/inbox/claim', { data: { conversation_id: id } });
  const reply = await agent.post('/api/v1/inbox/reply', { data: { conversation_id: id, client_id: clientId, text } });
  expect(reply.ok(), await reply.text()).toBeTruthy();
}

for (const device of [
  { name: 'desktop', viewport: { width: 1280, height: 800 } },
  { name: 'phone', viewport: { width: 390, height: 640 } },
]) {
  test(`on a ${device.name} the widget keeps the newest message in view, unless the visitor scrolled up`, async ({
    page,
    playwright,
    baseURL,
  }) => {
    await page.setViewportSize(device.viewport);
    await openHydrated(page, '/widget/demo');
    await fill(page);
    await expectNewestInView(page, 'the bot answers');

    await say(page, 'Can I talk to a person?');
    const email = page.getByLabel('Your email');
    await expect(email).toBeVisible();
    await expectNewestInView(page, 'the question for the email');
    // The seed's own answer: a sentence holding the address.
    await email.fill(`Sure, it's riley.${device.name}@example.com`);
    await email.press('Enter');
    await expect(page.locator('.message.system').last()).toHaveText(
      'A team member has been notified and will join this chat shortly.',
    );
    await expect(page.locator('.message.visitor .bubble').last()).toHaveText(`riley.${device.name}@example.com`);
    await expectNewestInView(page, 'the email is sent');

    const agent = await agentFor(playwright, baseURL!);
    const id = await conversationIn(page);
    await claimAndReply(agent, id, `follow-${device.name}-1`, 'Hi Riley, I am looking into your account now.');
    await expect(page.locator('.message.agent .bubble').last()).toHaveText('Hi Riley, I am looking into your account now.');
    await expectNewestInView(page, "the agent's first reply");

    // Scrolled up to read: the transcript stays, and offers a way down.
    await page.locator('.messages').evaluate((list) => list.scrollTo({ top: 0 }));
    await expect.poll(() => newestInView(page)).toBe(false);
    await claimAndReply(agent, id, `follow-${device.name}-2`, 'Found it: the invoice was sent twice.');
    await expect(page.locator('.message.agent .bubble').last()).toHaveText('Found it: the invoice was sent twice.');
    await expect(page.getByRole('button', { name: 'New messages ↓' })).toBeVisible();
    expect(await newestInView(page), 'it did not jump while the visitor read').toBe(false);
    await page.getByRole('button', { name: 'New messages ↓' }).click();
    await expectNewestInView(page, 'the jump to the newest');
    await expect(page.getByRole('button', { name: 'New messages ↓' })).toBeHidden();
    await agent.dispose();
  });
}

test('an embedded widget reopened after unread replies shows the newest of them', async ({ page, playwright, baseURL }) => {
  await page.goto('/demo');
  await page.locator('baton-chat').getByRole('button', { name: /chat/ }).click();
  const frame = page.frameLocator('baton-chat iframe');
  await expect(frame.locator('html[data-hydrated="true"]')).toHaveCount(1);
  await fill(frame);
  await say(frame, 'I want to speak to a human please');
  await frame.getByLabel('Your email').fill('reopen.visitor@example.com');
  await frame.getByLabel('Your email').press('Enter');
  await expect(frame.locator('.message.system').last()).toContainText('A team member has been notified');
  await frame.getByRole('button', { name: 'Close chat' }).click();

  const agent = await agentFor(playwright, baseURL!);
  const id = await conversationIn(frame);
  await claimAndReply(agent, id, 'reopen-1', 'Hello! I have your request here and I am on it.');
  await expect(page.locator('baton-chat .badge')).toHaveText('2');
  await page.locator('baton-chat').getByRole('button', { name: /chat/ }).click();
  await expect(frame.locator('.message.agent .bubble').last()).toHaveText('Hello! I have your request here and I am on it.');
  await expectNewestInView(frame, 'reopening');
  await agent.dispose();
});

test('the Inbox names the visitor as the bot did, with the email beside it, and a queued request can be resolved', async ({
  page,
  browser,
  baseURL,
}) => {
  const visitor = await browser.newPage({ baseURL });
  await openHydrated(visitor, '/widget/demo');
  await say(visitor, 'Can I talk to a person?');
  await visitor.getByLabel('Your email').fill('riley.inbox@example.com');
  await visitor.getByLabel('Your email').press('Enter');
  await expect(visitor.locator('.message.bot .bubble').last()).toContainText('Thanks, Riley.');
  const id = await conversationIn(visitor);

  const login = await page.request.post('/api/v1/auth/login', { data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  expect(login.ok()).toBeTruthy();
  await openHydrated(page, `/inbox?view=needs_human&c=${id}`);
  await expect(page.locator('.conversation-head h2')).toHaveText('Riley');
  await expect(page.locator('.conversation-head')).toContainText('riley.inbox@example.com');
  const item = page.locator(`[data-conversation="${id}"]`);
  await expect(item.locator('.item-who')).toHaveText('Riley');
  await expect(item.locator('.item-email')).toHaveText('riley.inbox@example.com');
  await expect(page.locator('.transcript .line.visitor .line-who').first()).toHaveText('Riley');

  // A request that needs no reply: resolved straight from the queue, as the state machine allows.
  await page.getByRole('button', { name: 'Resolve', exact: true }).click();
  await page.getByRole('button', { name: 'Resolve and hand back to the AI' }).click();
  await expect(page.locator('.notice')).toContainText('Resolved.');
  await expect(visitor.locator('.message.system').last()).toContainText('marked this conversation as resolved');
  await visitor.close();
});
