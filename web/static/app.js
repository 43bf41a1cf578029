// Samspil's Mini App: a little plain JavaScript, no build step.
//
// Every request carries Telegram's signed initData in a header (never a cookie, never in
// the URL sent to the server). Works without telegram-web-app.js: Telegram also hands
// initData in the URL fragment (#tgWebAppData=...), which browsers never send to a server.
(function () {
  "use strict";
  var tg = window.Telegram && window.Telegram.WebApp;
  var HEADER = "X-Telegram-Init-Data";
  var SAVE_AFTER_MS = 800; // a box is saved this long after the person stops typing

  function fromFragment() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    return params.get("tgWebAppData") || "";
  }
  var initData = (tg && tg.initData) || fromFragment();
  var page = document.getElementById("page");

  function request(url, body, keepalive) {
    var options = { headers: {}, credentials: "omit", cache: "no-store", keepalive: !!keepalive };
    options.headers[HEADER] = initData;
    if (body) { options.method = "POST"; options.body = body; }
    return fetch(url, options);
  }
  function show(html) { page.innerHTML = html; window.scrollTo(0, 0); }
  function failed() {
    var box = document.createElement("section");
    box.className = "card error";
    box.setAttribute("role", "alert");
    box.textContent = page.dataset.failed;
    page.prepend(box);
  }
  function load(url) {
    flushAll();
    request(url).then(function (r) { return r.text(); }).then(show).catch(failed);
  }

  // ---- boxes saved as the person writes ----------------------------------------------------
  var pending = {}; // box name -> timer
  function autosaveForm(el) { return el.closest && el.closest("form[data-autosave]"); }
  function status(form, box, text, bad) {
    var p = form.querySelector('[data-status-for="' + box + '"]');
    if (p) { p.textContent = text; p.classList.toggle("bad", !!bad); }
  }
  function saveBox(textarea, keepalive) {
    var form = autosaveForm(textarea);
    var box = textarea.dataset.box;
    clearTimeout(pending[box]);
    delete pending[box];
    var body = new URLSearchParams();
    body.set("d", form.elements.d.value);
    body.set("a", form.elements.a.value);
    body.set("box", box);
    body.set("text", textarea.value);
    return request(form.dataset.autosave, body, keepalive).then(function (r) { return r.json(); })
      .then(function (answer) { status(form, box, answer.message, !answer.ok); })
      .catch(function () { status(form, box, page.dataset.failed, true); });
  }
  function flushAll() {
    Object.keys(pending).forEach(function (box) {
      var textarea = page.querySelector('textarea[data-box="' + box + '"]');
      if (textarea) { saveBox(textarea, true); }
    });
  }
  page.addEventListener("input", function (event) {
    var t = event.target;
    if (t.tagName !== "TEXTAREA" || !autosaveForm(t)) { return; }
    clearTimeout(pending[t.dataset.box]);
    pending[t.dataset.box] = setTimeout(function () { saveBox(t); }, SAVE_AFTER_MS);
  });
  // Closing the page (or Telegram) saves what was typed since the last save.
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") { flushAll(); }
  });
  window.addEventListener("pagehide", flushAll);

  // ---- links and forms ---------------------------------------------------------------------
  page.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-load]");
    if (!link) { return; }
    event.preventDefault();
    load(link.dataset.load);
  });
  // A form marked data-post is sent with initData in the header; the answer replaces the page.
  page.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-post")) { return; }
    event.preventDefault();
    var saves = [];
    form.querySelectorAll("textarea[data-box]").forEach(function (t) {
      if (pending[t.dataset.box]) { saves.push(saveBox(t)); }
    });
    // The boxes are already saved: sharing sends only which dialog and area.
    var body = new URLSearchParams(new FormData(form));
    form.querySelectorAll("textarea[data-box]").forEach(function (t) { body.delete(t.name); });
    Promise.all(saves).then(function () {
      return request(form.getAttribute("action"), body);
    }).then(function (r) { return r.text(); }).then(show).catch(failed);
  });

  if (tg) { tg.ready(); tg.expand(); }
  var query = new URLSearchParams(window.location.search);
  var name = (query.get("p") || "overblik").replace(/[^a-z]/g, "");
  load("/page/" + name + "?d=" + encodeURIComponent(query.get("d") || ""));
})();
