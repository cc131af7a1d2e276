#!/usr/bin/env node
// Independent-implementation interop harness: Digital Bazaar's vc.js stack
// (@digitalbazaar/vc + data-integrity + eddsa-rdfc-2022-cryptosuite), driven
// by one JSON request on stdin and answering with one JSON response on stdout.
//
// vc.js runs in its STRICT DEFAULT mode: safe-mode RDFC-1.0 canonicalization
// (an undefined term is an error), the default CredentialIssuancePurpose
// (the verification method must be listed under `assertionMethod` of its
// controller document, and the credential's issuer must BE that controller),
// and vc.js's own validFrom/validUntil checks. Nothing is relaxed here.
//
// Requests (see tests/interop/vcjs.py for the Python side):
//   {"op":"verify", "credential":{...}, "documents":{url: json}, "now"?: iso}
//     -> {"verified": bool, "error": str|null, "results": <vc.js result>,
//         "proofs": [{verificationMethod, cryptosuite, signature_valid,
//                     purpose_valid, error}],
//         "status": [...]|null, "loaded": [{url, source}]}
//   {"op":"sign", "credential":{...}, "secretKeyMultibase":"z3u2...",
//    "publicKeyMultibase":"z6Mk...", "verificationMethod": vm,
//    "controller": did, "created": iso, "documents":{...}}
//     -> {"signed": {...}|null, "error": str|null, "loaded": [...]}
//   {"op":"bench", "credential":{unsigned}, "signed"?:{...}, "documents":{...},
//    "seconds": 3, "now"?: iso, ...keys as for sign}
//     -> {"sign_per_sec", "verify_per_sec", "sign_count", "verify_count", ...}
//   {"op":"batch", "requests":[req, ...]} -> {"responses":[resp, ...]}
//   {"op":"versions"} -> {"node": ..., "packages": {name: version}}
//
// Exit code 0 whenever the request was usable (a credential that fails to
// verify or that vc.js refuses to sign is an answer, not a harness error);
// exit code 2 with {"error": ..., "harness_error": true} for unusable input
// (bad JSON, unknown op, missing fields) and for bugs in this script.
//
// Documents: the documentLoader serves ONLY
//   1. the request's `documents` map, by exact URL; for a URL with a
//      fragment whose base is in the map, the node with that id inside that
//      document, with an `@context` added exactly as Digital Bazaar's DID
//      drivers do (did-method-web `getNode`: the suite context of the node's
//      type — Multikey -> https://w3id.org/security/multikey/v1 — else the
//      containing document's `@context`); for a DID, the document's `id` must
//      equal the DID (as did-method-web checks),
//   2. did:key DIDs and DID URLs not in the map, resolved offline by
//      @digitalbazaar/did-method-key (Ed25519 `z6Mk` keys), exactly as
//      Digital Bazaar's loaders do (a VM URL gives the VM node with
//      "@context": "https://w3id.org/security/multikey/v1"),
// and throws an error naming any other URL. It never touches the network.
// Note: jsonld-signatures itself wraps every documentLoader it is given with
// its bundled https://w3id.org/security/v1 and /v2 contexts (ProofSet calls
// extendContextLoader); it frames controller documents whose first @context
// is not https://www.w3.org/ns/did/v1 with security/v2. That is vc.js's
// default behaviour and cannot be switched off; those two loads are not
// listed in "loaded".

import {createRequire} from 'node:module';
import {readFileSync} from 'node:fs';
import {performance} from 'node:perf_hooks';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022CryptoSuite} from
  '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as DidKey from '@digitalbazaar/did-method-key';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';

class HarnessError extends Error {}

const CONTEXTS_BY_KEY_TYPE = new Map([
  ['Multikey', 'https://w3id.org/security/multikey/v1'],
  ['Ed25519VerificationKey2020',
    'https://w3id.org/security/suites/ed25519-2020/v1'],
  ['Ed25519VerificationKey2018',
    'https://w3id.org/security/suites/ed25519-2018/v1'],
  ['X25519KeyAgreementKey2020',
    'https://w3id.org/security/suites/x25519-2020/v1'],
  ['X25519KeyAgreementKey2019',
    'https://w3id.org/security/suites/x25519-2019/v1'],
]);

const clone = value => structuredClone(value);

// ---------------------------------------------------------------- loader ---

const didKeyDriver = DidKey.driver();
didKeyDriver.use({
  multibaseMultikeyHeader: 'z6Mk',
  fromMultibase: Ed25519Multikey.from
});

function findNode(document, id) {
  // same search order as did-method-web's getNode: verificationMethod first,
  // then any top-level property (embedded verification methods)
  let match = Array.isArray(document.verificationMethod) ?
    document.verificationMethod.find(n => n && n.id === id) : undefined;
  if(!match) {
    for(const [key, value] of Object.entries(document)) {
      if(key === '@context' || key === 'verificationMethod') {
        continue;
      }
      if(Array.isArray(value)) {
        match = value.find(n => n && typeof n === 'object' && n.id === id);
      } else if(value && typeof value === 'object' && value.id === id) {
        match = value;
      }
      if(match) {
        break;
      }
    }
  }
  if(!match) {
    return undefined;
  }
  return {
    '@context': clone(
      CONTEXTS_BY_KEY_TYPE.get(match.type) ?? document['@context']),
    ...clone(match)
  };
}

function makeDocumentLoader(documents = {}, loaded = []) {
  if(documents === null || typeof documents !== 'object' ||
    Array.isArray(documents)) {
    throw new HarnessError('"documents" must be an object {url: json}.');
  }
  const docs = new Map(Object.entries(documents));
  const remote = (url, document, source) => {
    loaded.push({url, source});
    return {contextUrl: null, documentUrl: url, document};
  };
  const loader = async url => {
    if(typeof url !== 'string') {
      throw new Error(`documentLoader: URL must be a string, got ${url}.`);
    }
    if(docs.has(url)) {
      return remote(url, clone(docs.get(url)), 'documents');
    }
    const hash = url.indexOf('#');
    const base = hash === -1 ? url : url.slice(0, hash);
    if(hash !== -1 && docs.has(base)) {
      const document = docs.get(base);
      if(base.startsWith('did:') && document?.id !== base) {
        throw new Error(
          `documentLoader: the document given for "${base}" has id ` +
          `"${document?.id}", not "${base}".`);
      }
      const node = findNode(document, url);
      if(!node) {
        throw new Error(
          `documentLoader: no node with id "${url}" in the document given ` +
          `for "${base}".`);
      }
      return remote(url, node, 'documents#fragment');
    }
    if(url.startsWith('did:key:')) {
      let document;
      try {
        document = await didKeyDriver.get({url});
      } catch(e) {
        throw new Error(
          `documentLoader: cannot resolve did:key URL "${url}": ${e.message}`);
      }
      return remote(url, clone(document), 'did:key');
    }
    throw new Error(
      `documentLoader: URL "${url}" is not available offline (not in the ` +
      'request\'s "documents" map and not a did:key); this harness never ' +
      'uses the network.');
  };
  return loader;
}

// ---------------------------------------------------------- JSON safety ---

function errorToJson(error, seen) {
  const out = {name: error.name, message: error.message};
  for(const key of Object.keys(error)) {
    if(key !== 'stack') {
      out[key] = toJsonSafe(error[key], seen);
    }
  }
  if(error.cause !== undefined && out.cause === undefined) {
    out.cause = toJsonSafe(error.cause, seen);
  }
  return out;
}

function toJsonSafe(value, seen = new WeakSet()) {
  if(value === null || value === undefined) {
    return value ?? null;
  }
  if(typeof value === 'bigint') {
    return value.toString();
  }
  if(typeof value === 'function' || typeof value === 'symbol') {
    return undefined;
  }
  if(typeof value !== 'object') {
    return value;
  }
  if(seen.has(value)) {
    return '[circular]';
  }
  seen.add(value);
  try {
    if(value instanceof Error) {
      return errorToJson(value, seen);
    }
    if(value instanceof Date) {
      return value.toISOString();
    }
    if(ArrayBuffer.isView(value)) {
      return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
        .toString('base64');
    }
    if(Array.isArray(value)) {
      return value.map(v => toJsonSafe(v, seen) ?? null);
    }
    const out = {};
    for(const [k, v] of Object.entries(value)) {
      const safe = toJsonSafe(v, seen);
      if(safe !== undefined) {
        out[k] = safe;
      }
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

// all distinct error messages in a vc.js / jsigs result, outermost first
function errorSummary(result) {
  const messages = [];
  const add = error => {
    if(!error) {
      return;
    }
    if(Array.isArray(error)) {
      error.forEach(add);
      return;
    }
    if(Array.isArray(error.errors) && error.errors.length > 0) {
      error.errors.forEach(add);
    } else if(error.message) {
      let message = error.message;
      const event = error.details?.event;
      if(event) {
        // jsonld safe mode: say which term/value was the problem
        message += ` (${event.code}: ${event.message} ` +
          `${JSON.stringify(event.details ?? {})})`;
      }
      if(!messages.some(m => m.includes(message))) {
        messages.push(message);
      }
    }
    if(error.cause) {
      add(error.cause);
    }
    if(error.details?.cause) {
      // jsonld wraps documentLoader errors in details.cause
      add(error.details.cause);
    }
  };
  add(result.error);
  for(const r of result.results || []) {
    add(r.error);
    add(r.purposeResult?.error);
  }
  add(result.statusResult?.error);
  return messages.length ? messages.join('; ') : null;
}

// ------------------------------------------------------------ operations ---

function requireObject(request, key) {
  const value = request[key];
  if(!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new HarnessError(`"${key}" must be a JSON object.`);
  }
  return value;
}

function requireString(request, key) {
  const value = request[key];
  if(typeof value !== 'string' || value.length === 0) {
    throw new HarnessError(`"${key}" must be a non-empty string.`);
  }
  return value;
}

function optionalNow(request) {
  if(request.now === undefined || request.now === null) {
    return undefined;
  }
  if(typeof request.now !== 'string' || isNaN(Date.parse(request.now))) {
    throw new HarnessError('"now" must be an ISO 8601 date-time string.');
  }
  return request.now;
}

function verifySuite() {
  return new DataIntegrityProof({cryptosuite: eddsaRdfc2022CryptoSuite});
}

async function runVerify({credential, documentLoader, now}) {
  const suite = verifySuite();
  const options = {credential, suite, documentLoader};
  if(now !== undefined) {
    options.now = now;
  }
  if(credential.credentialStatus) {
    // vc.js refuses a credential with credentialStatus unless a checkStatus
    // function is given; Digital Bazaar's Bitstring Status List checker
    // (it verifies the status list credential, with the same suite and
    // loader, and requires its issuer to be the credential's issuer)
    options.checkStatus = checkStatus;
  }
  return vc.verifyCredential(options);
}

function statusSummary(result) {
  const statusResults = result.statusResult?.results;
  if(!Array.isArray(statusResults)) {
    return null;
  }
  return statusResults.map(r => ({
    statusPurpose: r.credentialStatus?.statusPurpose ?? null,
    statusListCredential: r.credentialStatus?.statusListCredential ?? null,
    statusListIndex: r.credentialStatus?.statusListIndex ?? null,
    // true = the bit is set (e.g. revoked / suspended)
    status: r.status ?? null
  }));
}

// per proof: did the signature check pass, and did the purpose check
// (assertionMethod listing + issuer == controller) pass? jsonld-signatures
// validates the purpose only after the signature verified, so
// purpose_valid is null when the signature failed (or no suite matched).
function proofSummary(result) {
  return (result.results || []).map(r => {
    const purposes = r.purposeResult === undefined ? [] :
      [].concat(r.purposeResult);
    const signatureValid = r.purposeResult !== undefined ||
      r.verified === true;
    return {
      verificationMethod: r.proof?.verificationMethod ?? null,
      cryptosuite: r.proof?.cryptosuite ?? null,
      signature_valid: signatureValid,
      purpose_valid: purposes.length ?
        purposes.every(p => p.valid === true) : null,
      error: r.error ? errorSummary({error: r.error}) : null
    };
  });
}

async function opVerify(request) {
  const credential = clone(requireObject(request, 'credential'));
  const now = optionalNow(request);
  const loaded = [];
  const documentLoader = makeDocumentLoader(request.documents ?? {}, loaded);
  const result = await runVerify({credential, documentLoader, now});
  return {
    verified: result.verified === true,
    error: result.verified === true ? null : errorSummary(result),
    results: toJsonSafe(result),
    proofs: proofSummary(result),
    status: statusSummary(result),
    loaded
  };
}

async function makeSigningKey(request) {
  const secretKeyMultibase = requireString(request, 'secretKeyMultibase');
  const publicKeyMultibase = requireString(request, 'publicKeyMultibase');
  const id = requireString(request, 'verificationMethod');
  const controller = requireString(request, 'controller');
  try {
    return await Ed25519Multikey.from({
      '@context': 'https://w3id.org/security/multikey/v1',
      type: 'Multikey',
      id, controller, publicKeyMultibase, secretKeyMultibase
    });
  } catch(e) {
    throw new HarnessError(`unusable key pair: ${e.message}`);
  }
}

function signSuite({keyPair, created}) {
  return new DataIntegrityProof({
    signer: keyPair.signer(),
    date: created,
    cryptosuite: eddsaRdfc2022CryptoSuite
  });
}

async function opSign(request) {
  const credential = clone(requireObject(request, 'credential'));
  const created = requireString(request, 'created');
  const keyPair = await makeSigningKey(request);
  const loaded = [];
  const documentLoader = makeDocumentLoader(request.documents ?? {}, loaded);
  try {
    const signed = await vc.issue({
      credential,
      suite: signSuite({keyPair, created}),
      documentLoader,
      now: created
    });
    return {signed, error: null, loaded};
  } catch(e) {
    // vc.js refused (e.g. safe mode found an undefined term): an answer
    return {signed: null, error: errorSummary({error: e}), loaded};
  }
}

async function opBench(request) {
  const unsigned = requireObject(request, 'credential');
  const created = requireString(request, 'created');
  const seconds = request.seconds ?? 3;
  if(typeof seconds !== 'number' || !(seconds > 0) || seconds > 120) {
    throw new HarnessError('"seconds" must be a number in (0, 120].');
  }
  const warmup = request.warmup ?? 20;
  const now = optionalNow(request);
  const keyPair = await makeSigningKey(request);
  const documentLoader = makeDocumentLoader(request.documents ?? {});

  const sign = async () => vc.issue({
    credential: clone(unsigned),
    suite: signSuite({keyPair, created}),
    documentLoader,
    now: created
  });
  let signed;
  try {
    signed = await sign();
  } catch(e) {
    return {error: `sign failed: ${errorSummary({error: e})}`};
  }
  if(request.signed !== undefined) {
    signed = requireObject(request, 'signed');
  }
  const verify = async () => runVerify(
    {credential: clone(signed), documentLoader, now});
  const first = await verify();
  if(!first.verified) {
    return {
      error: `verify failed: ${errorSummary(first)}`,
      verify_result: toJsonSafe(first)
    };
  }

  // warm up (JIT, jsonld's context cache), then time sequential operations
  for(let i = 0; i < warmup; ++i) {
    await sign();
    await verify();
  }
  const timeLoop = async fn => {
    const budget = seconds * 1000;
    const start = performance.now();
    let count = 0;
    let elapsed = 0;
    do {
      await fn();
      ++count;
      elapsed = performance.now() - start;
    } while(elapsed < budget);
    return {count, elapsed: elapsed / 1000};
  };
  const s = await timeLoop(sign);
  let lastVerified = true;
  const v = await timeLoop(async () => {
    const r = await verify();
    lastVerified = lastVerified && r.verified === true;
  });
  if(!lastVerified) {
    return {error: 'verify became false during the benchmark'};
  }
  return {
    sign_per_sec: s.count / s.elapsed,
    verify_per_sec: v.count / v.elapsed,
    sign_count: s.count,
    verify_count: v.count,
    sign_seconds: s.elapsed,
    verify_seconds: v.elapsed,
    warmup,
    node: process.version
  };
}

function opVersions() {
  const require = createRequire(import.meta.url);
  const names = [
    '@digitalbazaar/vc', '@digitalbazaar/data-integrity',
    '@digitalbazaar/eddsa-rdfc-2022-cryptosuite',
    '@digitalbazaar/ed25519-multikey', '@digitalbazaar/did-method-key',
    '@digitalbazaar/vc-bitstring-status-list', 'jsonld-signatures', 'jsonld',
    'rdf-canonize'
  ];
  const packages = {};
  for(const name of names) {
    try {
      const path = require.resolve(`${name}/package.json`);
      packages[name] = JSON.parse(readFileSync(path, 'utf8')).version;
    } catch{
      // ESM-only packages without an exported package.json: walk the path
      try {
        const url = new URL(
          `./node_modules/${name}/package.json`, import.meta.url);
        packages[name] = JSON.parse(readFileSync(url, 'utf8')).version;
      } catch{
        packages[name] = null;
      }
    }
  }
  return {node: process.version, packages};
}

const OPS = {
  verify: opVerify,
  sign: opSign,
  bench: opBench,
  versions: opVersions
};

async function handle(request) {
  if(!request || typeof request !== 'object' || Array.isArray(request)) {
    throw new HarnessError('the request must be a JSON object.');
  }
  if(request.op === 'batch') {
    if(!Array.isArray(request.requests)) {
      throw new HarnessError('"requests" must be an array.');
    }
    const responses = [];
    let failed = false;
    for(const sub of request.requests) {
      if(sub?.op === 'batch') {
        responses.push({error: 'nested batch', harness_error: true});
        failed = true;
        continue;
      }
      try {
        responses.push(await handle(sub));
      } catch(e) {
        if(!(e instanceof HarnessError)) {
          throw e;
        }
        responses.push({error: e.message, harness_error: true});
        failed = true;
      }
    }
    if(failed) {
      process.exitCode = 2;
    }
    return {responses};
  }
  const op = OPS[request.op];
  if(!op) {
    throw new HarnessError(
      `unknown op ${JSON.stringify(request.op)}; expected one of ` +
      `${[...Object.keys(OPS), 'batch'].join(', ')}.`);
  }
  return op(request);
}

async function main() {
  let response;
  try {
    const input = readFileSync(0, 'utf8');
    let request;
    try {
      request = JSON.parse(input);
    } catch(e) {
      throw new HarnessError(`stdin is not one JSON document: ${e.message}`);
    }
    response = await handle(request);
  } catch(e) {
    process.exitCode = 2;
    response = {
      error: e instanceof HarnessError ? e.message :
        `harness bug: ${e?.stack || e}`,
      harness_error: true
    };
  }
  process.stdout.write(JSON.stringify(response) + '\n');
}

await main();
