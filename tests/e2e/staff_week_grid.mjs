// The employer group's manager plans a shared employee from the week grid: adds Friday
// morning at a member (accepted with an overtime warning), sees the week's total and the
// alert in the grid, then tries to move the block too early and reads why it is refused.
// Run by tests/browser.rs (BASE_URL, E2E_* variables).
import { chromium } from 'playwright-core';

const base = process.env.BASE_URL;
const shots = process.env.E2E_SHOTS;
const expect = (ok, what) => { if (!ok) throw new Error(what); };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${base}/login`);
  await page.getByLabel('Adresse e-mail').fill(process.env.E2E_EMAIL);
  await page.getByLabel('Mot de passe').fill(process.env.E2E_PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(`${base}/`);

  await page.goto(`${base}/staff/week?date=2027-01-13`);
  const row = page.locator('table.grid tbody tr', { hasText: 'Camille Martin' }).first();
  expect((await row.locator('td.total').textContent()).includes('32 h / 35 h'), 'the week total before');
  const legend = await page.locator('ul.legend').textContent();
  expect(legend.includes('Les Jardins') && legend.includes("Coop'Atelier"), `legend: ${legend}`);
  if (shots) await page.screenshot({ path: `${shots}-grid-before.png`, fullPage: true });

  // Friday's « + » opens the assignment form, prefilled with the employee and the morning.
  await row.locator('a.add[href*="start=2027-01-15T08:00"]').click();
  await page.waitForURL(/\/bookings\/new\?/);
  await page.getByLabel('Pour la structure').selectOption({ label: 'Les Jardins' });
  await page.getByRole('button', { name: 'Réserver', exact: true }).click();
  await page.waitForURL(/\/bookings\/\d+\?notice=created$/);
  const warning = await page.locator('p.warning').first().textContent();
  expect(warning.includes('supplémentaire'), `the overtime warning on the assignment: ${warning}`);
  const bookingUrl = page.url().replace(/\?.*$/, '');

  await page.goto(`${base}/staff/week?date=2027-01-13`);
  const total = await row.locator('td.total').textContent();
  expect(total.includes('36 h / 35 h') && total.includes('1 alerte'), `the week total after: ${total}`);
  const friday = row.locator('td.day').nth(4);
  const block = friday.locator('a.block').first();
  const blockText = await block.textContent();
  expect(blockText.includes('08:00–12:00') && blockText.includes('Les Jardins'), `Friday's block: ${blockText}`);
  expect((await page.locator('ul.findings').first().textContent()).includes('36 h'), 'the alert spelled out');
  if (shots) await page.screenshot({ path: `${shots}-grid-after.png`, fullPage: true });

  // Editing from the grid checks everything again: from 03:00 there are not 11 h of rest
  // since Thursday 16:30.
  await block.click();
  await page.waitForURL(bookingUrl);
  await page.getByLabel('Début', { exact: true }).fill('2027-01-15T03:00');
  await page.getByLabel('Fin', { exact: true }).fill('2027-01-15T08:00');
  await page.getByRole('button', { name: 'Déplacer', exact: true }).click();
  const alert = await page.getByRole('alert').textContent();
  expect(alert.includes('Réservation impossible') && alert.includes('repos'), `the refusal: ${alert}`);
  if (shots) await page.screenshot({ path: `${shots}-refused.png`, fullPage: true });
  console.log('e2e ok');
} finally {
  await browser.close();
}
