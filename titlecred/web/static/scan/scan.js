// The scan page: read the QR text (the URL's fragment, or the paste box), verify it here in the
// browser (verify.js), and show one verdict, the signed facts to compare with the paper, and how
// fresh the status information is. Everything shown from the QR code goes in as text (textContent),
// never as markup: the QR code is a stranger's input.

import { fetchData, startOfflineSupport } from "./data.js";
import { verifyQr } from "./verify.js";

const root = document.getElementById("scan");
const TEXT = JSON.parse(document.getElementById("scan-text").textContent);
const LANG = root.dataset.lang === "en" ? "en" : "zh";
const SITE_ISSUER = root.dataset.issuer || "";

const $ = (id) => document.getElementById(id);
const verdictBox = $("verdict");
const factsBox = $("facts");
const freshBox = $("freshness");
const detailsBox = $("details");
const form = $("paste-form");
const input = $("qr-input");

const TONE = {
  valid: "ok", revoked: "bad", tampered: "bad", unknown_issuer: "bad", key_revoked: "bad",
  suspended: "warn", expired: "warn", not_yet_valid: "warn", status_unknown: "unknown",
  keys_unavailable: "unknown", unsupported: "unknown", not_titlecred: "warn", unreadable: "warn",
};
const ICON = { ok: "✓", bad: "✕", warn: "!", unknown: "?" };

function t(key, values = {}) {
  const text = TEXT[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in values ? String(values[name]) : m));
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else node.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c);
  return node;
}

// --- dates and times ---------------------------------------------------------------------------------

const LOCALE = LANG === "zh" ? "zh-CN" : "en-GB";

// Every page shows Beijing time (the bureau's and the certificate's), labelled, whatever the browser's zone.
const BEIJING_LABEL = LANG === "zh" ? "北京时间" : "Beijing time";

function formatTime(ms) {
  const text = new Intl.DateTimeFormat(LOCALE, {
    timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    hour12: false,
  }).format(ms);
  return `${text} (${BEIJING_LABEL})`;
}

function formatDay(isoDate) {
  const m = /^([0-9]{4})-([0-9]{2})-([0-9]{2})$/.exec(isoDate);
  if (!m) return isoDate;
  return LANG === "zh" ? `${m[1]}年${Number(m[2])}月${Number(m[3])}日` : isoDate;
}

// The issue date as the issuer's calendar has it (a Chinese bureau: China Standard Time).
function issueDay(dateTime) {
  const ms = Date.parse(dateTime);
  if (Number.isNaN(ms)) return dateTime;
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Shanghai", year: "numeric", month: "2-digit",
    day: "2-digit" }).format(ms);
  return formatDay(parts);
}

// --- rendering ---------------------------------------------------------------------------------------

function explanation(result) {
  const v = result.verdict;
  const values = { issuer: SITE_ISSUER, did: result.issuer || "" };
  if (v === "key_revoked") {
    const j = result.keyJudgement || {};
    values.time = j.compromised !== undefined ? formatTime(j.compromised) : "";
    const which = { key_compromised: "compromised", key_needs_evidence: "needs_evidence" }[j.code] || "not_authorized";
    return t(`scan.verdict.key_revoked.${which}`, values);
  }
  if (v === "tampered") return t("scan.verdict.tampered.signature");
  if (v === "unsupported" && result.reason === "format") return t("scan.verdict.unsupported.format");
  if (v === "status_unknown") {
    values.why = t(`scan.why.${result.status.why || "unavailable"}`);
  }
  return t(`scan.verdict.${v}.explain`, values);
}

function renderVerdict(result) {
  const tone = TONE[result.verdict] || "unknown";
  verdictBox.className = `verdict verdict--${tone}`;
  verdictBox.dataset.verdict = result.verdict;
  const title = el("h2", { class: "verdict-title", id: "verdict-title" },
    el("span", { class: "verdict-icon", "aria-hidden": "true" }, ICON[tone]),
    el("span", { class: "verdict-word" }, t(`scan.verdict.${result.verdict}.title`)));
  const parts = [title, el("p", { class: "verdict-explain" }, explanation(result))];
  const stale = result.status && (result.status.cached || result.status.aged) && result.verdict !== "status_unknown";
  if (stale) {
    const time = result.status.asOf !== null ? formatTime(result.status.asOf) : "—";
    parts.push(el("p", { class: "verdict-stale" }, el("span", { "aria-hidden": "true" }, "⚠ "),
      t(result.status.cached ? "scan.verdict.stale_cached" : "scan.verdict.stale_aged", { time })));
  }
  parts.push(el("p", { class: "verdict-todo" }, el("strong", {}, t("scan.todo")), " ",
    t(`scan.verdict.${result.verdict}.todo`, { issuer: SITE_ISSUER })));
  verdictBox.replaceChildren(...parts);
}

function fact(dl, labelKey, value) {
  if (value === undefined || value === null || value === "") return;
  dl.append(el("dt", {}, t(labelKey)), el("dd", {}, value));
}

function renderFacts(result) {
  const doc = result.credential;
  if (!doc) {
    factsBox.hidden = true;
    return;
  }
  const s = doc.credentialSubject;
  const dl = el("dl", { class: "facts", id: "facts-list" });
  fact(dl, "scan.fact.name", s.name);
  fact(dl, "scan.fact.pinyin", s.namePinyin + (s.namePrintedAsPinyin ? ` (${t("scan.fact.printed_as_pinyin")})` : ""));
  fact(dl, "scan.fact.gender", s.gender);
  fact(dl, "scan.fact.id", s.idNumberMasked);
  fact(dl, "scan.fact.qualification", s.qualification);
  fact(dl, "scan.fact.series", s.series);
  fact(dl, "scan.fact.specialty", s.specialty);
  fact(dl, "scan.fact.level", s.levelCode ? `${s.level} (${s.levelCode})` : s.level);
  fact(dl, "scan.fact.number", s.certificateNumber);
  fact(dl, "scan.fact.unit", s.reportingUnit);
  fact(dl, "scan.fact.review_body", s.reviewBody);
  fact(dl, "scan.fact.channel", s.reviewChannel);
  fact(dl, "scan.fact.date_qualified", formatDay(s.dateQualified));
  fact(dl, "scan.fact.issuer", doc.issuer.name);
  fact(dl, "scan.fact.issued", issueDay(doc.validFrom));
  if (doc.validUntil) fact(dl, "scan.fact.valid_until", issueDay(doc.validUntil));
  fact(dl, "scan.fact.scope", s.scopeOfUse);
  if (s.annotations && s.annotations.length) fact(dl, "scan.fact.annotations", s.annotations.join("、"));
  if (doc.reissueOf) fact(dl, "scan.fact.reissue", t("scan.fact.reissue_value"));
  const lead = result.verdict === "valid" || result.verdict === "status_unknown" ?
    t("scan.facts.compare") : t("scan.facts.not_current");
  factsBox.replaceChildren(el("h2", { id: "facts-title" }, t("scan.facts.title")), el("p", { class: "facts-lead" }, lead), dl);
  factsBox.hidden = false;
}

function keysLine(result) {
  const key = result.keys.source === "cache" ? "scan.fresh.keys_cached_as_of" : "scan.fresh.keys_as_of";
  return t(key, { time: formatTime(result.keys.fetchedAt) });
}

function renderFreshness(result) {
  const status = result.status;
  if (!status) {
    freshBox.hidden = true;
    return;
  }
  const items = [];
  const warn = (key, values) => el("p", { class: "stale", id: "stale-warning" },
    el("span", { "aria-hidden": "true" }, "⚠ "), t(key, values));
  if (status.value === "none") {
    items.push(el("p", {}, t("scan.fresh.no_status")));
  } else if (status.asOf === null) {
    items.push(warn("scan.fresh.none"));
  } else {
    const time = formatTime(status.asOf);
    items.push(el("p", { class: "fresh-as-of", id: "status-as-of" }, t("scan.fresh.as_of", { time })));
    if (status.cached) items.push(warn("scan.fresh.cached", { time }));
    else if (status.aged || status.expired) items.push(warn("scan.fresh.aged"));
  }
  if (result.keys) items.push(el("p", { class: "hint" }, keysLine(result)));
  freshBox.replaceChildren(el("h2", {}, t("scan.fresh.title")), ...items);
  freshBox.hidden = false;
}

function renderDetails(result) {
  const list = el("ul", {});
  for (const c of result.checks) {
    list.append(el("li", {}, el("strong", {}, `${t(`scan.check.${c.name}`)}: `),
      c.ok ? t("scan.check.passed") : t("scan.check.failed"),
      c.detail || c.code ? ` — ${[c.code, c.detail].filter(Boolean).join(": ")}` : ""));
  }
  if (result.kid) list.append(el("li", {}, el("strong", {}, `${t("scan.check.kid")}: `), result.kid));
  if (result.signedAt) list.append(el("li", {}, el("strong", {}, `${t("scan.check.signed_at")}: `),
    formatTime(result.signedAt)));
  if (result.keys && !result.status) list.append(el("li", {}, keysLine(result)));
  detailsBox.replaceChildren(el("summary", {}, t("scan.details.title")), list);
  detailsBox.hidden = false;
}

function render(result) {
  renderVerdict(result);
  renderFacts(result);
  renderFreshness(result);
  renderDetails(result);
  // For tests and assistive tools: how many results this page has shown, and that it is settled.
  root.dataset.runs = String(Number(root.dataset.runs || 0) + 1);
  root.dataset.state = "done";
}

// --- running -----------------------------------------------------------------------------------------

function payloadOf(text) {
  // A scanner app may percent-encode what it passes on; base43 itself has no '%'.
  let out = text.trim();
  if (out.includes("%")) {
    try {
      out = decodeURIComponent(out);
    } catch {
      // left as it is: the decoder explains what is wrong
    }
  }
  return out;
}

// The language switch keeps the QR code (the fragment stays in this browser).
function qrFragment() {
  // Only a TC1 payload counts: other fragments (the skip link's #main) are the page's own.
  const hash = payloadOf(location.hash.slice(1));
  return hash.startsWith("TC1:") ? hash : "";
}

function keepFragmentInLanguageSwitch() {
  const fragment = qrFragment();
  for (const link of document.querySelectorAll("header.site a[hreflang]")) {
    const url = new URL(link.href, location.href);
    url.hash = fragment;
    link.href = url.pathname + url.search + url.hash;
  }
}

let run = 0;

async function verify(text, { focus = false } = {}) {
  const mine = ++run;
  root.dataset.state = "checking";
  verdictBox.className = "verdict verdict--checking";
  delete verdictBox.dataset.verdict;
  verdictBox.replaceChildren(el("p", { class: "verdict-checking" }, t("scan.checking")));
  let result;
  try {
    result = await verifyQr(payloadOf(text), { fetchData });
  } catch (e) {
    // A bug here must not read as a forgery: say that this page could not decide.
    result = { verdict: "unsupported", checks: [{ name: "shape", ok: false, code: "error", detail: String(e) }] };
  }
  if (mine !== run) return; // a newer scan took over
  render(result);
  if (focus) verdictBox.focus();
}

function fromHash({ focus = false } = {}) {
  keepFragmentInLanguageSwitch();
  const fragment = qrFragment();
  if (fragment) verify(fragment, { focus });
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value.trim();
  if (!text) {
    input.focus();
    return;
  }
  const fragment = payloadOf(text.slice(text.lastIndexOf("#") + 1));
  // Put the QR code in this page's fragment (never sent anywhere), so that the language switch and a
  // reload keep it; anything else leaves no fragment behind.
  const hash = fragment.startsWith("TC1:") ? `#${fragment}` : "";
  history.replaceState(null, "", `${location.pathname}${location.search}${hash}`);
  keepFragmentInLanguageSwitch();
  verify(text, { focus: true });
});

window.addEventListener("hashchange", () => fromHash({ focus: true }));

const ready = startOfflineSupport(root.dataset.sw);
ready.then((ok) => {
  if (ok) $("offline-note").hidden = false;
});
fromHash();
