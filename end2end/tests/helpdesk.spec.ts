// Help-desk mode as a visitor lives it: with Live Agent Handoff off and Zendesk
// connected (a local fake that answers as Zendesk documents), asking for a person
// collects the email, the bot confirms in the seed's words, the chat ends with
// "Start a new conversation", and the desk receives exactly one ticket holding the
// summary, the transcript and the email.
import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { request } from '@playwright/test';
import { test, expect, openHydrated } from './fixtures';
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
  const admin = await request.newContext({ baseURL: baton.url });
  expect((await admin.post('/api/v1/auth/login', { data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })).ok()).toBeTruthy();
  const connect = await admin.post('/api/v1/settings/helpdesk/connect', {
    data: { bot_id: 'demo', desk: 'zendesk', credentials: { subdomain: 'acme', email: AGENT, api_token: TOKEN } },
  });
  expect(connect.ok(), await connect.text()).toBeTruthy();
  const off = await admin.post('/api/v1/settings/live-handoff', { data: { bot_id: 'demo', on: false } });
  expect(off.ok(), await off.text()).toBeTruthy();
  await admin.dispose();
});

test.afterAll(async () => {
  await baton?.stop();
  desk?.close();
});

test('a visitor who asks for a person gets a ticket in the help desk and an ended chat', async ({ page }) => {
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
});
