import { test, expect, openHydrated } from './fixtures';

test('the widget composer reacts to typing: send enables, limit hint appears', async ({ page }) => {
  await openHydrated(page, '/widget/demo');
  const box = page.getByLabel('Message');
  const send = page.getByRole('button', { name: 'Send' });

  await expect(send).toBeDisabled();
  await box.fill('Hello, can I talk to someone?');
  await expect(send).toBeEnabled();
  await box.fill('   ');
  await expect(send).toBeDisabled();

  await box.fill('a'.repeat(3600));
  await expect(page.getByText('400 characters left')).toBeVisible();
  await expect(send).toBeEnabled();

  await box.fill('a'.repeat(4001));
  await expect(page.getByText('1 characters too long')).toBeVisible();
  await expect(send).toBeDisabled();
});

test('the sign-in button lights up only for a plausible email and a password', async ({ page }) => {
  await openHydrated(page, '/inbox');
  const signIn = page.getByRole('button', { name: 'Sign in' });
  await expect(signIn).toBeDisabled();
  await page.getByLabel('Email').fill('not-an-email');
  await page.getByLabel('Password').fill('secret');
  await expect(signIn).toBeDisabled();
  await page.getByLabel('Email').fill('agent@acme.com');
  await expect(signIn).toBeEnabled();
});
