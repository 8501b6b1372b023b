// Signet console: passkey ceremonies (registration, sign-in, signing a contract) and upload
// progress. No dependencies. Private keys never pass through here: the authenticator signs,
// this script only carries its public answers to the node.
'use strict';
(function () {
  const toBuf = (s) => {
    s = s.replace(/-/g, '+').replace(/_/g, '/');
    while (s.length % 4) s += '=';
    const bin = atob(s);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  };
  const toB64url = (buf) => {
    const bytes = new Uint8Array(buf);
    let bin = '';
    for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };

  async function post(url, body, csrf) {
    const headers = { 'Content-Type': 'application/json', 'Accept': 'application/json' };
    if (csrf) headers['X-CSRF-Token'] = csrf;
    const r = await fetch(url, {
      method: 'POST', headers, body: JSON.stringify(body), credentials: 'same-origin',
    });
    let data = {};
    try { data = await r.json(); } catch (e) { /* not JSON */ }
    if (!r.ok) throw new Error(data.error || ('HTTP ' + r.status));
    return data;
  }

  function say(text, kind) {
    const el = document.getElementById('ceremony-status');
    if (!el) return;
    el.textContent = text;
    el.className = 'ceremony-status' + (kind ? ' ' + kind : '');
  }
  const working = () => {
    const el = document.getElementById('ceremony-status');
    say(el && el.dataset.working ? el.dataset.working : '…');
  };
  const fail = (e) => say(e && e.message ? e.message : String(e), 'error');

  function allowList(list) {
    return (list || []).map((c) => Object.assign({}, c, { id: toBuf(c.id) }));
  }

  async function register(form, button) {
    working();
    const start = await post('/console/register/start', {
      invite: form.dataset.invite,
      label: (form.querySelector('#passkey-label') || {}).value || '',
    });
    const pk = start.options.publicKey;
    pk.challenge = toBuf(pk.challenge);
    pk.user.id = toBuf(pk.user.id);
    pk.excludeCredentials = allowList(pk.excludeCredentials);
    const cred = await navigator.credentials.create({ publicKey: pk });
    const done = await post('/console/register/finish', {
      ceremony: start.ceremony,
      credential: {
        id: cred.id,
        rawId: toB64url(cred.rawId),
        type: cred.type,
        response: {
          attestationObject: toB64url(cred.response.attestationObject),
          clientDataJSON: toB64url(cred.response.clientDataJSON),
        },
        extensions: {},
      },
    });
    window.location.assign(done.next);
  }

  async function login(form) {
    working();
    const start = await post('/console/login/start', { name: form.querySelector('#login-name').value });
    const pk = start.options.publicKey;
    pk.challenge = toBuf(pk.challenge);
    pk.allowCredentials = allowList(pk.allowCredentials);
    const cred = await navigator.credentials.get({ publicKey: pk });
    const done = await post('/console/login/finish', {
      ceremony: start.ceremony,
      credential: {
        id: cred.id,
        rawId: toB64url(cred.rawId),
        type: cred.type,
        response: {
          authenticatorData: toB64url(cred.response.authenticatorData),
          clientDataJSON: toB64url(cred.response.clientDataJSON),
          signature: toB64url(cred.response.signature),
          userHandle: cred.response.userHandle ? toB64url(cred.response.userHandle) : null,
        },
        extensions: {},
      },
    });
    window.location.assign(done.next);
  }

  async function sign(button) {
    working();
    const session = button.dataset.session;
    const csrf = button.dataset.csrf;
    const start = await post('/console/sessions/' + session + '/sign/start', {}, csrf);
    const pk = start.options.publicKey;
    pk.challenge = toBuf(pk.challenge);
    pk.allowCredentials = allowList(pk.allowCredentials);
    const cred = await navigator.credentials.get({ publicKey: pk });
    const done = await post('/console/sessions/' + session + '/sign/finish', {
      ceremony: start.ceremony,
      id: toB64url(cred.rawId),
      authenticator_data: toB64url(cred.response.authenticatorData),
      client_data_json: toB64url(cred.response.clientDataJSON),
      signature: toB64url(cred.response.signature),
    }, csrf);
    window.location.assign(done.next);
  }

  function guard(fn, button) {
    return async (event) => {
      if (event) event.preventDefault();
      if (!window.PublicKeyCredential) { fail(new Error('This browser has no passkey support.')); return; }
      if (button) button.disabled = true;
      try { await fn(); } catch (e) { fail(e); } finally { if (button) button.disabled = false; }
    };
  }

  // Uploads with a progress bar; the server's redirect is followed when it answers.
  function withProgress(form) {
    const bar = document.getElementById(form.dataset.progress);
    if (!bar || !window.XMLHttpRequest || !window.FormData) return;
    form.addEventListener('submit', (event) => {
      if (!form.checkValidity()) return;
      event.preventDefault();
      const xhr = new XMLHttpRequest();
      xhr.open('POST', form.action);
      bar.hidden = false;
      const label = form.querySelector('.progress-label');
      if (label) label.hidden = false;
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
      });
      xhr.addEventListener('load', () => {
        bar.value = 100;
        if (xhr.responseURL && xhr.responseURL.indexOf('/console/verify') === -1) {
          window.location.assign(xhr.responseURL);
        } else {
          document.open(); document.write(xhr.responseText); document.close();
        }
      });
      xhr.addEventListener('error', () => { bar.hidden = true; form.submit(); });
      form.querySelectorAll('button[type=submit]').forEach((b) => { b.disabled = true; });
      xhr.send(new FormData(form));
    });
  }

  document.addEventListener('DOMContentLoaded', () => {
    const reg = document.getElementById('register-form');
    if (reg) reg.addEventListener('submit', guard(() => register(reg), document.getElementById('register-button')));
    const log = document.getElementById('login-form');
    if (log) log.addEventListener('submit', guard(() => login(log), document.getElementById('login-button')));
    const signButton = document.getElementById('sign-button');
    const confirm = document.getElementById('read-confirm');
    if (signButton && confirm) {
      const sync = () => { signButton.disabled = !confirm.checked; };
      confirm.addEventListener('change', sync);
      sync();
      signButton.addEventListener('click', async () => {
        if (!confirm.checked) return;
        signButton.disabled = true;
        try { await sign(signButton); } catch (e) { fail(e); signButton.disabled = !confirm.checked; }
      });
    }
    document.querySelectorAll('form[data-progress]').forEach(withProgress);
  });
})();
