/* The service worker of the cadre's pages (scope /mine): they open with no network.
 *
 * - Assets (style sheet, scripts) are kept when the worker installs and served from the phone,
 *   refreshed in the background.
 * - Pages under /mine: from the network, kept on the phone when they arrive. When the network has
 *   not answered within NETWORK_WAIT ms and the page is kept, the kept copy is shown at once and
 *   the network's answer, when it comes, replaces it for next time: a slow village link costs no
 *   wait. A page the service no longer shows (404, 403: the household was transferred) is
 *   dropped from the phone.
 * - Form posts are not touched here: cadre.js keeps them in IndexedDB when they cannot be sent.
 * - Signing out drops every kept page (personal data).
 * The version below is made by the service from this file and the assets it keeps.
 */
"use strict";

const VERSION = "__VERSION__";
const ASSETS = "jiedui-assets-" + VERSION;
const PAGES = "jiedui-pages";
const ASSET_FILES = ["/static/console.css", "/static/cadre.js", "/static/vendor/htmx.min.js"];
const NETWORK_WAIT = 500;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    await (await caches.open(ASSETS)).addAll(ASSET_FILES);
    await keepFromNetwork(new Request("/mine")).catch(() => null);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("jiedui-assets-") && name !== ASSETS) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("message", (event) => {
  // {warm: [urls]}: keep these pages (the cadre's households, listed on /mine); the answer says when done
  if (event.data && Array.isArray(event.data.warm)) {
    const urls = event.data.warm.filter(isPage);
    event.waitUntil(Promise.all(urls.map((u) => keepFromNetwork(new Request(u)).catch(() => null)))
      .then(() => event.ports[0] && event.ports[0].postMessage("warm")));
  }
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && url.pathname === "/logout") {
    event.waitUntil(caches.delete(PAGES));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(asset(event));
  } else if (isPage(url.pathname)) {
    event.respondWith(request.mode === "navigate" ? page(event) : keepFromNetwork(request));
  }
});

function isPage(path) {
  return path === "/mine" || path.startsWith("/mine/");
}

async function asset(event) {
  const cache = await caches.open(ASSETS);
  const kept = await cache.match(event.request, {ignoreVary: true, ignoreSearch: true});
  const fresh = fetch(event.request).then((answer) => {
    if (answer.ok) cache.put(event.request, answer.clone());
    return answer;
  });
  if (kept) {
    event.waitUntil(fresh.catch(() => null));
    return kept;
  }
  return fresh;
}

/* The network's answer to a page request, kept on the phone if it is a page, dropped from it if
   the service no longer shows it. */
async function keepFromNetwork(request) {
  const answer = await fetch(request, {credentials: "same-origin", redirect: "manual"});
  const cache = await caches.open(PAGES);
  if (answer.status === 200 && answer.type === "basic") {
    await cache.put(request.url, answer.clone());
  } else if (answer.status === 404 || answer.status === 403) {
    await cache.delete(request.url);
  }
  return answer;
}

async function page(event) {
  const request = event.request;
  const network = keepFromNetwork(request);
  event.waitUntil(network.catch(() => null));
  const kept = await (await caches.open(PAGES)).match(request.url, {ignoreVary: true});
  if (!kept) return network.catch(() => offline(request.url));
  const late = new Promise((resolve) => setTimeout(() => resolve(kept), NETWORK_WAIT));
  return Promise.race([network.catch(() => kept), late]);
}

function offline(url) {
  const body = '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width, initial-scale=1"><title>未保存的页面 / Not saved · jiedui</title>' +
    '<link rel="stylesheet" href="/static/console.css"></head><body><main id="main">' +
    "<h1>此页未保存在本机 / This page is not saved on this phone</h1>" +
    "<p>没有网络，且此页从未在本机打开过。/ There is no network, and this page was never opened on this phone.</p>" +
    '<p><a href="/mine">我的结对户 / My households</a></p></main></body></html>';
  return new Response(body, {status: 503, headers: {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; base-uri 'none'",
  }});
}
