// Figures, not tests: `make bench-widget` runs these against the release build and prints them.
import { defineConfig } from '@playwright/test';
import base from './playwright.config';

export default defineConfig({
  ...base,
  testDir: './bench',
  fullyParallel: false,
  workers: 1,
  timeout: 180_000,
});
