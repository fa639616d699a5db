/**
 * Headless Chromium for browser tests: Debian's /usr/bin/chromium driven by playwright-core
 * (`npx playwright install` cannot download here). Tests skip with `BROWSER_SKIP_REASON` where it
 * is absent, and keep screenshots under artifacts/screenshots/ as test artefacts.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type LaunchOptions, type Locator, type Page } from 'playwright-core';
import { repoRoot } from '../platform/paths.ts';

export const CHROMIUM_PATH = process.env.FACEPAY_CHROMIUM ?? '/usr/bin/chromium';

export const BROWSER_SKIP_REASON: string | false = existsSync(CHROMIUM_PATH)
  ? false
  : `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set FACEPAY_CHROMIUM): browser test skipped`;

// Without the background-networking flags Chromium keeps dialling out, and this machine refuses.
const QUIET_FLAGS = [
  '--headless=new',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export async function launchBrowser(extraArgs: string[] = [], opts: LaunchOptions = {}): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...QUIET_FLAGS, ...extraArgs], ...opts });
}

/** Flags that feed a file to the page as its camera (a .y4m or .mjpeg made by the test). */
export function fakeCameraArgs(videoFile: string): string[] {
  return ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${videoFile}`];
}

export const screenshotDir = join(repoRoot, 'artifacts', 'screenshots');

/** `mask` covers parts of the page, e.g. a camera view showing dataset faces, which artefacts must not keep. */
export async function screenshot(page: Page, name: string, opts: { mask?: Locator[] } = {}): Promise<string> {
  mkdirSync(screenshotDir, { recursive: true });
  const file = join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, ...(opts.mask ? { mask: opts.mask } : {}) });
  return file;
}
