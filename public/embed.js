/*
 * Baton's embed script. A website adds the chat widget with one tag:
 *
 *   <script src="https://baton.example/embed.js" data-bot="demo" async></script>
 *
 * It adds a launcher button in a corner of the page and opens the widget, served by
 * Baton at /widget/{bot}, in an iframe. Everything it adds lives in one shadow root, so
 * the host page's styles don't reach it (nor its styles the page), and it defines
 * no globals. The iframe is loaded on the first click, or at once when this browser
 * already has a conversation going (so replies that arrive while it is closed show
 * as an unread count on the launcher).
 *
 * The iframe and this script talk with postMessage, checked on both sides:
 *   widget -> page: {baton: "ready"}, {baton: "unread", count}, {baton: "close"},
 *                   {baton: "active", active}
 *   page -> widget: {baton: "open"}, {baton: "closed"}
 */
(function () {
  'use strict';

  var script = document.currentScript;
  if (!script) return;
  var bot = script.getAttribute('data-bot') || '';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(bot)) {
    console.error('Baton: the embed tag needs data-bot="<your chatbot id>"');
    return;
  }
  var base = new URL(script.src, location.href).origin;
  var activeKey = 'baton.active.' + bot;
  if (document.querySelector('baton-chat[data-bot="' + bot + '"]')) return; // embedded twice

  var DEFAULT_LOOK = { title: 'Chat', color: '#4338ca', color_ink: '#ffffff', launcher_position: 'right' };

  var STYLE =
    ':host{all:initial}' +
    '*{box-sizing:border-box}' +
    '.launcher{position:fixed;bottom:20px;width:60px;height:60px;border-radius:50%;border:0;margin:0;padding:0;' +
    'cursor:pointer;display:grid;place-items:center;box-shadow:0 4px 14px rgb(0 0 0/25%);z-index:2147483000;' +
    'transition:transform .15s ease}' +
    '.launcher:hover{transform:scale(1.05)}' +
    '.launcher:focus-visible{outline:3px solid #111827;outline-offset:3px}' +
    '.launcher svg{width:28px;height:28px;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round}' +
    '.badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;' +
    'background:#b91c1c;color:#fff;font:600 12px/22px system-ui,sans-serif;text-align:center}' +
    '.badge[hidden]{display:none}' +
    '.panel{position:fixed;bottom:92px;width:380px;height:min(640px,calc(100vh - 112px));border-radius:16px;' +
    'overflow:hidden;box-shadow:0 12px 40px rgb(0 0 0/25%);background:#fff;z-index:2147483000;' +
    'transition:opacity .18s ease,transform .18s ease}' +
    '.panel[hidden]{display:none}' +
    '.panel iframe{display:block;width:100%;height:100%;border:0;margin:0;padding:0}' +
    '.left{left:20px}.right{right:20px}' +
    '@media (max-width:480px){.panel{inset:0;width:100%;height:100%;border-radius:0}' +
    '.open .launcher{display:none}}' +
    '@media (prefers-reduced-motion:reduce){.launcher,.panel{transition:none}.launcher:hover{transform:none}}';

  var CHAT_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 20l1.1-4.4A8 8 0 1 1 21 12z"/></svg>';
  var CLOSE_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>';

  var host = document.createElement('baton-chat');
  host.setAttribute('data-bot', bot);
  host.style.cssText = 'all:initial !important;display:block !important';
  var root = host.attachShadow({ mode: 'open' });
  var style = document.createElement('style');
  style.textContent = STYLE;
  var shell = document.createElement('div');
  var launcher = document.createElement('button');
  launcher.type = 'button';
  launcher.className = 'launcher';
  launcher.setAttribute('aria-expanded', 'false');
  launcher.setAttribute('aria-controls', 'baton-panel');
  var icon = document.createElement('span');
  icon.style.display = 'contents';
  var badge = document.createElement('span');
  badge.className = 'badge';
  badge.hidden = true;
  badge.setAttribute('aria-hidden', 'true');
  launcher.appendChild(icon);
  launcher.appendChild(badge);
  var panel = document.createElement('div');
  panel.className = 'panel';
  panel.id = 'baton-panel';
  panel.hidden = true;
  shell.appendChild(launcher);
  shell.appendChild(panel);
  root.appendChild(style);
  root.appendChild(shell);

  var look = DEFAULT_LOOK;
  var frame = null;
  var ready = false;
  var open = false;
  var unread = 0;

  function tell(message) {
    if (frame && ready && frame.contentWindow) frame.contentWindow.postMessage(message, base);
  }

  function render() {
    icon.innerHTML = open ? CLOSE_ICON : CHAT_ICON; // fixed markup, never data
    launcher.style.background = look.color;
    launcher.style.color = look.color_ink;
    var side = look.launcher_position === 'left' ? 'left' : 'right';
    launcher.className = 'launcher ' + side;
    panel.className = 'panel ' + side;
    shell.className = open ? 'open' : '';
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    badge.hidden = open || unread === 0;
    badge.textContent = unread > 9 ? '9+' : String(unread);
    var label = open ? 'Close chat' : 'Open chat with ' + look.title;
    if (!open && unread > 0) label += ' (' + unread + ' unread)';
    launcher.setAttribute('aria-label', label);
  }

  function load() {
    if (frame) return;
    frame = document.createElement('iframe');
    frame.src = base + '/widget/' + encodeURIComponent(bot);
    frame.title = 'Chat with ' + look.title;
    frame.setAttribute('allow', 'clipboard-write');
    panel.appendChild(frame);
  }

  function setOpen(next) {
    if (next === open) return;
    open = next;
    if (open) {
      load();
      unread = 0;
    }
    render();
    if (open) {
      frame.focus();
      tell({ baton: 'open' });
    } else {
      tell({ baton: 'closed' });
      launcher.focus();
    }
  }

  launcher.addEventListener('click', function () {
    setOpen(!open);
  });
  shell.addEventListener('keydown', function (event) {
    if (event.key === 'Escape' && open) setOpen(false);
  });

  window.addEventListener('message', function (event) {
    if (!frame || event.source !== frame.contentWindow || event.origin !== base) return;
    var data = event.data;
    if (!data || typeof data !== 'object' || typeof data.baton !== 'string') return;
    switch (data.baton) {
      case 'ready':
        ready = true;
        tell({ baton: open ? 'open' : 'closed' });
        break;
      case 'unread':
        unread = open ? 0 : Math.max(0, Number(data.count) || 0);
        render();
        break;
      case 'close':
        setOpen(false);
        break;
      case 'active':
        try {
          if (data.active) localStorage.setItem(activeKey, '1');
          else localStorage.removeItem(activeKey);
        } catch (e) { /* storage blocked: the widget is simply loaded on click */ }
        break;
    }
  });

  function mount() {
    document.body.appendChild(host);
    render();
    var active = false;
    try { active = localStorage.getItem(activeKey) === '1'; } catch (e) { /* storage blocked */ }
    if (active) load();
  }

  fetch(base + '/api/v1/widget/config', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ bot_id: bot }),
    credentials: 'omit',
  })
    .then(function (response) {
      if (response.status === 404) throw new Error('there is no chatbot "' + bot + '"');
      if (!response.ok) throw new Error('the widget settings did not load (HTTP ' + response.status + ')');
      return response.json();
    })
    .then(function (loaded) {
      look = loaded;
      return true;
    }, function (error) {
      console.error('Baton: ' + error.message);
      // Unknown chatbot: show nothing. Otherwise the default look still opens the chat.
      return !/there is no chatbot/.test(error.message);
    })
    .then(function (show) {
      if (!show) return;
      if (document.body) mount();
      else document.addEventListener('DOMContentLoaded', mount);
    });
})();
