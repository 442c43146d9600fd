// trm-edge web: the service worker that keeps the app on the device. `trm-edge web` writes PRECACHE (above this
// line): every file of the site with its SHA-256. Installing fetches them all, checks each hash and fills a
// cache named by the list's version; a file that does not match fails the install, so a cache holds one
// complete, checked version or nothing. Activating deletes every other version: a site rebuilt from another
// artifact never serves the old model with the new metadata. Requests are answered from the cache first.
const CACHE = `trm-edge-${PRECACHE.version}`;
const scoped = (path) => new URL(path, self.registration.scope).href;

async function sha256(bytes) {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function precache() {
  const cache = await caches.open(CACHE);
  try {
    for (const [path, want] of Object.entries(PRECACHE.files)) {
      const response = await fetch(scoped(path), { cache: "no-store" });
      if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
      const bytes = await response.clone().arrayBuffer();
      if ((await sha256(bytes)) !== want) throw new Error(`${path} does not match the SHA-256 the site lists`);
      await cache.put(scoped(path), response.clone());
      if (path === "index.html") await cache.put(scoped("./"), response);
    }
  } catch (err) {
    await caches.delete(CACHE);   // nothing half-cached: the next visit tries again
    throw err;
  }
}

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("trm-edge-") && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !url.href.startsWith(self.registration.scope)) return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    const key = event.request.mode === "navigate" ? scoped("./") : url.origin + url.pathname;
    return (await cache.match(key, { ignoreSearch: true })) || fetch(event.request);
  })());
});
