// Every test fails if the page (or any frame in it) logs a console error or throws,
// except for errors a test declares it expects with `allowConsoleError`. Pages run
// under Baton's Content-Security-Policy, and every violation of it is such an error.
import { test as base, expect, Page } from '@playwright/test';

type Fixtures = {
  allowConsoleError: (pattern: RegExp) => void;
};

export const test = base.extend<Fixtures>({
  allowConsoleError: [
    async ({ page }, use) => {
      const allowed: RegExp[] = [];
      const problems = collectErrors(page, allowed);
      await use((pattern) => allowed.push(pattern));
      expect(problems, 'the page logged errors').toEqual([]);
    },
    { auto: true },
  ],
});

/**
 * Collects a page's console errors and uncaught exceptions, but for those matching
 * `allowed` (read when an error happens, so patterns may be added later). The
 * fixture does this for `page`; a test calls it for pages of other browser contexts
 * and checks the returned list at its end.
 */
export function collectErrors(page: Page, allowed: RegExp[] = []): string[] {
  const problems: string[] = [];
  // Chromium logs most violations itself; this catches every one, in every frame.
  void page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline code'}`),
    );
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = `${msg.text()} (${msg.location().url})`;
    if (!allowed.some((pattern) => pattern.test(text))) problems.push(`console error: ${text}`);
  });
  return problems;
}

/** Navigates and waits until the WASM app has hydrated the page. */
export async function openHydrated(page: Page, path: string) {
  const response = await page.goto(path);
  await expect(page.locator('html[data-hydrated="true"]')).toHaveCount(1);
  return response;
}

export { expect };
