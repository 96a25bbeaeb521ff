// Signs in through the login page and creates a resource with the HTML form, in headless
// Chromium. Run by tests/browser.rs, which starts the server and passes BASE_URL.
import { chromium } from 'playwright-core';

const base = process.env.BASE_URL;
const email = process.env.E2E_EMAIL;
const password = process.env.E2E_PASSWORD;
const shot = process.env.E2E_SCREENSHOT;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.goto(`${base}/resources/new`);
  // Anonymous visitors are sent to the login page, which brings them back afterwards.
  await page.waitForURL(/\/login\?next=/);
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(/\/resources\/new$/);

  await page.getByLabel('Type').selectOption('vehicle');
  await page.getByLabel('Nom', { exact: true }).fill('Kangoo électrique');
  await page.getByLabel('Lieu').fill('Parking de la Halle');
  await page.getByLabel('Lundi').fill('08:00-12:00, 14:00-19:00');
  await page.getByLabel('Prix horaire (€)').fill('3,50');
  await page.getByLabel('Immatriculation').fill('gk-321-zz');
  await page.getByLabel('Énergie').selectOption('electrique');
  await page.getByRole('button', { name: 'Enregistrer' }).click();

  await page.waitForURL(/\/resources\/\d+\?notice=created$/);
  const heading = await page.getByRole('heading', { level: 1 }).textContent();
  if (heading.trim() !== 'Kangoo électrique') throw new Error(`unexpected heading: ${heading}`);
  const body = await page.textContent('main');
  for (const expected of ['Enregistrement créé', 'GK-321-ZZ', '3,50 €', '08:00-12:00, 14:00-19:00', 'Électrique']) {
    if (!body.includes(expected)) throw new Error(`missing "${expected}" in page: ${body}`);
  }
  if (shot) await page.screenshot({ path: shot, fullPage: true });
  console.log('e2e ok');
} finally {
  await browser.close();
}
