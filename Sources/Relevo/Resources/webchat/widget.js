// Relevo web chat loader: embedded with one script tag, it asks Relevo whether this page's origin
// may show the chat and, when it may, adds the chat frame (served by Relevo, isolated from the page).
// Settings: data-language, data-user-id, data-user-hash, data-user-name on the script tag, or the
// same keys (language, userId, userHash, userName) in window.RelevoChat before it loads.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var source = new URL(script.src);
  var match = source.pathname.match(/^(.*\/webchat\/[^/]+\/[^/]+\/)widget\.js$/);
  if (!match) return;
  var base = source.origin + match[1];
  var given = window.RelevoChat || {};
  var data = script.dataset;
  var settings = {
    language: given.language || data.language || "",
    userId: given.userId || data.userId || "",
    userHash: given.userHash || data.userHash || "",
    userName: given.userName || data.userName || "",
    pageUrl: location.href.slice(0, 2048)
  };
  // The frame keeps the visitor's token in its own storage where the browser lets it; where a
  // frame from another site gets none (blocked third-party storage), it is kept here, for this page.
  var storageKey = "relevo:" + base;
  try { settings.stored = JSON.parse(localStorage.getItem(storageKey) || "null"); } catch (e) { settings.stored = null; }

  function place(frame, open) {
    var narrow = window.innerWidth <= 480;
    frame.style.width = open ? (narrow ? "100vw" : "400px") : "88px";
    frame.style.height = open ? (narrow ? "100%" : "min(640px, 100vh)") : "88px";
  }

  function mount() {
    var query = new URLSearchParams({ host: location.origin });
    if (settings.language) query.set("lang", settings.language);
    var frame = document.createElement("iframe");
    frame.src = base + "frame?" + query.toString() + "#" + encodeURIComponent(JSON.stringify(settings));
    frame.title = "Chat";
    frame.setAttribute("data-relevo", "frame");
    frame.style.position = "fixed";
    frame.style.right = "0";
    frame.style.bottom = "0";
    frame.style.border = "0";
    frame.style.zIndex = "2147483000";
    frame.style.background = "transparent";
    frame.style.colorScheme = "normal";
    place(frame, false);
    document.body.appendChild(frame);
    var open = false;
    window.addEventListener("message", function (event) {
      if (event.origin !== source.origin || event.source !== frame.contentWindow) return;
      var message = event.data;
      if (!message || message.relevo !== 1) return;
      if (message.type === "open" || message.type === "close") {
        open = message.type === "open";
        place(frame, open);
      } else if (message.type === "store") {
        try { localStorage.setItem(storageKey, JSON.stringify(message.value)); } catch (e) { /* kept for this page only */ }
      }
    });
    window.addEventListener("resize", function () { place(frame, open); });
  }

  fetch(base + "config", { mode: "cors", credentials: "omit", cache: "no-store" })
    .then(function (response) {
      if (!response.ok) throw new Error("status " + response.status);
      if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
    })
    .catch(function () {
      if (window.console) console.warn("Relevo web chat is not available on " + location.origin);
    });
})();
