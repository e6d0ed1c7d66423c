// Markup planted in every text an admin or a visitor can set must stay text on every
// page that shows it, in the server's HTML and after hydration; and every page runs
// under a script policy that refuses scripts Baton did not write.
//
// The planting spec has a Baton of its own: it renames the demo chatbot, which the
// other specs (on the shared server) rely on.
import { APIRequestContext, Browser, Page } from '@playwright/test';
import { test, expect, openHydrated } from './fixtures';
import { ADMIN_EMAIL, ADMIN_PASSWORD, Baton, startBaton } from '../baton';

/** Each would set `window.__xss` or leave a `[data-xss]` element if it became markup. */
const PAYLOADS = [
  '<script>window.__xss=1</script>',
  '<img src=x onerror="window.__xss=2" data-xss>',
  '<svg onload="window.__xss=3" data-xss></svg>',
  '</title><script>window.__xss=4</script>',
  '</textarea><img src=x onerror="window.__xss=5" data-xss>',
  'javascript:window.__xss=6',
  '" onmouseover="window.__xss=7" data-xss="',
  "' onfocus='window.__xss=8' autofocus data-xss='",
];

/** What an injection would have left in a document. */
const INJECTED =
  '[data-xss], img[src="x"], svg[onload], [onerror], [onload], [onmouseover], [onfocus], a[href^="javascript:"], script:not([nonce])';

const AGENT_PASSWORD = 'agent-password-xss-1';

let baton: Baton;
let conversationId = '';
let visitorToken = '';

async function api(request: APIRequestContext, path: string, data: object) {
  const response = await request.post(`/api/v1/${path}`, { data });
  expect(response.ok(), `${path}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

/** Every text a person can set, through the public API only. */
async function plant(browser: Browser) {
  const context = await browser.newContext({ baseURL: baton.url });
  const request = context.request;
  await api(request, 'auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD });
  await api(request, 'settings/widget', {
    widget: {
      bot_id: 'demo',
      title: PAYLOADS[3],
      greeting: PAYLOADS.join(' '),
      color: '#0f766e',
      launcher_position: 'right',
      allowed_origins: ['*'],
    },
  });
  const agentEmail = 'xss.agent@e2e.test';
  await api(request, 'team/members', { email: agentEmail, name: PAYLOADS[1], password: AGENT_PASSWORD, role: 'agent' });

  const visitor = await browser.newContext({ baseURL: baton.url });
  const start = await api(visitor.request, 'widget/start', {
    bot_id: 'demo',
    name: PAYLOADS[6],
    email: '"<img src=x onerror=window.__xss=9 data-xss>"@example.com',
  }).catch(async () =>
    // The address syntax may refuse markup outright; then the name carries it alone.
    api(visitor.request, 'widget/start', { bot_id: 'demo', name: PAYLOADS[6] }),
  );
  conversationId = start.conversation_id;
  visitorToken = start.visitor_token;
  const headers = { Authorization: `Bearer ${visitorToken}` };
  const say = async (clientId: string, text: string) => {
    const sent = await visitor.request.post('/api/v1/widget/send', {
      headers,
      data: { conversation_id: conversationId, client_id: clientId, text },
    });
    expect(sent.ok(), await sent.text()).toBeTruthy();
  };
  for (const [i, payload] of PAYLOADS.entries()) await say(`xss-${i}`, `My order ${payload} is broken.`);
  // A request for a person: the summary is written from the visitor's own sentences.
  await say('xss-human', `I want to talk to a human about ${PAYLOADS[0]} please, xss.visitor@example.com`);
  await expect
    .poll(async () => {
      const history = await visitor.request.post('/api/v1/widget/history', {
        headers,
        data: { conversation_id: conversationId, after_seq: 0 },
      });
      return (await history.json()).state;
    })
    .toBe('needs_human');

  const agent = await browser.newContext({ baseURL: baton.url });
  await api(agent.request, 'auth/login', { email: agentEmail, password: AGENT_PASSWORD });
  await api(agent.request, 'inbox/claim', { conversation_id: conversationId });
  await api(agent.request, 'inbox/reply', { conversation_id: conversationId, client_id: 'xss-reply', text: PAYLOADS[4] });
  await api(agent.request, 'inbox/note', { conversation_id: conversationId, text: PAYLOADS[2] });
  for (const c of [context, visitor, agent]) await c.close();
}

/** The server's HTML for `path`, parsed without running anything. */
async function injectedInServerHtml(page: Page, path: string): Promise<number> {
  const html = await (await page.request.get(path)).text();
  return page.evaluate(
    ([html, selector]) => new DOMParser().parseFromString(html, 'text/html').querySelectorAll(selector).length,
    [html, INJECTED],
  );
}

/** After hydration: nothing ran, nothing was injected. */
async function expectInert(page: Page, where: string) {
  expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), `${where}: a payload ran`).toBeUndefined();
  expect(await page.locator(INJECTED).count(), `${where}: an element was injected`).toBe(0);
}

test.describe('planted markup', () => {
  test.describe.configure({ mode: 'serial' });

  test.beforeAll(async ({ browser }) => {
    baton = await startBaton();
    await plant(browser);
  });

  test.afterAll(async () => {
    await baton?.stop();
  });

  test('stays text in the widget, server-rendered and hydrated', async ({ browser }) => {
    // Without the script policy: escaping alone must keep every payload inert.
    const context = await browser.newContext({ baseURL: baton.url, bypassCSP: true });
    const page = await context.newPage();
    await page.goto('/');
    await page.evaluate(
      ([id, token]) => localStorage.setItem('baton.chat.demo', JSON.stringify({ conversation_id: id, token })),
      [conversationId, visitorToken],
    );
    expect(await injectedInServerHtml(page, '/widget/demo')).toBe(0);

    await openHydrated(page, '/widget/demo');
    await expect(page.locator('.message.agent .bubble').last()).toHaveText(PAYLOADS[4]);
    await expect(page.locator('.widget-title')).toHaveText(PAYLOADS[3]);
    expect(await page.title()).toBe(`${PAYLOADS[3]} · Baton`);
    await expect(page.locator('.message.visitor .bubble').first()).toHaveText(`My order ${PAYLOADS[0]} is broken.`);
    await expect(page.locator('.message.system', { hasText: 'joined the chat' })).toHaveText(`${PAYLOADS[1]} joined the chat`);
    await page.locator('.message.visitor .bubble').nth(6).hover();
    await expectInert(page, 'widget');

    await page.goto('/demo');
    await page.locator('baton-chat').getByRole('button', { name: /chat/ }).click();
    await expect(page.frameLocator('baton-chat iframe').locator('.widget-title')).toHaveText(PAYLOADS[3]);
    await expectInert(page, 'demo host page');
    await context.close();
  });

  test('stays text in the Inbox, server-rendered and hydrated', async ({ browser }) => {
    const context = await browser.newContext({ baseURL: baton.url, bypassCSP: true });
    const page = await context.newPage();
    const login = await page.request.post('/api/v1/auth/login', { data: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } });
    expect(login.ok()).toBeTruthy();
    const path = `/inbox?view=all&c=${conversationId}`;
    expect(await injectedInServerHtml(page, path)).toBe(0);

    await openHydrated(page, path);
    await expect(page.locator('.packet-summary')).toContainText(PAYLOADS[0]);
    await expect(page.locator('.line.note .bubble')).toHaveText(PAYLOADS[2]);
    await expect(page.locator('.line.agent .bubble').last()).toHaveText(PAYLOADS[4]);
    await expect(page.locator('.conversation-list')).toContainText(PAYLOADS[6]);
    await expect(page.locator('.conversation-head')).toContainText(PAYLOADS[6]);
    for (const line of await page.locator('.transcript .bubble').all()) await line.hover();
    await expectInert(page, 'Inbox');
    await context.close();
  });
});

test.describe('the script policy', () => {
  for (const path of ['/', '/widget/demo', '/inbox', '/settings', '/demo']) {
    test(`${path} hydrates under it with no violation, and it refuses a script Baton did not write`, async ({
      page,
      allowConsoleError,
    }) => {
      await page.addInitScript(() => {
        const seen: string[] = [];
        (window as unknown as { __violations: string[] }).__violations = seen;
        document.addEventListener('securitypolicyviolation', (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      const response = await (path === '/demo' ? page.goto(path) : openHydrated(page, path));
      expect(response?.headers()['content-security-policy']).toMatch(/script-src 'self' 'nonce-[0-9a-f]{32}' 'wasm-unsafe-eval'/);
      if (path === '/demo') {
        await page.locator('baton-chat').getByRole('button', { name: /chat/ }).click();
        await expect(page.frameLocator('baton-chat iframe').locator('html[data-hydrated="true"]')).toHaveCount(1);
      }
      await page.waitForLoadState('networkidle');
      expect(await page.evaluate(() => (window as unknown as { __violations: string[] }).__violations)).toEqual([]);

      allowConsoleError(/Content Security Policy|CSP violation/);
      await page.evaluate(() => {
        const script = document.createElement('script');
        script.textContent = 'window.__inline = 1';
        document.body.append(script);
      });
      await expect
        .poll(() => page.evaluate(() => (window as unknown as { __violations: string[] }).__violations.length))
        .toBeGreaterThan(0);
      expect(await page.evaluate(() => (window as unknown as { __inline?: number }).__inline)).toBeUndefined();
    });
  }
});
