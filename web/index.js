// Sign-in and sign-up.
'use strict';

function landing(role) {
  return portal.base + (role === 'subscriber' ? '/subscriber.html' : '/operator.html');
}

document.getElementById('signin-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const body = {
    name: document.getElementById('signin-name').value,
    password: document.getElementById('signin-password').value,
  };
  const code = document.getElementById('signin-code').value.trim();
  if (code) body.code = code;
  const r = await portal.call('POST', 'signin', body);
  if (r.ok) { window.location.href = landing(r.data.role); return; }
  if (r.data.need_code) document.getElementById('signin-code-row').classList.remove('hidden');
  portal.show('signin-msg', r.data.error || 'sign-in failed', false);
});

document.getElementById('signup-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const r = await portal.call('POST', 'signup', {
    name: document.getElementById('signup-name').value,
    password: document.getElementById('signup-password').value,
    email: document.getElementById('signup-email').value.trim(),
  });
  if (r.ok) { window.location.href = landing(r.data.role); return; }
  portal.show('signup-msg', r.data.error || 'sign-up failed', false, r.data.reasons);
});
