// Format TC1 in the browser: QR text → base43 → raw inflate (preset dictionary) → COSE_Sign1 → claims
// → the minimal credential they stand for. The same rules, in the same order, as proofs/compact.py
// (`read_qr_text`, `decode_cose`, `credential_from_claims`); its constants come from the server's
// /scan/tc1-format.js, generated from the Python ones, so the two decoders cannot drift apart.
// Nothing here checks the signature or trusts anything: see verify.js.

import * as F from "/scan/tc1-format.js";
import { decodeCbor, Tagged } from "./cbor.js";
import { inflateRaw } from "./inflate.js";

export class TC1Error extends Error {
  constructor(message, code = "malformed_compact") {
    super(message);
    this.code = code;
  }
}

// Codes of text that is not a TitleCred QR code at all (as opposed to ours, damaged: unreadable).
export const UNUSABLE = ["not_titlecred_qr", "input_too_large"];

const ZDICT = new TextEncoder().encode(F.ZDICT_TEXT);
const B43_VALUE = new Map([...F.B43_ALPHABET].map((c, i) => [c, i]));
const MASKED_18 = /^([0-9]{3})\*{11}([0-9X]{4})$/;
const UUID_HEX = /^([0-9a-f]{8})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{4})([0-9a-f]{12})$/;
// Python's str.isprintable(): no control, format, surrogate, private-use, unassigned or separator
// characters other than the ASCII space.
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u;
// XML Schema dateTimeStamp (proofs.dataintegrity.DATETIME_STAMP).
const DATETIME_STAMP = new RegExp(
  "^-?([1-9][0-9]{3,}|0[0-9]{3})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T" +
  "(([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?|(24:00:00(\\.0+)?))" +
  "(Z|(\\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))$");
const MAX_EPOCH = 253402300800; // 10000-01-01T00:00:00Z
const MAX_DAYS = 2932896; // 9999-12-31

// --- QR text -----------------------------------------------------------------------------------------

/** The part after "TC1:" of a QR text (a full link or the bare payload). */
export function extractPayloadText(qrText) {
  if (typeof qrText !== "string") throw new TC1Error("a QR text must be text", "not_titlecred_qr");
  if (qrText.length > F.MAX_QR_TEXT) {
    throw new TC1Error(`the QR text is longer than any QR code holds (${F.MAX_QR_TEXT} characters)`,
      "input_too_large");
  }
  const text = qrText.trim();
  const hash = text.lastIndexOf("#");
  const candidate = hash >= 0 ? text.slice(hash + 1) : text;
  if (!candidate.startsWith(F.FORMAT_PREFIX)) {
    throw new TC1Error("this is not a TitleCred certificate QR code (no TC1: payload)", "not_titlecred_qr");
  }
  return candidate.slice(F.FORMAT_PREFIX.length);
}

export function b43decode(text) {
  const full = text.length - (text.length % 3);
  const out = new Uint8Array(Math.floor(full / 3) * 2 + (text.length % 3 ? 1 : 0));
  let o = 0;
  for (let i = 0; i < full; i += 3) {
    const a = B43_VALUE.get(text[i]);
    const b = B43_VALUE.get(text[i + 1]);
    const c = B43_VALUE.get(text[i + 2]);
    const n = a + 43 * b + 1849 * c;
    if (a === undefined || b === undefined || c === undefined || n > 0xffff) {
      throw new TC1Error("the QR text has characters or groups that base43 does not produce", "malformed_qr");
    }
    out[o++] = n >> 8;
    out[o++] = n & 0xff;
  }
  const rest = text.length - full;
  if (rest === 0) return out;
  const a = B43_VALUE.get(text[full]);
  const b = B43_VALUE.get(text[full + 1]);
  if (rest !== 2 || a === undefined || b === undefined) {
    throw new TC1Error("the QR text has a length that base43 does not produce", "malformed_qr");
  }
  if (a + 43 * b > 255) {
    throw new TC1Error("the QR text ends in a group that base43 does not produce", "malformed_qr");
  }
  out[o] = a + 43 * b;
  return out;
}

function inflate(data) {
  try {
    return inflateRaw(data, ZDICT, F.MAX_COSE_BYTES);
  } catch (e) {
    if (e.code === "input_too_large") {
      throw new TC1Error(`the QR payload expands beyond ${F.MAX_COSE_BYTES} bytes`, "input_too_large");
    }
    throw new TC1Error(e.message, "malformed_qr");
  }
}

/** The COSE_Sign1 bytes a QR text carries. */
export function readQrText(qrText) {
  return inflate(b43decode(extractPayloadText(qrText)));
}

// --- COSE_Sign1 --------------------------------------------------------------------------------------

function cbor(bytes, options) {
  try {
    return decodeCbor(bytes, { maxDepth: F.MAX_CBOR_DEPTH, ...options });
  } catch (e) {
    if (e instanceof TC1Error) throw e;
    throw new TC1Error(e.message, e.code || "malformed_compact");
  }
}

function bstrHead(n) {
  if (n < 24) return [0x40 + n];
  if (n < 0x100) return [0x58, n];
  if (n < 0x10000) return [0x59, n >> 8, n & 0xff];
  return [0x5a, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
}

/** The bytes Ed25519 signs: CBOR ["Signature1", protected, h'', payload] (RFC 9052 §4.4). */
export function sigStructure(protectedBytes, payload) {
  const head = [0x84, 0x6a, ...new TextEncoder().encode("Signature1")];
  const parts = [head, bstrHead(protectedBytes.length), protectedBytes, [0x40], bstrHead(payload.length), payload];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Parse a COSE_Sign1 of format TC1 (no signature check). */
export function decodeCose(data) {
  if (data.length > F.MAX_COSE_BYTES) {
    throw new TC1Error(`the compact form is larger than ${F.MAX_COSE_BYTES} bytes`, "input_too_large");
  }
  const outer = cbor(data, { allowTag: F.COSE_SIGN1_TAG });
  if (!(outer instanceof Tagged) || outer.tag !== F.COSE_SIGN1_TAG) {
    throw new TC1Error("the QR payload is not a COSE_Sign1 (tag 18)");
  }
  const body = outer.value;
  if (!(Array.isArray(body) && body.length === 4 && body[0] instanceof Uint8Array && body[1] instanceof Map &&
        body[2] instanceof Uint8Array && body[3] instanceof Uint8Array)) {
    throw new TC1Error("the COSE_Sign1 structure is malformed");
  }
  const [protectedBytes, unprotected, payload, signature] = body;
  if (unprotected.size) throw new TC1Error("format TC1 puts nothing in the unprotected header");
  const header = cbor(protectedBytes);
  if (!(header instanceof Map) || header.size !== 2 || !header.has(1) || !header.has(4)) {
    throw new TC1Error("the protected header must hold exactly alg and kid");
  }
  if (header.get(1) !== F.ALG_EDDSA) {
    throw new TC1Error(`the signature algorithm ${String(header.get(1))} is not EdDSA (-8)`, "unsupported_algorithm");
  }
  const kidRaw = header.get(4);
  if (!(kidRaw instanceof Uint8Array) || kidRaw.length === 0 || kidRaw.length > F.MAX_KID_BYTES) {
    throw new TC1Error("the kid must be a byte string");
  }
  let kid;
  try {
    kid = new TextDecoder("utf-8", { fatal: true }).decode(kidRaw);
  } catch {
    throw new TC1Error("the kid is not UTF-8");
  }
  if (signature.length !== 64) {
    throw new TC1Error(`the signature is ${signature.length} bytes; Ed25519 needs 64`);
  }
  const claims = cbor(payload, { maxItems: F.MAX_CBOR_ITEMS });
  if (!(claims instanceof Map)) throw new TC1Error("the payload is not a CBOR map");
  return { kid, protectedBytes, payload, signature, claims };
}

// --- claims → minimal credential --------------------------------------------------------------------

const isInt = (v) => typeof v === "number" && Number.isInteger(v);

function decText(value, name) {
  if (typeof value !== "string" || !value) throw new TC1Error(`${name} must be non-empty text`);
  if (value.normalize("NFC") !== value || NOT_PRINTABLE.test(value)) {
    throw new TC1Error(`${name} must be printable NFC text`);
  }
  return value;
}

function decId(value, name) {
  if (value instanceof Uint8Array) {
    if (value.length !== 16) throw new TC1Error(`${name} must be 16 bytes (a UUID)`);
    const hex = [...value].map((b) => b.toString(16).padStart(2, "0")).join("");
    return "urn:uuid:" + hex.replace(UUID_HEX, "$1-$2-$3-$4-$5");
  }
  return decText(value, name);
}

const pad = (n, w = 2) => String(n).padStart(w, "0");

function formatEpoch(seconds) {
  const d = new Date(seconds * 1000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
}

/** Milliseconds since the epoch of a dateTimeStamp that Python's parse_datetime accepts; NaN otherwise. */
export function parseDateTime(text) {
  if (typeof text !== "string" || !DATETIME_STAMP.test(text)) return NaN;
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$/
    .exec(text);
  if (!m) return NaN; // years beyond 9999, negative years, 24:00:00: Python's datetime refuses them too
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate();
  if (y < 1 || d > days) return NaN;
  return Date.parse(text);
}

function decTime(value, name) {
  if (isInt(value)) {
    if (value < 0 || value >= MAX_EPOCH) throw new TC1Error(`${name} is out of range`);
    return formatEpoch(value);
  }
  if (typeof value === "bigint") throw new TC1Error(`${name} is out of range`);
  const text = decText(value, name);
  if (Number.isNaN(parseDateTime(text))) throw new TC1Error(`${name} is not a date-time`);
  return text;
}

function decEnum(value, table, name, base = 0) {
  if (isInt(value) || typeof value === "bigint") {
    if (!(value >= base && value < base + table.length)) {
      throw new TC1Error(`${name} code ${value} is not defined in format TC1`);
    }
    return table[Number(value) - base];
  }
  return decText(value, name);
}

function decDate(value) {
  if (isInt(value) || typeof value === "bigint") {
    if (!(value >= 0 && value <= MAX_DAYS)) throw new TC1Error("dateQualified is out of range");
    return formatEpoch(Number(value) * 86400).slice(0, 10);
  }
  return decText(value, "dateQualified");
}

/** https://host[:port] of a did:web issuer (where its status lists usually live). */
export function statusOrigin(issuer) {
  if (!issuer.startsWith("did:web:")) return null;
  const host = issuer.slice("did:web:".length).split(":", 1)[0].replaceAll("%3A", ":").replaceAll("%3a", ":");
  return host ? `https://${host}` : null;
}

function decSubject(raw) {
  if (!(raw instanceof Map)) throw new TC1Error("the subject must be a map");
  const unknown = [...raw.keys()].filter((k) => !(isInt(k) && k >= 1 && k <= 18));
  if (unknown.length) {
    throw new TC1Error(`subject key(s) [${unknown.map(String).sort().join(", ")}] are not defined in format TC1`);
  }
  for (let key = 1; key <= 13; key++) {
    if (!raw.has(key)) throw new TC1Error(`subject key ${key} is missing`);
  }
  const subject = { type: F.SUBJECT_TYPE };
  subject.name = decText(raw.get(1), "name");
  subject.namePinyin = decText(raw.get(2), "namePinyin");
  subject.gender = decEnum(raw.get(3), F.GENDERS, "gender", 1);
  const masked = raw.get(4);
  if (Array.isArray(masked)) {
    const joined = masked.length === 2 && masked.every((p) => typeof p === "string") ?
      `${masked[0]}${"*".repeat(11)}${masked[1]}` : "";
    if (!MASKED_18.test(joined)) throw new TC1Error("idNumberMasked is malformed");
    subject.idNumberMasked = joined;
  } else {
    subject.idNumberMasked = decText(masked, "idNumberMasked");
  }
  for (const [key, name] of [[5, "reportingUnit"], [6, "qualification"], [7, "series"], [8, "specialty"]]) {
    subject[name] = decText(raw.get(key), name);
  }
  const level = decEnum(raw.get(9), F.LEVELS, "level", 1);
  subject.level = level;
  const code = raw.get(17);
  if (code === undefined) {
    if (!F.LEVELS.includes(level)) throw new TC1Error("a level outside the national set needs its levelCode");
    subject.levelCode = F.LEVEL_LETTERS[F.LEVELS.indexOf(level)];
  } else if (code !== false) {
    subject.levelCode = decText(code, "levelCode");
  }
  subject.reviewBody = decText(raw.get(10), "reviewBody");
  subject.reviewChannel = decEnum(raw.get(11), F.CHANNELS, "reviewChannel");
  subject.dateQualified = decDate(raw.get(12));
  subject.certificateNumber = decText(raw.get(13), "certificateNumber");
  if (raw.has(14)) {
    const notes = raw.get(14);
    if (!Array.isArray(notes)) throw new TC1Error("annotations must be an array");
    subject.annotations = notes.map((n) => decText(n, "annotation"));
  }
  if (raw.has(15)) subject.scopeOfUse = decText(raw.get(15), "scopeOfUse");
  if (raw.has(16)) {
    if (typeof raw.get(16) !== "boolean") throw new TC1Error("namePrintedAsPinyin must be a boolean");
    subject.namePrintedAsPinyin = raw.get(16);
  }
  if (raw.has(18)) subject.eLicenseIdentifier = decText(raw.get(18), "eLicenseIdentifier");
  return subject;
}

function decStatus(raw, origin) {
  if (!Array.isArray(raw) || !raw.length) throw new TC1Error("the status entries must be a non-empty array");
  const entries = raw.map((item) => {
    if (!Array.isArray(item) || (item.length !== 3 && item.length !== 4)) {
      throw new TC1Error("a status entry must be [purpose, list, index(, id)]");
    }
    const purpose = decEnum(item[0], F.PURPOSES, "statusPurpose");
    let url = decText(item[1], "statusListCredential");
    if (url.startsWith("/")) {
      if (origin === null) throw new TC1Error("a relative status list URL needs a did:web issuer");
      url = origin + url;
    }
    const index = item[2];
    if (!((isInt(index) && index >= 0) || (typeof index === "bigint" && index >= 0n))) {
      throw new TC1Error("statusListIndex must be a non-negative integer");
    }
    const entry = {};
    if (item.length === 4) entry.id = item[3] === 0 ? `${url}#${index}` : decId(item[3], "status id");
    Object.assign(entry, { type: "BitstringStatusListEntry", statusPurpose: purpose,
      statusListIndex: String(index), statusListCredential: url });
    return entry;
  });
  return entries.length === 1 ? entries[0] : entries;
}

/** The (unsigned) minimal credential that `claims` (a Map) stand for, as Python's credential_from_claims. */
export function credentialFromClaims(claims, kid) {
  for (const key of claims.keys()) {
    if (!(isInt(key) && key >= 0 && key <= 10)) {
      throw new TC1Error(`claim key(s) [${String(key)}] are not defined in format TC1`);
    }
  }
  if (claims.get(0) !== F.FORMAT_VERSION) {
    throw new TC1Error(`unsupported compact format version ${String(claims.get(0))}`, "unsupported_version");
  }
  for (const key of [2, 3, 5, 9]) {
    if (!claims.has(key)) throw new TC1Error(`claim ${key} is missing`);
  }
  const issuerId = kid.split("#", 1)[0];
  const issuer = { id: issuerId, name: decText(claims.get(3), "issuer name") };
  if (claims.has(4)) issuer.unitCode = decText(claims.get(4), "issuer unitCode");
  const doc = { "@context": [...F.MINIMAL_CONTEXT] };
  if (claims.has(1)) doc.id = decId(claims.get(1), "id");
  doc.type = [...F.MINIMAL_TYPE];
  doc.issuer = issuer;
  doc.validFrom = decTime(claims.get(5), "validFrom");
  if (claims.has(6)) doc.validUntil = decTime(claims.get(6), "validUntil");
  doc.credentialSchema = { id: F.MINIMAL_SCHEMA_ID, type: "JsonSchema" };
  doc.fullCredential = decId(claims.get(2), "fullCredential");
  if (claims.has(7)) doc.reissueOf = decId(claims.get(7), "reissueOf");
  if (claims.has(8)) doc.credentialStatus = decStatus(claims.get(8), statusOrigin(issuerId));
  doc.credentialSubject = decSubject(claims.get(9));
  return doc;
}

/** When the compact form was signed (claim 10), in ms since the epoch; null if it does not say. */
export function signedAt(claims) {
  const value = claims.get(10);
  return isInt(value) && value >= 0 && value < MAX_EPOCH ? value * 1000 : null;
}

/**
 * Decode a QR text: `{kid, issuer, toBeSigned, signature, claims, credential, signedAt}`.
 * Throws TC1Error: `code` in UNUSABLE for text that is not ours, anything else for a damaged one.
 */
export function decodeQr(qrText) {
  const cose = decodeCose(readQrText(qrText));
  const credential = credentialFromClaims(cose.claims, cose.kid);
  return {
    kid: cose.kid,
    issuer: cose.kid.split("#", 1)[0],
    toBeSigned: sigStructure(cose.protectedBytes, cose.payload),
    signature: cose.signature,
    claims: cose.claims,
    credential,
    signedAt: signedAt(cose.claims),
  };
}
