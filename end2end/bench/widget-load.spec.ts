// The widget's first load, as a visitor meets it: bytes over the wire (compressed,
// HTML + JS + WASM + CSS) and the time until the composer can be typed in. Each run
// is a fresh browser context (empty cache), on the loopback interface, so the time
// is the browser's work (parsing, compiling and hydrating), not the network's.
import { test, expect, Browser } from '@playwright/test';

const RUNS = 7;

type Load = { bytes: Record<string, number>; usableMs: number };

function kind(url: string, mime: string): string {
  if (url.endsWith('.wasm') || mime.includes('wasm')) return 'wasm';
  if (mime.includes('javascript')) return 'js';
  if (mime.includes('css')) return 'css';
  if (mime.includes('html')) return 'html';
  return 'other';
}

/** A fresh context (empty cache, cache disabled) with the DevTools protocol's network events on. */
async function coldPage(browser: Browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  return { context, page, cdp };
}

function median(values: number[]) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

test('widget first load: transfer and time to a usable composer', async ({ browser }) => {
  const loads: Load[] = [];
  const encodings = new Set<string>();
  for (let run = 0; run < RUNS; run++) {
    const { context, page, cdp } = await coldPage(browser);
    const responses = new Map<string, { url: string; mime: string }>();
    const bytes: Record<string, number> = {};
    cdp.on('Network.responseReceived', (e) => {
      responses.set(e.requestId, { url: e.response.url, mime: e.response.mimeType });
      const headers = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
      if (headers['content-encoding']) encodings.add(String(headers['content-encoding']));
    });
    cdp.on('Network.loadingFinished', (e) => {
      const r = responses.get(e.requestId);
      if (!r) return;
      const k = kind(r.url, r.mime);
      bytes[k] = (bytes[k] ?? 0) + e.encodedDataLength;
    });
    // The moment the composer is enabled after hydration (the page records it itself).
    await page.addInitScript(() => {
      const w = window as unknown as { __usable?: number };
      new MutationObserver((_, observer) => {
        if (document.documentElement.dataset.hydrated === 'true' && document.querySelector('#composer-text')) {
          w.__usable = performance.now();
          observer.disconnect();
        }
      }).observe(document, { attributes: true, subtree: true, childList: true });
    });
    await page.goto('/widget/demo');
    await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1);
    await page.waitForLoadState('networkidle');
    const usableMs = await page.evaluate(() => (window as unknown as { __usable: number }).__usable);
    loads.push({ bytes, usableMs });
    await context.close();
  }
  const total = (l: Load) => Object.values(l.bytes).reduce((a, b) => a + b, 0);
  const last = loads[loads.length - 1];
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;
  console.log(`\nWidget first load (/widget/demo), ${RUNS} cold runs:`);
  for (const k of ['html', 'js', 'wasm', 'css', 'other']) if (last.bytes[k]) console.log(`  ${k.padEnd(5)} ${kb(last.bytes[k])}`);
  console.log(`  total ${kb(total(last))} over the wire (${[...encodings].join(', ') || 'identity'}, as the server sent it)`);
  const times = loads.map((l) => l.usableMs);
  console.log(`  composer usable after ${median(times).toFixed(0)} ms (median; min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`);
  expect(total(last), 'something was measured').toBeGreaterThan(0);
});

test('embedded: what a host page pays before and after the first click', async ({ browser }) => {
  const clicks: number[] = [];
  let embedBytes = 0;
  for (let run = 0; run < RUNS; run++) {
    const { context, page, cdp } = await coldPage(browser);
    const urls = new Map<string, string>();
    cdp.on('Network.responseReceived', (e) => urls.set(e.requestId, e.response.url));
    cdp.on('Network.loadingFinished', (e) => {
      const url = urls.get(e.requestId) ?? '';
      if (url.endsWith('/embed.js') || url.endsWith('/api/v1/widget/config')) embedBytes += e.encodedDataLength;
    });
    await page.goto('/demo');
    const launcher = page.locator('baton-chat').getByRole('button', { name: /chat/ });
    await expect(launcher).toBeVisible();
    await page.waitForLoadState('networkidle');
    if (run === 0) console.log(`\nHost page before any click: embed.js + look, ${(embedBytes / 1024).toFixed(1)} KB (gzip)`);
    const started = Date.now();
    await launcher.click();
    await expect(page.frameLocator('baton-chat iframe').getByLabel('Message')).toBeFocused({ timeout: 30_000 });
    clicks.push(Date.now() - started);
    embedBytes = 0;
    await context.close();
  }
  console.log(`Click on the launcher to a focused composer: ${median(clicks)} ms (median of ${RUNS}; min ${Math.min(...clicks)}, max ${Math.max(...clicks)})`);
  expect(clicks.length).toBe(RUNS);
});
