// Fetching the issuer's keys and status lists, through the scan page's service worker when it runs.
//
// The worker (sw.js) answers network-first and falls back to its cache, and says which it did and
// when the copy was fetched (X-TC-Source, X-TC-Fetched-At), so the page can say how fresh its status
// information is. Requests carry no cookie (credentials: "omit") and nothing from the QR code but the
// list's own path: the fragment never leaves the browser.

const CONTROL_WAIT_MS = 3000;
let controlled = Promise.resolve(false);

/**
 * Register the service worker (scope /v) and resolve once it controls this page, or after a short wait
 * (a first visit then fetches directly, and the next one works offline).
 */
export function startOfflineSupport(swPath) {
  const sw = navigator.serviceWorker;
  if (!sw || !window.isSecureContext) return controlled;
  controlled = sw.register(swPath, { scope: "/v" }).then((registration) => {
    if (sw.controller) return true;
    const coming = registration && (registration.installing || registration.waiting);
    // Only a worker being installed now will claim this page; an active one that does not control it
    // (a forced reload) or none at all (blocked) will not: fetch directly rather than wait.
    if (!coming) return false;
    return new Promise((resolve) => {
      sw.addEventListener("controllerchange", () => resolve(true), { once: true });
      coming.addEventListener("statechange", () => {
        if (coming.state === "redundant") resolve(false);
      });
      setTimeout(() => resolve(Boolean(sw.controller)), CONTROL_WAIT_MS);
    });
  }).catch(() => false);
  return controlled;
}

/** Whether a service worker controls the page (so that it keeps working offline). */
export function offlineReady() {
  return controlled;
}

/**
 * GET a same-origin JSON document: `{ok: true, json, fetchedAt, source}` (source "network" or "cache")
 * or `{ok: false, error}`. Never throws.
 */
export async function fetchData(path) {
  await controlled;
  let response;
  try {
    // no-cache: revalidate with the server (ETag), so that "as of" means confirmed at that time.
    response = await fetch(path, { cache: "no-cache", credentials: "omit", headers: { Accept: "application/json" } });
  } catch {
    return { ok: false, error: "offline" };
  }
  const source = response.headers.get("X-TC-Source") || "network";
  if (!response.ok) return { ok: false, error: source === "none" ? "offline" : `HTTP ${response.status}` };
  const stamped = Number(response.headers.get("X-TC-Fetched-At"));
  let json;
  try {
    json = await response.json();
  } catch {
    return { ok: false, error: "not JSON" };
  }
  return { ok: true, json, source, fetchedAt: stamped > 0 ? stamped : Date.now() };
}
