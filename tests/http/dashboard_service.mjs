// The dashboard browser test's service: `dunning serve --test-clock` with two creators (alpha in
// German, beta in English) and a platform stand-in taking its notifications, Stripe's events
// signed as Stripe signs them, and the scenario that fills it.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

export const adminToken = 'admin-token-dashboard-0123456789';
export const creators = {
  alpha: { token: 'alpha-token-dashboard-0123456789', secret: 'whsec_alpha_dashboard', locale: 'de' },
  beta: { token: 'beta-token-dashboard-0123456789', secret: 'whsec_beta_dashboard', locale: 'en' },
};
const hostSecret = 'whsec_host_dashboard';
const start = 1800000000; // Friday 2027-01-15 08:00 UTC

export async function startService(binary) {
  // ---- the platform stand-in: takes every signed notification

  const notifications = [];
  const platform = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      try {
        notifications.push(JSON.parse(body));
      } catch {
        notifications.push({ unreadable: body });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((r) => platform.listen(0, '127.0.0.1', r));

  // ---- the service

  const dir = mkdtempSync(path.join(os.tmpdir(), 'dunning-dashboard-'));
  const config = path.join(dir, 'dunning.toml');
  writeFileSync(
    config,
    `[server]
  listen = "127.0.0.1:0"
  [storage]
  sqlite_path = "dunning.db"
  synchronous = "normal"
  [mail]
  outbox_dir = "outbox"
  from = "Alpha Akademie <billing@alpha.example>"
  [host]
  webhook_url = "http://127.0.0.1:${platform.address().port}/hooks"
  webhook_secret = "${hostSecret}"
  [platform]
  admin_token = "${adminToken}"
  ${Object.entries(creators)
    .map(
      ([id, c]) => `[[creators]]
  id = "${id}"
  name = "${id} courses"
  locale = "${c.locale}"
  webhook_secrets = ["${c.secret}"]
  api_token = "${c.token}"
  [[creators.products]]
  stripe_product = "prod_course"
  courses = ["course-1"]
  `,
    )
    .join('')}`,
  );
  const child = spawn(binary, ['serve', '--config', config, '--test-clock', '--test-clock-start', String(start), '--no-backfill'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const base = await new Promise((resolve, reject) => {
    const seen = (chunk) => {
      log += chunk;
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(log);
      if (m) resolve(m[1]);
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('exit', (code) => reject(new Error(`dunning exited ${code}:\n${log}`)));
  });

  async function api(method, pathname, { token, body, raw } = {}) {
    const r = await fetch(base + pathname, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    });
    const text = await r.text();
    return { status: r.status, text, json: raw ? null : text ? JSON.parse(text) : null };
  }
  async function now() {
    return (await api('GET', '/v1/test-clock')).json.now;
  }
  async function advance(seconds) {
    const r = await api('POST', '/v1/test-clock/advance', { body: { seconds } });
    if (r.status !== 200) throw new Error(`advance: ${r.status} ${r.text}`);
  }

  // ---- Stripe's events, signed as Stripe signs them

  const failedFixture = JSON.parse(
    readFileSync(path.join(repo, 'tests/fixtures/stripe/api-2025-03-31/invoice.payment_failed.json'), 'utf8'),
  );
  let eventNumber = 0;
  // `at`: the event's time (else the module's now, asked for); `process`: run the work it causes
  // before answering (a benchmark filling the store sends many first and processes them once).
  async function send(creator, type, invoice, { at, process = true } = {}) {
    const e = structuredClone(failedFixture);
    delete e.account;
    eventNumber += 1;
    e.id = `evt_dashboard_${eventNumber}`;
    e.type = type;
    e.created = at ?? (await now());
    const o = e.data.object;
    o.id = invoice.id;
    o.customer = invoice.customer;
    o.customer_name = invoice.name;
    o.customer_email = `${invoice.customer}@example.org`;
    o.number = invoice.id.toUpperCase();
    o.created = e.created;
    o.amount_due = o.total = o.subtotal = o.total_excluding_tax = o.subtotal_excluding_tax = invoice.amount;
    o.lines.data[0].amount = invoice.amount;
    o.lines.data[0].invoice = invoice.id;
    o.lines.data[0].pricing.price_details.product = 'prod_course';
    const sub = `sub_${invoice.id}`;
    o.parent.subscription_details.subscription = sub;
    o.lines.data[0].subscription = sub;
    o.lines.data[0].parent.subscription_item_details.subscription = sub;
    if (type === 'invoice.paid') {
      Object.assign(o, { status: 'paid', amount_paid: invoice.amount, amount_remaining: 0, next_payment_attempt: null });
      o.status_transitions.paid_at = e.created;
    } else {
      Object.assign(o, { amount_paid: 0, amount_remaining: invoice.amount });
    }
    const body = JSON.stringify(e);
    const t = Math.floor(Date.now() / 1000); // signatures are checked against real time
    const v1 = createHmac('sha256', creators[creator].secret).update(`${t}.${body}`).digest('hex');
    const r = await fetch(`${base}/webhooks/stripe/${creator}`, {
      method: 'POST',
      headers: { 'stripe-signature': `t=${t},v1=${v1}`, 'content-type': 'application/json' },
      body,
    });
    if (r.status !== 200) throw new Error(`webhook ${type} ${invoice.id}: ${r.status} ${await r.text()}`);
    if (process) await advance(0); // processed before the next step
  }
  async function caseOf(creator, invoiceId) {
    const list = await api('GET', `/v1/creators/${creator}/cases?status=all&limit=1000`, { token: creators[creator].token });
    return list.json.data.find((c) => c.invoice.id === invoiceId);
  }


  async function stop() {
    const exited = new Promise((res) => child.on('exit', res));
    child.kill('SIGTERM');
    await exited;
    platform.close();
  }
  return { base, dir, notifications, api, advance, now, send, caseOf, stop, log: () => log };
}

// ---- the scenario: six of alpha's members fail, in two months' cohorts

const inv = (id, customer, name, amount) => ({ id, customer, name, amount });
const early = inv('in_early', 'cus_early', 'Erika Früh', 4900); // paid before any reminder
const stage1 = inv('in_stage1', 'cus_stage1', 'Stefan Eins', 9900); // paid after the reminder
const stage2 = inv('in_stage2', 'cus_stage2', 'Zoe Zwei', 12000); // paid after the formal reminder
const locked = inv('in_locked', 'cus_locked', 'Lena Lock', 7900); // locked, escalated, then marked paid
const small = inv('in_small', 'cus_small', 'Sam Klein', 2000); // written off below 50.00
const later = inv('in_later', 'cus_later', 'Lara Später', 5900); // a month later: open
const theirs = inv('in_beta', 'cus_beta', 'Bea Other', 8900); // escalated, stays open

export const invoices = { early, stage1, stage2, locked, small, later, theirs };

// Forty days of dunning: failures paid before any reminder, after the reminder and after the
// formal reminder, a lock, a write-off, and a second cohort on 1 February.
export async function fillScenario({ send, advance, caseOf }) {
  for (const i of [early, stage1, stage2, locked, small]) await send('alpha', 'invoice.payment_failed', i);
  await send('beta', 'invoice.payment_failed', theirs);
  await advance(3600);
  await send('alpha', 'invoice.paid', early);

  const paidAt = {};
  for (let step = 0; step < 160; step += 1) {
    await advance(6 * 3600);
    if (step === 68) await send('alpha', 'invoice.payment_failed', later);
    for (const [i, stage] of [
      [stage1, 1],
      [stage2, 2],
    ]) {
      const c = await caseOf('alpha', i.id);
      if (!paidAt[i.id] && c.stage >= stage) {
        await send('alpha', 'invoice.paid', i);
        paidAt[i.id] = true;
      }
    }
  }
}
