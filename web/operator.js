// The operator desk: orders with their QR image, inventory, alerts with
// evidence, blocklist, audit search, subscribers' lines, the live chart.
'use strict';

async function loadChart() {
  const r = await portal.call('GET', 'op/stats');
  if (!r.ok) return;
  drawChart(document.getElementById('chart'), [r.data.downloads, r.data.blocked], ['#0b5cad', '#b42318']);
  const sum = (a) => a.reduce((x, y) => x + y, 0);
  document.getElementById('legend-downloads').textContent = 'downloads (' + sum(r.data.downloads) + ')';
  document.getElementById('legend-blocked').textContent = 'blocked (' + sum(r.data.blocked) + ')';
}

async function loadOrders() {
  const state = document.getElementById('orders-state').value;
  const r = await portal.call('GET', 'op/orders' + (state ? '?state=' + encodeURIComponent(state) : ''));
  const body = portal.clear(document.getElementById('orders'));
  if (!r.ok) return;
  document.getElementById('orders-summary').textContent = Object.entries(r.data.by_state).map(([k, v]) => k + ': ' + v).join(' · ');
  for (const o of r.data.orders.slice().reverse()) {
    const qr = portal.el('a', 'QR', 'secondary');
    qr.href = portal.base + '/api/op/orders/qr.png?id=' + encodeURIComponent(o.order_id);
    qr.target = '_blank';
    body.appendChild(portal.row([portal.el('span', o.order_id, 'mono'), portal.el('span', o.iccid, 'mono'), portal.badge(o.state), o.eid || '', o.locked ? (o.lock_reason || 'locked') : '', o.updated_at, qr]));
  }
}

async function loadProfiles() {
  const r = await portal.call('GET', 'op/profiles');
  const body = portal.clear(document.getElementById('profiles'));
  if (!r.ok) return;
  document.getElementById('profiles-summary').textContent = Object.entries(r.data.by_state).map(([k, v]) => k + ': ' + v).join(' · ');
  for (const p of r.data.profiles) body.appendChild(portal.row([portal.el('span', p.iccid, 'mono'), p.profile_type, portal.badge(p.state)]));
}

function evidenceText(e) {
  if (!e) return '';
  const parts = [];
  for (const k of ['ip', 'eid', 'iccid', 'count', 'window_seconds']) if (e[k] !== undefined) parts.push(k + '=' + e[k]);
  if (e.details) parts.push(JSON.stringify(e.details));
  return parts.join(' ');
}

async function loadAlerts() {
  const r = await portal.call('GET', 'op/alerts');
  const body = portal.clear(document.getElementById('alerts'));
  if (!r.ok) return;
  if (!r.data.alerts.length) body.appendChild(portal.row(['No alerts.', '', '', '', '', '']));
  for (const a of r.data.alerts) {
    // Platform alerts (no operator of yours named) are acknowledged by the admins.
    const mayAck = !a.acknowledged && a.can_acknowledge !== false;
    const ack = mayAck ? portal.el('button', 'Acknowledge', 'secondary') : portal.el('span', a.acknowledged ? 'seen' : 'platform');
    if (mayAck) ack.addEventListener('click', async () => { await portal.call('POST', 'op/alerts/ack', { id: a.id }); loadAlerts(); });
    const tr = portal.row([a.at, portal.badge(a.severity), a.rule, a.summary, portal.el('span', evidenceText(a.evidence), 'mono'), ack]);
    tr.className = 'alert-row';
    body.appendChild(tr);
  }
}

async function loadBlocklist() {
  const r = await portal.call('GET', 'op/blocklist');
  const body = portal.clear(document.getElementById('blocklist'));
  if (!r.ok) return;
  for (const b of r.data.entries) {
    const rm = portal.el('button', 'Remove', 'secondary');
    rm.addEventListener('click', async () => {
      const x = await portal.call('POST', 'op/blocklist/remove', { kind: b.kind, value: b.value });
      portal.show('block-msg', x.ok ? 'Removed.' : x.data.error, x.ok);
      loadBlocklist();
    });
    body.appendChild(portal.row([b.kind, portal.el('span', b.value, 'mono'), b.expires || 'until removed', b.reason, rm]));
  }
}

document.getElementById('order-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = {
    iccid: document.getElementById('order-iccid').value.trim(),
    profile_type: document.getElementById('order-type').value.trim(),
    eid: document.getElementById('order-eid').value.trim(),
  };
  if (document.getElementById('order-no-cc').checked) body.confirmation_code = false;
  const r = await portal.call('POST', 'op/orders', body);
  if (!r.ok) { portal.show('order-msg', r.data.error, false); return; }
  portal.show('order-msg', 'Order ' + r.data.order_id + ' created for ' + r.data.iccid + '.', true);
  document.getElementById('order-ac').textContent = r.data.activation_code;
  document.getElementById('order-cc-row').classList.toggle('hidden', !r.data.confirmation_code);
  document.getElementById('order-cc').textContent = r.data.confirmation_code || '';
  document.getElementById('order-qr').src = r.data.qr;
  document.getElementById('order-result').classList.remove('hidden');
  loadOrders();
  loadProfiles();
});

document.getElementById('link-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const r = await portal.call('POST', 'op/lines', {
    iccid: document.getElementById('link-iccid').value.trim(),
    account: document.getElementById('link-account').value.trim(),
    step_up_on_new_eid: document.getElementById('link-step-up').checked,
  });
  portal.show('link-msg', r.ok ? 'Line ' + r.data.line.iccid + ' linked.' : r.data.error, r.ok);
});

document.getElementById('block-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = {
    kind: document.getElementById('block-kind').value,
    value: document.getElementById('block-value').value.trim(),
    reason: document.getElementById('block-reason').value.trim() || 'blocked by an operator',
  };
  const ttl = parseInt(document.getElementById('block-ttl').value, 10);
  if (ttl > 0) body.ttl_seconds = ttl * 60;
  const r = await portal.call('POST', 'op/blocklist/add', body);
  portal.show('block-msg', r.ok ? 'Blocked.' : r.data.error, r.ok);
  loadBlocklist();
});

document.getElementById('audit-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const by = document.getElementById('audit-by').value;
  const r = await portal.call('GET', 'op/audit?' + by + '=' + encodeURIComponent(document.getElementById('audit-value').value.trim()));
  const body = portal.clear(document.getElementById('audit'));
  if (!r.ok) { portal.show('audit-msg', r.data.error, false); return; }
  portal.show('audit-msg', r.data.records.length + ' events', true);
  for (const e of r.data.records) {
    const tr = portal.row([e.at, e.kind, e.actor, e.eid || '', e.iccid || '', e.address || '', portal.badge(e.outcome), e.reason]);
    tr.className = 'audit-row';
    body.appendChild(tr);
  }
});

document.getElementById('orders-state').addEventListener('change', loadOrders);

(async () => {
  if (!(await portal.load('operator'))) return;
  await Promise.all([loadChart(), loadOrders(), loadProfiles(), loadAlerts(), loadBlocklist()]);
  setInterval(loadChart, 5000);
  setInterval(loadAlerts, 10000);
})();
