/* The cadre's pages with or without a network.
 *
 * Every form marked data-queue is kept in IndexedDB first, with a key made here (a UUID), then
 * sent; an entry the network could not carry (no network, the service not answering within
 * SEND_WAIT) stays kept and is sent, in the order it was made, when the network returns, when a
 * page loads, and every RETRY_EVERY ms while entries wait. Each is sent with its key in the
 * Idempotency-Key header, so an entry whose answer was lost and is sent again is recorded once.
 * An entry the service refuses (the household was transferred meanwhile) is kept aside with the
 * service's reason until the cadre dismisses it. #outbox shows how many entries wait.
 *
 * It also registers the service worker (sw.js, scope /mine) and asks it to keep the pages of the
 * cadre's households listed on /mine, and drops the kept pages when another user signs in.
 */
"use strict";

(() => {
  const outbox = document.getElementById("outbox");
  if (!outbox || !window.indexedDB) return;
  const USER = outbox.dataset.user;
  const PAGES = "jiedui-pages";
  const SEND_WAIT = 15000;
  const RETRY_EVERY = 20000;
  const count = document.getElementById("outbox-count");
  const note = document.getElementById("outbox-note");
  const waitingList = document.getElementById("outbox-waiting");
  const refusedBox = document.getElementById("outbox-refused");
  const refusedList = refusedBox.querySelector("ul");

  // --- the kept entries -------------------------------------------------------------------------
  let opened = null;
  function database() {
    opened = opened || new Promise((resolve, reject) => {
      const asked = indexedDB.open("jiedui-outbox", 1);
      asked.onupgradeneeded = () => asked.result.createObjectStore("entries", {keyPath: "id", autoIncrement: true});
      asked.onsuccess = () => resolve(asked.result);
      asked.onerror = () => reject(asked.error);
    });
    return opened;
  }
  function done(request) {
    return new Promise((resolve, reject) => {
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }
  async function entries(mode) {
    return (await database()).transaction("entries", mode || "readonly").objectStore("entries");
  }
  async function mine() {
    const all = await done((await entries()).getAll());
    return all.filter((e) => e.user === USER).sort((a, b) => a.id - b.id);
  }
  const keep = async (entry) => done((await entries("readwrite")).put(entry));
  const drop = async (id) => done((await entries("readwrite")).delete(id));

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  // --- sending ----------------------------------------------------------------------------------
  function csrf(doc) {
    try {
      return JSON.parse((doc || document).body.getAttribute("hx-headers"))["X-CSRF-Token"];
    } catch (e) {
      return "";
    }
  }
  async function freshToken() {  // the session's token as a page now carries it (the service restarted)
    const answer = await fetch("/mine", {credentials: "same-origin", cache: "no-store", redirect: "manual",
                                         signal: AbortSignal.timeout(SEND_WAIT)});
    return answer.ok ? csrf(new DOMParser().parseFromString(await answer.text(), "text/html")) : "";
  }
  function send(entry, token) {
    return fetch(entry.url, {
      method: "POST", body: entry.body, credentials: "same-origin", redirect: "manual", cache: "no-store",
      headers: {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json",
                "Idempotency-Key": entry.key, "X-CSRF-Token": token},
      signal: AbortSignal.timeout(SEND_WAIT),
    });
  }
  function transient(status, body) {
    return status === 408 || status === 429 || status >= 500 ||
      (status === 409 && body && body.code === "IDEMPOTENCY_IN_PROGRESS");
  }

  let draining = null;
  function flush() {  // one sender at a time, across this user's open pages too
    if (!draining) {
      const run = navigator.locks ? navigator.locks.request("jiedui-outbox", drain) : drain();
      draining = run.finally(() => { draining = null; });
    }
    return draining;
  }
  async function drain() {
    const report = {sent: [], pages: new Set(), refused: [], stopped: ""};
    let token = csrf();
    for (const entry of (await mine()).filter((e) => e.state === "waiting")) {
      let answer = null;
      let body = null;
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          answer = await send(entry, token);
        } catch (e) {
          answer = null;
          break;
        }
        body = await answer.clone().json().catch(() => null);
        if (answer.status === 403 && body && body.code === "CSRF" && attempt === 0) {
          token = await freshToken().catch(() => "");
          continue;
        }
        break;
      }
      if (!answer) { report.stopped = "network"; break; }
      if (answer.type === "opaqueredirect" || answer.status === 401) { report.stopped = "signin"; break; }
      if (answer.ok) {
        await drop(entry.id);
        report.sent.push(entry.key);
        report.pages.add((body && body.page) || entry.page);
      } else if (transient(answer.status, body)) {
        report.stopped = "busy";
        break;
      } else {
        const reason = body && body.message ? `${body.message} / ${body.message_en}` : `HTTP ${answer.status}`;
        await keep(Object.assign(entry, {state: "refused", reason: reason}));
        report.refused.push(entry.key);
        report.pages.add(entry.page);  // (a household transferred meanwhile: its kept page is dropped)
      }
    }
    if (report.sent.length || report.refused.length) {
      report.pages.add("/mine");
      await Promise.all([...report.pages].map((url) => fetch(url, {  // through the worker: the kept copies
        credentials: "same-origin", cache: "no-store", signal: AbortSignal.timeout(SEND_WAIT),  // show what was sent
      }).catch(() => null)));
    }
    await render();
    return report;
  }

  // --- what the page shows ----------------------------------------------------------------------
  function say(text) {
    note.textContent = text;
  }
  async function render() {
    const all = await mine();
    const waiting = all.filter((e) => e.state === "waiting");
    const refused = all.filter((e) => e.state === "refused");
    count.textContent = `待发送 ${waiting.length} 条 / ${waiting.length} ${waiting.length === 1 ? "entry" : "entries"} ` +
      "waiting to be sent";
    outbox.classList.toggle("waiting", waiting.length > 0);
    waitingList.replaceChildren(...waiting.map((e) => item(`${e.label}（保存于 / kept ${e.created.slice(0, 16).replace("T", " ")}）`)));
    refusedBox.hidden = refused.length === 0;
    refusedList.replaceChildren(...refused.map((e) => {
      const li = item(`${e.label}：${e.reason}`);
      const dismiss = document.createElement("button");
      dismiss.type = "button";
      dismiss.className = "secondary";
      dismiss.textContent = "知道了 / dismiss";
      dismiss.addEventListener("click", () => drop(e.id).then(render));
      li.append(" ", dismiss);
      return li;
    }));
  }
  function item(text) {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }
  function today() {
    const d = new Date();
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
  }
  function setToday() {  // a kept page may be days old: a new entry's date is still today
    for (const input of document.querySelectorAll("input[type=date][data-today]")) {
      input.max = today();
      input.defaultValue = today();  // what a reset of the form restores
      input.value = today();
    }
  }
  function showAge() {
    const age = document.getElementById("page-age");
    const rendered = Date.parse(age.dataset.rendered);
    if (Number.isNaN(rendered) || Date.now() - rendered < 120000) return;
    age.hidden = false;
    age.textContent = `本机保存的副本，内容截至 ${age.dataset.rendered.slice(0, 16).replace("T", " ")} / ` +
      `a copy kept on this phone, as of ${age.dataset.rendered.slice(0, 16).replace("T", " ")}`;
  }

  // --- the forms --------------------------------------------------------------------------------
  for (const form of document.querySelectorAll("form[data-queue]")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const data = new URLSearchParams(new FormData(form));
        data.delete("csrf_token");
        const kind = data.get("kind");
        const entry = {
          user: USER, key: uuid(), url: new URL(form.action, location.href).pathname, body: data.toString(),
          page: form.dataset.page, state: "waiting", created: new Date().toISOString(),
          label: [form.dataset.label, kind, data.get("entry_date")].filter(Boolean).join(" · "),
        };
        entry.id = await keep(entry);
        form.reset();
        setToday();
        say("已保存在本机，正在发送… / kept on this phone, sending…");
        await render();
        const report = await flush();
        if (report.sent.includes(entry.key)) {
          say("已记录 / recorded");
          location.reload();
        } else if (report.refused.includes(entry.key)) {
          say("未被接受，原因见下 / refused: see the reason below");
        } else if (report.stopped === "signin") {
          say("请重新登录后发送（记录已保存在本机）/ sign in again to send (the entry is kept on this phone)");
        } else {
          say("暂时无法连接，已保存在本机，联网后自动发送 / no connection: kept on this phone, sent when the network returns");
        }
      } finally {
        button.disabled = false;
      }
    });
  }

  // --- the pages kept on the phone --------------------------------------------------------------
  async function offlinePages() {
    if (!("serviceWorker" in navigator) || !window.caches) return;
    if (localStorage.getItem("jiedui-owner") !== USER) {  // another user's pages: not for this one
      await caches.delete(PAGES);
      localStorage.setItem("jiedui-owner", USER);
    }
    navigator.serviceWorker.register("/sw.js", {scope: "/mine"}).catch(() => null);  // (an update may take long)
    const worker = (await navigator.serviceWorker.ready).active;
    const kept = await caches.open(PAGES);
    const wanted = [];
    for (const link of document.querySelectorAll("a[data-offline]")) {
      const url = new URL(link.href).pathname;
      if (!wanted.includes(url) && !(await kept.match(url))) wanted.push(url);
    }
    if (wanted.length && worker && navigator.onLine) {
      const channel = new MessageChannel();
      const warmed = new Promise((resolve) => { channel.port1.onmessage = resolve; });
      worker.postMessage({warm: wanted}, [channel.port2]);
      await Promise.race([warmed, new Promise((resolve) => setTimeout(resolve, 4 * SEND_WAIT))]);
    }
    outbox.dataset.offline = "ready";
  }

  setToday();
  showAge();
  render().then(() => flush());
  offlinePages().catch(() => { outbox.dataset.offline = "unavailable"; });
  window.addEventListener("online", () => flush());
  document.addEventListener("visibilitychange", () => { if (!document.hidden) flush(); });
  setInterval(() => { if (outbox.classList.contains("waiting")) flush(); }, RETRY_EVERY);
})();
