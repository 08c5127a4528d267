// Live validation status: the page is rendered by the server; this upgrades it
// with events from the model's websocket (frames {type: "event", event, data}),
// and falls back to polling the API when no websocket is available.
(function () {
  "use strict";
  var root = document.getElementById("validation");
  if (!root || !root.dataset.run) return;
  var runId = Number(root.dataset.run);
  var active = function () { return root.dataset.status === "queued" || root.dataset.status === "running"; };
  var field = function (name) { return root.querySelector('[data-field="' + name + '"]'); };
  var lastProgressAt = 0;

  function show(data) {
    if (data.run !== runId) { if (data.status === "queued") location.reload(); return; }
    root.dataset.status = data.status;
    var status = field("status");
    if (status) { status.textContent = data.status; status.className = "pill verdict verdict-" + data.status; }
    var queue = field("queue");
    if (queue) queue.textContent = data.queue_position ? "Position " + data.queue_position + " in the queue." : "";
    var stage = field("stage");
    var p = data.progress || {};
    var where = p.task ? " · task " + p.task + " (" + (p.task_index + 1) + " of " + p.tasks + ")" : "";
    if (stage) stage.textContent = data.status === "running" ? "Stage: " + (data.stage || "starting") + where : "";
    var loss = field("loss");
    if (loss) loss.textContent = typeof p.loss === "number" ? " · loss " + p.loss.toFixed(4) : "";
    var bar = field("progress");
    if (bar && p.total > 0) bar.value = Math.round(100 * p.step / p.total);
    lastProgressAt = Date.now();
  }

  function finished(data) {
    if (data.run === runId) location.reload();
  }

  function poll() {
    if (!active()) return;
    if (Date.now() - lastProgressAt > 4000) {
      fetch(root.dataset.api, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          var run = body && body.runs && body.runs[0];
          if (!run) return;
          if (run.id !== runId || !(run.status === "queued" || run.status === "running")) { location.reload(); return; }
          show({ run: run.id, status: run.status, stage: run.stage, progress: run.progress, queue_position: run.queue_position });
        })
        .catch(function () {});
    }
    setTimeout(poll, 5000);
  }

  function connect() {
    if (!("WebSocket" in window)) return;
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket;
    try { socket = new WebSocket(scheme + location.host + root.dataset.ws); } catch (e) { return; }
    socket.addEventListener("message", function (msg) {
      var frame;
      try { frame = JSON.parse(msg.data); } catch (e) { return; }
      if (!frame || frame.type !== "event" || !frame.data) return;
      if (frame.event === "validation.progress") show(frame.data);
      else if (frame.event === "validation.finished") finished(frame.data);
    });
    socket.addEventListener("close", function () { if (active()) setTimeout(connect, 5000); });
  }

  if (active()) { connect(); setTimeout(poll, 5000); }
})();
