// A booker opens the week of a room, asks for a slot that is taken, reads why, and takes the
// first alternative in one click. Run by tests/browser.rs (BASE_URL, E2E_* variables).
import { chromium } from 'playwright-core';

const base = process.env.BASE_URL;
const room = process.env.E2E_ROOM;
const shots = process.env.E2E_SHOTS;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`${base}/login`);
  await page.getByLabel('Adresse e-mail').fill(process.env.E2E_EMAIL);
  await page.getByLabel('Mot de passe').fill(process.env.E2E_PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(`${base}/`);

  await page.goto(`${base}/resources/${room}/week?date=2027-01-05`);
  if (shots) await page.screenshot({ path: `${shots}-week.png`, fullPage: true });
  // The 11:00 cell of Tuesday is taken; the 13:00 one is free. With JavaScript a click
  // selects the start of a range; the same cell again books what it proposes.
  const slot = page.locator(`a[href*="start=2027-01-05T13:00"]`);
  await slot.click();
  await page.getByRole('status').filter({ hasText: 'Début : 13:00' }).waitFor();
  await slot.click();
  await page.waitForURL(/\/bookings\/new\?/);
  await page.getByLabel('Début (heure du pôle)').fill('2027-01-05T11:00');
  await page.getByLabel('Fin (heure du pôle)').fill('2027-01-05T12:00');
  await page.getByLabel('Objet').fill('Point d\'équipe');
  await page.getByRole('button', { name: 'Réserver', exact: true }).click();

  await page.getByText('Réservation impossible').waitFor();
  const alert = await page.getByRole('alert').textContent();
  if (!alert.includes('Coop')) throw new Error(`the refusal does not say who holds the slot: ${alert}`);
  if (shots) await page.screenshot({ path: `${shots}-refused.png`, fullPage: true });
  const first = page.locator('.suggestions button').first();
  const label = await first.textContent();
  await first.click();
  await page.waitForURL(/\/bookings\/\d+\?notice=created$/);
  const body = await page.textContent('main');
  if (!body.includes('confirmée')) throw new Error(`not confirmed: ${body}`);
  if (!label.includes('12 h – 13 h')) throw new Error(`unexpected first suggestion: ${label}`);
  console.log('e2e ok');
} finally {
  await browser.close();
}
