// The creator's dashboard in a real browser (headless Chromium through playwright-core) against
// the real `dunning serve --test-clock`, filled by a scripted scenario: failures recovered at
// several stages, a lock, a write-off. Every figure a page shows is compared with the JSON API.
//   usage: node dashboard_browser.mjs <path/to/dunning> <screenshot folder>
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { adminToken, creators, fillScenario, invoices, startService } from './dashboard_service.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..');
const [binary, shots] = process.argv.slice(2);
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

let failures = 0;
function check(ok, what, detail = '') {
  if (ok) return;
  failures += 1;
  console.error(`FAIL ${what}${detail ? `: ${detail}` : ''}`);
}
function equal(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  check(a === e, what, `got ${a}, expected ${e}`);
}
function die(message) {
  console.error(`dashboard browser test: ${message}`);
  process.exit(2);
}

if (!binary || !existsSync(binary) || !shots) die('usage: dashboard_browser.mjs <dunning> <screenshot folder>');
if (!existsSync(chromiumPath)) die(`${chromiumPath} is missing: apt-get install chromium (scripts/install-deps)`);
const nodeDir = path.resolve(repo, 'tests', 'node');
if (!existsSync(path.join(nodeDir, 'node_modules', 'playwright-core'))) {
  die('tests/node/node_modules/playwright-core is missing: run `npm ci --prefix tests/node`');
}
const { chromium } = createRequire(path.join(nodeDir, 'package.json'))('playwright-core');

const svc = await startService(binary);
const { base, dir, notifications, api, advance, caseOf } = svc;
const { locked, small, theirs } = invoices;
await fillScenario(svc);

const lockedCase = await caseOf('alpha', locked.id);
const smallCase = await caseOf('alpha', small.id);
equal(lockedCase.status, 'escalated', 'the 79.00 claim is escalated after its final notice');
equal(smallCase.status, 'written_off', 'the 20.00 claim is written off');
const lockedAccess = await api('GET', `/v1/creators/alpha/access?member=${locked.customer}&course=course-1`, {
  token: creators.alpha.token,
});
equal(lockedAccess.json.level, 'locked', "the escalated member's access is locked");

// ---- the browser

mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
const context = await browser.newContext({ acceptDownloads: true, locale: 'de-DE' });
const page = await context.newPage();
const consoleErrors = [];
page.on('console', (m) => {
  if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
});
page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
async function noConsoleErrors(what) {
  equal(consoleErrors.splice(0), [], `no console errors on ${what}`);
}

async function loginLink(creator) {
  const r = await api('POST', `/v1/creators/${creator}/login-links`, { token: adminToken });
  equal(r.status, 201, 'a login link is made with the admin token');
  return r.json.url;
}
// A login link opens a page whose button signs in: fetching the link (a mail scanner) takes
// nothing, the POST takes it once.
async function signIn(p, url, shot) {
  const shown = await p.goto(url);
  equal(shown.status(), 200, 'a login link shows the sign-in button');
  if (shot) await p.screenshot({ path: path.join(shots, shot) });
  const [answer] = await Promise.all([
    p.waitForResponse((res) => res.request().method() === 'POST' && new URL(res.url()).pathname === '/dashboard/login'),
    p.click('#sign-in button[type="submit"]'),
  ]);
  await p.waitForLoadState('load');
  return answer;
}
// Clicks a link and waits until the page it leads to has loaded: a bare click returns once the
// navigation is committed, when the new document may still be parsing.
async function follow(p, selector) {
  const target = new URL(await p.getAttribute(selector, 'href'), p.url());
  await Promise.all([
    p.waitForURL((u) => u.pathname === target.pathname && u.search === target.search, { waitUntil: 'load' }),
    p.click(selector),
  ]);
}
const refusedByCreator = await api('POST', '/v1/creators/alpha/login-links', { token: creators.alpha.token });
equal(refusedByCreator.status, 403, "a creator's own token makes no login link");

// Signing in through the link lands on the overview with a session cookie.
const link = await loginLink('alpha');
const scanned = await fetch(link, { redirect: 'manual' }); // as a mail scanner fetches it
equal(scanned.status, 200, 'fetching a login link shows a page');
check(!(scanned.headers.get('set-cookie') ?? '').includes('dunning_session'), 'fetching a login link opens no session');
let r = await signIn(page, link, 'sign-in.png');
equal(r.status(), 303, 'the sign-in POST answers with the way to the overview');
equal(new URL(page.url()).pathname, '/dashboard', 'the login link leads to the overview');
r = await page.goto(`${base}/dashboard`);
equal(r.status(), 200, 'the overview answers 200');
const cookies = await context.cookies();
const session = cookies.find((c) => c.name === 'dunning_session');
check(session && session.httpOnly && session.sameSite !== 'None', 'the session cookie is HttpOnly and SameSite', JSON.stringify(cookies));
const csp = r.headers()['content-security-policy'] ?? '';
check(csp.includes("frame-ancestors 'none'"), 'the overview forbids framing', csp);
await noConsoleErrors('the overview');
await page.screenshot({ path: path.join(shots, 'overview.png'), fullPage: true });

// The overview's figures are the summary API's.
const summary = (await api('GET', '/v1/creators/alpha/summary', { token: creators.alpha.token })).json;
const pageFigures = await page.$$eval('#figures tbody tr', (rows) =>
  rows.map((row) => ({
    currency: row.dataset.currency,
    cells: Object.fromEntries(
      [...row.querySelectorAll('td[data-figure]')].map((td) => [
        td.dataset.figure,
        td.dataset.figure === 'rate' ? td.dataset.permille : [Number(td.dataset.count), Number(td.dataset.minor)],
      ]),
    ),
  })),
);
const apiFigures = Object.entries(summary.currencies).map(([currency, f]) => ({
  currency,
  cells: {
    failed: [f.failed.count, f.failed.amount],
    recovered: [f.recovered.count, f.recovered.amount],
    open: [f.open.count, f.open.amount],
    written_off: [f.written_off.count, f.written_off.amount],
    rate: f.recovery_rate_permille === null ? '' : String(f.recovery_rate_permille),
  },
}));
equal(pageFigures, apiFigures, 'the overview shows the summary API figures');
const eur = summary.currencies.eur;
equal(
  [eur.failed.count, eur.recovered.count, eur.open.count, eur.written_off.count],
  [6, 3, 2, 1],
  'six failures: three recovered, two open, one written off',
);
equal(eur.failed.amount, 4900 + 9900 + 12000 + 7900 + 2000 + 5900, 'the failed amount is the six invoices');
const euroText = await page.textContent('#figures td[data-figure="recovered"]');
check(euroText.includes('268,00\u00a0€'), 'amounts are written the German way', euroText);
const rateText = await page.textContent('#figures td[data-figure="rate"]');
const ratePermille = summary.currencies.eur.recovery_rate_permille;
equal(rateText.trim(), `${Math.floor(ratePermille / 10)},${ratePermille % 10}\u00a0%`, 'the recovery rate is written the German way');

const cohortRows = await page.$$eval('#cohorts tbody tr', (rows) =>
  rows.map((row) => [row.dataset.month, row.querySelector('td[data-permille]').dataset.permille]),
);
equal(
  cohortRows,
  summary.cohorts.map((c) => [c.month, String(c.currencies.eur.recovery_rate_permille ?? '')]),
  'the cohorts are the API cohorts',
);
equal(summary.cohorts.map((c) => c.month), ['2027-01', '2027-02'], 'two cohorts by month of failure');
const sources = await page.$$eval('#recovered-by tbody tr', (rows) =>
  rows.map((row) => [row.dataset.source, Number(row.querySelector('td[data-count]').dataset.count)]),
);
equal(
  sources,
  Object.entries(summary.recovered_by).map(([s, byCurrency]) => [s, byCurrency.eur.count]),
  'what recovered the money is the API answer',
);
equal(
  Object.keys(summary.recovered_by).sort(),
  ['before_reminder', 'stage_1', 'stage_2'],
  'recovered before any reminder, after the reminder and after the formal reminder',
);
const lockedRows = await page.$$eval('#locked-now tbody tr', (rows) => rows.map((row) => row.dataset.member));
equal(lockedRows, summary.locked_now.map((l) => l.member), 'the members locked now are the API ones');
check(lockedRows.includes(locked.customer), 'the escalated member is locked now', lockedRows.join(', '));
const statusRows = await page.$$eval('#cases-by-status tbody tr', (rows) =>
  Object.fromEntries(rows.map((row) => [row.dataset.status, Number(row.querySelector('td[data-count]').dataset.count)])),
);
equal(statusRows, summary.cases_by_status, 'cases by status are the API ones');
check((await page.$$('svg.chart rect')).length > 0, 'the overview draws its charts');

// Usable on a phone: nothing wider than the screen but the tables' own scroll boxes.
const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
await phone.addCookies([session]);
const phonePage = await phone.newPage();
await phonePage.goto(`${base}/dashboard`);
const overflow = await phonePage.evaluate(() => document.documentElement.scrollWidth - 390);
check(overflow <= 0, 'the overview fits a phone screen', `${overflow}px too wide`);
await phonePage.screenshot({ path: path.join(shots, 'overview-phone.png'), fullPage: true });
for (const [name, url] of [
  ['open-items', '/dashboard/open-items'],
  ['case', `/dashboard/cases/${lockedCase.id}`],
  ['member', `/dashboard/members/${locked.customer}`],
]) {
  await phonePage.goto(base + url);
  // A phone zooms a page out to fit what is too wide: the page's width must be the screen's.
  const wider = await phonePage.evaluate(() => document.documentElement.scrollWidth - 390);
  check(wider <= 0, `the ${name} page fits a phone screen`, `${wider}px too wide`);
  await phonePage.screenshot({ path: path.join(shots, `${name}-phone.png`), fullPage: true });
}
await phone.close();

// ---- open items: filter, totals, CSV

await follow(page, 'nav a[href^="/dashboard/open-items"]');
await noConsoleErrors('the open items');
await page.selectOption('#filters select[name="status"]', 'escalated');
await Promise.all([page.waitForURL(/status=escalated/), page.click('#filters button[type="submit"]')]);
const apiEscalated = (await api('GET', '/v1/creators/alpha/open-items?status=escalated', { token: creators.alpha.token })).json;
const shownCases = await page.$$eval('#items tbody tr', (rows) => rows.map((row) => Number(row.dataset.case)));
equal(shownCases, apiEscalated.data.map((i) => i.case), 'the filtered open items are the API ones');
equal(shownCases, [lockedCase.id], 'only the escalated claim is left after the filter');
equal(await page.$eval('#filters select[name="status"]', (s) => s.value), 'escalated',
  'the filter shown is the one applied, so sending the form again keeps it');
// Paging keeps the filter: one item per page, the next page is the API's second item.
await page.goto(`${base}/dashboard/open-items?limit=1`);
const firstPage = await page.$$eval('#items tbody tr', (rows) => rows.map((row) => Number(row.dataset.case)));
const apiAll = (await api('GET', '/v1/creators/alpha/open-items', { token: creators.alpha.token })).json;
equal(firstPage, [apiAll.data[0].case], 'the first page is the API\'s first item');
if (apiAll.data.length > 1) {
  await Promise.all([page.waitForURL(/offset=1/), page.click('#next-page')]);
  const secondPage = await page.$$eval('#items tbody tr', (rows) => rows.map((row) => Number(row.dataset.case)));
  equal(secondPage, [apiAll.data[1].case], 'the next page is the API\'s second item');
}
await page.goto(`${base}/dashboard/open-items?status=escalated`);
const shownTotal = await page.$eval('#totals tbody tr td[data-minor]', (td) => Number(td.dataset.minor));
equal(shownTotal, apiEscalated.totals.eur.principal, 'the open items total is the API one');
await page.screenshot({ path: path.join(shots, 'open-items.png'), fullPage: true });
await noConsoleErrors('the filtered open items');
const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
const csvPath = path.join(dir, 'open-items.csv');
await download.saveAs(csvPath);
const apiCsv = await api('GET', '/v1/creators/alpha/open-items?status=escalated&format=csv', {
  token: creators.alpha.token,
  raw: true,
});
equal(readFileSync(csvPath, 'utf8'), apiCsv.text, 'the downloaded CSV is the API CSV');

// ---- a case: its timeline, and marking it paid

await follow(page, `#items a[href^="/dashboard/cases/${lockedCase.id}"]`);
equal(new URL(page.url()).pathname, `/dashboard/cases/${lockedCase.id}`, 'a case opens from the open items');
const timeline = await page.$$eval('#timeline tbody tr', (rows) => rows.map((row) => row.cells[1].textContent));
check(timeline.some((w) => w.startsWith('stripe invoice.payment_failed')), 'the timeline shows the webhook', timeline.join(' | '));
check(timeline.filter((w) => w.startsWith('email')).length >= 3, 'the timeline shows the emails sent', timeline.join(' | '));
check(timeline.includes('escalated'), 'the timeline shows the escalation', timeline.join(' | '));
check(timeline.includes('access locked'), "the timeline shows the member's access locked", timeline.join(' | '));
await noConsoleErrors('the case');
await page.screenshot({ path: path.join(shots, 'case.png'), fullPage: true });

// The member's page: access, claims and access changes as the access API answers them.
await follow(page, '#member-link');
equal(new URL(page.url()).pathname, `/dashboard/members/${locked.customer}`, 'the member opens from the case');
const apiMemberAccess = (
  await api('GET', `/v1/creators/alpha/access?member=${locked.customer}`, { token: creators.alpha.token })
).json.data;
const shownAccess = await page.$$eval('#access tbody tr', (rows) => rows.map((r) => [r.dataset.product, r.dataset.level]));
equal(shownAccess, apiMemberAccess.map((a) => [a.product, a.level]), "the member's access is the API's");
const apiHistory = (
  await api('GET', `/v1/creators/alpha/access/history?member=${locked.customer}`, { token: creators.alpha.token })
).json.data;
const shownHistory = await page.$$eval('#history tbody tr', (rows) => rows.map((r) => Number(r.dataset.sequence)));
equal(shownHistory, apiHistory.map((h) => h.sequence), "the member's access changes are the API's");
await noConsoleErrors('the member');
await page.screenshot({ path: path.join(shots, 'member.png'), fullPage: true });

// Access withdrawn by an override with a note, then the override revoked: through the access
// API's code, shown in the overrides and the access changes.
const { later } = invoices;
const laterAccessOf = async () => (await api('GET', `/v1/creators/alpha/access?member=${later.customer}&course=course-1`, {
  token: creators.alpha.token,
})).json.level;
const laterLevelBefore = await laterAccessOf();
await page.goto(`${base}/dashboard/members/${later.customer}`);
await page.selectOption('#override-form select[name="level"]', 'locked');
await page.fill('#override-form input[name="note"]', 'Kurs gekündigt, Zugang endet');
await Promise.all([page.waitForLoadState('load'), page.click('#override-form button[type="submit"]')]);
equal(new URL(page.url()).pathname, `/dashboard/members/${later.customer}`, 'an override returns to the member');
const laterOverrides = (
  await api('GET', `/v1/creators/alpha/access/overrides?member=${later.customer}`, { token: creators.alpha.token })
).json.data;
equal(laterOverrides.map((o) => [o.level, o.note, o.actor, o.in_force]),
  [['locked', 'Kurs gekündigt, Zugang endet', 'dashboard:alpha', true]], 'the override is stored with who and why');
equal(await page.$$eval('#overrides tbody tr[data-in-force]', (rows) => rows.map((row) => row.dataset.override)),
  [String(laterOverrides[0].id)], 'the page shows the override in force');
const laterHistory = (
  await api('GET', `/v1/creators/alpha/access/history?member=${later.customer}`, { token: creators.alpha.token })
).json.data;
check(laterHistory.some((h) => h.override === laterOverrides[0].id && h.to === 'locked'),
  'the access history shows the lock the override made', JSON.stringify(laterHistory));
equal(await page.$$eval('#history tbody tr', (rows) => rows.map((row) => Number(row.dataset.sequence))),
  laterHistory.map((h) => h.sequence), "the member's access changes are the API's");
await page.screenshot({ path: path.join(shots, 'member-override.png'), fullPage: true });
await page.fill(`#overrides tr[data-override="${laterOverrides[0].id}"] input[name="note"]`, 'Irrtum');
await Promise.all([page.waitForLoadState('load'),
  page.click(`#overrides tr[data-override="${laterOverrides[0].id}"] button[type="submit"]`)]);
const revokedOverride = (
  await api('GET', `/v1/creators/alpha/access/overrides?member=${later.customer}`, { token: creators.alpha.token })
).json.data[0];
equal([revokedOverride.in_force, revokedOverride.revoked_by, revokedOverride.revoke_note], [false, 'dashboard:alpha', 'Irrtum'],
  'the override is revoked with who and why');
equal(await laterAccessOf(), laterLevelBefore, 'revoking the override gives the access back as the rules say');
const noCsrfOverride = await page.request.post(`${base}/dashboard/members/${later.customer}/overrides`, {
  form: { level: 'locked', note: 'x' },
});
equal(noCsrfOverride.status(), 403, 'an override without the CSRF token is refused');
await noConsoleErrors('the member with overrides');

r = await page.goto(`${base}/dashboard/members/${theirs.customer}`);
equal(r.status(), 404, "another creator's member is not found");
consoleErrors.splice(0); // that 404 on purpose
await page.goto(`${base}/dashboard/cases/${lockedCase.id}`);

const before = notifications.length;
await page.selectOption('#case-actions select[name="action"]', 'mark-paid');
await page.fill('#case-actions input[name="note"]', 'Überweisung am 3. März erhalten');
await Promise.all([page.waitForLoadState('load'), page.click('#case-actions button[type="submit"]')]);
equal(await page.textContent('#case-status'), 'paid', 'the case page shows the case paid');
const decided = (await api('GET', `/v1/creators/alpha/cases/${lockedCase.id}`, { token: creators.alpha.token })).json;
equal(decided.creator_actions.map((a) => [a.action, a.actor, a.note]),
  [['mark-paid', 'dashboard:alpha', 'Überweisung am 3. März erhalten']], 'the case records who marked it paid and why');
const whoWhy = await page.$$eval('#timeline tbody tr', (rows) => rows.map((row) => [row.cells[1].textContent, row.cells[2].textContent]));
check(whoWhy.some(([w, d]) => w === 'mark-paid · dashboard:alpha' && d === 'Überweisung am 3. März erhalten'),
  'the timeline shows who marked the case paid and why', JSON.stringify(whoWhy));
await page.screenshot({ path: path.join(shots, 'case-paid.png'), fullPage: true });
await advance(0); // the platform's notifications go out
const restored = await api('GET', `/v1/creators/alpha/access?member=${locked.customer}&course=course-1`, {
  token: creators.alpha.token,
});
equal(restored.json.level, 'granted', "the member's access is restored");
const heard = notifications.slice(before).map((n) => `${n.type}:${n.member ?? ''}`);
check(heard.includes(`access.restored:${locked.customer}`), 'the platform hears access.restored', heard.join(', '));
check(heard.some((h) => h.startsWith('case.resolved')), 'the platform hears case.resolved', heard.join(', '));
const afterSummary = (await api('GET', '/v1/creators/alpha/summary', { token: creators.alpha.token })).json;
equal(afterSummary.recovered_by.marked_paid?.eur?.count, 1, 'the summary counts the case as marked paid');
await noConsoleErrors('the case after marking it paid');

// ---- refusals

const csrfMissing = await page.request.post(`${base}/dashboard/actions`, {
  form: { action: 'pause', case: String(lockedCase.id) },
});
equal(csrfMissing.status(), 403, 'an action without the CSRF token is refused');
const csrfWrong = await page.request.post(`${base}/dashboard/actions`, {
  form: { action: 'pause', case: String(lockedCase.id), csrf: 'f'.repeat(64) },
});
equal(csrfWrong.status(), 403, 'an action with a wrong CSRF token is refused');
equal((await caseOf('alpha', locked.id)).status, 'paid', 'the refused actions changed nothing');

const betaCase = await caseOf('beta', theirs.id);
equal(betaCase.status, 'escalated', "the other creator's claim is escalated");
r = await page.goto(`${base}/dashboard/cases/${betaCase.id}`);
equal(r.status(), 404, "another creator's case is not found");
check(!(await page.content()).includes(theirs.customer), "nothing of the other creator's case is shown");
// A valid token of this session, read from a page that has the form: only the case's owner
// decides the answer.
await page.goto(`${base}/dashboard`);
const ownToken = await page.$eval('form[action="/dashboard/logout"] input[name="csrf"]', (i) => i.value);
check(ownToken.length > 0, 'the overview carries the session\'s CSRF token');
const crossAction = await page.request.post(`${base}/dashboard/actions`, {
  form: { action: 'write-off', case: String(betaCase.id), csrf: ownToken },
});
equal(crossAction.status(), 404, "another creator's case cannot be acted on");
equal((await caseOf('beta', theirs.id)).status, 'escalated', "the other creator's case is unchanged");

const fresh = await browser.newContext();
const freshPage = await fresh.newPage();
r = await freshPage.goto(link);
equal(r.status(), 400, 'a used login link is refused');
const reused = await freshPage.request.post(`${base}/dashboard/login`, { form: { token: new URL(link).searchParams.get('token') } });
equal(reused.status(), 400, 'a used login link cannot sign in again');
const expiring = await loginLink('alpha');
await advance(6 * 60);
r = await freshPage.goto(expiring);
equal(r.status(), 400, 'an expired login link is refused');
const lateSignIn = await freshPage.request.post(`${base}/dashboard/login`, { form: { token: new URL(expiring).searchParams.get('token') } });
equal(lateSignIn.status(), 400, 'an expired login link cannot sign in');
await freshPage.screenshot({ path: path.join(shots, 'login-refused.png') });
r = await freshPage.goto(`${base}/dashboard`);
equal(r.status(), 401, 'the dashboard without a session asks to sign in');
await fresh.close();

// A session ends after 30 idle minutes.
await advance(31 * 60);
r = await page.goto(`${base}/dashboard`);
equal(r.status(), 401, 'an idle session has ended');

consoleErrors.splice(0); // the refusals above are answered 4xx on purpose

// Beta's own dashboard, in English, shows only beta's case.
r = await signIn(page, await loginLink('beta'));
equal(r.status(), 303, "beta's login link signs beta in");
await page.goto(`${base}/dashboard/open-items`);
const betaRows = await page.$$eval('#items tbody tr', (rows) => rows.map((row) => Number(row.dataset.case)));
equal(betaRows, [betaCase.id], "beta's open items are beta's");
check((await page.textContent('h1')) === 'Open items', "beta's dashboard is in English");
await page.screenshot({ path: path.join(shots, 'open-items-en.png'), fullPage: true });

// Beta hands its escalated claim to an agency from the open items, through the handover API's code.
await page.check(`#items input[name="case"][value="${betaCase.id}"]`);
await page.selectOption('#actions select[name="action"]', 'hand-over');
await page.fill('#actions input[name="agency"]', 'Inkasso Nord');
await Promise.all([page.waitForLoadState('load'), page.click('#actions button[type="submit"]')]);
equal(new URL(page.url()).pathname, '/dashboard/open-items', 'the action returns to the open items');
const handed = await api('GET', `/v1/creators/beta/cases/${betaCase.id}`, { token: creators.beta.token });
equal(handed.json.status, 'handed_over', "beta's claim is handed over");
const batches = (await api('GET', '/v1/creators/beta/handovers', { token: creators.beta.token })).json.data;
equal(batches.map((b) => [b.agency, b.cases]), [['Inkasso Nord', [betaCase.id]]], 'one batch to the agency named');
await noConsoleErrors("beta's pages");

// ---- settings: the ladder, retry and access rules, saved through PATCH's rules and messages

// A creator of the file is shown its settings, changed in the file.
await signIn(page, await loginLink('alpha'));
await follow(page, 'nav a[href^="/dashboard/settings"]');
check((await page.$('#readonly')) !== null, "a creator of the file sees that its settings are the file's");
check((await page.$('#settings button[type="submit"]')) === null, 'and has no save button');
await noConsoleErrors("alpha's settings");

// A creator of the admin API changes its ladder and sees the preview change.
const made = await api('POST', '/v1/creators', { token: adminToken, body: { id: 'gamma', name: 'Gamma Kurse', locale: 'de' } });
equal(made.status, 201, 'a creator is made through the admin API');
await signIn(page, await loginLink('gamma'));
await follow(page, 'nav a[href^="/dashboard/settings"]');
equal(new URL(page.url()).pathname, '/dashboard/settings', 'the settings open from the navigation');
await noConsoleErrors('the settings');
const previewOf = (id) => page.$eval(`#preview-${id} pre`, (p) => p.textContent);
const stagesShown = await page.$$eval('#previews-list details', (d) => d.map((x) => x.id));
equal(stagesShown, ['preview-1-de', 'preview-1-en', 'preview-2-de', 'preview-2-en', 'preview-3-de', 'preview-3-en'],
  'every stage is previewed in German and English');
const formalBefore = await previewOf('2-de');
check(!formalBefore.includes('2,50'), 'the formal reminder carries no fee yet', formalBefore);
check((await previewOf('2-en')).includes('DEMO-0042'), 'the English preview is rendered too');
await page.fill('input[name="dunning.stages[1].fee"]', '2,50');
await page.fill('input[name="dunning.stages[1].after_days"]', '12');
await Promise.all([page.waitForURL(/saved=1/), page.click('#settings button[type="submit"]')]);
check((await page.$('#saved')) !== null, 'the page says the settings are saved');
const formalAfter = await previewOf('2-de');
check(formalAfter.includes('2,50\u00a0€'), 'the formal reminder preview shows the new fee', formalAfter);
const gammaSettings = (await api('GET', '/v1/creators/gamma', { token: adminToken })).json;
equal(gammaSettings.dunning?.stages?.[1], { after_days: 12, fee: 2.5, message: 'formal_reminder' },
  'the API shows the ladder the page saved');
equal(await page.$eval('input[name="dunning.stages[1].after_days"]', (i) => i.value), '12', 'the form shows the saved delay');
await noConsoleErrors('the saved settings');
await page.screenshot({ path: path.join(shots, 'settings.png'), fullPage: true });

// An invalid value shows the configuration's message beside its field and changes nothing.
await page.fill('input[name="dunning.stages[0].fee"]', '1');
await page.fill('input[name="dunning.stages[2].after_days"]', '5');
const [invalid] = await Promise.all([page.waitForResponse((res) => res.request().method() === 'POST'),
  page.click('#settings button[type="submit"]')]);
equal(invalid.status(), 400, 'invalid settings are answered 400');
await page.waitForLoadState('load');
const apiRefusal = await api('PATCH', '/v1/creators/gamma', {
  token: adminToken,
  body: { dunning: { stages: [
    { message: 'reminder', after_days: 3, fee: 1 },
    { message: 'formal_reminder', after_days: 12, fee: 2.5 },
    { message: 'final_notice', after_days: 5 },
  ] } },
});
equal(apiRefusal.status, 400, 'the API refuses the same ladder');
const shownProblems = await page.$$eval('.problem[data-for]', (s) => s.map((x) => `${x.dataset.for}: ${x.textContent}`));
equal(shownProblems.sort(), [...apiRefusal.json.problems].sort(), "the page shows the API's messages beside the fields");
equal(await page.$eval('input[name="dunning.stages[2].after_days"]', (i) => i.value), '5', 'the form keeps what was sent');
equal((await api('GET', '/v1/creators/gamma', { token: adminToken })).json.dunning, gammaSettings.dunning, 'nothing was saved');
consoleErrors.splice(0); // the 400 on purpose
await page.screenshot({ path: path.join(shots, 'settings-invalid.png'), fullPage: true });

const phoneSettings = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
await phoneSettings.addCookies((await context.cookies()).filter((c) => c.name === 'dunning_session'));
const phoneSettingsPage = await phoneSettings.newPage();
await phoneSettingsPage.goto(`${base}/dashboard/settings`);
// A phone zooms a page out to fit what is too wide: the page's width must be the screen's.
const settingsOverflow = await phoneSettingsPage.evaluate(() => document.documentElement.scrollWidth - 390);
check(settingsOverflow <= 0, 'the settings fit a phone screen', `${settingsOverflow}px too wide`);
await phoneSettingsPage.screenshot({ path: path.join(shots, 'settings-phone.png'), fullPage: true });
await phoneSettingsPage.goto(`${base}/dashboard/open-items`);
const itemsOverflow = await phoneSettingsPage.evaluate(() => document.documentElement.scrollWidth - 390);
check(itemsOverflow <= 0, 'the open items fit a phone screen', `${itemsOverflow}px too wide`);
await phoneSettings.close();

await browser.close();
await svc.stop();
if (failures === 0) rmSync(dir, { recursive: true, force: true });
else console.error(`service log:\n${svc.log()}\nkept ${dir}`);
console.log(failures === 0 ? 'dashboard browser test: ok' : `dashboard browser test: ${failures} failure(s)`);
process.exit(failures === 0 ? 0 : 1);
