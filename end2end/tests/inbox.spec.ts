// The agents' Inbox in the browser: sign-in, the live queue, the race to take over,
// live replies and typing, private notes, suggested replies and resolve, against a
// visitor's real widget in another browser context.
import { Browser, Page, WebSocketRoute } from '@playwright/test';
import { test, expect, openHydrated, collectErrors } from './fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD } from '../global-setup';

const AGENT_PASSWORD = 'agent-password-e2e-1';
// A lost claim is a 409, and Chromium reports every non-2xx answer on the console.
const LOST_CLAIM = /status of 409 .*\/api\/v1\/inbox\/claim\)$/;

async function signIn(page: Page, email: string, password: string) {
  await openHydrated(page, '/inbox');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('heading', { name: 'Needs human' })).toBeVisible();
  await expect(page.locator('.connection-badge')).toHaveText('Live');
}

/** A new agent in the demo workspace, created by the admin through the API. */
async function newAgent(browser: Browser, baseURL: string, name: string) {
  const admin = await browser.newContext({ baseURL });
  const login = await admin.request.post('/api/v1/auth/login', { data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
  expect(login.ok()).toBeTruthy();
  const email = `${name.toLowerCase().replace(/\W+/g, '.')}@e2e.test`;
  const created = await admin.request.post('/api/v1/team/members', {
    data: { email, name, password: AGENT_PASSWORD, role: 'agent' },
  });
  expect(created.ok(), await created.text()).toBeTruthy();
  await admin.close();
  return email;
}

/** A visitor on the widget who asks for a person and gives `email`: escalated. */
async function escalate(visitor: Page, email: string) {
  await openHydrated(visitor, '/widget/demo');
  const box = visitor.getByLabel('Message');
  await box.fill('Can I talk to a person please?');
  await box.press('Enter');
  await visitor.getByLabel('Your email').fill(email);
  await visitor.getByLabel('Your email').press('Enter');
  await expect(visitor.locator('.message.system').last()).toHaveText(
    'A team member has been notified and will join this chat shortly.',
  );
}

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

test('the session survives a reload, keeps the open view in the address, and signing out ends it', async ({ page }) => {
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.getByRole('button', { name: /^Resolved/ }).click();
  await expect(page.getByRole('heading', { name: 'Resolved' })).toBeVisible();
  await expect(page).toHaveURL(/view=resolved/);

  await openHydrated(page, page.url());
  await expect(page.getByRole('heading', { name: 'Resolved' })).toBeVisible();

  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page.getByRole('heading', { name: 'Sign in to Baton' })).toBeVisible();
  await openHydrated(page, '/inbox');
  await expect(page.getByRole('heading', { name: 'Sign in to Baton' })).toBeVisible();
});

test('two agents race to take over a live escalation; the winner works it to resolve', async ({
  page,
  browser,
  baseURL,
  allowConsoleError,
}) => {
  test.setTimeout(90_000);
  allowConsoleError(LOST_CLAIM);
  const run = Math.random().toString(36).slice(2, 8);
  const [anaEmail, benEmail] = await Promise.all([
    newAgent(browser, baseURL!, `Ana ${run}`),
    newAgent(browser, baseURL!, `Ben ${run}`),
  ]);
  const benContext = await browser.newContext({ baseURL });
  const visitorContext = await browser.newContext({ baseURL });
  const ana = page;
  const ben = await benContext.newPage();
  const visitor = await visitorContext.newPage();
  const problems = [collectErrors(ben, [LOST_CLAIM]), collectErrors(visitor)];

  // Everything the visitor's browser receives, to prove no note is ever in it.
  const visitorPayloads: string[] = [];
  visitor.on('websocket', (socket) => socket.on('framereceived', (frame) => visitorPayloads.push(String(frame.payload))));
  visitor.on('response', async (response) => {
    if (response.url().includes('/api/')) visitorPayloads.push(await response.text().catch(() => ''));
  });

  await signIn(ana, anaEmail, AGENT_PASSWORD);
  await signIn(ben, benEmail, AGENT_PASSWORD);

  // The escalation arrives in both Inboxes without a reload.
  const email = `sam.${run}@example.com`;
  await escalate(visitor, email);
  for (const agent of [ana, ben]) {
    const item = agent.locator('.conversation-item', { hasText: email });
    await expect(item).toBeVisible();
    await expect(item).toContainText('Asked for a person');
    await expect(item).toContainText(/Waiting/);
    await item.click();
    await expect(agent.locator('.packet')).toContainText('Asked for a person');
    await expect(agent.locator('.transcript')).toContainText('Can I talk to a person please?');
  }

  // Both take over at the same moment (raw clicks at the buttons, dispatched together,
  // so neither waits on the other's outcome): exactly one wins, the other is told who.
  const targets = await Promise.all(
    [ana, ben].map(async (agent) => {
      const button = agent.getByRole('button', { name: 'Take over' });
      await expect(button).toBeEnabled();
      const box = (await button.boundingBox())!;
      return { agent, x: box.x + box.width / 2, y: box.y + box.height / 2 };
    }),
  );
  await Promise.all(targets.map(({ agent, x, y }) => agent.mouse.click(x, y)));
  const handling = async (agent: Page) => (await agent.locator('.state-pill').textContent()) ?? '';
  await expect.poll(async () => [await handling(ana), await handling(ben)].filter((t) => t === 'You are handling this').length).toBe(1);
  const anaWon = (await handling(ana)) === 'You are handling this';
  const [winner, loser, winnerName] = anaWon ? [ana, ben, `Ana ${run}`] : [ben, ana, `Ben ${run}`];
  await expect(loser.locator('.notice.error')).toContainText(`${winnerName} is already handling this conversation`);
  await expect(loser.locator('.state-pill')).toHaveText(`${winnerName} is handling this`);
  await expect(visitor.locator('.message.system', { hasText: 'joined the chat' })).toHaveText(`${winnerName} joined the chat`);

  // A private note: the team sees it (live, on the other agent's screen too); the visitor never does.
  const secret = `refund approved internally ${run}`;
  await winner.getByRole('tab', { name: /Internal note/ }).click();
  await expect(winner.locator('.note-warning')).toHaveText('Only your team sees notes. They never reach the visitor.');
  await winner.locator('#inbox-composer-text').fill(secret);
  await winner.getByRole('button', { name: 'Add note' }).click();
  for (const agent of [winner, loser]) {
    const note = agent.locator('.line.note', { hasText: secret });
    await expect(note).toBeVisible();
    await expect(note).toContainText('only your team sees this');
  }

  // A suggested reply, edited, then sent with Enter: it shows live in the widget,
  // and the visitor saw the agent typing first.
  await winner.getByRole('tab', { name: 'Reply' }).click();
  await winner.getByRole('button', { name: 'Suggest a reply' }).click();
  const composer = winner.locator('#inbox-composer-text');
  await expect(composer).not.toHaveValue('');
  const suggested = await composer.inputValue();
  const reply = `${suggested} (Checked by ${winnerName}.)`;
  await composer.fill(reply);
  await expect(visitor.locator('.typing')).toHaveText(`${winnerName} is typing…`);
  await composer.press('Enter');
  await expect(composer).toHaveValue('');
  await expect(winner.locator('.line.agent').last()).toContainText('Sent');
  const shown = visitor.locator('.message.agent').last();
  await expect(shown.locator('.bubble')).toHaveText(reply);
  await expect(shown.locator('.author')).toHaveText(winnerName);
  await expect(visitor.locator('.message.system', { hasText: 'joined the chat' })).toHaveCount(1);

  // The visitor answers live, and the agent sees it.
  const box = visitor.getByLabel('Message');
  await box.fill(`Thanks ${run}!`);
  await box.press('Enter');
  await expect(winner.locator('.line.visitor').last()).toContainText(`Thanks ${run}!`);
  await expect(winner.locator('.line.visitor').last().locator('.line-flag')).toHaveCount(0);
  // A card number stays in the Inbox as typed, marked as kept from the desk and the AI.
  await box.fill('My card is 4111 1111 1111 1111');
  await box.press('Enter');
  const carded = winner.locator('.line.visitor').last();
  await expect(carded.locator('.bubble')).toHaveText('My card is 4111 1111 1111 1111');
  await expect(carded.locator('.line-flag')).toContainText('card number: removed before the help desk and the AI');

  // Resolve, confirmed; then the bot answers the visitor again.
  await winner.getByRole('button', { name: 'Resolve', exact: true }).click();
  await expect(winner.getByRole('dialog')).toContainText('The AI assistant takes the chat back');
  await winner.getByRole('button', { name: 'Resolve and hand back to the AI' }).click();
  await expect(winner.locator('.notice')).toContainText('Resolved.');
  await expect(winner.locator('.state-pill')).toHaveText('Resolved · the AI answers again');
  await box.fill('How much is the Team plan?');
  await box.press('Enter');
  await expect(visitor.locator('.message.bot .bubble').last()).toContainText('Team at $29 a month');

  await expect(visitor.getByText(secret)).toHaveCount(0);
  expect(visitorPayloads.length).toBeGreaterThan(5);
  expect(visitorPayloads.filter((payload) => payload.includes(secret))).toEqual([]);
  expect(problems.flat()).toEqual([]);
  await benContext.close();
  await visitorContext.close();
});

test('the Inbox reconnects after a dropped connection and catches up on what it missed', async ({
  page,
  request,
  allowConsoleError,
}) => {
  allowConsoleError(/WebSocket/);
  // Every /live/inbox connection goes through here: while `cutOff`, Baton is
  // "unreachable" (each attempt is closed at once); otherwise it is passed through.
  let cutOff = false;
  const sockets: WebSocketRoute[] = [];
  await page.routeWebSocket(/\/live\/inbox$/, (socket) => {
    if (cutOff) {
      socket.close({ code: 1011, reason: 'test: unreachable' });
      return;
    }
    socket.connectToServer();
    sockets.push(socket);
  });
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);

  cutOff = true;
  await sockets[0].close({ code: 1001, reason: 'test: connection dropped' });
  await expect(page.locator('.connection-badge')).toHaveText('Reconnecting…');

  // Escalated while the Inbox could not hear it.
  const email = `offline.${Math.random().toString(36).slice(2, 8)}@example.com`;
  const start = await request.post('/api/v1/widget/start', { data: { bot_id: 'demo', email } });
  const { conversation_id, visitor_token } = await start.json();
  const send = await request.post('/api/v1/widget/send', {
    headers: { authorization: `Bearer ${visitor_token}` },
    data: { conversation_id, client_id: 'offline-1', text: 'I want to talk to a human' },
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

  cutOff = false;
  await expect(page.locator('.connection-badge')).toHaveText('Live', { timeout: 20_000 });
  await expect(page.locator('.conversation-item', { hasText: email })).toBeVisible();
  // The queue's count came back with it.
  await expect(page.locator('.view-tab .count.hot')).toHaveText(/^[1-9]\d*$/);
});
