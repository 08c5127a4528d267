// A model's discussion room: live messages, history on scroll, presence,
// typing, and a reconnect that asks for what it missed (by message id).
(function () {
  "use strict";
  const root = document.getElementById("room");
  if (!root) return;
  const me = root.dataset.user || null;
  const list = document.getElementById("messages");
  const statusEl = document.getElementById("room-status");
  const onlineEl = document.getElementById("online");
  const typingEl = document.getElementById("typing");
  const eventsEl = document.getElementById("live-events");
  const composer = document.getElementById("composer");
  const bodyEl = document.getElementById("composer-body");
  const replyingEl = document.getElementById("replying");

  const messages = new Map(); // id -> element
  let lastId = 0;             // newest id shown: a reconnect asks for what came after it
  let oldestId = null;        // oldest id shown: scrolling up asks for what came before it
  let noOlder = false;
  let loadingOlder = false;
  let moderator = false;
  let sock = null;
  let retry = 0;
  let lastTyping = 0;
  let replyTo = null;
  const typers = new Map();

  function setStatus(text, offline) {
    statusEl.textContent = text;
    statusEl.classList.toggle("offline", !!offline);
  }

  // The server says what this socket may do (hello, then "access" whenever a ban or setting changes it).
  function applyAccess(f) {
    moderator = !!f.moderator;
    if (!composer) return;
    if (bodyEl.dataset.placeholder === undefined) bodyEl.dataset.placeholder = bodyEl.placeholder;
    bodyEl.disabled = !f.can_post;
    bodyEl.placeholder = f.can_post ? bodyEl.dataset.placeholder : "You cannot post in this room.";
  }

  function send(frame) {
    if (sock && sock.readyState === WebSocket.OPEN) { sock.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function fill(li, m) {
    li.className = "msg" + (m.kind === "system" ? " msg-system" : "") + (m.deleted ? " msg-deleted" : "");
    li.replaceChildren();
    const head = document.createElement("div");
    head.className = "msg-head";
    const author = document.createElement(m.author ? "a" : "span");
    author.className = "msg-author";
    author.textContent = m.author || "TransferHub";
    if (m.author) author.href = "/" + m.author;
    const time = document.createElement("time");
    time.className = "msg-time";
    time.dateTime = m.created;
    time.textContent = new Date(m.created).toLocaleString();
    head.append(author, time);
    if (m.edited && !m.deleted) {
      const ed = document.createElement("span"); ed.className = "msg-edited"; ed.textContent = "(edited)"; head.append(ed);
    }
    const actions = document.createElement("span");
    actions.className = "msg-actions";
    if (me && !m.deleted && m.kind !== "system") {
      actions.append(button("reply", () => startReply(m)));
      if (m.author === me) actions.append(button("edit", () => editMessage(m)));
      if (m.author === me || moderator) actions.append(button("delete", () => send({ type: "delete", id: m.id })));
      if (m.author !== me) {
        const report = document.createElement("a");
        report.className = "linklike msg-report"; report.textContent = "report";
        report.href = "/" + root.dataset.room + "/report?message=" + m.id;
        actions.append(report);
      }
    }
    head.append(actions);
    li.append(head);
    if (m.reply_to) {
      const r = document.createElement("div"); r.className = "msg-reply"; r.textContent = "↪ reply to #" + m.reply_to; li.append(r);
    }
    const body = document.createElement("div");
    body.className = "msg-body markdown";
    if (m.deleted) body.textContent = "This message was deleted.";
    else body.innerHTML = m.html; // sanitised on the server (hub/markdown.py)
    li.append(body);
    if (me && !m.deleted && body.querySelector('a.mention[href="/' + me + '"]')) li.classList.add("msg-mention-me");
  }

  function button(label, onClick) {
    const b = document.createElement("button");
    b.type = "button"; b.className = "linklike"; b.textContent = label;
    b.addEventListener("click", onClick);
    return b;
  }

  function startReply(m) {
    replyTo = m.id;
    replyingEl.hidden = false;
    replyingEl.textContent = "Replying to #" + m.id + " (Esc cancels)";
    bodyEl.focus();
  }

  function editMessage(m) {
    const text = window.prompt("Edit your message", m.body);
    if (text !== null && text.trim()) send({ type: "edit", id: m.id, body: text });
  }

  // Insert or update one message, keeping the list in id order.
  function upsert(m) {
    let li = messages.get(m.id);
    if (!li) {
      li = document.createElement("li");
      li.dataset.id = m.id;
      messages.set(m.id, li);
      let after = null;
      for (const el of list.children) { if (Number(el.dataset.id) > m.id) { after = el; break; } }
      list.insertBefore(li, after);
    }
    fill(li, m);
    if (oldestId === null || m.id < oldestId) oldestId = m.id;
  }

  function nearBottom() { return list.scrollHeight - list.scrollTop - list.clientHeight < 80; }

  function onLive(m) {
    if (m.id > lastId + 1 && lastId > 0) { send({ type: "history", after: lastId }); return; } // a gap: fetch it
    const stick = nearBottom();
    upsert(m);
    if (m.id > lastId) lastId = m.id;
    if (m.author) typers.delete(m.author), showTyping();
    if (stick || m.author === me) list.scrollTop = list.scrollHeight;
  }

  function onHistory(items) {
    const older = loadingOlder;
    loadingOlder = false;
    if (older && items.length === 0) noOlder = true;
    const before = list.scrollHeight;
    const stick = nearBottom();
    for (const m of items) { upsert(m); if (m.id > lastId) lastId = m.id; }
    if (older) list.scrollTop += list.scrollHeight - before; // keep the reader's place
    else if (stick) list.scrollTop = list.scrollHeight;
  }

  function showOnline(names) {
    onlineEl.replaceChildren(...names.map((n) => { const li = document.createElement("li"); li.textContent = n; return li; }));
  }

  function showTyping() {
    const now = Date.now();
    for (const [name, until] of typers) if (until < now) typers.delete(name);
    const names = [...typers.keys()];
    typingEl.textContent = names.length ? names.join(", ") + (names.length > 1 ? " are" : " is") + " typing…" : "";
  }
  setInterval(showTyping, 1000);

  function showEvent(ev) {
    eventsEl.hidden = false;
    const d = ev.data || {};
    const bits = [ev.event];
    for (const k of ["stage", "status", "progress", "message"]) if (d[k] !== undefined) bits.push(k === "progress" ? Math.round(d[k] * 100) + "%" : String(d[k]));
    eventsEl.textContent = bits.join(" · ");
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    sock = new WebSocket(scheme + location.host + root.dataset.wsPath);
    setStatus("Connecting…");
    sock.onmessage = (e) => {
      const f = JSON.parse(e.data);
      switch (f.type) {
        case "hello":
          retry = 0;
          applyAccess(f);
          setStatus("Connected · " + f.room);
          showOnline(f.online);
          if (lastId === 0) send({ type: "history", before: f.last_id + 1, limit: 50 });
          else send({ type: "history", after: lastId, limit: 200 });
          break;
        case "message": onLive(f); break;
        case "edit": case "delete": if (messages.has(f.id)) fill(messages.get(f.id), f); break;
        case "history": onHistory(f.messages); break;
        case "presence": showOnline(f.online); break;
        case "typing": if (f.user !== me) { typers.set(f.user, Date.now() + 4000); showTyping(); } break;
        case "event": showEvent(f); break;
        case "access": applyAccess(f); break;
        case "error": setStatus(f.message, true); break;
      }
    };
    sock.onclose = (e) => {
      // 4403: this user may no longer see the room (made private, or access removed); do not knock again.
      if (e.code === 4403) { setStatus("You can no longer see this room.", true); return; }
      // Back off: 0.5 s doubling to 15 s, with jitter so a restarted server is not stampeded.
      const delay = Math.min(15000, 500 * 2 ** retry) * (0.5 + Math.random() / 2);
      retry += 1;
      setStatus("Disconnected; reconnecting in " + Math.round(delay / 1000) + " s…", true);
      setTimeout(connect, delay);
    };
  }

  list.addEventListener("scroll", () => {
    if (list.scrollTop < 40 && !loadingOlder && !noOlder && oldestId !== null && oldestId > 1) {
      loadingOlder = send({ type: "history", before: oldestId, limit: 50 });
    }
  });

  if (composer) {
    composer.addEventListener("submit", (e) => {
      e.preventDefault();
      const body = bodyEl.value;
      if (!body.trim()) return;
      const frame = { type: "message", body: body, client_id: Math.random().toString(36).slice(2) };
      if (replyTo) frame.reply_to = replyTo;
      if (send(frame)) {
        bodyEl.value = ""; replyTo = null; replyingEl.hidden = true;
      } else setStatus("Not connected; your message is still in the box.", true);
    });
    bodyEl.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); composer.requestSubmit(); }
      if (e.key === "Escape") { replyTo = null; replyingEl.hidden = true; }
    });
    bodyEl.addEventListener("input", () => {
      const now = Date.now();
      if (now - lastTyping > 2000) { lastTyping = now; send({ type: "typing" }); }
    });
  }

  connect();
})();
