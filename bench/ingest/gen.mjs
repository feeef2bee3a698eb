// Generates signed Stripe `invoice.payment_failed` webhook deliveries for the ingest benchmark.
//
//   node gen.mjs --out FILE --count N [--tag T] [--secret whsec_...] [--fixture PATH]
//
// Writes two files:
//   FILE.body  the event body (pretty-printed like Stripe's, ~5 KB) with the placeholders
//              @@EVT@@ (event id) and @@IN@@ (invoice id) in it;
//   FILE       N lines "evt_id \t in_id \t Stripe-Signature header", the signature computed over
//              the body with the placeholders replaced, timestamp = now.
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
const fixture = args.fixture ||
  join(here, '../../tests/fixtures/stripe/api-2020-08-27/invoice.payment_failed.json');
// 8 chars of [0-9a-z] identifying this batch, so ids never repeat across batches.
const tag = (args.tag || randomBytes(6).readUIntBE(0, 6).toString(36)).toLowerCase().padStart(8, '0').slice(-8);
if (!out || !(count > 0)) {
  console.error('usage: node gen.mjs --out FILE --count N [--tag T] [--secret S] [--fixture PATH]');
  process.exit(2);
}

const ts = Math.floor(Date.now() / 1000);
const event = JSON.parse(readFileSync(fixture, 'utf8'));
if (event.type !== 'invoice.payment_failed') throw new Error(`fixture type is ${event.type}`);
event.id = '@@EVT@@';
event.created = ts;
event.data.object.id = '@@IN@@';
if (event.data.object.lines && event.data.object.lines.url) {
  event.data.object.lines.url = '/v1/invoices/@@IN@@/lines';
}
const template = JSON.stringify(event, null, 2);  // Stripe delivers 2-space pretty-printed JSON
writeFileSync(`${out}.body`, template);

// Split once so building each body is a join, not a search.
const parts = template.split(/(@@EVT@@|@@IN@@)/);
const build = (evt, inv) => parts.map((p) => (p === '@@EVT@@' ? evt : p === '@@IN@@' ? inv : p)).join('');

const pad = (i) => i.toString().padStart(16, '0');
const sign = (payload) => createHmac('sha256', secret).update(`${ts}.${payload}`, 'utf8').digest('hex');

// Cross-check our signing against the official library once (same result by construction).
{
  const require = createRequire(join(here, 'peer', 'package.json'));
  const Stripe = require('stripe');
  const stripe = (Stripe.default || Stripe)('sk_test_bench_unused');
  const body = build(`evt_${tag}${pad(0)}`, `in_${tag}${pad(0)}`);
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
  const line = `${evt}\t${inv}\tt=${ts},v1=${sign(build(evt, inv))}\n`;
  buf.push(line);
  bufLen += line.length;
  if (bufLen > (1 << 20)) { writeSync(fd, buf.join('')); buf = []; bufLen = 0; }
}
writeSync(fd, buf.join(''));
closeSync(fd);
writeFileSync(`${out}.size`, `${Buffer.byteLength(build('evt_' + tag + pad(0), 'in_' + tag + pad(0)))}\n`);
console.error(`gen: ${count} events, tag ${tag}, t=${ts}, body ${Buffer.byteLength(build('evt_' + tag + pad(0), 'in_' + tag + pad(0)))} bytes -> ${out}`);
