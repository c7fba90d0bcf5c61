// Browser tests of the portal (issue 5), one real server for the file,
// tests in order (later ones use the accounts and lines earlier ones made).
// Run by run.sh: node --test, with ESIMGUARD_BIN_DIR and SCREENSHOT_DIR.
import assert from 'node:assert/strict';
import { after, before, test as nodeTest } from 'node:test';
import { sleep, strongPassword, totp, world } from './harness.mjs';

const w = new world(process.env.ESIMGUARD_BIN_DIR, process.env.SCREENSHOT_DIR);
const alice = { name: 'alice-' + Date.now().toString(36), password: strongPassword() };
const desk = { name: 'desk', password: strongPassword() };
const lines = {};

before(async () => {
  await w.start();
  w.createAccount(desk.name, desk.password, 'operator', { operator_id: w.operatorId });
});

after(async () => {
  await w.stop();
});

// A test that, when it fails, also leaves a screenshot of every page still
// open (FAILED-<test>-<n>.png), so that the failure can be seen, not guessed.
function test(name, fn) {
  nodeTest(name, async (t) => {
    try {
      await fn(t);
    } catch (e) {
      const slug = name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60).replace(/-+$/, '');
      let n = 0;
      for (const page of w.pages) {
        if (page.isClosed()) continue;
        try { await w.shot(page, `FAILED-${slug}-${n++}`); } catch (ignored) { /* the page died with the test */ }
      }
      throw e;
    }
  });
}

// Waits until the image has loaded and has pixels (the page's CSP forbids
// eval, so no waitForFunction). Returns its width.
async function imageShown(page, selector) {
  for (let i = 0; i < 100; i++) {
    const width = await page.$eval(selector, (img) => (img.complete ? img.naturalWidth : 0));
    if (width > 0) return width;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('image ' + selector + ' did not load');
}

async function signedIn(who, code) {
  const page = await w.page();
  await w.signIn(page, who.name, who.password, code);
  return page;
}

// An order made on the operator page; returns what the page showed.
async function operatorOrder(page, opts = {}) {
  await page.fill('#order-iccid', '');
  await page.fill('#order-eid', opts.eid || '');
  const answer = page.waitForResponse((r) => r.url().endsWith('/api/op/orders') && r.request().method() === 'POST');
  await page.click('#order-submit');
  const r = await (await answer).json();
  assert.ok(r.activation_code, JSON.stringify(r));
  await imageShown(page, '#order-qr');
  return r;
}

async function linkLine(page, iccid, account, stepUp = false) {
  await page.fill('#link-iccid', iccid);
  await page.fill('#link-account', account);
  await page.setChecked('#link-step-up', stepUp);
  await page.click('#link-submit');
  await page.waitForSelector(`#link-msg.ok:has-text("${iccid}")`);
}

test('sign-up with a weak password is refused and says why; a strong one is accepted', async () => {
  const page = await w.page();
  await page.goto(w.url + '/portal/');
  await page.fill('#signup-name', alice.name);
  await page.fill('#signup-password', 'password1234');
  await page.click('#signup-submit');
  await page.waitForSelector('#signup-msg.error li:has-text("too easy to guess")');
  await w.shot(page, 'portal-01-signup-weak-password');

  await page.fill('#signup-password', alice.name + 'Zq7!x');
  await page.click('#signup-submit');
  await page.waitForSelector('#signup-msg.error li:has-text("account name")');

  await page.fill('#signup-password', alice.password);
  await page.click('#signup-submit');
  await page.waitForURL(/subscriber\.html$/);
  await page.waitForSelector('#who:has-text("' + alice.name + '")');
  assert.deepEqual(page.cspErrors, []);
  const cookies = await page.context().cookies();
  const c = cookies.find((x) => x.name === '__Host-esimguard');
  assert.ok(c && c.httpOnly && c.secure && c.sameSite === 'Strict' && c.path === '/');
  await w.shot(page, 'portal-02-signup-strong-password');
  await page.context().close();
});

test('TOTP enrolment, then sign-in needs the code, and a wrong code is refused', async () => {
  const page = await signedIn(alice);
  await page.waitForURL(/subscriber\.html$/);
  await page.click('#totp-begin');
  await page.waitForSelector('#totp-secret:not(:empty)');
  await imageShown(page, '#totp-qr');
  alice.secret = (await page.textContent('#totp-secret')).trim();
  await w.shot(page, 'portal-03-totp-enrolment-qr');
  await page.fill('#totp-code', totp(alice.secret));
  await page.click('#totp-confirm');
  await page.waitForSelector('#recovery-codes li >> nth=9');
  assert.equal(await page.locator('#recovery-codes li').count(), 10);
  await w.shot(page, 'portal-04-totp-recovery-codes');
  await page.context().close();

  const again = await w.page();
  await w.signIn(again, alice.name, alice.password);
  await again.waitForSelector('#signin-code-row:not(.hidden)');
  assert.match(await again.textContent('#signin-msg'), /code/);
  const right = totp(alice.secret, 1);
  const wrong = right === '000000' ? '111111' : '000000';
  await again.fill('#signin-code', wrong);
  await again.click('#signin-submit');
  await again.waitForSelector('#signin-msg:has-text("wrong code")');
  assert.match(again.url(), /\/portal\/$/);
  await w.shot(again, 'portal-05-signin-wrong-code');
  // The enrolment used this step's code; the next step's is within the window.
  await again.fill('#signin-code', right);
  await again.click('#signin-submit');
  await again.waitForURL(/subscriber\.html$/);
  await again.waitForSelector('#totp-on:not(.hidden)');
  await w.shot(again, 'portal-06-signin-with-code');
  alice.page = again;
});

test('an operator creates an order and sees its activation code and QR image', async () => {
  const page = await signedIn(desk);
  await page.waitForURL(/operator\.html$/);
  const order = await operatorOrder(page);
  assert.match(await page.textContent('#order-ac'), /^LPA:1\$localhost:\d+\$/);
  assert.match(await page.textContent('#order-cc'), /^\d{8}$/);
  lines.first = order;
  await linkLine(page, order.iccid, alice.name);
  await w.shot(page, 'portal-07-operator-order-qr');
  assert.deepEqual(page.cspErrors, []);
  desk.page = page;
});

test('a download made by the simulated device appears in the subscriber timeline', async () => {
  const dl = w.lpa(w.eids[0], ['profile', 'download', '-a', lines.first.activation_code, '-c', lines.first.confirmation_code]);
  assert.ok(dl.ok, dl.out);
  const page = alice.page;
  await page.reload();
  await page.click(`button[data-iccid="${lines.first.iccid}"].secondary`);
  await page.waitForSelector('#records li.record');
  const text = await page.textContent('#records');
  assert.match(text, new RegExp(w.eids[0]));
  assert.match(text, /127\.0\.0\.1|::1/);
  await w.shot(page, 'portal-08-subscriber-timeline');
});

test('a download needing approval waits, is approved in the portal, then completes', async () => {
  const order = await operatorOrder(desk.page);
  await linkLine(desk.page, order.iccid, alice.name, true);
  const first = w.lpa(w.eids[1], ['profile', 'download', '-a', order.activation_code, '-c', order.confirmation_code]);
  assert.ok(!first.ok, 'the download did not wait for approval: ' + first.out);
  assert.match(first.out, /approv/i);
  const page = alice.page;
  await page.reload();
  await page.waitForSelector('tr.approval');
  await w.shot(page, 'portal-09-approval-pending');
  await page.fill('tr.approval input.approval-code', totp(alice.secret, 0));
  await page.click('tr.approval button.approve');
  await page.waitForSelector('#approvals-msg.ok');
  const second = w.lpa(w.eids[1], ['profile', 'download', '-a', order.activation_code, '-c', order.confirmation_code]);
  assert.ok(second.ok, second.out);
  await w.shot(page, 'portal-10-approval-done');
});

test('a frozen line refuses a download, and a stolen report blocks that EID', async () => {
  const order = await operatorOrder(desk.page);
  await linkLine(desk.page, order.iccid, alice.name);
  const page = alice.page;
  await page.reload();
  await page.click(`button.freeze[data-iccid="${order.iccid}"]`);
  await page.waitForSelector(`button.unfreeze[data-iccid="${order.iccid}"]`);
  await w.shot(page, 'portal-11-line-frozen');
  const frozen = w.lpa(w.eids[0], ['profile', 'download', '-a', order.activation_code, '-c', order.confirmation_code]);
  assert.ok(!frozen.ok, 'a frozen line was downloaded: ' + frozen.out);
  assert.match(frozen.out, /frozen/i);

  await page.fill('#stolen-eid', w.eids[0]);
  await page.fill('#stolen-reason', 'phone stolen on the train');
  await page.click('#stolen-submit');
  await page.waitForSelector('#stolen-msg.ok');
  await w.shot(page, 'portal-12-stolen-reported');
  const next = await operatorOrder(desk.page);
  const stolen = w.lpa(w.eids[0], ['profile', 'download', '-a', next.activation_code, '-c', next.confirmation_code]);
  assert.ok(!stolen.ok, 'a stolen EID downloaded: ' + stolen.out);
  assert.match(stolen.out, /stolen/i);
});

// A release with alice's TOTP. Her sign-in used the next step's code: if that
// step has not begun yet the code is refused as used, and the one after waits.
async function releaseWithCode(page, row) {
  for (let attempt = 0; attempt < 2; attempt++) {
    await page.fill(`${row} input.release-code`, totp(alice.secret, 1));
    const answer = page.waitForResponse((r) => r.url().endsWith('/api/orders/release'));
    await page.click(`${row} button.release`);
    const r = await answer;
    if (r.ok()) return;
    const error = (await r.json()).error;
    if (attempt || !/already used/.test(error)) throw new Error('release refused: ' + error);
    await sleep(30000 - (Date.now() % 30000) + 500);
  }
}

test('a download paused by the risk engine is released by its subscriber, then completes', async () => {
  const order = await operatorOrder(desk.page);
  await linkLine(desk.page, order.iccid, alice.name);
  assert.match(order.order_id, /^[\w-]+$/);
  // What the risk engine's pause_order action writes.
  w.sql(`UPDATE orders SET locked = 1, lock_reason = 'risk:download_velocity' WHERE order_id = '${order.order_id}'`);
  const paused = w.lpa(w.eids[1], ['profile', 'download', '-a', order.activation_code, '-c', order.confirmation_code]);
  assert.ok(!paused.ok, 'a paused order was downloaded: ' + paused.out);
  assert.match(paused.out, /order paused/);

  const page = alice.page;
  await page.reload();
  const row = `tr.paused-order[data-order="${order.order_id}"]`;
  await page.waitForSelector(row);
  assert.match(await page.textContent(row), /download velocity/);
  await w.shot(page, 'portal-12a-order-paused');
  await releaseWithCode(page, row);
  await page.waitForSelector('#paused-msg.ok');
  await page.waitForSelector(row, { state: 'detached' });
  await w.shot(page, 'portal-12b-order-released');
  assert.equal(w.sql(`SELECT locked FROM orders WHERE order_id = '${order.order_id}'`).trim(), '0');
  const again = w.lpa(w.eids[1], ['profile', 'download', '-a', order.activation_code, '-c', order.confirmation_code]);
  assert.ok(again.ok, again.out);
  assert.deepEqual(page.cspErrors, []);
});

test('an alert from an attack appears in the operator view', async () => {
  // Matching-ID guessing from one address.
  for (let i = 0; i < 25; i++) {
    w.lpa(w.eids[1], ['profile', 'download', '-a', `LPA:1$localhost:${w.port}$GUESS-${i}-${Date.now()}`]);
  }
  const page = desk.page;
  await page.reload();
  await page.waitForSelector('#alerts tr.alert-row');
  const text = await page.textContent('#alerts');
  // The guessing rule's alert, with the attacker's address as evidence.
  assert.match(text, /matching_id_guessing/);
  assert.match(text, /ip=(127\.0\.0\.1|::1)/);
  await w.shot(page, 'portal-13-operator-alerts');
  await page.goto(w.url + '/portal/operator.html');
  await page.fill('#audit-value', w.eids[1]);
  await page.selectOption('#audit-by', 'eid');
  await page.click('#audit-submit');
  await page.waitForSelector('#audit tr.audit-row');
  await w.shot(page, 'portal-14-operator-audit-search');
  // Every operator page this file loaded, orders to audit search.
  assert.deepEqual(page.cspErrors, []);
});

test('another subscriber cannot reach a record by changing the URL', async () => {
  const bob = { name: 'bob-' + Date.now().toString(36), password: strongPassword() };
  const page = await w.page();
  await page.goto(w.url + '/portal/');
  await page.fill('#signup-name', bob.name);
  await page.fill('#signup-password', bob.password);
  await page.click('#signup-submit');
  await page.waitForURL(/subscriber\.html$/);
  await page.waitForSelector('#lines tr');
  assert.doesNotMatch(await page.textContent('#lines'), new RegExp(lines.first.iccid));
  const r = await page.goto(w.url + '/portal/api/lines/records?iccid=' + lines.first.iccid);
  assert.equal(r.status(), 404);
  assert.match(await page.textContent('body'), /no such line/);
  const op = await page.goto(w.url + '/portal/api/op/orders');
  assert.equal(op.status(), 403);
  await page.goto(w.url + '/portal/api/lines/records?iccid=' + lines.first.iccid);
  await w.shot(page, 'portal-15-other-subscriber-record-404');
  await page.context().close();
});
