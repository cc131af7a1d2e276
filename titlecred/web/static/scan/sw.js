// The scan page's service worker (served as /scan-sw.js, scope /v): the page keeps verifying offline.
//
// - The page shell (/v, its CSS and scripts, format TC1's constants): network-first, so an online page
//   is always the current one; the cached copy when the network fails.
// - The issuer's DID document and status lists: network-first with a time limit, falling back to the
//   cached copy. Every copy is stored with the time it was fetched (X-TC-Fetched-At) and every answer
//   says where it came from (X-TC-Source: network | cache | none), so the page can show how fresh its
//   status information is and warn when it is not.
// Nothing else is touched: other requests go to the network untouched, and nothing is stored about
// who scans (no request log, no QR text: fragments never reach a worker either).

const SHELL_CACHE = "titlecred-scan-shell-v3"; // v3: Beijing time; tc1.js reads subject key 18 (eLicenseIdentifier)
const DATA_CACHE = "titlecred-scan-data-v1";
const SHELL = [
  "/v",
  "/static/site.css",
  "/static/scan/scan.css",
  "/static/scan/scan.js",
  "/static/scan/data.js",
  "/static/scan/verify.js",
  "/static/scan/tc1.js",
  "/static/scan/cbor.js",
  "/static/scan/inflate.js",
  "/scan/tc1-format.js",
];
const DID_PATH = "/.well-known/did.json";
// After this long without an answer, a cached copy is used (a bad connection must not hang a scan).
const NETWORK_WAIT_MS = 4000;

function isData(url) {
  return url.pathname === DID_PATH || url.pathname.startsWith("/status/");
}

function isShell(url, request) {
  if (url.pathname === "/v") return request.mode === "navigate" || request.destination === "document";
  return SHELL.includes(url.pathname) || url.pathname.startsWith("/static/scan/");
}

async function fetchAndStamp(request, cache, key) {
  const response = await fetch(request);
  // A 4xx is the server's answer (e.g. no such list); a 5xx is an outage: use the cached copy.
  if (response.status >= 500) throw new Error(`HTTP ${response.status}`);
  if (!response.ok) return response;
  const body = await response.arrayBuffer();
  const headers = new Headers(response.headers);
  headers.set("X-TC-Fetched-At", String(Date.now()));
  await cache.put(key, new Response(body, { status: 200, headers }));
  headers.set("X-TC-Source", "network");
  return new Response(body, { status: 200, headers });
}

async function fromCache(cache, key) {
  const cached = await cache.match(key);
  if (!cached) return null;
  const headers = new Headers(cached.headers);
  headers.set("X-TC-Source", "cache");
  return new Response(await cached.arrayBuffer(), { status: 200, headers });
}

function offline() {
  return new Response(JSON.stringify({ error: "offline and not cached" }), {
    status: 503, headers: { "Content-Type": "application/json", "X-TC-Source": "none" },
  });
}

async function data(request) {
  const cache = await caches.open(DATA_CACHE);
  const url = new URL(request.url);
  const key = url.origin + url.pathname;
  const network = fetchAndStamp(request, cache, key);
  network.catch(() => {}); // the race below may leave it unobserved
  const timeout = new Promise((resolve) => setTimeout(() => resolve("timeout"), NETWORK_WAIT_MS));
  try {
    const first = await Promise.race([network, timeout]);
    if (first !== "timeout") return first;
    return (await fromCache(cache, key)) || (await network);
  } catch {
    return (await fromCache(cache, key)) || offline();
  }
}

async function shell(request) {
  const cache = await caches.open(SHELL_CACHE);
  const network = fetch(request).then(async (response) => {
    if (response.ok) await cache.put(request, response.clone());
    return response;
  });
  network.catch(() => {});
  // Another language's copy of the page beats no page: the texts are in it, and the switch works.
  const cached = async () => (await cache.match(request)) || (await cache.match(request, { ignoreSearch: true }));
  const timeout = new Promise((resolve) => setTimeout(() => resolve("timeout"), NETWORK_WAIT_MS));
  try {
    const first = await Promise.race([network, timeout]);
    if (first !== "timeout") return first;
    return (await cached()) || (await network);
  } catch (e) {
    const copy = await cached();
    if (copy) return copy;
    throw e;
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    // The page keeps its language cookie; the scan page reads no other (it does not look up who asks).
    await cache.addAll(SHELL.map((path) => new Request(path, { cache: "reload" })));
    const dataCache = await caches.open(DATA_CACHE);
    try {
      await fetchAndStamp(new Request(DID_PATH, { cache: "no-cache", credentials: "omit" }), dataCache,
        self.location.origin + DID_PATH);
    } catch {
      // The page fetches it again anyway.
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("titlecred-scan-") && name !== SHELL_CACHE && name !== DATA_CACHE) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (isData(url)) event.respondWith(data(request));
  else if (isShell(url, request)) event.respondWith(shell(request));
});
