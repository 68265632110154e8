/* The candidate's tablet: spoken instructions, answers, recording. Plain JS, no framework.
 *
 * The server holds the state; this script only plays sounds, records, and sends answers with
 * fetch (CSRF token in X-CSRF-Token). After an answer is stored the page loads the current
 * screen again. A 409 (double tap, old tab) reloads the current item; a 422 shows and says the
 * French message; a lost connection retries the same answer until the server answers; a 400 for
 * a stale CSRF token takes the session's token from /t/etat and sends the same request again.
 */
(function () {
  "use strict";

  var screen = document.getElementById("ecran");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
  var phrases = document.getElementById("phrases");
  var refusals = {};
  var refusalsNode = document.getElementById("refusals");
  if (refusalsNode) {
    try { refusals = JSON.parse(refusalsNode.textContent || "{}"); } catch (e) { refusals = {}; }
  }
  var busy = false;

  // ------------------------------------------------------------------ sound

  var player = new Audio();
  player.preload = "auto";
  var queue = [];

  function play(url, then) {
    if (!url) { if (then) { then(); } return; }
    queue = [];
    player.onended = then || null;
    player.src = url;
    var started = player.play();
    if (started && started.catch) {
      started.catch(function () { /* autoplay refused: the speaker button is there */ });
    }
  }

  // the candidate's language, when the auditeur chose one: its words come first, then French
  var trLang = document.body.getAttribute("data-tr-lang");
  var trDir = document.body.getAttribute("data-tr-dir") || "ltr";

  function phrase(name) {
    if (!phrases) { return null; }
    var text = phrases.getAttribute("data-" + name);
    return text ? {
      text: text,
      audio: phrases.getAttribute("data-" + name + "-audio"),
      tr: phrases.getAttribute("data-" + name + "-tr")
    } : null;
  }

  /* Show (and say) a message: ``tr`` is its translation (a string, or {text: ...}), or null. */
  function showMessage(text, audio, kind, tr) {
    var box = document.getElementById("message");
    var p = document.getElementById("message-text");
    var pTr = document.getElementById("message-tr");
    if (!box || !p) { return; }
    p.textContent = text;
    var translated = tr && typeof tr === "object" ? tr.text : tr;
    if (pTr) {
      pTr.hidden = !(translated && trLang);
      pTr.textContent = translated || "";
      if (trLang) { pTr.setAttribute("lang", trLang); pTr.setAttribute("dir", trDir); }
    }
    box.className = "message" + (kind ? " " + kind : "");
    box.hidden = false;
    if (audio) { play(audio); }
  }

  /* A status line's text: the translation (in its own direction), then the French. */
  function bilingual(node, attribute) {
    var tr = node.getAttribute(attribute + "-tr");
    var french = node.getAttribute(attribute);
    if (!tr) { return french; }
    return "\u2068" + tr + "\u2069 \u00b7 " + french;  // isolates keep each direction whole
  }

  function hideMessage() {
    var box = document.getElementById("message");
    if (box) { box.hidden = true; }
  }

  Array.prototype.forEach.call(document.querySelectorAll("button.speak"), function (button) {
    button.addEventListener("click", function () { play(button.getAttribute("data-audio")); });
  });

  // play the first spoken instruction once, then the listening document if there is one
  window.addEventListener("load", function () {
    var first = document.querySelector("[data-autoplay]");
    var stem = document.querySelector(".stem-audio");
    if (first) {
      play(first.getAttribute("data-audio"), stem ? function () {
        play(stem.getAttribute("data-audio"));
      } : null);
    }
  });

  // buttons that only say something (refusing consent, not hearing the sound)
  Array.prototype.forEach.call(document.querySelectorAll("button[data-message]"), function (b) {
    b.addEventListener("click", function () {
      showMessage(b.getAttribute("data-message"), b.getAttribute("data-audio"), "info",
        b.getAttribute("data-message-tr"));
    });
  });

  // a plain form (next screen) must not be sent twice by a double tap
  Array.prototype.forEach.call(document.querySelectorAll("form"), function (form) {
    form.addEventListener("submit", function (event) {
      if (form.getAttribute("data-sent")) { event.preventDefault(); return; }
      form.setAttribute("data-sent", "1");
    });
  });

  // ------------------------------------------------------------------ sending

  function reloadCurrent() { window.location.replace(window.location.pathname); }

  function errorMessage(body, fallback) {
    if (body && body.error) {
      var code = body.error.code;
      if (code && refusals[code]) { return refusals[code]; }
      return { text: body.error.message || fallback, audio: null, tr: null };
    }
    return { text: fallback, audio: null, tr: null };
  }

  /* The session's CSRF token, when the page's one went stale (the browser's session changed,
   * e.g. someone logged in on the desk in the same browser); then(ok) is called either way. */
  function renewCsrf(then) {
    fetch(document.body.getAttribute("data-state-url"), {
      headers: { "Accept": "application/json" }, credentials: "same-origin"
    }).then(function (response) { return response.ok ? response.json() : {}; })
      .then(function (body) {
        if (!body || !body.csrf) { then(false); return; }
        csrf = body.csrf;
        // the page's plain forms (Continuer) carry the token too
        Array.prototype.forEach.call(document.querySelectorAll('input[name="csrf_token"]'),
          function (input) { input.value = csrf; });
        then(true);
      })
      .catch(function () { then(false); });
  }

  /* Send a request until the server answers; onOk(body) on 2xx, onRefused(body, status) on 4xx. */
  function send(url, makeBody, isJson, onOk, onRefused) {
    var attempt = 0;
    var renewed = false;
    function go() {
      attempt += 1;
      var headers = { "X-CSRF-Token": csrf, "Accept": "application/json" };
      if (isJson) { headers["Content-Type"] = "application/json"; }
      fetch(url, { method: "POST", headers: headers, body: makeBody(), credentials: "same-origin" })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            if (response.ok) { onOk(body); return; }
            if (response.status >= 500) { throw new Error("server " + response.status); }
            if (response.status === 400 && !renewed && body && body.error &&
                body.error.code === "csrf") {
              // the same request once more with the session's token: nothing to redo by hand
              renewed = true;
              renewCsrf(function (ok) {
                if (ok) { go(); } else { onRefused(body, response.status); }
              });
              return;
            }
            onRefused(body, response.status);
          });
        })
        .catch(function () {
          var offline = phrase("offline");
          if (offline) {
            showMessage(offline.text, attempt === 1 ? offline.audio : null, "warn", offline.tr);
          }
          window.setTimeout(go, Math.min(10000, 1500 * attempt));
        });
    }
    go();
  }

  function handleRefusal(body, status, unlock) {
    var csrfRefused = status === 400 && body && body.error && body.error.code === "csrf";
    if (status === 409 || status === 404 || csrfRefused) {
      // the answer is already stored (double tap, old tab) or the test moved on: show now
      var stale = phrase("stale");
      if (stale && status === 409) { showMessage(stale.text, null, "info", stale.tr); }
      window.setTimeout(reloadCurrent, status === 409 ? 900 : 0);  // 400: a fresh page, a fresh token
      return;
    }
    var msg = errorMessage(body, "Cette réponse ne peut pas être lue. Veuillez réessayer.");
    showMessage(msg.text, msg.audio, "error", msg.tr);
    unlock();
  }

  // ------------------------------------------------------------------ answers

  var itemId = screen ? screen.getAttribute("data-item-id") : null;
  var mode = screen ? screen.getAttribute("data-mode") : null;
  var answerUrl = screen ? screen.getAttribute("data-answer-url") : null;
  var recordingUrl = screen ? screen.getAttribute("data-recording-url") : null;
  var selected = null;

  Array.prototype.forEach.call(document.querySelectorAll(".choice"), function (button) {
    button.addEventListener("click", function () {
      selected = button.getAttribute("data-choice");
      Array.prototype.forEach.call(document.querySelectorAll(".choice"), function (other) {
        other.setAttribute("aria-checked", other === button ? "true" : "false");
      });
      hideMessage();
      var audio = button.getAttribute("data-audio");
      if (audio) { play(audio); }
    });
  });

  function currentAnswer() {
    if (mode === "choice") { return selected ? { choice: selected } : null; }
    if (mode === "text" || mode === "long_text") {
      var box = document.getElementById("texte");
      var text = box ? box.value.trim() : "";
      return text ? { text: text } : null;
    }
    if (mode === "form") {
      var fields = {};
      var any = false;
      Array.prototype.forEach.call(document.querySelectorAll("[data-field]"), function (input) {
        fields[input.getAttribute("data-field")] = input.value.trim();
        if (input.value.trim()) { any = true; }
      });
      return any ? { fields: fields } : null;
    }
    return null;
  }

  function setBusy(value) {
    busy = value;
    Array.prototype.forEach.call(document.querySelectorAll(".actions button, .recorder button"),
      function (b) { b.disabled = value; });
  }

  function submitAnswer(answer) {
    if (busy || !itemId) { return; }
    setBusy(true);
    send(answerUrl, function () {
      return JSON.stringify({ item_id: itemId, answer: answer });
    }, true, function (body) {
      window.location.replace(body.next || window.location.pathname);
    }, function (body, status) {
      handleRefusal(body, status, function () { setBusy(false); });
    });
  }

  var validate = document.getElementById("valider");
  if (validate && mode !== "speech") {
    validate.addEventListener("click", function () {
      var answer = currentAnswer();
      if (!answer) {
        var need = phrase(mode === "choice" ? "choose-first" : "write-first");
        if (need) { showMessage(need.text, need.audio, "info", need.tr); }
        return;
      }
      submitAnswer(answer);
    });
  }

  var skipButton = document.getElementById("passer");
  if (skipButton) {
    skipButton.addEventListener("click", function () { submitAnswer({ skipped: true }); });
  }

  // the item's own time limit: send what is there, or nothing, when the time is up
  var limit = screen ? parseFloat(screen.getAttribute("data-time-limit") || "0") : 0;
  var onTimeUp = null;
  if (limit > 0) {
    var timer = document.querySelector("progress.timer");
    var timerLeft = document.querySelector(".timer-left");
    var started = Date.now();
    var tick = window.setInterval(function () {
      var left = limit - (Date.now() - started) / 1000;
      if (timer) { timer.value = Math.max(0, left); }
      if (timerLeft) { timerLeft.textContent = String(Math.max(0, Math.ceil(left))); }
      if (left <= 0) {
        window.clearInterval(tick);
        var timeout = phrase("timeout");
        if (timeout) { showMessage(timeout.text, timeout.audio, "info", timeout.tr); }
        if (onTimeUp) { onTimeUp(); } else { submitAnswer(currentAnswer() || { skipped: true }); }
      }
    }, 250);
  }

  // ------------------------------------------------------------------ recording

  var MIME_TYPES = ["audio/webm;codecs=opus", "audio/webm", "audio/mp4", "audio/ogg;codecs=opus"];
  var MAX_RECORD_S = 90;

  function recorderMime() {
    if (!window.MediaRecorder) { return null; }
    if (typeof MediaRecorder.isTypeSupported !== "function") { return ""; }
    for (var i = 0; i < MIME_TYPES.length; i += 1) {
      if (MediaRecorder.isTypeSupported(MIME_TYPES[i])) { return MIME_TYPES[i]; }
    }
    return "";
  }

  function extensionFor(type) {
    if (type.indexOf("mp4") >= 0) { return "m4a"; }
    if (type.indexOf("ogg") >= 0) { return "ogg"; }
    return "webm";
  }

  function setupRecorder(root) {
    var recMode = root.getAttribute("data-mode");
    var button = root.querySelector("button.rec");
    var bar = root.querySelector(".meter-bar");
    var clock = root.querySelector(".rec-time");
    var actions = root.querySelector(".rec-actions");
    var playback = root.querySelector("audio.playback");
    var again = root.querySelector("button.again");
    var mime = recorderMime();
    var stream = null;
    var recorder = null;
    var chunks = [];
    var blob = null;
    var audioContext = null;
    var frame = 0;
    var startedAt = 0;

    if (mime === null || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      var noMic = phrase("no-mic");
      if (noMic) { showMessage(noMic.text, null, "error", noMic.tr); }
      button.disabled = true;
      return null;
    }

    function meter(analyser) {
      var data = new Uint8Array(analyser.fftSize);
      function draw() {
        analyser.getByteTimeDomainData(data);
        var sum = 0;
        for (var i = 0; i < data.length; i += 1) {
          var v = (data[i] - 128) / 128;
          sum += v * v;
        }
        var level = Math.min(1, Math.sqrt(sum / data.length) * 4);
        bar.style.transform = "scaleX(" + level.toFixed(3) + ")";
        var seconds = Math.floor((Date.now() - startedAt) / 1000);
        clock.textContent = seconds + " s";
        if (seconds >= MAX_RECORD_S) { stop(); return; }
        frame = window.requestAnimationFrame(draw);
      }
      draw();
    }

    function start() {
      hideMessage();
      player.pause();
      navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } })
        .then(function (s) {
          stream = s;
          chunks = [];
          blob = null;
          recorder = mime ? new MediaRecorder(stream, { mimeType: mime }) : new MediaRecorder(stream);
          recorder.ondataavailable = function (event) {
            if (event.data && event.data.size > 0) { chunks.push(event.data); }
          };
          recorder.onstop = finished;
          recorder.start(250);
          startedAt = Date.now();
          button.setAttribute("data-state", "recording");
          button.setAttribute("aria-label", "Arrêter");
          actions.hidden = true;
          var Context = window.AudioContext || window.webkitAudioContext;
          if (Context) {
            audioContext = new Context();
            var analyser = audioContext.createAnalyser();
            analyser.fftSize = 1024;
            audioContext.createMediaStreamSource(stream).connect(analyser);
            meter(analyser);
          }
        })
        .catch(function () {
          var noMic = phrase("no-mic");
          if (noMic) { showMessage(noMic.text, noMic.audio, "error", noMic.tr); }
        });
    }

    function stop() {
      if (recorder && recorder.state !== "inactive") { recorder.stop(); }
    }

    function finished() {
      window.cancelAnimationFrame(frame);
      bar.style.transform = "scaleX(0)";
      if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
      if (audioContext) { audioContext.close(); audioContext = null; }
      var type = (recorder && recorder.mimeType) || mime || "audio/webm";
      blob = new Blob(chunks, { type: type });
      playback.src = URL.createObjectURL(blob);
      button.setAttribute("data-state", "idle");
      button.setAttribute("aria-label", "Enregistrer");
      actions.hidden = false;
      root.dispatchEvent(new Event("recorded"));
      if (recMode === "mic") { sendMic(); }
    }

    function sendMic() {
      var status = document.getElementById("mic-status");
      status.hidden = false;
      status.textContent = bilingual(status, "data-sending");
      setBusy(true);
      var url = screen.getAttribute("data-mic-url");
      send(url, function () {
        var form = new FormData();
        form.append("audio", blob, "micro." + extensionFor(blob.type));
        return form;
      }, false, function () {
        setBusy(false);
        status.textContent = bilingual(status, "data-ok");
        status.className = "status ok";
        play(status.getAttribute("data-ok-audio"));
        document.getElementById("mic-next").hidden = false;
      }, function (body, status409) {
        setBusy(false);
        status.hidden = true;
        if (status409 === 409) { reloadCurrent(); return; }
        var msg = errorMessage(body, "Nous n'avons pas bien entendu. Recommencez.");
        showMessage(msg.text, msg.audio, "error", msg.tr);
      });
    }

    button.addEventListener("click", function () {
      if (button.getAttribute("data-state") === "recording") { stop(); } else { start(); }
    });
    if (again) {
      again.addEventListener("click", function () { actions.hidden = true; start(); });
    }
    return {
      blob: function () { return blob; },
      recording: function () { return !!recorder && recorder.state === "recording"; },
      stop: stop
    };
  }

  var recorderNode = document.querySelector(".recorder");
  var recorderApi = recorderNode ? setupRecorder(recorderNode) : null;

  function sendRecording() {
    var blob = recorderApi ? recorderApi.blob() : null;
    if (!blob || blob.size === 0 || busy) { return false; }
    setBusy(true);
    send(recordingUrl, function () {
      var form = new FormData();
      form.append("item_id", itemId);
      form.append("audio", blob, "reponse." + extensionFor(blob.type));
      return form;
    }, false, function (body) {
      window.location.replace(body.next || window.location.pathname);
    }, function (body, status) {
      handleRefusal(body, status, function () { setBusy(false); });
    });
    return true;
  }

  if (mode === "speech") {
    onTimeUp = function () {
      if (recorderApi && recorderApi.recording()) {
        // the recording ends now and is sent as soon as it is complete
        recorderNode.addEventListener("recorded", function () {
          if (!sendRecording()) { submitAnswer({ skipped: true }); }
        }, { once: true });
        recorderApi.stop();
      } else if (!sendRecording()) {
        submitAnswer({ skipped: true });
      }
    };
  }

  if (validate && mode === "speech") {
    validate.addEventListener("click", function () {
      var blob = recorderApi ? recorderApi.blob() : null;
      if (!blob || blob.size === 0) {
        var need = phrase("record-first");
        if (need) { showMessage(need.text, need.audio, "info", need.tr); }
        return;
      }
      sendRecording();
    });
  }
}());
