// Verify a QR code's TC1 form in the browser and reach one verdict a person can act on.
//
// The same checks as verifier/compact.py, against this site's own published material:
//   shape     the text decodes to a well-formed TC1 form (tc1.js)              else "unreadable"
//             (or "unsupported": another TC1 version or signature algorithm; "not_titlecred": not ours)
//   issuer    the kid is a key of the DID in /.well-known/did.json             else "unknown_issuer"
//   proof     Ed25519 over the COSE Sig_structure (WebCrypto)                  else "tampered"
//   key       its state when signed (keys/state.py judge_signature_time)       else "key_revoked"
//   status    the bits of the status lists the claims name (/status/...)       "revoked" / "suspended"
//   validity  validFrom / validUntil                                           "expired" / "not_yet_valid"
// An outage is never a forgery: no keys → "keys_unavailable", no status → "status_unknown", no
// Ed25519 in this browser → "unsupported"; none of them says the certificate is invalid. "tampered"
// means one thing: a signature failed over content this page could read.
//
// Status lists and the DID document are trusted as this origin serves them, without checking the
// lists' Data Integrity proofs here: the page's own code comes from the same origin, so whoever could
// alter them could alter this script as well (see docs/printing.md, "The scan page").

import { decodeQr, parseDateTime, TC1Error } from "./tc1.js";

const DID_PATH = "/.well-known/did.json";
const UNSUPPORTED_FORM = ["unsupported_algorithm", "unsupported_version"];
const MAX_LIST_BYTES = 16 * 1024 * 1024;
const B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

export class Unsupported extends Error {}

// --- keys --------------------------------------------------------------------------------------------

function base58decode(text) {
  let n = 0n;
  for (const c of text) {
    const v = B58.indexOf(c);
    if (v < 0) throw new Error("not base58btc");
    n = n * 58n + BigInt(v);
  }
  const bytes = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  for (const c of text) {
    if (c !== "1") break;
    bytes.unshift(0);
  }
  return new Uint8Array(bytes);
}

/** The 32 bytes of an Ed25519 Multikey ('z' base58btc of 0xed 0x01 + key). */
export function ed25519FromMultibase(mb) {
  if (typeof mb !== "string" || !mb.startsWith("z")) throw new Error("publicKeyMultibase is not base58btc");
  const raw = base58decode(mb.slice(1));
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) throw new Error("not an Ed25519 Multikey");
  return raw.slice(2);
}

const absolute = (ref, did) => (typeof ref === "string" && ref.startsWith("#") ? did + ref : ref);

/** The verification method `kid` of the DID document, with what the document says of it. */
export function findMethod(didDoc, kid) {
  const did = didDoc && didDoc.id;
  if (typeof did !== "string" || kid.split("#", 1)[0] !== did) return null;
  const methods = Array.isArray(didDoc.verificationMethod) ? didDoc.verificationMethod : [];
  const vm = methods.find((m) => m && absolute(m.id, did) === kid);
  if (!vm) return null;
  const listed = (Array.isArray(didDoc.assertionMethod) ? didDoc.assertionMethod : [])
    .map((r) => absolute(typeof r === "string" ? r : r && r.id, did));
  return { vm, assertion: listed.includes(kid) };
}

/**
 * keys/state.py judge_signature_time, for a method as the DID document publishes it: active and
 * retired keys count; a revoked one (`revoked` = its compromise time) fails for a signature made at or
 * after the compromise, and before it needs independent evidence that this page does not have.
 */
export function judgeKey(found, createdMs) {
  const { vm, assertion } = found;
  const declared = vm.keyState === undefined ? "active" : vm.keyState;
  if (vm.revoked !== undefined || declared === "revoked") {
    // A revoked key without a readable compromise time counts as compromised since ever (keys/did.py).
    const compromised = vm.revoked === undefined ? 0 : parseDateTime(vm.revoked);
    if (Number.isNaN(compromised)) return { ok: false, code: "key_state_unknown" };
    if (createdMs === null || createdMs >= compromised) {
      return { ok: false, code: "key_compromised", compromised };
    }
    return { ok: false, code: "key_needs_evidence", compromised };
  }
  if (declared !== "active" && declared !== "retired") return { ok: false, code: "key_state_unknown" };
  if (!assertion) return { ok: false, code: "key_not_authorized" };
  return { ok: true, code: declared === "retired" ? "key_retired" : "key_active" };
}

async function ed25519Verify(publicKey, signature, message) {
  if (!globalThis.crypto || !crypto.subtle) throw new Unsupported("WebCrypto is unavailable (not https?)");
  let key;
  try {
    key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
  } catch (e) {
    if (e && e.name === "NotSupportedError") throw new Unsupported("this browser has no Ed25519");
    throw e;
  }
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

// --- status ------------------------------------------------------------------------------------------

const bitstrings = new Map(); // encodedList → bytes: a list is decoded once per version, not per scan

async function gunzipBounded(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > MAX_LIST_BYTES) {
      await reader.cancel();
      throw new Error("status list is larger than allowed");
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Bitstring Status List v1.0 `encodedList`: multibase 'u' (base64url, no padding) of GZIP. */
export async function decodeEncodedList(encoded) {
  if (bitstrings.has(encoded)) return bitstrings.get(encoded);
  if (typeof encoded !== "string" || !encoded.startsWith("u") || !/^[A-Za-z0-9_-]*$/.test(encoded.slice(1))) {
    throw new Error("encodedList is not multibase base64url");
  }
  const b64 = encoded.slice(1).replaceAll("-", "+").replaceAll("_", "/");
  const binary = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bits = await gunzipBounded(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
  bitstrings.set(encoded, bits);
  return bits;
}

/** Bit `index` of a bitstring: bit 0 is the most significant bit of the first byte. */
export function getBit(bits, index) {
  const byte = Math.floor(index / 8);
  if (!Number.isSafeInteger(index) || index < 0 || byte >= bits.length) throw new Error("index outside the list");
  return (bits[byte] & (0x80 >> (index % 8))) !== 0;
}

function listIssuer(lst) {
  return lst.issuer && typeof lst.issuer === "object" ? lst.issuer.id : lst.issuer;
}

async function checkEntry(entry, issuer, fetchData, now, origin) {
  const purpose = entry.statusPurpose;
  const base = { purpose, url: entry.statusListCredential };
  let url;
  try {
    url = new URL(entry.statusListCredential);
  } catch {
    return { ...base, outcome: "unknown", why: "invalid" };
  }
  // Only this site's lists: the page may fetch nothing else (CSP connect-src 'self'), and another
  // site's list is for that site's verifier to read.
  if (url.origin !== origin) return { ...base, outcome: "unknown", why: "elsewhere" };
  const got = await fetchData(url.pathname + url.search);
  if (!got.ok) return { ...base, outcome: "unknown", why: "unavailable", detail: got.error };
  const fresh = { fetchedAt: got.fetchedAt, source: got.source };
  const lst = got.json;
  const subject = lst && lst.credentialSubject;
  const types = Array.isArray(lst && lst.type) ? lst.type : [];
  const purposes = subject && (Array.isArray(subject.statusPurpose) ? subject.statusPurpose : [subject.statusPurpose]);
  if (!types.includes("BitstringStatusListCredential") || !subject || listIssuer(lst) !== issuer ||
      !purposes.includes(purpose)) {
    return { ...base, ...fresh, outcome: "unknown", why: "invalid" };
  }
  const validUntil = lst.validUntil === undefined ? null : parseDateTime(lst.validUntil);
  const ttl = Number.isSafeInteger(subject.ttl) && subject.ttl > 0 ? subject.ttl : null;
  let set;
  try {
    set = getBit(await decodeEncodedList(subject.encodedList), Number(entry.statusListIndex));
  } catch {
    return { ...base, ...fresh, outcome: "unknown", why: "invalid" };
  }
  const expired = validUntil !== null && !Number.isNaN(validUntil) && validUntil < now;
  const aged = ttl !== null && now - got.fetchedAt > ttl;
  const info = { ...base, ...fresh, validUntil, expired, aged };
  // A set bit counts even in an expired copy: the issuer did set it (a revocation is final; a
  // suspension was in force then). A clear bit in an expired copy proves nothing about today.
  if (set) return { ...info, outcome: purpose === "revocation" ? "revoked" : "suspended" };
  if (expired) return { ...info, outcome: "unknown", why: "expired_list" };
  return { ...info, outcome: "valid" };
}

/** `fetchData` that asks for each path once per verification (the answer is shared). */
function fetchingOnce(fetchData) {
  const pending = new Map();
  return (path) => {
    if (!pending.has(path)) pending.set(path, fetchData(path));
    return pending.get(path);
  };
}

/** The same-origin status list paths a credential names (the only ones checkEntry fetches). */
function statusPaths(credential, origin) {
  const raw = credential.credentialStatus;
  const paths = [];
  for (const entry of raw === undefined ? [] : Array.isArray(raw) ? raw : [raw]) {
    try {
      const url = new URL(entry.statusListCredential);
      if (url.origin === origin) paths.push(url.pathname + url.search);
    } catch {
      // checkEntry reports an unreadable status list URL.
    }
  }
  return paths;
}

async function checkStatus(credential, issuer, fetchData, now, origin) {
  const raw = credential.credentialStatus;
  if (raw === undefined) return { value: "none", entries: [] };
  const entries = await Promise.all((Array.isArray(raw) ? raw : [raw])
    .map((e) => checkEntry(e, issuer, fetchData, now, origin)));
  const has = (o) => entries.some((e) => e.outcome === o);
  const value = has("revoked") ? "revoked" : has("suspended") ? "suspended" : has("unknown") ? "unknown" : "valid";
  const times = entries.filter((e) => e.fetchedAt !== undefined).map((e) => e.fetchedAt);
  return {
    value,
    entries,
    asOf: times.length ? Math.min(...times) : null,
    cached: entries.some((e) => e.source === "cache"),
    aged: entries.some((e) => e.aged),
    expired: entries.some((e) => e.expired),
    why: (entries.find((e) => e.outcome === "unknown") || {}).why,
  };
}

// --- the verdict -------------------------------------------------------------------------------------

function check(name, ok, code, detail = "") {
  return { name, ok, code, detail };
}

/**
 * Verify `qrText` (a link or a bare TC1: payload). `fetchData(path)` resolves to `{ok, json, fetchedAt,
 * source}` or `{ok: false, error}` (data.js). Returns `{verdict, checks, credential?, kid?, ...}`;
 * `credential` only when the signature verified with a key of this site's issuer.
 */
export async function verifyQr(qrText, { fetchData, now = Date.now(), origin = globalThis.location.origin }) {
  const checks = [];
  let decoded;
  try {
    decoded = decodeQr(qrText);
  } catch (e) {
    if (!(e instanceof TC1Error)) throw e;
    checks.push(check("shape", false, e.code, e.message));
    if (e.code === "not_titlecred_qr") return { verdict: "not_titlecred", checks };
    // A form we do not implement (another version or algorithm): nothing checked, nothing forged.
    if (UNSUPPORTED_FORM.includes(e.code)) return { verdict: "unsupported", reason: "format", checks };
    // Ours but damaged, incomplete or too long to read: no signature to check, so no forgery to call.
    return { verdict: "unreadable", reason: "damaged", checks };
  }
  checks.push(check("shape", true, "", "format TC1"));
  const { kid, issuer } = decoded;
  const base = { kid, issuer, signedAt: decoded.signedAt, checks };

  // The keys and the status lists do not depend on each other: ask for all of them at once, so a
  // phone on a slow network waits one round trip instead of two.
  fetchData = fetchingOnce(fetchData);
  fetchData(DID_PATH);
  for (const path of statusPaths(decoded.credential, origin)) fetchData(path);

  const keys = await fetchData(DID_PATH);
  if (!keys.ok) {
    checks.push(check("issuer", false, "keys_unavailable", keys.error));
    return { ...base, verdict: "keys_unavailable" };
  }
  base.keys = { fetchedAt: keys.fetchedAt, source: keys.source, issuerName: decoded.credential.issuer.name };
  const found = findMethod(keys.json, kid);
  if (found === null) {
    const known = keys.json && keys.json.id === issuer;
    checks.push(check("issuer", false, known ? "unknown_key" : "unknown_issuer",
      known ? `key ${kid} is not one of this issuer's published keys` : `${issuer} is not this site's issuer`));
    return { ...base, verdict: "unknown_issuer" };
  }
  checks.push(check("issuer", true, "", `${issuer}, this site's issuer`));

  let publicKey;
  try {
    publicKey = ed25519FromMultibase(found.vm.publicKeyMultibase);
  } catch (e) {
    checks.push(check("proof", false, "keys_unavailable", `the published key ${kid} is unreadable: ${e.message}`));
    return { ...base, verdict: "keys_unavailable" };
  }
  let good;
  try {
    good = await ed25519Verify(publicKey, decoded.signature, decoded.toBeSigned);
  } catch (e) {
    if (e instanceof Unsupported) {
      checks.push(check("proof", false, "unsupported", e.message));
      return { ...base, verdict: "unsupported" };
    }
    checks.push(check("proof", false, "keys_unavailable", `the published key ${kid} is unusable`));
    return { ...base, verdict: "keys_unavailable" };
  }
  if (!good) {
    checks.push(check("proof", false, "invalid_signature",
      `the signature by ${kid} does not match the content: changed after signing, or signed by another key`));
    return { ...base, verdict: "tampered", reason: "signature" };
  }
  checks.push(check("proof", true, "", `EdDSA (COSE_Sign1) by ${kid}`));

  const credential = decoded.credential;
  const created = decoded.signedAt ?? parseDateTime(credential.validFrom);
  const judged = judgeKey(found, Number.isNaN(created) ? null : created);
  if (!judged.ok) {
    checks.push(check("key", false, judged.code, `key ${kid}`));
    return { ...base, verdict: "key_revoked", keyJudgement: judged };
  }
  checks.push(check("key", true, judged.code, `key ${kid}`));

  const status = await checkStatus(credential, issuer, fetchData, now, origin);
  checks.push(check("status", status.value === "valid" || status.value === "none", status.value,
    status.entries.map((e) => `${e.purpose}: ${e.outcome}`).join("; ")));
  const validFrom = parseDateTime(credential.validFrom);
  const validUntil = credential.validUntil === undefined ? null : parseDateTime(credential.validUntil);
  let validity = "ok";
  if (!Number.isNaN(validFrom) && validFrom > now) validity = "not_yet_valid";
  else if (validUntil !== null && !Number.isNaN(validUntil) && validUntil < now) validity = "expired";
  checks.push(check("validity", validity === "ok", validity === "ok" ? "" : validity,
    [credential.validFrom, credential.validUntil].filter(Boolean).join(" – ")));

  // A revocation outranks an expiry, which outranks an outage (verifier/result.py VERDICTS).
  let verdict = "valid";
  if (status.value === "revoked" || status.value === "suspended") verdict = status.value;
  else if (validity !== "ok") verdict = validity;
  else if (status.value === "unknown") verdict = "status_unknown";
  return { ...base, verdict, credential, status, keyJudgement: judged };
}
