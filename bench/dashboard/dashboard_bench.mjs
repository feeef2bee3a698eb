// Latency of the creator's dashboard pages with many cases in the store: fills a real
// `dunning serve --test-clock` (the browser test's service) with N failed invoices of one
// creator, each its own member, then times every page, one request at a time.
//   usage: node dashboard_bench.mjs <path/to/dunning> [--cases N] [--through-service S]
//          [--requests R] [--csv-requests C]
// S of the N cases (all when S >= N) go through the service; the rest are copies of those rows
// written into its SQLite file directly (see README.md).
// Prints `RESULT name=value` lines (milliseconds, from the request to the last byte).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { creators, startService } from '../../tests/http/dashboard_service.mjs';

const args = process.argv.slice(2);
const binary = args[0];
const option = (name, fallback) => {
  const at = args.indexOf(name);
  return at > 0 ? Number(args[at + 1]) : fallback;
};
const cases = option('--cases', 100000);
const requests = option('--requests', 30);
const throughService = Math.min(cases, option('--through-service', 2000));
const csvRequests = option('--csv-requests', 3); // the CSV is a download of every open item
const concurrency = 16;
if (!binary) {
  console.error('usage: node dashboard_bench.mjs <dunning> [--cases N] [--through-service S] [--requests R]');
  process.exit(2);
}

const log = (m) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const svc = await startService(binary);
process.on('uncaughtException', (e) => {
  console.error(e, `\nservice log:\n${svc.log().slice(-3000)}`);
  process.exit(1);
});
const { base, api, advance, send, now } = svc;

// ---- fill: N failures, each its own invoice and member, then the work they cause

const t0 = Date.now();
const created = await now();
let next = 0;
async function worker() {
  for (;;) {
    const i = next++;
    if (i >= throughService) return;
    const invoice = { id: `in_bench_${i}`, customer: `cus_bench_${i}`, name: `Member ${i}`, amount: 1000 + (i % 90) * 100 };
    await send('alpha', 'invoice.payment_failed', invoice, { at: created, process: false });
    if (i % 10000 === 0) log(`${i} events sent`);
  }
}
await Promise.all(Array.from({ length: concurrency }, worker));
const sentMs = Date.now() - t0;
await advance(0);
const filledMs = Date.now() - t0;
const list = await api('GET', '/v1/creators/alpha/cases?status=all&limit=1', { token: creators.alpha.token });
log(`${throughService} events sent in ${(sentMs / 1000).toFixed(1)} s, processed after ${(filledMs / 1000).toFixed(1)} s`);
await advance(25 * 86400); // three weeks on: reminders, formal reminders and final notices sent
log(`25 days of dunning run after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// ---- the rest: copies of the cases the service made, each its own invoice and member, written
// into the store directly (the same rows the service writes; no timer, so the worker leaves them)

const db = path.join(svc.dir, 'dunning.db');
const sql = (text) => execFileSync('sqlite3', ['-cmd', '.timeout 60000', db, text], { encoding: 'utf8' }).trim();
const copies = Math.ceil(cases / throughService) - 1;
if (copies > 0) {
  const tc = Date.now();
  const top = Number(sql('SELECT max(id) FROM cases'));
  const tables = sql("SELECT name FROM sqlite_master WHERE type = 'table'").split('\n');
  // One short transaction per copy: the service's own writes wait for the lock meanwhile.
  const copy = (n) => {
    const suffix = `'_${n}'`;
    const figures = tables.includes('case_figures')
      ? `INSERT INTO case_figures SELECT f.case_id + ${n * top}, f.creator_id,
           f.customer_id || ${suffix}, f.failed_at, f.failed_month, f.status, f.currency,
           f.amount_due, f.open_amount, f.stage, f.paid_month, f.recovered_by, f.arose_on,
           f.limitation_on, f.anchor_at, f.payment_method, f.products
         FROM case_figures f WHERE f.creator_id = 'alpha' AND f.case_id <= ${top};`
      : '';
    return `BEGIN IMMEDIATE;
      INSERT INTO cases (id, creator_id, invoice_id, status, customer_id, payment_intent_id,
          charge_id, amount_due, currency, opened_at, updated_at, state, next_wakeup_at)
        SELECT c.id + ${n * top}, c.creator_id, c.invoice_id || ${suffix}, c.status,
          c.customer_id || ${suffix}, iif(c.payment_intent_id = '', '', c.payment_intent_id || ${suffix}),
          iif(c.charge_id = '', '', c.charge_id || ${suffix}), c.amount_due, c.currency, c.opened_at,
          c.updated_at,
          json_set(c.state, '$.invoice.invoice_id', c.invoice_id || ${suffix},
                   '$.invoice.customer_id', c.customer_id || ${suffix}), NULL
        FROM cases c WHERE c.creator_id = 'alpha' AND c.id <= ${top};
      ${figures}
      COMMIT;`;
  };
  sql(Array.from({ length: copies }, (_, i) => copy(i + 1)).join('\n'));
  log(`${copies} copies of ${throughService} cases written in ${((Date.now() - tc) / 1000).toFixed(1)} s`);
}
const stored = Number(sql("SELECT count(*) FROM cases WHERE creator_id = 'alpha'"));

// ---- sign in as the creator

const adminToken = 'admin-token-dashboard-0123456789';
// The sockets left idle while the copies were written may have been closed by the service: a
// request on one fails once, and the next goes on a new connection.
let linkAnswer;
for (let attempt = 0; !linkAnswer; attempt += 1) {
  linkAnswer = await api('POST', '/v1/creators/alpha/login-links', { token: adminToken }).catch((e) => {
    if (attempt >= concurrency + 1) throw e;
    return null;
  });
}
const link = linkAnswer.json.url;
const token = new URL(link).searchParams.get('token');
const signIn = await fetch(`${base}/dashboard/login`, {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: `token=${token}`,
  redirect: 'manual',
});
const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
if (!cookie.startsWith('dunning_session=')) throw new Error(`sign-in failed: ${signIn.status}`);

// ---- time each page

const firstCase = list.json.data[0];
const pages = {
  overview: '/dashboard',
  open_items: '/dashboard/open-items',
  open_items_filtered: '/dashboard/open-items?status=open&amount_gte=5000',
  open_items_csv: '/dashboard/open-items?format=csv',
  case: `/dashboard/cases/${firstCase.id}`,
  member: `/dashboard/members/${firstCase.customer?.id ?? 'cus_bench_0'}`,
  settings: '/dashboard/settings',
};
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
console.log(`RESULT cases=${stored}`);
console.log(`RESULT cases_through_service=${throughService}`);
console.log(`RESULT fill_seconds=${(filledMs / 1000).toFixed(1)}`);
for (const [name, url] of Object.entries(pages)) {
  const times = [];
  const n = name === 'open_items_csv' ? csvRequests : requests;
  for (let i = 0; i < n + 3; i += 1) {
    const started = process.hrtime.bigint();
    const r = await fetch(base + url, { headers: { cookie } });
    await r.arrayBuffer();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
    if (i >= 3) times.push(ms); // three to warm up
  }
  times.sort((a, b) => a - b);
  console.log(`RESULT ${name}_p50_ms=${percentile(times, 50).toFixed(1)}`);
  console.log(`RESULT ${name}_p99_ms=${percentile(times, 99).toFixed(1)}`);
}
await svc.stop();
