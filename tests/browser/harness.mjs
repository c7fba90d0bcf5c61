// The browser tests' world: a real esimguard-smdpp on a free loopback port
// with a fresh PKI, database and admin token in a temp dir; the esimguard
// CLI to stock profiles; esimguard-lpa with a simulated eUICC as the device;
// Debian's Chromium driven by playwright-core. Everything is stopped and
// removed at the end.
import { execFileSync, spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const strongPassword = () => 'Tulip-' + randomBytes(6).toString('hex') + '-harbour-Quiet';

export class world {
  constructor(binDir, screenshotDir) {
    this.bin = {
      cli: path.join(binDir, 'esimguard', 'esimguard'),
      server: path.join(binDir, 'esimguard-smdpp', 'esimguard-smdpp'),
      lpa: path.join(binDir, 'esimguard-lpa', 'esimguard-lpa'),
    };
    this.shots = screenshotDir;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'esimguard-browser-'));
    this.operatorId = 'op-browser';
    this.eids = ['89049032123451234512345678901235', '89049032123451234512345678909965'];
    // Every page opened, for the screenshots of a failed test.
    this.pages = [];
  }

  async start() {
    const d = this.dir;
    fs.mkdirSync(this.shots, { recursive: true });
    this.run(this.bin.cli, ['pki', 'init', '--dir', path.join(d, 'pki'), '--curve', 'nist', '--host', 'localhost']);
    for (const eid of this.eids) {
      this.run(this.bin.cli, ['pki', 'issue-euicc', '--dir', path.join(d, 'pki'), '--curve', 'nist', '--eid', eid]);
    }
    this.adminToken = randomBytes(24).toString('hex');
    fs.writeFileSync(path.join(d, 'admin.token'), this.adminToken + '\n', { mode: 0o600 });
    fs.writeFileSync(path.join(d, 'operator.es2.token'), randomBytes(24).toString('hex') + '\n', { mode: 0o600 });
    fs.writeFileSync(path.join(d, 'operator-id'), this.operatorId + '\n');
    this.server = spawn(this.bin.server, [
      '--pki', path.join(d, 'pki'), '--db', path.join(d, 'esimguard.db'), '--port', '0',
      '--port-file', path.join(d, 'port'), '--admin-token-file', path.join(d, 'admin.token'),
      '--log-level', 'debug', '--log-file', path.join(d, 'server.log'),
    ], { stdio: 'ignore' });
    for (let i = 0; i < 200 && !fs.existsSync(path.join(d, 'port')); i++) await sleep(50);
    this.port = parseInt(fs.readFileSync(path.join(d, 'port'), 'utf8'), 10);
    this.url = 'https://localhost:' + this.port;
    fs.writeFileSync(path.join(d, 'server-url'), this.url + '\n');
    this.run(this.bin.cli, ['order', 'seed', '--var', d, '--profiles', '8', '--wait', '20']);

    this.browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  }

  async stop() {
    if (this.browser) await this.browser.close();
    if (this.server && this.server.exitCode === null) {
      this.server.kill('SIGTERM');
      await new Promise((r) => { this.server.on('exit', r); setTimeout(r, 5000); });
    }
    if (!process.env.KEEP_TMP) fs.rmSync(this.dir, { recursive: true, force: true });
  }

  run(bin, args, opts = {}) {
    return execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000, ...opts });
  }

  // The server's JSON API from outside a browser (admin token, checks).
  curl(method, route, body, headers = []) {
    const args = ['-sS', '--cacert', path.join(this.dir, 'pki', 'nist', 'ci.pem'), '-X', method, '-w', '\n%{http_code}',
      '-H', 'Content-Type: application/json'];
    for (const h of headers) args.push('-H', h);
    if (body !== undefined) args.push('--data-binary', JSON.stringify(body));
    args.push(this.url + route);
    const out = execFileSync('curl', args, { encoding: 'utf8' });
    const nl = out.lastIndexOf('\n');
    const text = out.slice(0, nl);
    let json = null;
    try { json = JSON.parse(text); } catch (e) { json = null; }
    return { status: parseInt(out.slice(nl + 1), 10), json, text };
  }

  createAccount(name, password, role, extra = {}) {
    const r = this.curl('POST', '/portal/api/admin/accounts', { name, password, role, ...extra },
      ['Authorization: Bearer ' + this.adminToken]);
    if (r.status !== 201) throw new Error('create account ' + name + ': ' + r.status + ' ' + r.text);
    return r.json;
  }

  // A simulated eUICC per EID, its state kept in the temp dir.
  lpa(eid, args) {
    const a = ['--sim-state', path.join(this.dir, 'card-' + eid + '.json'), '--pki', path.join(this.dir, 'pki'),
      '--eid', eid, '--curve', 'nist', '--ca', path.join(this.dir, 'pki', 'nist', 'ci.pem'), ...args];
    try {
      return { ok: true, out: this.run(this.bin.lpa, a) };
    } catch (e) {
      return { ok: false, out: (e.stdout || '') + (e.stderr || '') };
    }
  }

  async page() {
    const context = await this.browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1200, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    const errors = [];
    // Content-Security-Policy violations (an inline script or style would be one).
    page.on('console', (m) => { if (m.type() === 'error' && /Content Security Policy|Refused to/.test(m.text())) errors.push(m.text()); });
    page.cspErrors = errors;
    this.pages.push(page);
    return page;
  }

  async shot(page, name) {
    await page.screenshot({ path: path.join(this.shots, name + '.png'), fullPage: true });
  }

  async signIn(page, name, password, code) {
    await page.goto(this.url + '/portal/');
    await page.fill('#signin-name', name);
    await page.fill('#signin-password', password);
    if (code) {
      await page.click('#signin-submit');
      await page.waitForSelector('#signin-code-row:not(.hidden)');
      await page.fill('#signin-code', code);
    }
    await page.click('#signin-submit');
  }

  // One SQL statement on the server's database (setting up a state no page
  // can make, e.g. an order paused by the risk engine).
  sql(statement) {
    return this.run('sqlite3', ['-cmd', '.timeout 5000', path.join(this.dir, 'esimguard.db'), statement]);
  }

  serverLog() {
    try { return fs.readFileSync(path.join(this.dir, 'server.log'), 'utf8'); } catch (e) { return ''; }
  }
}

export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }

// RFC 6238 with SHA-1, 6 digits, 30 s; `offset` in steps from now.
export function totp(base32, offset = 0) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of base32.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const key = Buffer.alloc(Math.floor(bits.length / 8));
  for (let i = 0; i < key.length; i++) key[i] = parseInt(bits.slice(i * 8, i * 8 + 8), 2);
  const step = Math.floor(Date.now() / 1000 / 30) + offset;
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(step));
  const h = createHmac('sha1', key).update(msg).digest();
  const o = h[h.length - 1] & 0xf;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1000000).padStart(6, '0');
}
