import { APIRequestContext, Page } from '@playwright/test';
import { test, expect, openHydrated } from './fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../global-setup';

/** Types into the widget's composer and sends with Enter. */
async function say(page: Page, text: string) {
  const box = page.getByLabel('Message');
  await box.fill(text);
  await box.press('Enter');
  await expect(page.locator('.message.visitor .bubble').last()).toHaveText(text);
}

function lastBot(page: Page) {
  return page.locator('.message.bot .bubble').last();
}

/** The conversation id this browser keeps for the demo bot. */
async function conversationId(page: Page): Promise<string> {
  const stored = await page.evaluate(() => localStorage.getItem('baton.chat.demo'));
  expect(stored, 'the widget keeps its conversation in localStorage').not.toBeNull();
  return JSON.parse(stored!).conversation_id;
}

async function signedInAgent(playwright: { request: { newContext: (o: object) => Promise<APIRequestContext> } }, baseURL: string) {
  const agent = await playwright.request.newContext({ baseURL });
  const login = await agent.post('/api/v1/auth/login', { data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  expect(login.ok()).toBeTruthy();
  return agent;
}

test('a visitor chats with the bot, is handed to a person, and the agent replies live', async ({ page, playwright, baseURL }) => {
  await openHydrated(page, '/widget/demo');
  await say(page, 'How much is the Team plan?');
  await expect(lastBot(page)).toContainText('Team at $29 a month');

  await say(page, 'Can I talk to a person?');
  await expect(lastBot(page)).toContainText('Can I get the best email to reach you at?');
  // The visitor may answer in words instead of with the email field.
  await page.getByRole('button', { name: 'Reply with a message instead' }).click();
  await say(page, 'sure, sam.widget@example.com');
  await expect(page.locator('.message.system').last()).toHaveText(
    'A team member has been notified and will join this chat shortly.',
  );

  const id = await conversationId(page);
  const agent = await signedInAgent(playwright, baseURL!);
  expect((await agent.post('/api/v1/inbox/claim', { data: { conversation_id: id } })).ok()).toBeTruthy();
  await expect(page.locator('.message.system').last()).toHaveText('Admin joined the chat');
  const reply = await agent.post('/api/v1/inbox/reply', {
    data: { conversation_id: id, client_id: 'e2e-agent-1', text: 'Hi Sam, I can help with that.' },
  });
  expect(reply.ok()).toBeTruthy();
  const agentMessage = page.locator('.message.agent').last();
  await expect(agentMessage.locator('.bubble')).toHaveText('Hi Sam, I can help with that.');
  await expect(agentMessage.locator('.author')).toHaveText('Admin');

  // A reload continues the same conversation.
  await openHydrated(page, '/widget/demo');
  await expect(page.locator('.message.agent .bubble').last()).toHaveText('Hi Sam, I can help with that.');
  await say(page, 'thanks, I will wait');
  await expect(page.locator('.message.visitor:not(.pending) .bubble').last()).toHaveText('thanks, I will wait');

  // Resolved: the bot answers again.
  expect((await agent.post('/api/v1/inbox/resolve', { data: { conversation_id: id } })).ok()).toBeTruthy();
  await say(page, 'How do I reset my password?');
  await expect(lastBot(page)).toContainText('Forgot password?');
  await agent.dispose();
});

test('a message typed while offline is sent once when the connection is back', async ({ page, allowConsoleError }) => {
  // Chromium reports the failed requests while offline on the console.
  allowConsoleError(/ERR_INTERNET_DISCONNECTED|Failed to fetch|WebSocket/);
  await openHydrated(page, '/widget/demo');
  await say(page, 'hello');
  await expect(lastBot(page)).toContainText('What can I help you with');

  await page.context().setOffline(true);
  await say(page, 'Is there a free trial?');
  await expect(page.locator('.message.pending .meta')).toHaveText('Waiting to send');

  await page.context().setOffline(false);
  await expect(lastBot(page)).toContainText('14-day free trial');
  await expect(page.locator('.message.pending')).toHaveCount(0);
  await expect(page.locator('.message.visitor .bubble', { hasText: 'Is there a free trial?' })).toHaveCount(1);
});
