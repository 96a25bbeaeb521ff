// The treasurer enters a cost, compares two keys before saving, saves, closes the month after
// confirming, and a member prints its statement. Run by tests/browser.rs (BASE_URL, E2E_*).
import { chromium } from 'playwright-core';

const base = process.env.BASE_URL;
const shots = process.env.E2E_SHOTS;
const member = process.env.E2E_MEMBER;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});

async function signIn(page, email) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(process.env.E2E_PASSWORD);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(`${base}/`);
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(page, process.env.E2E_TREASURER);
  await page.getByRole('link', { name: 'Répartition' }).first().click();
  await page.goto(`${base}/allocations/2027-01/costs`);
  await page.getByLabel('Libellé').fill('Chauffage');
  await page.getByLabel('Montant (€)').fill('800,00');
  await page.getByLabel('Clé', { exact: true }).selectOption('surface');
  await page.getByLabel('Comparer avec la clé').selectOption('equal');
  await page.getByRole('button', { name: 'Comparer' }).click();
  // 800 € by surface 40/25/15 m²: 400,00 for the first member; equal parts: 266,67.
  let body = await page.textContent('main');
  if (!body.includes('400,00') || !body.includes('266,67')) throw new Error(`what-if missing: ${body}`);
  if (shots) await page.screenshot({ path: `${shots}-what-if.png`, fullPage: true });
  await page.getByRole('button', { name: 'Enregistrer' }).click();
  await page.waitForURL(/\/allocations/);

  await page.goto(`${base}/allocations?month=2027-01`);
  if (!(await page.locator('svg[role="img"]').count())) throw new Error('no chart');
  if (shots) await page.screenshot({ path: `${shots}-month.png`, fullPage: true });
  await page.getByText('Clôturer le mois').click();
  await page.getByRole('button', { name: /Confirmer la clôture/ }).click();
  await page.waitForLoadState();
  body = await page.textContent('main');
  if (!body.includes('clôturé')) throw new Error(`not closed: ${body}`);

  const other = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await signIn(other, process.env.E2E_MEMBER_EMAIL);
  await other.goto(`${base}/allocations/2027-01/members/${member}`);
  await other.emulateMedia({ media: 'print' });
  if (await other.locator('nav').first().isVisible()) throw new Error('navigation printed');
  const printed = await other.textContent('main');
  if (!printed.includes('Chauffage') || !printed.includes('400,00')) throw new Error(`statement: ${printed}`);
  if (shots) await other.screenshot({ path: `${shots}-statement-print.png`, fullPage: true });
  console.log('e2e ok');
} finally {
  await browser.close();
}
