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
    // One answer at a time: a second tap while the first is on its way sends nothing
    // (a dialog or an invitation is not made twice).
    if (form.dataset.sending) { return; }
    form.dataset.sending = "1";
    var saves = [];
    form.querySelectorAll("textarea[data-box]").forEach(function (t) {
      if (pending[t.dataset.box]) { saves.push(saveBox(t)); }
    });
    // The boxes are already saved: sharing sends only which dialog and area.
    var body = new URLSearchParams(new FormData(form));
    // The button tapped answers too (e.g. answer=given): FormData leaves it out.
    var submitter = event.submitter;
    if (submitter && submitter.name) { body.set(submitter.name, submitter.value); }
    form.querySelectorAll("textarea[data-box]").forEach(function (t) { body.delete(t.name); });
    Promise.all(saves).then(function () {
      return request(form.getAttribute("action"), body);
    }).then(function (r) { return r.text(); }).then(show).catch(function () {
      delete form.dataset.sending;
      failed();
    });
  });

  // ---- downloads (web/downloads.py) ---------------------------------------------------------
  // A button marked data-download asks for a short-lived address (POST, with initData), then
  // hands it to Telegram's download (Bot API 8.0) or, elsewhere, opens it.
  function downloadStatus(button) {
    // One line that says how it goes, moved under the button tapped (made if the page has none).
    var p = page.querySelector("[data-download-status]");
    if (!p) {
      p = document.createElement("p");
      p.className = "status";
      p.setAttribute("role", "status");
      p.setAttribute("data-download-status", "");
    }
    var row = button.closest("li");
    if (row) { row.appendChild(p); } else { button.insertAdjacentElement("afterend", p); }
    return p;
  }
  function say(p, text, bad) { p.textContent = text || ""; p.classList.toggle("bad", !!bad); }
  page.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-download]");
    if (!button) { return; }
    event.preventDefault();
    var p = downloadStatus(button);
    var body = new URLSearchParams();
    body.set("d", button.dataset.d || "");
    body.set("kind", button.dataset.kind || "");
    body.set("ref", button.dataset.ref || "");
    button.disabled = true;
    say(p, p.dataset.busy);
    request("/page/dokumenter/link", body).then(function (r) { return r.json(); }).then(function (answer) {
      button.disabled = false;
      if (!answer.ok) { say(p, answer.message || p.dataset.failed || page.dataset.failed, true); return; }
      var url = new URL(answer.url, window.location.href).href;
      say(p, p.dataset.saved);
      if (tg && tg.downloadFile && tg.isVersionAtLeast && tg.isVersionAtLeast("8.0")) {
        tg.downloadFile({ url: url, file_name: answer.name });
      } else {
        window.location.href = url;
      }
    }).catch(function () {
      button.disabled = false;
      say(p, p.dataset.failed || page.dataset.failed, true);
    });
  });

  // ---- copying a link (web/coordinator.py: a personal invitation link) ----------------------
  // A readonly field marked data-select is selected whole when tapped; a button marked
  // data-copy="<field id>" copies that field's text and says so (data-copied).
  page.addEventListener("focusin", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-select")) { event.target.select(); }
  });
  page.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) { return; }
    event.preventDefault();
    var field = document.getElementById(button.dataset.copy);
    if (!field) { return; }
    function copied() { button.textContent = button.dataset.copied || button.textContent; }
    field.focus();
    field.select();
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(copied, function () {
        if (document.execCommand("copy")) { copied(); }
      });
    } else if (document.execCommand("copy")) {
      copied();
    }
  });

  if (tg) { tg.ready(); tg.expand(); }
  var query = new URLSearchParams(window.location.search);
  var name = (query.get("p") || "overblik").replace(/[^a-z]/g, "");
  load("/page/" + name + "?d=" + encodeURIComponent(query.get("d") || ""));
})();
