import { Page } from '@playwright/test';
import { test, expect } from './fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../global-setup';

// The demo host page embeds the widget with `<script src="/embed.js" data-bot="demo" async>`.

function launcher(page: Page) {
  return page.locator('baton-chat').getByRole('button', { name: /chat/ });
}

function widget(page: Page) {
  return page.frameLocator('baton-chat iframe');
}

async function openWidget(page: Page) {
  await launcher(page).click();
  const frame = widget(page);
  await expect(frame.locator('html[data-hydrated="true"]')).toHaveCount(1);
  return frame;
}

test('the embed script adds a launcher the host page styles cannot reach, and loads the widget on demand', async ({ page }) => {
  await page.goto('/demo');
  const button = launcher(page);
  await expect(button).toHaveAccessibleName('Open chat with Acme support');
  // The host page styles every button hot pink with a dashed border; the launcher keeps the chatbot's colour.
  await expect(button).toHaveCSS('background-color', 'rgb(67, 56, 202)');
  await expect(button).toHaveCSS('border-top-style', 'none');
  const box = await button.boundingBox();
  const viewport = page.viewportSize()!;
  expect(box!.x + box!.width, 'bottom right corner').toBeGreaterThan(viewport.width - 100);
  expect(box!.y + box!.height).toBeGreaterThan(viewport.height - 100);
  // Nothing of the widget is loaded until it is wanted.
  await expect(page.locator('baton-chat iframe')).toHaveCount(0);

  const frame = await openWidget(page);
  await expect(button).toHaveAttribute('aria-expanded', 'true');
  await expect(frame.getByRole('heading', { name: 'Acme support' })).toBeVisible();
  await expect(frame.getByLabel('Message'), 'focus moves into the chat').toBeFocused();
  await expect(frame.locator('.message.bot .bubble').first()).toContainText("Hi! I'm Acme's assistant");

  // Escape closes it and gives focus back to the launcher.
  await page.keyboard.press('Escape');
  await expect(page.locator('baton-chat iframe')).toBeHidden();
  await expect(button).toBeFocused();
  await expect(button).toHaveAttribute('aria-expanded', 'false');
});

test('an embedded chat hands over to a person, counts unread replies, and follows the visitor across the site', async ({
  page,
  playwright,
  baseURL,
  allowConsoleError,
}) => {
  await page.goto('/demo');
  const frame = await openWidget(page);
  const box = frame.getByLabel('Message');
  await box.fill('Can I talk to a person?');
  await box.press('Enter');

  // The bot asks for the email: the composer becomes an email field.
  const email = frame.getByLabel('Your email');
  await expect(email).toBeVisible();
  await expect(email).toBeFocused();
  await email.fill('sam@example');
  await email.press('Enter');
  await expect(frame.getByRole('alert')).toContainText('Please check the address');
  await email.fill('sam.embed@example.com');
  await email.press('Enter');
  await expect(frame.locator('.message.system').last()).toHaveText(
    'A team member has been notified and will join this chat shortly.',
  );
  await expect(frame.getByLabel('Message'), 'back to the message box').toBeVisible();

  // Closed, the replies of the agent who takes over show as unread on the launcher.
  await frame.getByRole('button', { name: 'Close chat' }).click();
  await expect(launcher(page)).toBeFocused();
  const stored = await page.evaluate(() => localStorage.getItem('baton.active.demo'));
  expect(stored, 'the host page remembers a conversation is going on').toBe('1');
  const id = await frame.locator('body').evaluate(() => JSON.parse(localStorage.getItem('baton.chat.demo')!).conversation_id);

  const agent = await playwright.request.newContext({ baseURL });
  expect((await agent.post('/api/v1/auth/login', { data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })).ok()).toBeTruthy();
  expect((await agent.post('/api/v1/inbox/claim', { data: { conversation_id: id } })).ok()).toBeTruthy();
  const reply = await agent.post('/api/v1/inbox/reply', {
    data: { conversation_id: id, client_id: 'embed-agent-1', text: 'Hi Sam, Admin here.' },
  });
  expect(reply.ok()).toBeTruthy();
  await expect(launcher(page)).toHaveAccessibleName('Open chat with Acme support (2 unread)');
  await expect(page.locator('baton-chat .badge')).toHaveText('2');

  await launcher(page).click();
  await expect(page.locator('baton-chat .badge')).toBeHidden();
  await expect(frame.locator('.message.agent .bubble').last()).toHaveText('Hi Sam, Admin here.');

  // Another page of the host site: the widget is loaded at once and the conversation continues.
  await page.goto('/demo?page=docs');
  await expect(page.locator('baton-chat iframe')).toHaveCount(1);
  const again = await openWidget(page);
  await expect(again.locator('.message.agent .bubble').last()).toHaveText('Hi Sam, Admin here.');
  await again.getByLabel('Message').fill('Thanks!');
  await again.getByLabel('Message').press('Enter');
  await expect(again.locator('.message.visitor:not(.pending) .bubble').last()).toHaveText('Thanks!');
  await agent.dispose();
});

test('an embed tag naming no chatbot adds nothing and says why on the console', async ({ page, allowConsoleError }) => {
  allowConsoleError(/Baton: there is no chatbot "nope"|status of 404/);
  await page.route('**/demo', async (route) => {
    const response = await route.fetch();
    const html = (await response.text()).replace('data-bot="demo"', 'data-bot="nope"');
    await route.fulfill({ response, body: html });
  });
  const messages: string[] = [];
  page.on('console', (msg) => messages.push(msg.text()));
  await page.goto('/demo');
  await expect.poll(() => messages.some((m) => m.includes('there is no chatbot "nope"'))).toBeTruthy();
  await expect(page.locator('baton-chat')).toHaveCount(0);
});
