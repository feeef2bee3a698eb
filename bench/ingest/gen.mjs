// Generates signed Stripe `invoice.payment_failed` webhook deliveries for the ingest benchmark.
//
//   node gen.mjs --out FILE --count N [--members M] [--tag T] [--secret whsec_...] [--fixture PATH]
//
// The event is the current API's (2025-03-31) `invoice.payment_failed` of a subscription: a
// member (customer), a product and a subscription, the kind the worker does its full work for.
// --members M spreads the events over M members (event i belongs to member i mod M); 0 (the
// default) gives every event a member of its own; 1 is the worst case, one member with a history
// as long as the run. Each member has its own customer, subscription, subscription item and
// email; every event has its own event and invoice id.
//
// Writes two files:
//   FILE.body  the event body (pretty-printed like Stripe's, ~5 KB) with the placeholders
//              @@EVT@@ (event id), @@IN@@ (invoice id) and @@M@@ (member key) in it;
//   FILE       N lines "evt_id \t in_id \t member key \t Stripe-Signature header", the
//              signature computed over the body with the placeholders replaced, timestamp = now.
// ingest.lua rebuilds each body from the template (plain string concatenation) so that the load
// client keeps ~150 bytes per event in memory instead of ~5 KB; any mismatch would show up as a
// 400 (bad signature) in wrk's "Non-2xx or 3xx responses".
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const out = args.out;
const count = Number(args.count || 300000);
const secret = args.secret || 'whsec_bench_secret_0123456789';
const members = Number(args.members || 0);
const fixture = args.fixture ||
  join(here, '../../tests/fixtures/stripe/api-2025-03-31/invoice.payment_failed.json');
// 8 chars of [0-9a-z] identifying this batch, so ids never repeat across batches.
const tag = (args.tag || randomBytes(6).readUIntBE(0, 6).toString(36)).toLowerCase().padStart(8, '0').slice(-8);
if (!out || !(count > 0) || !(members >= 0)) {
  console.error('usage: node gen.mjs --out FILE --count N [--members M] [--tag T] [--secret S] [--fixture PATH]');
  process.exit(2);
}

const ts = Math.floor(Date.now() / 1000);
const event = JSON.parse(readFileSync(fixture, 'utf8'));
if (event.type !== 'invoice.payment_failed') throw new Error(`fixture type is ${event.type}`);
// Delivered to the creator's own endpoint: events of one's own account carry no `account`.
delete event.account;
event.created = ts;
const invoice = event.data.object;
// The ids that make a member: replaced wherever they occur (invoice, lines, parent).
const subscription = invoice.subscription ||
  (invoice.parent && invoice.parent.subscription_details && invoice.parent.subscription_details.subscription);
const memberIds = [
  [invoice.customer, 'cus_@@M@@'],
  [subscription, 'sub_@@M@@'],
  [invoice.customer_email, 'member_@@M@@@example.org'],
  ...[...new Set((invoice.lines?.data || []).map((l) => l.parent?.subscription_item_details?.subscription_item || l.subscription_item).filter(Boolean))]
    .map((si, k) => [si, `si_@@M@@${k}`]),
].filter(([id]) => id);
const eventId = event.id, invoiceId = invoice.id;
let template = JSON.stringify(event, null, 2);  // Stripe delivers 2-space pretty-printed JSON
for (const [id, placeholder] of [[eventId, '@@EVT@@'], [invoiceId, '@@IN@@'], ...memberIds]) {
  template = template.split(id).join(placeholder);
}
writeFileSync(`${out}.body`, template);

// Split once so building each body is a join, not a search.
const parts = template.split(/(@@EVT@@|@@IN@@|@@M@@)/);
const build = (evt, inv, m) =>
  parts.map((p) => (p === '@@EVT@@' ? evt : p === '@@IN@@' ? inv : p === '@@M@@' ? m : p)).join('');

const pad = (i) => i.toString().padStart(16, '0');
const member = (i) => `${tag}M${(members > 0 ? i % members : i).toString().padStart(10, '0')}`;
const sign = (payload) => createHmac('sha256', secret).update(`${ts}.${payload}`, 'utf8').digest('hex');

// Cross-check our signing against the official library once (same result by construction).
{
  const require = createRequire(join(here, 'peer', 'package.json'));
  const Stripe = require('stripe');
  const stripe = (Stripe.default || Stripe)('sk_test_bench_unused');
  const body = build(`evt_${tag}${pad(0)}`, `in_${tag}${pad(0)}`, member(0));
  const parsed = JSON.parse(body);
  if (parsed.data.object.customer !== `cus_${member(0)}`) throw new Error('member placeholder not in the customer');
  const official = stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: ts });
  const ours = `t=${ts},v1=${sign(body)}`;
  if (official !== ours) throw new Error(`signature mismatch:\n${official}\n${ours}`);
  stripe.webhooks.constructEvent(body, ours, secret);  // throws if it would be rejected
}

const fd = openSync(out, 'w');
let buf = [];
let bufLen = 0;
for (let i = 0; i < count; i++) {
  const evt = `evt_${tag}${pad(i)}`;
  const inv = `in_${tag}${pad(i)}`;
  const m = member(i);
  const line = `${evt}\t${inv}\t${m}\tt=${ts},v1=${sign(build(evt, inv, m))}\n`;
  buf.push(line);
  bufLen += line.length;
  if (bufLen > (1 << 20)) { writeSync(fd, buf.join('')); buf = []; bufLen = 0; }
}
writeSync(fd, buf.join(''));
closeSync(fd);
const size = Buffer.byteLength(build(`evt_${tag}${pad(0)}`, `in_${tag}${pad(0)}`, member(0)));
writeFileSync(`${out}.size`, `${size}\n`);
console.error(`gen: ${count} events over ${members > 0 ? Math.min(members, count) : count} members, ` +
  `tag ${tag}, t=${ts}, body ${size} bytes, ${event.type} (API ${event.api_version || '?'}) -> ${out}`);
