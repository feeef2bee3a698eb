// The peer: the webhook receiver a creator would write by following Stripe's docs.
// Express + express.raw + stripe.webhooks.constructEvent + better-sqlite3 (WAL).
// Env: PORT (default 4243), DB_PATH (default ./peer.db), SYNCHRONOUS (NORMAL|FULL, default NORMAL),
//      HOST (default 127.0.0.1), WEBHOOK_SECRET (default whsec_bench_secret_0123456789).
import express from 'express';
import Stripe from 'stripe';
import Database from 'better-sqlite3';

const port = Number(process.env.PORT || 4243);
const host = process.env.HOST || '127.0.0.1';
const dbPath = process.env.DB_PATH || './peer.db';
const synchronous = (process.env.SYNCHRONOUS || 'NORMAL').toUpperCase();
if (!['NORMAL', 'FULL'].includes(synchronous)) {
  console.error(`SYNCHRONOUS must be NORMAL or FULL, got ${synchronous}`);
  process.exit(2);
}
const secrets = { bench: process.env.WEBHOOK_SECRET || 'whsec_bench_secret_0123456789' };

const stripe = new Stripe(process.env.STRIPE_SECRET_KEY || 'sk_test_bench_unused');

const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${synchronous}`);
db.exec(`CREATE TABLE IF NOT EXISTS inbox (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  creator TEXT NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  received_at INTEGER NOT NULL
)`);
const insert = db.prepare(
  'INSERT OR IGNORE INTO inbox (event_id, creator, type, body, received_at) VALUES (?, ?, ?, ?, ?)');

const app = express();
app.disable('x-powered-by');

app.get('/healthz', (req, res) => res.json({ ok: true }));

app.post('/webhooks/stripe/:creator', express.raw({ type: 'application/json', limit: '1mb' }), (req, res) => {
  const secret = secrets[req.params.creator];
  if (!secret) return res.status(404).json({ error: 'unknown creator' });
  let event;
  try {
    event = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], secret);
  } catch (err) {
    return res.status(400).send(`Webhook Error: ${err.message}`);
  }
  insert.run(event.id, req.params.creator, event.type, req.body.toString('utf8'), Date.now());
  res.json({ received: true });
});

const server = app.listen(port, host, () => {
  console.log(`peer listening on ${host}:${port} db=${dbPath} synchronous=${synchronous} ` +
    `(journal_mode=${db.pragma('journal_mode', { simple: true })}, synchronous=${db.pragma('synchronous', { simple: true })})`);
});

const shutdown = () => { server.close(); db.close(); process.exit(0); };
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
