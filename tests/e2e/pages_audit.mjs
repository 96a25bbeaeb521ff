// The pages audit: every page of the router, in every role of the demo pole, at desktop
// (1280×800) and phone (390×844) widths. It fails on any axe-core violation (WCAG 2.1 A/AA
// and best practices), on any error of the Nu HTML checker on the served HTML, and on any
// horizontal page scroll at phone width; the administrator's pages are also checked in the
// dark theme, and the printable pages on paper. Run by tests/browser.rs after `demo::fill`,
// with BASE_URL, AUDIT_EMPTY_BASE_URL (a server on an empty database, for /setup),
// E2E_PASSWORD, AUDIT_IDS (ids and dates of the demo data, JSON) and AUDIT_ACCOUNTS (role →
// e-mail, JSON); AUDIT_SHOTS, if set, is a directory for screenshots of the main pages.
// While working on the pages: AUDIT_ONLY (a regular expression on the paths) and AUDIT_ROLES
// (comma-separated) narrow the run, and AUDIT_CSS serves that file as the stylesheet, to try
// CSS without rebuilding.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const vnuJar = join(require.resolve('vnu-jar/package.json'), '..', 'build', 'dist', 'vnu.jar');

const base = process.env.BASE_URL;
const emptyBase = process.env.AUDIT_EMPTY_BASE_URL; // another server, on an empty database
const password = process.env.E2E_PASSWORD;
const ids = JSON.parse(process.env.AUDIT_IDS);
const accounts = JSON.parse(process.env.AUDIT_ACCOUNTS);
const shots = process.env.AUDIT_SHOTS;

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'];

// Every GET page of `router()` in src/web/html/mod.rs, with real ids. `shot` names the
// screenshot taken of it (in the role `shotAs`); `print`, what must show on paper (checked in
// that role: print media, no navigation); `status` is the expected answer when it is not 200.
// A page a role may not see (403, or 404 for another member's things) is skipped for that
// role, but each page must be audited in at least one role.
// Not pages: /assets/app.css, /staff/ledger.csv, /allocations/{month}.csv and …/fec.txt.
const PAGES = [
  { path: '/setup', anonymous: true, empty: true }, // the first start, on an empty database
  { path: '/login', anonymous: true },
  { path: '/pas-de-page', anonymous: true, status: 404 },
  { path: '/', shot: 'dashboard', shotAs: 'booker', menu: true },
  { path: '/account' },
  { path: '/account/notifications' },
  { path: '/account/calendars' },
  { path: '/admin/outbox' },
  { path: '/members' },
  { path: '/members/new' },
  { path: `/members/${ids.member}` },
  { path: `/members/${ids.member}/edit` },
  { path: '/resources' },
  { path: '/resources/new' },
  { path: '/resources/new?kind=vehicle' },
  { path: `/resources/${ids.room}` },
  { path: `/resources/${ids.vehicle}` },
  { path: `/resources/${ids.room}/edit` },
  { path: `/resources/${ids.room}/week?date=${ids.week}`, shot: 'week', shotAs: 'booker', print: 'table.calendar td.busy' },
  { path: '/closures' },
  { path: '/staff' },
  { path: '/staff/new' },
  { path: `/staff/week?date=${ids.week}` },
  { path: '/staff/free' },
  { path: '/staff/ledger' },
  { path: `/staff/hours?member_id=${ids.member}` },
  { path: `/staff/${ids.employee}` },
  { path: `/staff/${ids.employee}/month` },
  { path: `/staff/${ids.employee}/edit` },
  { path: '/users' },
  { path: '/users/new' },
  { path: `/users/${ids.user}` },
  { path: '/bookings', shot: 'bookings', shotAs: 'booker' },
  { path: `/bookings/new?resource_id=${ids.room}`, shot: 'booking-form', shotAs: 'booker' },
  { path: `/bookings/${ids.booking}`, shot: 'booking', shotAs: 'booker', print: 'main dl' },
  { path: '/approvals' },
  { path: `/calendar?date=${ids.week}`, shot: 'day-planning', shotAs: 'booker', print: 'table.calendar td.busy' },
  { path: `/calendar?kind=vehicle&date=${ids.week}` },
  { path: '/allocations' },
  { path: `/allocations?month=${ids.closed_month}` },
  { path: '/allocations/verify' },
  { path: '/allocations/settings' },
  { path: `/allocations/costs/${ids.cost}` },
  { path: `/allocations/${ids.month}/costs` },
  { path: `/allocations/${ids.month}/members/${ids.member}` },
  { path: `/allocations/${ids.closed_month}/members/${ids.member}`, shot: 'statement', shotAs: 'member_admin', print: 'article.statement table' },
];
const ROLES = ['admin', 'resource_manager', 'treasurer', 'ge_manager', 'member_admin', 'booker'];
const only = process.env.AUDIT_ONLY ? new RegExp(process.env.AUDIT_ONLY) : null;
const roles = process.env.AUDIT_ROLES ? process.env.AUDIT_ROLES.split(',') : [...ROLES, 'anonymous'];
const pages = PAGES.filter(p => (!only || only.test(p.path)) && (!p.empty || emptyBase));

const started = Date.now();
const htmlDir = mkdtempSync(join(tmpdir(), 'mutualise-audit-'));
if (shots) mkdirSync(shots, { recursive: true });
const failures = [];
const saved = new Map(); // file → [role, path]
const audited = new Map(); // path → roles
let checks = 0;
const spent = { load: 0, axe: 0, layout: 0 }; // seconds, to keep the run short
async function timed(what, f) {
  const t = Date.now();
  try { return await f(); } finally { spent[what] += (Date.now() - t) / 1000; }
}

function describe(v) {
  const nodes = v.nodes.slice(0, 3).map(n => `      ${n.target.join(' ')}: ${n.failureSummary?.split('\n').slice(1).join(' ').trim()}`);
  return `${v.id} (${v.impact}): ${v.help}\n${nodes.join('\n')}${v.nodes.length > 3 ? `\n      … and ${v.nodes.length - 3} more` : ''}`;
}

// The dark theme changes colours only: its pass runs the rules about colours.
const COLOUR_RULES = ['color-contrast', 'link-in-text-block'];

async function axe(page, where, colours) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(axeSource);
  const runOnly = colours ? { type: 'rule', values: COLOUR_RULES } : { type: 'tag', values: AXE_TAGS };
  const result = await page.evaluate(runOnly => window.axe.run(document, {
    runOnly, resultTypes: ['violations'],
  }), runOnly);
  for (const v of result.violations) failures.push(`${where}: axe ${describe(v)}`);
}

// The widest offenders when the page scrolls sideways: elements sticking out of the viewport.
async function horizontalScroll(page) {
  return page.evaluate(() => {
    const width = window.innerWidth;
    if (document.documentElement.scrollWidth <= width) return null;
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
      const r = el.getBoundingClientRect();
      if (r.right > width + 1 && !el.closest('.scroll')) {
        const parent = el.parentElement?.getBoundingClientRect();
        if (!parent || parent.right <= width + 1) {
          out.push(`${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().replace(/\s+/g, '.') : ''} (${Math.round(r.right)}px)`);
        }
      }
    }
    return `scrollWidth ${document.documentElement.scrollWidth} > ${width}: ${out.slice(0, 5).join(', ')}`;
  });
}

// At phone width the navigation is folded into « Menu »; it opens without JavaScript.
async function menu(page, where, shoot) {
  const account = page.getByRole('link', { name: 'Mon compte' });
  if (await account.isVisible()) failures.push(`${where} @phone: navigation not folded`);
  await page.getByText('Menu', { exact: true }).click();
  if (!(await account.isVisible())) failures.push(`${where} @phone: « Menu » does not open`);
  await timed('axe', () => axe(page, `${where} @phone, menu open`));
  checks += 1;
  if (shots && shoot) await page.screenshot({ path: join(shots, 'menu-phone.png') });
  await page.getByText('Menu', { exact: true }).click();
}

// On paper: the page's content, no navigation nor forms.
async function paper(page, where, spec) {
  await page.emulateMedia({ media: 'print' });
  if (!(await page.locator(spec.print).first().isVisible())) failures.push(`${where} @print: ${spec.print} not printed`);
  if (await page.evaluate(() => [...document.querySelectorAll('nav, form')].some(e => e.getClientRects().length))) failures.push(`${where} @print: navigation or form printed`);
  if (shots) await page.screenshot({ path: join(shots, `${spec.shot}-print.png`), fullPage: true });
  await page.emulateMedia({ media: null });
}

function fileName(role, path) {
  return `${role}${path.replace(/[^a-z0-9]+/gi, '_')}.html`;
}

async function auditPage(page, role, spec, dark) {
  const url = `${spec.empty ? emptyBase : base}${spec.path}`;
  const response = await timed('load', () => page.goto(url));
  const status = response.status();
  const expected = spec.status ?? 200;
  if (status !== expected || new URL(page.url()).pathname !== new URL(url).pathname) {
    if (status === 403 || status === 404 || status === 401) return false; // not this role's page
    failures.push(`${role} ${spec.path}: answered ${status} at ${page.url()}`);
    return false;
  }
  const where = `${role} ${spec.path}`;
  if (dark) {
    // The dark theme: its colours, at desktop width.
    await timed('axe', () => axe(page, `${where} @desktop, dark`, true));
    checks += 1;
    return true;
  }
  const html = await response.text();
  const file = join(htmlDir, fileName(role, spec.path));
  writeFileSync(file, html);
  saved.set(file, [role, spec.path]);
  await timed('axe', () => axe(page, `${where} @desktop`));
  if (shots && spec.shot && spec.shotAs === role) {
    await page.screenshot({ path: join(shots, `${spec.shot}-desktop.png`) });
  }
  const scroll = await timed('layout', async () => {
    await page.setViewportSize(PHONE);
    return horizontalScroll(page);
  });
  if (scroll) failures.push(`${where} @phone: horizontal scroll, ${scroll}`);
  await timed('axe', () => axe(page, `${where} @phone`));
  if (spec.menu) await menu(page, where, spec.shotAs === role);
  if (shots && spec.shot && spec.shotAs === role) {
    await page.screenshot({ path: join(shots, `${spec.shot}-phone.png`) });
  }
  await timed('layout', () => page.setViewportSize(DESKTOP));
  if (spec.print && spec.shotAs === role) await paper(page, where, spec);
  checks += 2;
  audited.set(spec.path, [...(audited.get(spec.path) ?? []), role]);
  return true;
}

async function signIn(page, email) {
  await page.goto(`${base}/login`);
  await page.getByLabel('Adresse e-mail').fill(email);
  await page.getByLabel('Mot de passe').fill(password);
  await page.getByRole('button', { name: 'Se connecter' }).click();
  await page.waitForURL(`${base}/`);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync'],
});
const perRole = [];
async function auditRole({ role, dark }) {
  const t0 = Date.now();
  const context = await browser.newContext({ viewport: DESKTOP, locale: 'fr-FR', colorScheme: dark ? 'dark' : 'light' });
  if (process.env.AUDIT_CSS) {
    await context.route('**/assets/app.css', r => r.fulfill({ path: process.env.AUDIT_CSS, contentType: 'text/css' }));
  }
  const page = await context.newPage();
  if (role !== 'anonymous') await signIn(page, accounts[role]);
  let n = 0;
  for (const spec of pages) {
    if (!!spec.anonymous !== (role === 'anonymous')) continue;
    if (await auditPage(page, role, spec, dark)) n += 1;
  }
  perRole.push(`${role}${dark ? ' (dark theme)' : ''}: ${n} pages in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  await context.close();
}
// A few roles at a time (one page each): the browser's renderers use the other cores. The
// administrator, who sees every page, also goes through them in the dark theme.
try {
  const queue = roles.map(role => ({ role }));
  if (roles.includes('admin')) queue.splice(roles.indexOf('admin') + 1, 0, { role: 'admin', dark: true });
  const jobs = Number(process.env.AUDIT_JOBS || 3);
  await Promise.all(Array.from({ length: jobs }, async () => {
    while (queue.length) await auditRole(queue.shift());
  }));
} finally {
  await browser.close();
}
for (const spec of process.env.AUDIT_ROLES ? [] : pages) {
  if (!audited.has(spec.path)) failures.push(`${spec.path}: reached in no role (wrong id, or a failing page)`);
}

// The Nu HTML checker, once on every saved page (it is slow to start).
const t1 = Date.now();
const vnu = saved.size === 0 ? { stderr: '{"messages":[]}' } : spawnSync('java', ['-jar', vnuJar, '--errors-only', '--format', 'json', ...saved.keys()], { encoding: 'utf8', maxBuffer: 64 << 20 });
if (vnu.error) throw vnu.error;
let report;
try { report = JSON.parse(vnu.stderr || vnu.stdout); } catch { throw new Error(`vnu output: ${vnu.stdout}${vnu.stderr}`); }
const byPage = new Map();
for (const m of report.messages) {
  if (m.type !== 'error' && m.type !== 'non-document-error') continue;
  const file = decodeURIComponent((m.url || '').replace(/^file:/, ''));
  const [role, path] = saved.get(file) ?? ['?', file];
  const key = `${m.message} (line ${m.lastLine}: ${(m.extract || '').trim().slice(0, 80)})`;
  if (!byPage.has(path)) byPage.set(path, new Map());
  const who = byPage.get(path).get(key) ?? [];
  byPage.get(path).set(key, [...who, role]);
}
for (const [path, messages] of byPage) {
  for (const [message, who] of messages) failures.push(`${path} (${who.join(', ')}): html ${message}`);
}

console.log(perRole.join('\n'));
console.log(`${saved.size} pages × roles, ${checks} axe passes (2 widths, the open menu, the dark theme), time summed over pages: load ${spent.load.toFixed(1)} s, axe ${spent.axe.toFixed(1)} s, resizing ${spent.layout.toFixed(1)} s, vnu ${((Date.now() - t1) / 1000).toFixed(1)} s, total ${((Date.now() - started) / 1000).toFixed(1)} s`);
if (failures.length) {
  console.log(`${failures.length} problem(s):\n${failures.join('\n')}`);
  process.exit(1);
}
console.log('e2e ok');
