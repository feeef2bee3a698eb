// Differential test: webhook/signature.cpp (driven through sigtool) against the official `stripe`
// npm package pinned in tests/node. Both directions: node signs and both verify, then sigtool
// signs and both verify. Exits non-zero on any disagreement.
//   usage: node signature_differential.mjs <path/to/sigtool> [seed]
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nodeDir = path.resolve(here, '..', 'node');
const sigtool = process.argv[2];
const seed = Number(process.argv[3] ?? process.env.SIG_DIFF_SEED ?? 20240601);

function fail(message) {
  console.error(`signature differential: ${message}`);
  process.exit(2);
}

function loadStripe() {
  if (!existsSync(path.join(nodeDir, 'node_modules', 'stripe'))) {
    fail(`${nodeDir}/node_modules/stripe is missing; run \`npm ci --prefix tests/node\` first.`);
  }
  const Stripe = createRequire(path.join(nodeDir, 'package.json'))('stripe');
  return new Stripe('sk_test_differential'); // only the offline webhooks helpers are used
}

if (!sigtool || !existsSync(sigtool)) fail(`usage: signature_differential.mjs <sigtool>`);
const stripe = loadStripe();

// mulberry32: small, seedable, good enough to pick cases.
let state = seed >>> 0;
function random() {
  state = (state + 0x6d2b79f5) >>> 0;
  let x = state;
  x = Math.imul(x ^ (x >>> 15), x | 1);
  x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
}
const randInt = (lo, hi) => lo + Math.floor(random() * (hi - lo + 1));
const pick = (items) => items[randInt(0, items.length - 1)];
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const HEX = '0123456789abcdef';
const randStr = (n, alphabet = ALNUM) =>
  Array.from({ length: n }, () => alphabet[randInt(0, alphabet.length - 1)]).join('');
const shuffle = (items) => items.map((v) => [random(), v]).sort((a, b) => a[0] - b[0]).map((p) => p[1]);

const makeSecret = () => `whsec_${randStr(32)}`;
function makeBody(created) {
  const event = {
    id: `evt_${randStr(24)}`,
    object: 'event',
    type: pick(['invoice.payment_failed', 'invoice.paid', 'charge.failed']),
    created,
    data: {
      object: {
        id: `in_${randStr(14)}`,
        amount_due: randInt(100, 99999),
        description: pick(['Mitgliedschaft März ✓', 'plain', 'Kurs 🎓', 'q " \\ /', '']),
      },
    },
  };
  return JSON.stringify(event, null, pick([0, 2]));
}
// One byte off, still valid JSON: a letter inside the event id changes.
function mutateBody(body) {
  const at = body.indexOf('evt_') + 4 + randInt(0, 23);
  const next = body[at] === 'a' ? 'b' : 'a';
  return body.slice(0, at) + next + body.slice(at + 1);
}
const sign = (body, secret, t) =>
  stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp: t });
const sigOf = (header) => header.slice(header.indexOf('v1=') + 3);

// --- node's verdict -------------------------------------------------------------------------

function classify(e) {
  const m = String(e?.message ?? e);
  if (e instanceof SyntaxError) return `json_error: ${m}`;
  if (m.startsWith('No webhook payload was provided')) return 'no_valid_signature';
  if (m.startsWith('No stripe-signature header value')) return 'not_signed';
  if (m.startsWith('Unable to extract timestamp')) return 'invalid_header';
  if (m.startsWith('No signatures found with expected scheme')) return 'invalid_header';
  if (m.startsWith('No webhook secret value')) return 'no_valid_signature';
  if (m.startsWith('No signatures found matching')) return 'no_valid_signature';
  if (m.startsWith('Timestamp outside the tolerance')) return 'too_old';
  // An empty v1, or a non-ASCII one, makes secureCompare / timingSafeEqual throw.
  if (m.startsWith('secureCompare must receive')) return 'invalid_header';
  if (e?.code === 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH') return 'invalid_header';
  return `unexpected: ${m}`;
}

// Header errors are the same for every secret, so the worst one stands for them all.
const RANK = ['too_old', 'invalid_header', 'not_signed', 'no_valid_signature'];
function nodeVerdict(c) {
  const errors = [];
  for (const [index, secret] of c.secrets.entries()) {
    try {
      stripe.webhooks.constructEvent(c.body, c.header, secret, c.tolerance, undefined, c.now * 1000);
      return { ok: true, index };
    } catch (e) {
      errors.push(classify(e));
    }
  }
  const odd = errors.find((e) => !RANK.includes(e));
  return { ok: false, error: odd ?? RANK.find((r) => errors.includes(r)) };
}

// node's own reading of `t`: NaN (or a rounded huge number) where we answer invalid_header.
function nodeTimestamp(header) {
  let t = -1;
  for (const item of header.split(',')) {
    const kv = item.split('=');
    if (kv[0] === 't') t = parseInt(kv[1], 10);
  }
  return t;
}
function isDocumentedDeviation(c, node, ours) {
  const t = nodeTimestamp(c.header);
  const oddT = Number.isNaN(t) || Math.abs(t) > 2 ** 53;
  return oddT && !node.ok && !ours.ok && ours.error === 'invalid_header';
}

// --- cases: node signs ----------------------------------------------------------------------

const resign = (c, t) => ({ header: sign(c.body, c.secret, t) });
const withT = (c, t, rest = `v1=${c.sig}`) => ({ header: `t=${t},${rest}` });
const nonAscii64 = () => `é${randStr(63, HEX)}`; // 64 UTF-16 units, 65 UTF-8 bytes

const headerMutations = {
  valid: () => ({}),
  old: (c) => resign(c, c.now - c.tolerance - randInt(1, 1e6)),
  boundary_ok: (c) => resign(c, c.now - c.tolerance),
  boundary_old: (c) => resign(c, c.now - c.tolerance - 1),
  future: (c) => resign(c, c.now + randInt(1, 1e7)),
  tolerance_off: (c) => ({ ...resign(c, c.now - randInt(1e3, 1e8)), tolerance: pick([0, -1]) }),
  drop_t: (c) => ({ header: `v1=${c.sig}` }),
  empty_t: (c) => withT(c, ''),
  bare_t: (c) => ({ header: `t,v1=${c.sig}` }),
  non_numeric_t: (c) => withT(c, pick(['abc', 'x1', ' ', '-', '+', 'NaN', '0x1f', '-+1'])),
  t_digit_prefix: (c) => withT(c, `${c.t}${pick(['abc', '.5', ' ', '\t', 'e3', '=9', 'x='])}`),
  t_sign_zeros_space: (c) => withT(c, `${pick(['+', '0', '00', '+00', ' ', '\t ', '\n'])}${c.t}`),
  t_minus_one: (c) => resign(c, -1),
  negative_t: (c) => ({ ...resign(c, -randInt(2, 1e9)), tolerance: pick([0, 300]) }),
  t_twice: (c) => ({ header: pick([`t=1,${c.header}`, `${c.header},t=1`, `t=${c.t},${c.header}`]) }),
  only_v0: (c) => withT(c, c.t, `v0=${c.sig}`),
  extra_v1: (c) => withT(c, c.t, shuffle([`v1=${c.sig}`, `v1=${randStr(64, HEX)}`, 'v0=ab']).join(',')),
  bad_hex: (c) => withT(c, c.t, `v1=${pick(['zz', 'g', 'Q-'])}${c.sig.slice(2)}`),
  whitespace: (c) =>
    ({ header: pick([` ${c.header}`, `${c.header} `, `t=${c.t}, v1=${c.sig}`,
      `t=${c.t} ,v1=${c.sig}`, `t=${c.t},v1= ${c.sig}`, `t =${c.t},v1=${c.sig}`,
      `t=${c.t},\tv1=${c.sig}`, `t=${c.t},v1 =${c.sig}`, ` `]) }),
  reordered: (c) => ({ header: shuffle([`t=${c.t}`, `v1=${c.sig}`, 'v0=00', 'x=1']).join(',') }),
  uppercase_hex: (c) => withT(c, c.t, `v1=${c.sig.toUpperCase()}`),
  truncated: (c) => withT(c, c.t, `v1=${c.sig.slice(0, randInt(1, 63))}`),
  empty_items: (c) => ({ header: pick([`,${c.header}`, `${c.header},`, `t=${c.t},,v1=${c.sig}`, `,,`]) }),
  trailing_eq: (c) => withT(c, c.t, `v1=${c.sig}=${pick(['', 'x', '=='])}`),
  empty_v1: (c) => withT(c, c.t, shuffle(['v1=', `v1=${c.sig}`]).join(',')),
  bare_v1: (c) => withT(c, c.t, shuffle(['v1', `v1=${c.sig}`]).join(',')),
  non_ascii_v1: (c) => withT(c, c.t, shuffle([`v1=${nonAscii64()}`, `v1=${c.sig}`]).join(',')),
  uppercase_key: (c) => ({ header: pick([`T=${c.t},v1=${c.sig}`, `t=${c.t},V1=${c.sig}`]) }),
  empty_header: () => ({ header: '' }),
  garbage_header: () => ({ header: randStr(randInt(1, 40), 'tv01,= -9a') }),
  signed_with_blank_secret: (c) => {
    const blank = pick(['', ' ', '\t\n']);
    return { ...resign({ ...c, secret: blank }, c.t), secrets: shuffle([blank, makeSecret()]).slice(0, randInt(1, 2)) };
  },
  rotated_pair: (c) => {
    const other = makeSecret();
    return { header: `${c.header},v1=${sigOf(sign(c.body, other, c.t))}`, secrets: [pick([other, c.secret])] };
  },
};

const contextMutations = {
  wrong_secret: () => ({ secrets: [makeSecret()] }),
  body_off_by_one: (c) => ({ body: mutateBody(c.body) }),
  body_extra_byte: (c) => ({ body: c.body + pick([' ', '\n']) }),
  empty_body: () => ({ body: '' }),
  several_secrets: (c) => ({ secrets: shuffle([c.secret, makeSecret(), makeSecret()]) }),
  several_wrong_secrets: () => ({ secrets: [makeSecret(), makeSecret()] }),
  blank_secret: (c) => ({ secrets: shuffle([pick(['', ' ', '\t\n']), c.secret]) }),
  clock_late: (c) => ({ now: c.now + c.tolerance + randInt(1, 1e5) }),
};

function baseCase() {
  const now = randInt(1.6e9, 1.9e9);
  const tolerance = pick([300, 300, 10, 3600]);
  const t = now - randInt(0, Math.min(tolerance, 200));
  const secret = makeSecret();
  const body = makeBody(t);
  const header = sign(body, secret, t);
  return { body, secret, secrets: [secret], now, tolerance, t, header, sig: sigOf(header) };
}

function nodeSignedCases(count) {
  const names = Object.keys(headerMutations);
  const contexts = Object.keys(contextMutations);
  const cases = [];
  for (let i = 0; i < count; i++) {
    const base = baseCase();
    const kinds = [names[i % names.length]];
    let c = { ...base, ...headerMutations[kinds[0]](base) };
    if (i % names.length === 0 || random() < 0.3) {
      kinds.push(pick(contexts));
      c = { ...c, ...contextMutations[kinds[1]](c) };
    }
    cases.push({ kind: kinds.join('+'), body: c.body, header: c.header, secrets: c.secrets, now: c.now, tolerance: c.tolerance });
  }
  return cases;
}

// --- cases: sigtool signs -------------------------------------------------------------------

function signRequests(count) {
  return Array.from({ length: count }, () => {
    const now = randInt(1.6e9, 1.9e9);
    const t = now - randInt(-1e4, 300);
    return { op: 'sign', body: makeBody(t), secret: makeSecret(), t, now };
  });
}

function mutateSigned(r, header) {
  const sig = sigOf(header);
  const flip = randInt(0, 63);
  const kind = pick(['sig_char', 'body', 'secret', 't_plus_one', 'too_old', 'drop_t']);
  const at = { kind, body: r.body, header, secrets: [r.secret], now: r.now, tolerance: 300 };
  if (kind === 'sig_char') at.header = `t=${r.t},v1=${sig.slice(0, flip)}${sig[flip] === '0' ? '1' : '0'}${sig.slice(flip + 1)}`;
  if (kind === 'body') at.body = mutateBody(r.body);
  if (kind === 'secret') at.secrets = [makeSecret()];
  if (kind === 't_plus_one') at.header = `t=${r.t + 1},v1=${sig}`;
  if (kind === 'too_old') at.now = r.t + 301 + randInt(0, 1e5);
  if (kind === 'drop_t') at.header = `v1=${sig}`;
  return at;
}

// --- running --------------------------------------------------------------------------------

function runSigtool(requests) {
  return new Promise((resolve, reject) => {
    const child = spawn(sigtool, [], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const lines = out.split('\n').filter((l) => l.length > 0);
      if (code !== 0 || lines.length !== requests.length) {
        reject(new Error(`sigtool exited with ${code} after ${lines.length}/${requests.length} answers`));
      } else {
        resolve(lines.map((l) => JSON.parse(l)));
      }
    });
    child.stdin.end(requests.map((r) => JSON.stringify(r)).join('\n') + '\n');
  });
}

const verifyRequest = (c) => ({ op: 'verify', body: c.body, header: c.header, secrets: c.secrets, now: c.now, tolerance: c.tolerance });
const same = (a, b) => a.ok === b.ok && (a.ok ? a.index === b.index : a.error === b.error);

async function main() {
  const disagreements = [];
  let deviations = 0;
  const compare = (c, node, ours) => {
    if (same(node, ours)) return;
    if (isDocumentedDeviation(c, node, ours)) deviations++;
    else disagreements.push({ ...c, node, ours });
  };

  const cases = nodeSignedCases(420);
  const answers = await runSigtool(cases.map(verifyRequest));
  cases.forEach((c, i) => compare(c, nodeVerdict(c), answers[i]));

  const signs = signRequests(160);
  const headers = (await runSigtool(signs.map(({ now, ...r }) => r))).map((a) => a.header);
  const reverse = [];
  signs.forEach((r, i) => {
    const expected = sign(r.body, r.secret, r.t);
    if (headers[i] !== expected) disagreements.push({ kind: 'sign', ...r, node: expected, ours: headers[i] });
    reverse.push({ kind: 'sigtool_signed', body: r.body, header: headers[i], secrets: [r.secret], now: r.now, tolerance: 300 });
    reverse.push({ ...mutateSigned(r, headers[i]), kind: 'sigtool_signed+mutated' });
  });
  const reverseAnswers = await runSigtool(reverse.map(verifyRequest));
  reverse.forEach((c, i) => {
    const node = nodeVerdict(c);
    const mustAccept = c.kind === 'sigtool_signed';
    if (node.ok !== mustAccept) disagreements.push({ ...c, node, ours: reverseAnswers[i], note: 'node verdict' });
    else compare(c, node, reverseAnswers[i]);
  });

  const total = cases.length + signs.length + reverse.length;
  for (const d of disagreements.slice(0, 5)) console.error(JSON.stringify(d, null, 2));
  console.log(`signature differential: ${total} cases, ${disagreements.length} disagreements ` +
    `(seed ${seed}, stripe-node ${stripe.VERSION ?? '?'}, ${deviations} documented NaN-timestamp deviations)`);
  process.exit(disagreements.length === 0 ? 0 : 1);
}

main().catch((e) => fail(e.stack ?? String(e)));
