// The subscriber's page: lines and their activation records, approvals,
// downloads paused by the defences (released here), alerts, freeze, stolen
// report, two-factor enrolment.
'use strict';

const describe = {
  initiateAuthentication: 'A device started a download',
  authenticateClient: 'The device proved who it is',
  getBoundProfilePackage: 'The profile was sent to the device',
  handleNotification: 'The device reported back',
  cancelSession: 'The download was cancelled',
};

function whatHappened(e) {
  const d = e.detail || {};
  const fn = d.function || d.action || '';
  const base = describe[fn] || (fn ? fn.replace(/_/g, ' ') : e.kind.replace(/_/g, ' '));
  return base;
}

async function showRecords(iccid) {
  const r = await portal.call('GET', 'lines/records?iccid=' + encodeURIComponent(iccid));
  const list = portal.clear(document.getElementById('records'));
  document.getElementById('records-section').classList.remove('hidden');
  document.getElementById('records-iccid').textContent = iccid;
  if (!r.ok) { list.appendChild(portal.el('li', r.data.error)); return; }
  if (!r.data.records.length) list.appendChild(portal.el('li', 'Nothing happened on this line yet.'));
  for (const e of r.data.records.slice().reverse()) {
    const li = portal.el('li');
    li.appendChild(portal.el('div', e.at, 'when'));
    const head = portal.el('div');
    head.appendChild(portal.badge(e.outcome));
    head.appendChild(document.createTextNode(' ' + whatHappened(e)));
    li.appendChild(head);
    const facts = [];
    if (e.eid) facts.push('device ' + e.eid);
    if (e.address) facts.push('from ' + e.address);
    if (e.reason) facts.push('why: ' + e.reason);
    if (e.actor) facts.push('by ' + e.actor);
    li.appendChild(portal.el('div', facts.join(' · '), 'mono'));
    li.classList.add('record');
    list.appendChild(li);
  }
}

async function loadLines() {
  const r = await portal.call('GET', 'lines');
  const body = portal.clear(document.getElementById('lines'));
  if (!r.ok) { portal.show('lines-msg', r.data.error, false); return; }
  if (!r.data.lines.length) body.appendChild(portal.row(['No line is linked to your account yet: ask your operator.', '', '', '']));
  for (const l of r.data.lines) {
    const actions = portal.el('span');
    const rec = portal.el('button', 'Activation records', 'secondary');
    rec.dataset.iccid = l.iccid;
    rec.addEventListener('click', () => showRecords(l.iccid));
    actions.appendChild(rec);
    const fr = portal.el('button', l.frozen ? 'Unfreeze' : 'Freeze this line', l.frozen ? 'secondary' : 'danger');
    fr.dataset.iccid = l.iccid;
    fr.classList.add(l.frozen ? 'unfreeze' : 'freeze');
    fr.addEventListener('click', async () => {
      const x = await portal.call('POST', l.frozen ? 'lines/unfreeze' : 'lines/freeze', { iccid: l.iccid, reason: 'frozen by the subscriber in the portal' });
      portal.show('lines-msg', x.ok ? (l.frozen ? 'Line unfrozen.' : 'Line frozen: no download or transfer until you unfreeze it.') : x.data.error, x.ok);
      loadLines();
    });
    actions.appendChild(fr);
    const state = portal.el('span');
    state.appendChild(portal.badge(l.frozen ? 'frozen' : 'ok'));
    if (l.frozen && l.frozen_reason) state.appendChild(document.createTextNode(' ' + l.frozen_reason));
    const tr = portal.row([portal.el('span', l.iccid, 'mono'), state, (l.known_eids || []).join(', '), actions]);
    tr.dataset.iccid = l.iccid;
    body.appendChild(tr);
  }
}

async function loadApprovals() {
  const r = await portal.call('GET', 'approvals');
  const body = portal.clear(document.getElementById('approvals'));
  if (!r.ok) return;
  if (!r.data.approvals.length) body.appendChild(portal.row(['Nothing is waiting.', '', '', '', '']));
  for (const a of r.data.approvals) {
    const cell = portal.el('span');
    const code = portal.el('input');
    code.placeholder = 'code';
    code.className = 'approval-code';
    code.autocomplete = 'one-time-code';
    const ok = portal.el('button', 'Approve', 'approve');
    const no = portal.el('button', 'Refuse', 'danger refuse');
    ok.addEventListener('click', async () => {
      const x = await portal.call('POST', 'approvals/approve', { id: a.id, code: code.value.trim() });
      portal.show('approvals-msg', x.ok ? 'Approved: the device may download the profile now.' : x.data.error, x.ok);
      loadApprovals();
    });
    no.addEventListener('click', async () => {
      const x = await portal.call('POST', 'approvals/refuse', { id: a.id });
      portal.show('approvals-msg', x.ok ? 'Refused: the device gets nothing.' : x.data.error, x.ok);
      loadApprovals();
    });
    cell.append(code, ok, no);
    const tr = portal.row([portal.el('span', a.iccid, 'mono'), portal.el('span', a.eid, 'mono'), a.rule, a.created_at, cell]);
    tr.className = 'approval';
    body.appendChild(tr);
  }
}

async function loadPaused() {
  const r = await portal.call('GET', 'orders/paused');
  const body = portal.clear(document.getElementById('paused'));
  if (!r.ok) return;
  if (!r.data.orders.length) body.appendChild(portal.row(['Nothing is paused.', '', '', '', '']));
  for (const o of r.data.orders) {
    const cell = portal.el('span');
    if (o.releasable) {
      // The server asks for a code whenever two-factor sign-in is on.
      let code = null;
      if (portal.me.totp_enrolled) {
        code = portal.el('input');
        code.placeholder = 'code';
        code.className = 'release-code';
        code.inputMode = 'numeric';
        code.autocomplete = 'one-time-code';
        cell.appendChild(code);
      }
      const release = portal.el('button', 'Release', 'release');
      release.dataset.order = o.order_id;
      release.addEventListener('click', async () => {
        const body = { order_id: o.order_id };
        if (code) body.code = code.value.trim();
        const x = await portal.call('POST', 'orders/release', body);
        portal.show('paused-msg', x.ok ? 'Released: the device may try the download again.' : x.data.error, x.ok);
        loadPaused();
      });
      cell.appendChild(release);
    } else {
      cell.appendChild(portal.el('span', 'Only your operator can release it.', 'who'));
    }
    const why = o.rule ? 'unusual activity (' + o.rule.replace(/_/g, ' ') + ')' : 'stopped until your operator releases it';
    const tr = portal.row([portal.el('span', o.iccid, 'mono'), portal.el('span', o.eid || 'any device', 'mono'), why, o.paused_at, cell]);
    tr.className = 'paused-order';
    tr.dataset.order = o.order_id;
    body.appendChild(tr);
  }
}

async function loadAlerts() {
  const r = await portal.call('GET', 'alerts');
  const body = portal.clear(document.getElementById('alerts'));
  if (!r.ok) return;
  if (!r.data.alerts.length) body.appendChild(portal.row(['No alerts.', '', '', '']));
  for (const a of r.data.alerts) {
    const ack = a.acknowledged ? portal.el('span', 'seen') : portal.el('button', 'Mark seen', 'secondary');
    if (!a.acknowledged) ack.addEventListener('click', async () => { await portal.call('POST', 'alerts/ack', { id: a.id }); loadAlerts(); });
    const tr = portal.row([a.at, portal.badge(a.severity), a.summary, ack]);
    tr.className = 'alert-row';
    body.appendChild(tr);
  }
}

function renderTotp() {
  const on = portal.me.totp_enrolled;
  document.getElementById('totp-off').classList.toggle('hidden', on);
  document.getElementById('totp-on').classList.toggle('hidden', !on);
  if (on) document.getElementById('totp-left').textContent = (portal.me.recovery_codes_left || 0) + ' recovery codes left.';
}

document.getElementById('totp-begin').addEventListener('click', async () => {
  const r = await portal.call('POST', 'totp/begin');
  if (!r.ok) { portal.show('totp-msg', r.data.error, false); return; }
  document.getElementById('totp-off').classList.add('hidden');
  document.getElementById('totp-enrol').classList.remove('hidden');
  document.getElementById('totp-secret').textContent = r.data.secret;
  document.getElementById('totp-qr').src = r.data.qr + '?t=' + Date.now();
});

document.getElementById('totp-confirm').addEventListener('click', async () => {
  const r = await portal.call('POST', 'totp/confirm', { code: document.getElementById('totp-code').value.trim() });
  if (!r.ok) { portal.show('totp-msg', r.data.error, false); return; }
  document.getElementById('totp-enrol').classList.add('hidden');
  const list = portal.clear(document.getElementById('recovery-codes'));
  for (const c of r.data.recovery_codes) list.appendChild(portal.el('li', c));
  document.getElementById('totp-codes').classList.remove('hidden');
  portal.me.totp_enrolled = true;
  portal.me.recovery_codes_left = r.data.recovery_codes.length;
  renderTotp();
  portal.show('totp-msg', 'Two-factor sign-in is on.', true);
});

document.getElementById('stolen-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const r = await portal.call('POST', 'stolen', {
    eid: document.getElementById('stolen-eid').value.trim(),
    reason: document.getElementById('stolen-reason').value.trim(),
  });
  portal.show('stolen-msg', r.ok ? 'Reported: downloads to this device are refused from now on.' : r.data.error, r.ok);
  loadAlerts();
});

(async () => {
  if (!(await portal.load('subscriber'))) return;
  renderTotp();
  await Promise.all([loadLines(), loadApprovals(), loadPaused(), loadAlerts()]);
  setInterval(loadApprovals, 5000);
})();
