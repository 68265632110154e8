// Live status on the desk: polls a JSON endpoint and updates the rows or the session header.
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
    var decision = s.decision ? s.decision + (s.hours ? " (" + s.hours + " h)" : "") : null;
    text(row.querySelector('[data-field="decision"]'), decision);
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
        if (fresh) { window.location.reload(); }
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
})();
