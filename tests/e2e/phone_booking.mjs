// On a 390 × 844 phone a booker opens the day planning (a list of stretches there), books
// the free hour it offers, and no page scrolls sideways. On a desktop, two clicks in the
// week view select a range. Run by tests/browser.rs (BASE_URL, E2E_* variables).
import { chromium } from 'playwright-core';

const base = process.env.BASE_URL;
const room = process.env.E2E_ROOM;
const shots = process.env.E2E_SHOTS;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});

async function signIn(page) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Adresse e-mail').fill(process.env.E2E_EMAIL);
  await page.getByLabel('Mot de passe').fill(process.env.E2E_PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(`${base}/`);
}

async function noSideScroll(page, what) {
  const [wide, view] = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
  if (wide > view) throw new Error(`${what} scrolls sideways: ${wide} px for ${view} px`);
}

try {
  // Desktop: the start, then the end of a range, in the week view.
  const desk = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(desk);
  await desk.goto(`${base}/resources/${room}/week?date=2027-01-05`);
  await desk.locator(`a.slot[data-start="2027-01-05T14:00"]`).click();
  await desk.getByRole('status').filter({ hasText: 'Début : 14:00' }).waitFor();
  await desk.locator(`a.slot[data-start="2027-01-05T15:00"]`).click();
  await desk.waitForURL(/\/bookings\/new\?/);
  const url = desk.url();
  if (!url.includes('start=2027-01-05T14%3A00') || !url.includes('end=2027-01-05T16%3A00')) {
    throw new Error(`two clicks did not select 14:00–16:00: ${url}`);
  }
  await desk.close();

  // Phone.
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  const page = await context.newPage();
  await signIn(page);
  await noSideScroll(page, 'the dashboard');
  await page.goto(`${base}/calendar?kind=room&date=2027-01-05`);
  await noSideScroll(page, 'the day planning');
  if (await page.locator('table.calendar').isVisible()) throw new Error('the wide table shows on a phone');
  if (shots) await page.screenshot({ path: `${shots}-phone-day.png`, fullPage: true });
  await page.getByRole('link', { name: 'Réserver Salle Jaurès, mardi 5 janvier, 12 h – 13 h' }).click();
  await page.waitForURL(/\/bookings\/new\?/);
  await noSideScroll(page, 'the booking form');
  await page.getByLabel('Objet').fill('Atelier compost');
  await page.getByRole('button', { name: 'Réserver', exact: true }).click();
  await page.waitForURL(/\/bookings\/\d+\?notice=created$/);
  const body = await page.textContent('main');
  if (!body.includes('confirmée') || !body.includes('Atelier compost')) throw new Error(`not confirmed: ${body}`);
  await noSideScroll(page, 'the booking page');
  console.log('e2e ok');
} finally {
  await browser.close();
}
