// The desk: live status (polls a JSON endpoint and updates the rows or the session header),
// the recordings' real duration, and the review's keyboard shortcuts.
(function () {
  "use strict";
  var POLL_MS = 5000;

  function text(el, value) {
    if (el) { el.textContent = (value === null || value === undefined || value === "") ? "—" : String(value); }
  }

  function updateRow(row, s) {
    var state = row.querySelector('[data-field="state_label"]');
    if (state) {
      state.className = "status status-" + s.state;
      text(state, s.state_label);
    }
    text(row.querySelector('[data-field="responses"]'), s.responses);
    text(row.querySelector('[data-field="needs_review"]'), s.needs_review);
    text(row.querySelector('[data-field="level"]'), s.level);
    text(row.querySelector('[data-field="decision"]'), s.decision_label);
    // a referred decision still waiting for the auditeur's own
    var referral = row.querySelector('[data-field="referral"]');
    if (referral) {
      referral.hidden = !s.referral_pending;
      referral.textContent = s.referral_pending ? s.referral_label : "";
    }
  }

  // The notice above the list: a link to each session whose referred decision is to take.
  function updateReferralNotice(table) {
    var notice = document.getElementById("referral-notice");
    var links = document.getElementById("referral-links");
    if (!notice || !links) { return; }
    links.textContent = "";
    table.querySelectorAll("tr[data-session-id]").forEach(function (row) {
      var marker = row.querySelector('[data-field="referral"]');
      var link = row.querySelector("a");
      if (!marker || marker.hidden || !link) { return; }
      if (links.childNodes.length) { links.appendChild(document.createTextNode(", ")); }
      links.appendChild(link.cloneNode(true));
    });
    notice.hidden = !links.childNodes.length;
  }

  function poll(url, apply) {
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { apply(data); } })
      .catch(function () { /* offline for a moment: the next poll retries */ })
      .finally(function () { setTimeout(function () { poll(url, apply); }, POLL_MS); });
  }

  var table = document.getElementById("sessions");
  if (table && table.dataset.poll) {
    var known = {};
    table.querySelectorAll("tr[data-session-id]").forEach(function (row) { known[row.dataset.sessionId] = row; });
    setTimeout(function () {
      poll(table.dataset.poll, function (data) {
        var fresh = false;
        data.sessions.forEach(function (s) {
          var row = known[String(s.id)];
          if (row) { updateRow(row, s); } else { fresh = true; }
        });
        if (fresh) { window.location.reload(); } else { updateReferralNotice(table); }
      });
    }, POLL_MS);
  }

  var live = document.getElementById("session-live");
  if (live && live.dataset.poll) {
    var initial = live.dataset.state;
    setTimeout(function () {
      poll(live.dataset.poll, function (s) {
        updateRow(live, s);
        // when the test ends (or the review changes), show the full review page
        if (s.state !== initial && (s.state === "done" || s.state === "to_review" || s.state === "transcribing" || initial === "waiting")) {
          window.location.reload();
        }
      });
    }, POLL_MS);
  }

  // A WebM made by the tablet's MediaRecorder has no duration in its header: the player says
  // 0:00 and "infinity". Seeking far past the end makes the browser read the whole file and
  // learn the real duration; then the player goes back to the start.
  document.querySelectorAll("audio").forEach(function (audio) {
    audio.addEventListener("loadedmetadata", function () {
      if (audio.duration !== Infinity && !isNaN(audio.duration)) { return; }
      var restore = function () {
        if (audio.duration === Infinity || isNaN(audio.duration)) { return; }
        audio.removeEventListener("durationchange", restore);
        audio.currentTime = 0;
      };
      audio.addEventListener("durationchange", restore);
      audio.currentTime = 1e101;
    });
  });

  // The review's shortcuts: J/K move between the entries to settle, L plays the current one's
  // recording, C confirms its proposed score, a digit gives that score with the chosen reason.
  var entries = Array.prototype.slice.call(document.querySelectorAll("[data-todo]"));
  if (entries.length) {
    var current = 0;
    var focus = function (i) {
      current = Math.max(0, Math.min(entries.length - 1, i));
      entries.forEach(function (e, j) { e.classList.toggle("current", j === current); });
      entries[current].focus({ preventScroll: true });
      entries[current].scrollIntoView({ block: "nearest" });
    };
    entries.forEach(function (e, j) { e.addEventListener("focusin", function () { current = j; entries.forEach(function (x, k) { x.classList.toggle("current", k === j); }); }); });
    if (window.location.hash === "#a-faire") { focus(0); } else { entries[0].classList.add("current"); }
    document.addEventListener("keydown", function (event) {
      var target = event.target;
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) { return; }
      var entry = entries[current];
      var key = event.key.toLowerCase();
      var button = null;
      if (key === "j") { focus(current + 1); } else if (key === "k") { focus(current - 1); } else if (key === "l") {
        var audio = entry.querySelector("audio");
        if (audio) { if (audio.paused) { audio.play(); } else { audio.pause(); } }
      } else if (key === "c") {
        button = entry.querySelector('button[data-key="c"]');
      } else if (/^[0-9]$/.test(key)) {
        button = entry.querySelector('button[data-key="' + key + '"]');
      } else { return; }
      event.preventDefault();
      if (button) { button.click(); }
    });
  }
})();
