// Relevo web chat frame: a visitor's token, the live transcript (server-sent events read with
// fetch, resumed with Last-Event-ID), and an outbox that sends each message once, in order, again
// after a network drop under the same id. Everything received is rendered as text.
"use strict";
(() => {
  const TEXT = {
    en: {
      open: "Open chat", close: "Close chat", message: "Message", send: "Send", placeholder: "Write a message…",
      handoff: "Talk to a person", handoffHint: "Press “Talk to a person” to reach our team.",
      waiting: "Connecting you with a person…", reached: "You are talking with our team",
      unreachable: "No agent could be reached yet. Your messages are kept and will be answered as soon as someone is available.",
      ended: "The conversation has ended.", reconnecting: "Reconnecting…", sending: "Sending…", notSent: "Not sent",
      you: "You", agent: "Agent", system: "Notice", unread: (n) => `${n} unread ${n === 1 ? "message" : "messages"}`,
      unavailable: "This chat is not available right now.", identity: "We could not confirm who you are. Please sign in again.",
      attachment: { image: "Image", video: "Video", audio: "Audio", document: "Document" }
    },
    es: {
      open: "Abrir chat", close: "Cerrar chat", message: "Mensaje", send: "Enviar", placeholder: "Escribe un mensaje…",
      handoff: "Hablar con una persona", handoffHint: "Pulsa “Hablar con una persona” para contactar a nuestro equipo.",
      waiting: "Te estamos conectando con una persona…", reached: "Estás hablando con nuestro equipo",
      unreachable: "Aún no pudimos contactar a un agente. Tus mensajes quedan guardados y se responderán en cuanto haya alguien disponible.",
      ended: "La conversación ha terminado.", reconnecting: "Reconectando…", sending: "Enviando…", notSent: "No enviado",
      you: "Tú", agent: "Agente", system: "Aviso", unread: (n) => `${n} ${n === 1 ? "mensaje no leído" : "mensajes no leídos"}`,
      unavailable: "Este chat no está disponible en este momento.", identity: "No pudimos confirmar quién eres. Inicia sesión de nuevo.",
      attachment: { image: "Imagen", video: "Video", audio: "Audio", document: "Documento" }
    },
    pt: {
      open: "Abrir chat", close: "Fechar chat", message: "Mensagem", send: "Enviar", placeholder: "Escreva uma mensagem…",
      handoff: "Falar com uma pessoa", handoffHint: "Toque em “Falar com uma pessoa” para falar com nossa equipe.",
      waiting: "Estamos conectando você com uma pessoa…", reached: "Você está falando com nossa equipe",
      unreachable: "Ainda não foi possível falar com um agente. Suas mensagens ficam salvas e serão respondidas assim que alguém estiver disponível.",
      ended: "A conversa terminou.", reconnecting: "Reconectando…", sending: "Enviando…", notSent: "Não enviada",
      you: "Você", agent: "Agente", system: "Aviso", unread: (n) => `${n} ${n === 1 ? "mensagem não lida" : "mensagens não lidas"}`,
      unavailable: "Este chat não está disponível agora.", identity: "Não foi possível confirmar quem você é. Entre novamente.",
      attachment: { image: "Imagem", video: "Vídeo", audio: "Áudio", document: "Documento" }
    }
  };

  const $ = (id) => document.getElementById(id);
  const base = location.pathname.replace(/frame$/, "");
  const query = new URLSearchParams(location.search);
  const host = query.get("host") || "";
  let settings = {};
  try { settings = JSON.parse(decodeURIComponent(location.hash.slice(1)) || "{}") || {}; } catch { settings = {}; }
  history.replaceState(null, "", location.pathname + location.search);

  function pickLanguage() {
    const wanted = [settings.language, query.get("lang"), ...(navigator.languages || [navigator.language])];
    for (const tag of wanted) {
      const code = String(tag || "").slice(0, 2).toLowerCase();
      if (TEXT[code]) return code;
    }
    return "en";
  }
  const lang = pickLanguage();
  const t = TEXT[lang];
  document.documentElement.lang = lang;

  const ui = {
    launcher: $("launcher"), badge: $("badge"), panel: $("panel"), title: $("title"), status: $("status"), close: $("close"),
    notice: $("notice"), transcript: $("transcript"), handoffRow: $("handoff-row"), handoff: $("handoff"),
    composer: $("composer"), input: $("input"), send: $("send")
  };
  $("launcher-label").textContent = t.open;
  $("close-label").textContent = t.close;
  $("input-label").textContent = t.message;
  ui.send.textContent = t.send;
  ui.handoff.textContent = t.handoff;
  ui.input.placeholder = t.placeholder;

  const storageKey = "relevo:" + base + ":" + host;
  // The token and the unsent messages survive a reload: in this frame's storage, or, where the
  // browser gives a frame of another site none, in the embedding page's (through widget.js).
  let kept = settings.stored && typeof settings.stored === "object" ? settings.stored : {};
  const store = {
    read() {
      try { return JSON.parse(localStorage.getItem(storageKey) || "null") || kept; } catch { return kept; }
    },
    write(value) {
      kept = value;
      try { localStorage.setItem(storageKey, JSON.stringify(value)); } catch { /* kept by the page instead */ }
      if (window.parent !== window && host) window.parent.postMessage({ relevo: 1, type: "store", value }, host);
    }
  };

  const state = {
    token: null, expiresAt: 0, userId: null, start: "first_message", conversation: "none", panel: "none",
    lastEventId: null, open: false, unread: 0, connected: false, failed: null,
    outbox: Array.isArray(store.read().outbox) ? store.read().outbox : [], shown: new Map()
  };

  function save() {
    store.write({ token: state.token, expiresAt: state.expiresAt, userId: state.userId, outbox: state.outbox });
  }

  // ---- the visitor's token ---------------------------------------------------------------

  async function call(method, path, body) {
    const headers = { "content-type": "application/json" };
    if (state.token) headers.authorization = "Bearer " + state.token;
    // Credentials as for the frame's own files (Relevo sets no cookies): the stream, below, asks for
    // none, which browsers serve from other connections, so that it gets one of its own.
    const response = await fetch(base + path, {
      method, headers, body: body ? JSON.stringify(body) : undefined, cache: "no-store"
    });
    const json = await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error((json && json.error && json.error.key) || "HTTP " + response.status);
      error.status = response.status;
      error.key = json && json.error && json.error.key;
      error.retryAfter = Number(response.headers.get("retry-after")) || 0;
      throw error;
    }
    return json && json.data;
  }

  let renewal = null;
  async function admit() {
    const saved = store.read();
    const body = { host };
    if (settings.userId) {
      Object.assign(body, { userId: settings.userId, userHash: settings.userHash || "" });
      if (settings.userName) body.userName = settings.userName;
    } else if (saved.token && String(saved.userId).startsWith("visitor_")) {
      body.token = saved.token;  // an anonymous visitor again; a signed-in user's token is never reused without its proof
    }
    state.token = null;
    const admitted = await call("POST", "visitor", body);
    if (saved.userId && saved.userId !== admitted.userId) state.outbox = [];  // someone else's unsent messages
    state.token = admitted.token;
    state.userId = admitted.userId;
    state.expiresAt = Date.parse(admitted.expiresAt);
    state.start = admitted.start;
    ui.title.textContent = admitted.botName || "Chat";
    if (admitted.greeting && !ui.transcript.querySelector(".greeting")) {
      const greeting = document.createElement("li");
      greeting.className = "greeting";
      greeting.textContent = admitted.greeting;
      ui.transcript.prepend(greeting);
    }
    save();
    if (window.parent !== window) window.parent.postMessage({ relevo: 1, type: "visitor", userId: admitted.userId }, host);
    clearTimeout(renewal);
    const half = Math.max(30_000, (state.expiresAt - Date.now()) / 2);
    renewal = setTimeout(() => admit().catch(() => {}), Math.min(half, 2 ** 31 - 1));
  }

  // ---- the live transcript ---------------------------------------------------------------

  let streamAbort = null;
  async function follow() {
    let delay = 500;
    for (;;) {
      try {
        streamAbort = new AbortController();
        const headers = { authorization: "Bearer " + state.token };
        if (state.lastEventId) headers["last-event-id"] = state.lastEventId;
        const response = await fetch(base + "stream", { headers, signal: streamAbort.signal, credentials: "omit", cache: "no-store" });
        if (response.status === 401) { await admit(); continue; }
        if (!response.ok || !response.body) {
          const json = await response.json().catch(() => null);
          throw Object.assign(new Error("HTTP " + response.status), { status: response.status, key: json?.error?.key });
        }
        setConnected(true);
        delay = 500;
        await readEvents(response.body);
      } catch (error) {
        if (error && (error.key === "IDENTITY_NOT_VERIFIED" || error.key === "ORIGIN_NOT_ALLOWED" || error.key === "WEBCHAT_NOT_FOUND")) {
          return fail(error);
        }
      }
      setConnected(false);
      await sleep(delay);
      delay = Math.min(delay * 2, 8000);
    }
  }

  async function readEvents(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message", data = "", id = null;
        for (const line of block.split("\n")) {
          if (line === "" || line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          let text = colon < 0 ? "" : line.slice(colon + 1);
          if (text.startsWith(" ")) text = text.slice(1);
          if (field === "event") name = text;
          else if (field === "data") data += (data ? "\n" : "") + text;
          else if (field === "id") id = text;
        }
        if (data) handle(name, JSON.parse(data));
        if (id !== null) state.lastEventId = id;
      }
    }
  }

  function handle(name, data) {
    if (name === "message") showMessage(data);
    else if (name === "conversation" && data.state === "closed") divider(t.ended);
    else if (name === "status") {
      state.conversation = data.conversation;
      state.panel = data.panel;
      render();
    }
  }

  // ---- rendering (text only) ---------------------------------------------------------------

  const link = /\bhttps?:\/\/[^\s<>"']+/g;
  function appendText(parent, text) {
    let last = 0;
    for (const found of text.matchAll(link)) {
      let url = found[0];
      const trail = url.match(/[.,;:!?)\]]+$/);
      if (trail) url = url.slice(0, -trail[0].length);
      parent.append(document.createTextNode(text.slice(last, found.index)));
      const anchor = document.createElement("a");
      anchor.href = url;
      anchor.textContent = url;
      anchor.target = "_blank";
      anchor.rel = "noopener noreferrer nofollow";
      parent.append(anchor);
      last = found.index + url.length;
    }
    parent.append(document.createTextNode(text.slice(last)));
  }

  function fillBubble(bubble, type, content) {
    content = content || {};
    if (type === "text") return appendText(bubble, String(content.body ?? ""));
    const caption = content.caption || content.filename || "";
    const label = t.attachment[type] || type;
    if (typeof content.url === "string" && /^https?:\/\//i.test(content.url)) {
      const anchor = document.createElement("a");
      anchor.href = content.url;
      anchor.textContent = label;
      anchor.target = "_blank";
      anchor.rel = "noopener noreferrer nofollow";
      bubble.append(anchor);
    } else {
      bubble.append(document.createTextNode(label));
    }
    if (caption) { bubble.append(document.createTextNode("\n")); appendText(bubble, String(caption)); }
  }

  function messageItem(id, direction) {
    const item = document.createElement("li");
    item.className = "msg " + direction;
    item.dataset.relevo = "message";
    item.dataset.relevoDirection = direction;
    item.dataset.relevoId = id;
    const who = document.createElement("span");
    who.className = "visually-hidden";
    who.textContent = (direction === "user" ? t.you : direction === "agent" ? t.agent : t.system) + ": ";
    const bubble = document.createElement("div");
    bubble.className = "bubble";
    const time = document.createElement("time");
    item.append(who, bubble, time);
    return item;
  }

  function showMessage(message) {
    const existing = state.shown.get(message.id);
    if (existing) {  // our own message coming back: sent
      existing.classList.remove("pending", "failed");
      setTime(existing, message.createdAt);
      return;
    }
    const item = messageItem(message.id, message.direction);
    fillBubble(item.querySelector(".bubble"), message.type, message.content);
    setTime(item, message.createdAt);
    add(item, message.id);
    if (message.direction !== "user" && !state.open) {
      state.unread += 1;
      render();
    }
  }

  function setTime(item, iso) {
    const time = item.querySelector("time");
    const date = new Date(iso);
    if (isNaN(date)) return;
    time.dateTime = iso;
    time.textContent = date.toLocaleTimeString(lang, { hour: "2-digit", minute: "2-digit" });
  }

  function add(item, id) {
    const atBottom = ui.transcript.scrollHeight - ui.transcript.scrollTop - ui.transcript.clientHeight < 40;
    ui.transcript.append(item);
    if (id) state.shown.set(id, item);
    if (atBottom || item.classList.contains("user")) ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  function divider(text) {
    const item = document.createElement("li");
    item.className = "divider";
    item.textContent = text;
    add(item);
  }

  function render() {
    const needsButton = state.start === "button" && state.conversation !== "active";
    ui.handoffRow.hidden = !needsButton || !!state.failed;
    ui.input.disabled = needsButton || !!state.failed;
    ui.send.disabled = ui.input.disabled;
    ui.input.placeholder = needsButton ? t.handoffHint : t.placeholder;
    let status = "";
    if (!state.connected && state.token) status = t.reconnecting;
    else if (state.conversation === "active") status = state.panel === "reached" ? t.reached : t.waiting;
    ui.status.textContent = status;
    if (state.failed) {
      showNotice(state.failed, true);
    } else if (state.conversation === "active" && state.panel === "unreachable") {
      showNotice(t.unreachable, false);
    } else {
      ui.notice.hidden = true;
    }
    ui.badge.hidden = state.unread === 0 || state.open;
    ui.badge.textContent = state.unread > 9 ? "9+" : String(state.unread);
    ui.launcher.setAttribute("aria-label", state.unread ? t.open + " — " + t.unread(state.unread) : t.open);
  }

  function showNotice(text, bad) {
    ui.notice.hidden = false;
    ui.notice.classList.toggle("bad", bad);
    if (ui.notice.textContent !== text) ui.notice.textContent = text;
  }

  function setConnected(connected) {
    state.connected = connected;
    render();
    if (connected) flush();
  }

  function fail(error) {
    state.failed = error.key === "IDENTITY_NOT_VERIFIED" ? t.identity : t.unavailable;
    render();
  }

  // ---- sending: one at a time, in order, again after a drop ------------------------------------

  function newId() {
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return "wm_" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function queue(text) {
    const entry = { id: newId(), text };
    state.outbox.push(entry);
    save();
    pendingItem(entry);
    flush();
  }

  function pendingItem(entry) {
    if (state.shown.has(entry.id)) return;
    const item = messageItem(entry.id, "user");
    item.classList.add("pending");
    appendText(item.querySelector(".bubble"), entry.text);
    item.querySelector("time").textContent = t.sending;
    add(item, entry.id);
  }

  let flushing = false;
  async function flush() {
    if (flushing || !state.token) return;
    flushing = true;
    try {
      while (state.outbox.length) {
        const entry = state.outbox[0];
        try {
          await call("POST", "messages", { id: entry.id, text: entry.text, pageUrl: settings.pageUrl || undefined, language: lang });
        } catch (error) {
          if (!error.status || error.status >= 500 || error.status === 429) {  // the network or the server: again later
            setTimeout(flush, Math.max(1000, error.retryAfter * 1000));
            return;
          }
          if (error.status === 401) { await admit().catch(() => {}); setTimeout(flush, 1000); return; }
          const item = state.shown.get(entry.id);
          if (item) { item.classList.remove("pending"); item.classList.add("failed"); item.querySelector("time").textContent = t.notSent; }
        }
        state.outbox.shift();
        save();
      }
    } finally {
      flushing = false;
    }
  }

  // ---- opening and closing -------------------------------------------------------------------

  function setOpen(open) {
    state.open = open;
    ui.panel.hidden = !open;
    ui.launcher.hidden = open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    if (open) {
      state.unread = 0;
      ui.transcript.scrollTop = ui.transcript.scrollHeight;
      (ui.input.disabled ? ui.close : ui.input).focus();
    } else {
      ui.launcher.focus();
    }
    render();
    if (window.parent !== window) window.parent.postMessage({ relevo: 1, type: open ? "open" : "close" }, host);
  }

  ui.launcher.addEventListener("click", () => setOpen(true));
  ui.close.addEventListener("click", () => setOpen(false));
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && state.open) setOpen(false); });
  ui.composer.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = ui.input.value.trim();
    if (!text || ui.input.disabled) return;
    ui.input.value = "";
    queue(text);
  });
  ui.input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      ui.composer.requestSubmit();
    }
  });
  ui.handoff.addEventListener("click", async () => {
    ui.handoff.disabled = true;
    try {
      await call("POST", "handoff", { pageUrl: settings.pageUrl || undefined, language: lang });
    } catch (error) {
      if (error.status && error.status < 500 && error.status !== 429) fail(error);
    } finally {
      ui.handoff.disabled = false;
    }
  });
  let wakeUp = null;
  const sleep = (ms) => new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    wakeUp = () => { clearTimeout(timer); resolve(); };
  });
  window.addEventListener("offline", () => streamAbort?.abort());
  window.addEventListener("online", () => { wakeUp?.(); flush(); });

  (async () => {
    for (const entry of state.outbox) pendingItem(entry);
    render();
    if (new URLSearchParams(location.search).get("open") === "1") setOpen(true);
    for (let delay = 1000; ; delay = Math.min(delay * 2, 15000)) {
      try {
        await admit();
        break;
      } catch (error) {
        if (error.status && error.status < 500 && error.status !== 429) return fail(error);
        await sleep(delay);
      }
    }
    follow();
    flush();
  })();
})();
