// Shared by every portal page: JSON calls with the session's CSRF token,
// and small DOM helpers. Text is always set with textContent, never as HTML.
'use strict';

const portal = {
  base: '/portal',
  csrf: '',
  me: null,

  async call(method, path, body) {
    const opts = { method, headers: {}, credentials: 'same-origin' };
    if (method !== 'GET') {
      opts.headers['Content-Type'] = 'application/json';
      opts.headers['X-CSRF-Token'] = portal.csrf;
      opts.body = JSON.stringify(body || {});
    }
    const r = await fetch(portal.base + '/api/' + path, opts);
    let data = {};
    try { data = await r.json(); } catch (e) { data = { error: 'unexpected answer (' + r.status + ')' }; }
    return { status: r.status, ok: r.ok, data };
  },

  // Loads the session or goes back to the sign-in page.
  async load(role) {
    const r = await portal.call('GET', 'me');
    if (!r.ok) { window.location.href = portal.base + '/'; return null; }
    portal.me = r.data;
    portal.csrf = r.data.csrf;
    if (role === 'subscriber' && r.data.role !== 'subscriber') { window.location.href = portal.base + '/operator.html'; return null; }
    if (role === 'operator' && r.data.role === 'subscriber') { window.location.href = portal.base + '/subscriber.html'; return null; }
    const who = document.getElementById('who');
    if (who) who.textContent = r.data.name + ' (' + r.data.role + ')';
    const out = document.getElementById('signout');
    if (out) out.addEventListener('click', async () => { await portal.call('POST', 'signout'); window.location.href = portal.base + '/'; });
    return r.data;
  },

  el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  },

  row(cells) {
    const tr = document.createElement('tr');
    for (const c of cells) {
      const td = document.createElement('td');
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === null || c === undefined ? '' : String(c);
      tr.appendChild(td);
    }
    return tr;
  },

  badge(text) { return portal.el('span', text, 'badge ' + String(text).replace(/[^a-z_]/gi, '')); },

  show(id, text, ok, reasons) {
    const m = document.getElementById(id);
    m.textContent = '';
    m.className = 'msg ' + (ok ? 'ok' : 'error');
    m.appendChild(portal.el('span', text));
    if (reasons && reasons.length) {
      const ul = portal.el('ul');
      for (const r of reasons) ul.appendChild(portal.el('li', r));
      m.appendChild(ul);
    }
  },

  clear(node) { while (node.firstChild) node.removeChild(node.firstChild); return node; },
};
