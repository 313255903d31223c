import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { call, registerAndLogin, startTesseraSystem } from './support/tessera-system';
import type { TesseraSystem } from './support/tessera-system';

/**
 * Swagger UI as a person uses it, in a real headless Chromium (Debian's, which .ci/run installs):
 * resource-service's /docs, "Try it out" on GET /notes without a token (401), then Authorize with
 * an access token from a real auth-service login and the same call again (200).
 */

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
// CI always has it (.ci/run installs it), so there a missing browser fails the run. A developer
// without one is told, and the rest of `npm test` goes on.
const HAS_BROWSER = existsSync(CHROMIUM) || process.env['CI'] === 'true';
if (!HAS_BROWSER) {
  console.warn(
    `Skipping the Swagger UI browser test: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
}
const describeInBrowser = HAS_BROWSER ? describe : describe.skip;
const OUTPUT = resolve(__dirname, '../../../dist/test-output/resource-service-e2e');

let system: TesseraSystem;
let browser: Browser;
let page: Page;
/** What the page's console and the browser said went wrong (a CSP refusal would land here). */
const problems: string[] = [];

beforeAll(async () => {
  if (!HAS_BROWSER) return;
  system = await startTesseraSystem({ authPort: 15021, resourcePort: 15022, name: 'docs' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 1400 } });
  page.on('console', (message) => {
    // The 401 the test asks for is logged as a failed load; anything else is a problem.
    const text = message.text();
    if (message.type() === 'error' && !/status of 401/.test(text)) problems.push(text);
  });
  page.on('pageerror', (error) => problems.push(error.message));
});

afterAll(async () => {
  if (!HAS_BROWSER) return;
  await browser?.close();
  expect(await system?.stop()).toEqual([0, 0]);
});

/** Expands GET /notes, runs it from the page and reads the status Swagger UI shows. */
async function executeListNotes(): Promise<string> {
  const operation = page.locator('#operations-notes-NotesController_list');
  if ((await operation.locator('.try-out__btn').count()) === 0) {
    await operation.locator('.opblock-summary').click();
  }
  const tryOut = operation.locator('.try-out__btn');
  if ((await tryOut.textContent())?.includes('Try it out')) await tryOut.click();
  const answered = page.waitForResponse(
    (response) =>
      new URL(response.url()).pathname === '/notes' && response.request().method() === 'GET',
  );
  await operation.locator('button.execute').click();
  await answered;
  const status = operation.locator('.live-responses-table .response .response-col_status');
  await status.first().waitFor();
  return ((await status.first().textContent()) ?? '').trim();
}

describeInBrowser('resource-service API docs in a browser', () => {
  it('runs GET /notes from Swagger UI: 401 without a token, 200 after Authorize with a login token', async () => {
    const tokens = await registerAndLogin(system.issuer, `docs-${Date.now()}@example.com`);
    expect(
      (
        await call(
          `${system.resourceUrl}/notes`,
          'POST',
          { title: 'seen from the docs' },
          tokens.access_token,
        )
      ).status,
    ).toBe(201);

    await page.goto(`${system.resourceUrl}/docs`);
    await page.locator('.swagger-ui .info .title').waitFor();
    expect(await page.locator('.swagger-ui .info .title').textContent()).toContain(
      'resource-service',
    );

    expect(await executeListNotes()).toBe('401');
    const operation = page.locator('#operations-notes-NotesController_list');
    await expect(
      operation
        .locator('.live-responses-table .response .response-col_description')
        .first()
        .textContent(),
    ).resolves.toContain('An access token is required');

    await page.locator('.scheme-container .btn.authorize').click();
    const dialog = page.locator('.dialog-ux .modal-ux');
    await dialog.locator('input').first().fill(tokens.access_token);
    await dialog.locator('.auth-btn-wrapper button.authorize').click();
    await dialog.locator('.auth-btn-wrapper button.btn-done').click();

    const sent = page.waitForRequest(
      (request) => new URL(request.url()).pathname === '/notes' && request.method() === 'GET',
    );
    expect(await executeListNotes()).toBe('200');
    expect((await sent).headers()['authorization']).toBe(`Bearer ${tokens.access_token}`);
    await expect(
      operation
        .locator('.live-responses-table .response .response-col_description')
        .first()
        .textContent(),
    ).resolves.toContain('seen from the docs');

    mkdirSync(OUTPUT, { recursive: true });
    const screenshot = resolve(OUTPUT, 'api-docs.png');
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`Swagger UI screenshot: ${screenshot}`);
    expect(problems).toEqual([]);
  });
});
