/* Switchboard's website chat widget: served by the Switchboard server at /widget/<inbox>.js.
 * Self-contained, no framework. Everything a message says is put on the page with textContent,
 * never as HTML. The visitor's token is kept in this site's localStorage, so the chat resumes in
 * the same browser. */
(function () {
  'use strict';
  var INBOX = '__SWITCHBOARD_INBOX__';
  var script = document.currentScript;
  var BASE = new URL(script ? script.src : '/', location.href).origin;
  var API = BASE + '/api/v1/widget/' + INBOX;
  var KEY = 'switchboard-widget:' + INBOX;
  var token = null;
  var shown = {};
  var pendingRead = {};
  var open = false;
  var online = true;
  var emailLeft = null;
  var liveAbort = null;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) node.setAttribute(name, attrs[name]);
    if (text != null) node.textContent = text;
    return node;
  }

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join('');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }

  function call(method, path, body, headers) {
    var options = { method: method, headers: headers || {} };
    if (token) options.headers.Authorization = 'Bearer ' + token;
    if (body instanceof FormData) options.body = body;
    else if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    return fetch(API + path, options).then(function (response) {
      if (response.status === 401 && path !== '/session') {
        restart();
        throw new Error('session expired');
      }
      if (!response.ok) throw new Error('HTTP ' + response.status);
      return response.status === 204 ? null : response.json();
    });
  }

  // --- The page -------------------------------------------------------------------------------
  var host = el('div', { id: 'switchboard-widget' });
  var root = host.attachShadow ? host.attachShadow({ mode: 'open' }) : host;
  var style = el('style', {},
    ':host{all:initial}' +
    '.sb-bubble{display:flex;align-items:center;justify-content:center;position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;color:#fff;font:600 24px system-ui,sans-serif;cursor:pointer;box-shadow:0 4px 12px rgba(0,0,0,.25);z-index:2147483000}' +
    '.sb-panel{position:fixed;right:20px;bottom:88px;width:340px;max-width:calc(100vw - 40px);height:460px;max-height:calc(100vh - 120px);display:none;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 28px rgba(0,0,0,.25);font:14px system-ui,sans-serif;color:#111;overflow:hidden;z-index:2147483000}' +
    '.sb-panel.sb-open{display:flex}' +
    '.sb-header{padding:12px 14px;color:#fff;font-weight:600}' +
    '.sb-greeting{padding:10px 14px;background:#f3f4f6;white-space:pre-wrap}' +
    '.sb-messages{flex:1;overflow-y:auto;padding:10px 12px;display:flex;flex-direction:column;gap:6px}' +
    '.sb-message{max-width:80%;padding:7px 10px;border-radius:10px;white-space:pre-wrap;word-wrap:break-word}' +
    '.sb-visitor{align-self:flex-end;background:#e0e7ff}' +
    '.sb-agent{align-self:flex-start;background:#f3f4f6}' +
    '.sb-file{display:block;color:inherit}' +
    '.sb-typing{padding:0 14px 6px;color:#6b7280;font-style:italic;min-height:18px}' +
    '.sb-email{padding:10px 14px;border-top:1px solid #e5e7eb;display:none;gap:6px;flex-wrap:wrap}' +
    '.sb-email.sb-show{display:flex}' +
    '.sb-email p{margin:0;width:100%}' +
    '.sb-form{display:flex;gap:6px;padding:8px;border-top:1px solid #e5e7eb;align-items:center}' +
    '.sb-form textarea{flex:1;resize:none;height:38px;font:inherit;padding:6px;border:1px solid #d1d5db;border-radius:8px}' +
    'input[type=email]{flex:1;font:inherit;padding:6px;border:1px solid #d1d5db;border-radius:8px}' +
    'button.sb-send,button.sb-attach,button.sb-email-save{border:0;border-radius:8px;padding:8px 10px;color:#fff;cursor:pointer;font:inherit}' +
    'button.sb-attach{background:#6b7280}');
  var bubble = el('button', { 'class': 'sb-bubble', type: 'button', 'aria-label': 'Chat' });
  var SVG = 'http://www.w3.org/2000/svg';
  var icon = document.createElementNS(SVG, 'svg');
  icon.setAttribute('viewBox', '0 0 24 24');
  icon.setAttribute('width', '26');
  icon.setAttribute('height', '26');
  var path = document.createElementNS(SVG, 'path');
  path.setAttribute('fill', 'currentColor');
  path.setAttribute('d', 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z');
  icon.appendChild(path);
  bubble.appendChild(icon);
  var panel = el('div', { 'class': 'sb-panel', role: 'dialog', 'aria-label': 'Chat' });
  var header = el('div', { 'class': 'sb-header' }, 'Chat');
  var greeting = el('div', { 'class': 'sb-greeting' });
  var list = el('div', { 'class': 'sb-messages', 'aria-live': 'polite' });
  var typing = el('div', { 'class': 'sb-typing' });
  var emailBox = el('form', { 'class': 'sb-email' });
  var emailNote = el('p', {}, 'Nobody is online right now. Leave your email and we will write back.');
  var emailInput = el('input', { type: 'email', required: '', placeholder: 'you@example.com', 'aria-label': 'Email' });
  var emailSave = el('button', { 'class': 'sb-email-save', type: 'submit' }, 'Save');
  emailBox.append(emailNote, emailInput, emailSave);
  var form = el('form', { 'class': 'sb-form' });
  var input = el('textarea', { placeholder: 'Write a message…', 'aria-label': 'Message' });
  var fileInput = el('input', { type: 'file', hidden: '' });
  var attach = el('button', { 'class': 'sb-attach', type: 'button', 'aria-label': 'Attach a file' }, '+');
  var send = el('button', { 'class': 'sb-send', type: 'submit' }, 'Send');
  form.append(attach, input, fileInput, send);
  panel.append(header, greeting, list, typing, emailBox, form);
  root.append(style, bubble, panel);

  function paint(color) {
    [bubble, header, send, emailSave].forEach(function (node) { node.style.background = color; });
  }

  function showEmailForm() {
    var show = !online && !emailLeft;
    emailBox.classList.toggle('sb-show', show);
    if (!online && emailLeft) {
      emailNote.textContent = 'Thanks, we will write to ' + emailLeft + '.';
      emailBox.classList.add('sb-show');
      emailInput.hidden = true;
      emailSave.hidden = true;
    }
  }

  function render(message) {
    var node = shown[message.id];
    if (!node) {
      node = el('div', { 'class': 'sb-message sb-' + message.from, 'data-id': message.id });
      shown[message.id] = node;
      var after = null;
      Array.prototype.forEach.call(list.children, function (child) {
        if (!after && Number(child.getAttribute('data-at')) > message.created_at) after = child;
      });
      node.setAttribute('data-at', String(message.created_at));
      list.insertBefore(node, after);
    }
    node.textContent = message.body;
    (message.attachments || []).forEach(function (file) {
      var link = el('a', { 'class': 'sb-file', href: '#' }, file.file_name);
      link.addEventListener('click', function (event) {
        event.preventDefault();
        fetch(API + '/files/' + file.id, { headers: { Authorization: 'Bearer ' + token } })
          .then(function (r) { return r.blob(); })
          .then(function (blob) { window.open(URL.createObjectURL(blob), '_blank'); });
      });
      node.appendChild(link);
    });
    node.setAttribute('data-delivery', message.delivery);
    list.scrollTop = list.scrollHeight;
    if (message.from === 'agent') {
      if (message.delivery === 'sent') seen([message.id], 'delivered');
      if (message.delivery !== 'read') pendingRead[message.id] = true;
      markRead();
    }
  }

  function seen(ids, state) {
    if (ids.length) call('POST', '/seen', { message_ids: ids, state: state }).catch(function () {});
  }

  function markRead() {
    if (!open || document.visibilityState === 'hidden') return;
    var ids = Object.keys(pendingRead);
    pendingRead = {};
    seen(ids, 'read');
  }

  // --- The live channel (Server-Sent Events over fetch, so the token stays in a header) -------
  function live() {
    if (liveAbort) liveAbort.abort();
    var controller = new AbortController();
    liveAbort = controller;
    fetch(API + '/live', { headers: { Authorization: 'Bearer ' + token }, signal: controller.signal })
      .then(function (response) {
        if (response.status === 401) return restart();
        if (!response.ok || !response.body) throw new Error('HTTP ' + response.status);
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = '';
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) throw new Error('closed');
            buffer += decoder.decode(chunk.value, { stream: true });
            var parts = buffer.split('\n\n');
            buffer = parts.pop();
            parts.forEach(dispatch);
            return pump();
          });
        }
        return pump();
      })
      .catch(function () {
        if (liveAbort === controller && !controller.signal.aborted) setTimeout(live, 3000);
      });
  }

  var typingTimer = null;
  function dispatch(block) {
    var event = 'message';
    var data = '';
    block.split('\n').forEach(function (line) {
      if (line.indexOf('event:') === 0) event = line.slice(6).trim();
      else if (line.indexOf('data:') === 0) data += line.slice(5).trim();
    });
    if (!data) return;
    var value = JSON.parse(data);
    if (event === 'message') {
      render(value);
      typing.textContent = '';
    } else if (event === 'typing') {
      typing.textContent = value.active ? 'Agent is typing…' : '';
      clearTimeout(typingTimer);
      if (value.active) typingTimer = setTimeout(function () { typing.textContent = ''; }, 8000);
    } else if (event === 'presence') {
      online = value.agents_online;
      showEmailForm();
    }
  }

  // --- Sessions -------------------------------------------------------------------------------
  function start() {
    var stored = null;
    try { stored = localStorage.getItem(KEY); } catch (e) { stored = null; }
    var body = stored ? { token: stored } : {};
    return fetch(API + '/session', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 401 && stored) {
        try { localStorage.removeItem(KEY); } catch (e) {}
        return start();
      }
      if (!response.ok) throw new Error('HTTP ' + response.status);
      return response.json().then(function (session) {
        token = session.token;
        try { localStorage.setItem(KEY, token); } catch (e) {}
        greeting.textContent = session.greeting || '';
        greeting.style.display = session.greeting ? '' : 'none';
        paint(session.color);
        online = session.agents_online;
        emailLeft = session.email;
        showEmailForm();
        live();
      });
    });
  }

  function restart() {
    token = null;
    try { localStorage.removeItem(KEY); } catch (e) {}
    list.textContent = '';
    shown = {};
    return start();
  }

  bubble.addEventListener('click', function () {
    open = !open;
    panel.classList.toggle('sb-open', open);
    if (open) { input.focus(); markRead(); }
  });
  document.addEventListener('visibilitychange', markRead);

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = input.value;
    if (!text.trim()) return;
    input.value = '';
    var clientId = uuid();
    function attempt(n) {
      call('POST', '/messages', { client_id: clientId, body: text }).catch(function () {
        if (n < 5) setTimeout(function () { attempt(n + 1); }, 1000 * (n + 1));
      });
    }
    attempt(0);
  });
  input.addEventListener('keydown', function (event) {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit ? form.requestSubmit() : send.click();
    }
  });
  attach.addEventListener('click', function () { fileInput.click(); });
  fileInput.addEventListener('change', function () {
    var file = fileInput.files && fileInput.files[0];
    if (!file) return;
    var data = new FormData();
    data.append('file', file, file.name);
    fileInput.value = '';
    call('POST', '/files?client_id=' + uuid(), data).catch(function () {});
  });
  emailBox.addEventListener('submit', function (event) {
    event.preventDefault();
    var email = emailInput.value.trim();
    if (!email) return;
    call('POST', '/email', { email: email }).then(function () {
      emailLeft = email;
      showEmailForm();
    }).catch(function () { emailInput.setCustomValidity('Please check the address'); emailInput.reportValidity(); });
  });

  function mount() {
    document.body.appendChild(host);
    start().catch(function () { setTimeout(mount.retry, 5000); });
  }
  mount.retry = function () { start().catch(function () { setTimeout(mount.retry, 5000); }); };
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
