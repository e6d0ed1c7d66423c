// Help-desk mode as the admin and the visitor live it. The admin connects Zendesk (a
// local fake that answers as Zendesk documents) through Settings → Integrations, sees
// a wrong key refused with the reason, and turns Live Agent Handoff off; then asking
// for a person in the widget collects the email, the bot confirms in the seed's
// words, the chat ends with "Start a new conversation", and the desk receives exactly
// one ticket holding the summary, the transcript and the email. Agents are told
// Settings is for admins.
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { Page, request } from '@playwright/test';
import { test, expect, openHydrated, collectErrors } from './fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD, Baton, startBaton } from '../baton';

const AGENT = 'agent@acme.test';
const TOKEN = 'zd-e2e-token-7731';

type Ticket = { subject: string; requester: { email: string }; comment: { html_body: string; public: boolean } };

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => resolve(text));
  });
}

/** Zendesk's users/me, ticket list and ticket creation, for one agent's API token. */
function fakeZendesk(tickets: Ticket[]): Promise<Server> {
  const expected = `Basic ${Buffer.from(`${AGENT}/token:${TOKEN}`).toString('base64')}`;
  const server = createServer(async (req, res) => {
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const signedIn = req.headers.authorization === expected;
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/api/v2/users/me.json') {
      return json(200, signedIn ? { user: { id: 1, name: 'Alex Agent', email: AGENT, role: 'admin' } } : { user: { id: null, role: 'end-user' } });
    }
    if (!signedIn) return json(401, { error: "Couldn't authenticate you" });
    if (req.method === 'GET' && path === '/api/v2/tickets.json') return json(200, { tickets: [] });
    if (req.method === 'POST' && path === '/api/v2/tickets.json') {
      const ticket = JSON.parse(await body(req)).ticket as Ticket;
      tickets.push(ticket);
      return json(201, { ticket: { ...ticket, id: 900 + tickets.length } });
    }
    json(404, { error: 'RecordNotFound' });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let baton: Baton;
let desk: Server;
const tickets: Ticket[] = [];

test.beforeAll(async () => {
  desk = await fakeZendesk(tickets);
  const { port } = desk.address() as AddressInfo;
  baton = await startBaton({ BATON_HELPDESK_TEST_ORIGIN: `http://127.0.0.1:${port}` });
});

async function signIn(page: Page, email: string, password: string) {
  await openHydrated(page, `${baton.url}/settings?section=integrations`);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

test.afterAll(async () => {
  await baton?.stop();
  desk?.close();
});

test('an admin connects Zendesk in Settings; a visitor who asks for a person gets one ticket and an ended chat', async ({
  page,
  browser,
  allowConsoleError,
}) => {
  test.setTimeout(60_000);
  allowConsoleError(/status of 422 .*\/api\/v1\/settings\/helpdesk\/connect\)$/);
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await expect(page.getByRole('heading', { name: 'Integrations' })).toBeVisible();
  await expect(page.getByLabel('Chatbot', { exact: true })).toHaveValue('demo');
  const live = page.getByRole('article', { name: 'Live Agent Handoff' });
  await expect(live).toContainText('On: escalated conversations wait for your team in the Inbox');

  const zendesk = page.getByRole('article', { name: 'Zendesk' });
  await zendesk.getByRole('button', { name: 'Connect' }).click();
  const form = zendesk.getByRole('form', { name: 'Connect Zendesk' });
  await form.getByLabel('Subdomain').fill('acme');
  await form.getByLabel('Agent email (API token sign-in) (optional)').fill(AGENT);
  await form.getByLabel('API token (optional)', { exact: true }).fill('not-the-token');
  await form.getByRole('button', { name: 'Connect' }).click();
  await expect(form.getByRole('alert')).toContainText('Zendesk did not recognise these credentials');
  await expect(zendesk).not.toContainText('Connected as');

  await form.getByLabel('API token (optional)', { exact: true }).fill(TOKEN);
  await form.getByRole('button', { name: 'Connect' }).click();
  await expect(zendesk).toContainText(`Connected as Alex Agent <${AGENT}>`);
  await expect(zendesk).toContainText(`Key ending in …${TOKEN.slice(-4)}`);
  await expect(zendesk.getByRole('button', { name: 'Disconnect' })).toBeVisible();
  await expect(page.content()).resolves.not.toContain(TOKEN);

  await live.getByRole('button', { name: 'Turn off' }).click();
  await expect(live).toContainText('Off: escalations become tickets in Zendesk.');
  await expect(zendesk).toContainText('Receives escalations');
  await expect(live.getByRole('button', { name: 'Turn on live agent handoff' })).toBeVisible();

  // After a reload the server renders the same state.
  await openHydrated(page, `${baton.url}/settings?bot=demo&section=integrations`);
  await expect(page.getByRole('article', { name: 'Zendesk' })).toContainText('Receives escalations');

  const visitor = await browser.newPage();
  const visitorErrors = collectErrors(visitor);
  await visitorEscalates(visitor);
  await visitor.close();
  expect(visitorErrors, 'the widget logged errors').toEqual([]);

  await openHydrated(page, `${baton.url}/settings?bot=demo&section=integrations`);
  await expect(page.getByRole('article', { name: 'Zendesk' })).toContainText('Last handoff: ticket created');
});

test('an agent who opens Settings is told it is for admins', async ({ page }) => {
  const admin = await request.newContext({ baseURL: baton.url });
  expect((await admin.post('/api/v1/auth/login', { data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })).ok()).toBeTruthy();
  const created = await admin.post('/api/v1/team/members', {
    data: { email: 'ada@e2e.test', name: 'Ada Agent', password: 'ada-agent-password-1', role: 'agent' },
  });
  expect(created.ok(), await created.text()).toBeTruthy();
  await admin.dispose();

  await signIn(page, 'ada@e2e.test', 'ada-agent-password-1');
  await expect(page.getByRole('heading', { name: 'Settings is for admins' })).toBeVisible();
  await expect(page.getByRole('link', { name: 'Go to the Inbox' })).toBeVisible();
  await expect(page.getByRole('article', { name: 'Zendesk' })).toHaveCount(0);
});

async function visitorEscalates(page: Page) {
  await openHydrated(page, `${baton.url}/widget/demo`);
  const box = page.getByLabel('Message');
  await box.fill('I was charged twice this month, I want to talk to a person');
  await box.press('Enter');
  const email = page.getByLabel('Your email');
  await expect(email).toBeVisible();
  await email.fill('jordan@example.com');
  await email.press('Enter');

  await expect(page.locator('.message.bot .bubble').last()).toContainText(
    "I've shared this with our support team. They'll follow up at jordan@example.com.",
  );
  await expect(page.getByRole('status').filter({ hasText: 'This chat has ended' })).toBeVisible();
  await expect(page.getByLabel('Message')).toHaveCount(0);

  await expect.poll(() => tickets.length, { message: 'the desk received the ticket' }).toBe(1);
  const [ticket] = tickets;
  expect(ticket.requester.email).toBe('jordan@example.com');
  expect(ticket.comment.public).toBe(false);
  expect(ticket.comment.html_body).toContain('charged twice this month');
  expect(ticket.comment.html_body).toContain('Summary:');
  expect(ticket.subject.length).toBeGreaterThan(0);

  await page.getByRole('button', { name: 'Start a new conversation' }).click();
  await expect(page.getByLabel('Message')).toBeVisible();
  await expect(page.locator('.message.visitor')).toHaveCount(0);
  expect(tickets.length, 'still exactly one ticket').toBe(1);
}
