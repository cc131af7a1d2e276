#!/usr/bin/env node
// Independent wallet harness: OpenID4VCI 1.0 and OpenID4VP 1.0 driven by the
// libraries behind the Credo wallet framework (@openid4vc/openid4vci,
// @openid4vc/openid4vp, @openid4vc/oauth2) and SD-JWT VCs checked by
// @sd-jwt/sd-jwt-vc, over HTTP against a served TitleCred. One JSON request
// on stdin, one JSON response on stdout (Python side: oid4vc.py).
//
// Requests:
//   {"op":"issue", "offer": "openid-credential-offer://...", "txCode": "123456",
//    "configurationId": "title_ldp_vc"|"title_dc_sd_jwt",
//    "keyType": "Ed25519"|"P-256", "bindBy": "did"|"jwk", "proofType"?: "jwt"|"di_vp",
//    "documents"?: {url: json} (contexts, for di_vp)}
//     -> {"credential", "holder": {"publicJwk", "privateJwk", "did"}, "offer",
//         "issuerMetadata", "format"}
//   {"op":"verify-sdjwt", "sdJwt": "...", "jwks": {"keys": [...]},
//    "kb"?: {"nonce", "aud"}}
//     -> {"verified": bool, "error"?, "claims"?, "kb"?}
//   {"op":"present", "request": "openid4vp://...", "credential": ...,
//    "format": "dc+sd-jwt"|"ldp_vc", "holder": {...from issue}, "disclose"?: [names]}
//     -> {"submitted": bool, "status", "body", "dcqlMatched"}
//
// Exit code 0 whenever the request was usable (a refusal is an answer);
// 2 with {"error", "harness_error": true} for a broken request or a harness bug.
//
// The libraries refuse http:// URLs unless told otherwise: the tests serve
// TitleCred on loopback http, so `allowInsecureUrls` is set (docs/wallets.md).

import {createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign as nodeSign,
  verify as nodeVerify} from 'node:crypto';
import {readFileSync} from 'node:fs';

import {Openid4vciClient} from '@openid4vc/openid4vci';
import {clientAuthenticationAnonymous, setGlobalConfig} from '@openid4vc/oauth2';
import {Openid4vpClient} from '@openid4vc/openid4vp';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as DidKey from '@digitalbazaar/did-method-key';

setGlobalConfig({allowInsecureUrls: true});

class HarnessError extends Error {}

const b64u = buf => Buffer.from(buf).toString('base64url');
const fromB64u = s => Buffer.from(s, 'base64url');

// ------------------------------------------------------------------ keys

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58(bytes) {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  let out = '';
  while (n > 0n) {
    out = B58[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

function makeHolder(keyType) {
  const {publicKey, privateKey} = keyType === 'P-256' ?
    generateKeyPairSync('ec', {namedCurve: 'P-256'}) : generateKeyPairSync('ed25519');
  const publicJwk = publicKey.export({format: 'jwk'});
  const privateJwk = privateKey.export({format: 'jwk'});
  let did;
  if (keyType === 'P-256') {
    did = 'did:jwk:' + b64u(JSON.stringify({kty: 'EC', crv: 'P-256', x: publicJwk.x, y: publicJwk.y}));
  } else {
    did = 'did:key:z' + base58(Buffer.concat([Buffer.from([0xed, 0x01]), fromB64u(publicJwk.x)]));
  }
  const didUrl = keyType === 'P-256' ? `${did}#0` : `${did}#${did.slice('did:key:'.length)}`;
  return {keyType, publicJwk, privateJwk, did, didUrl, alg: keyType === 'P-256' ? 'ES256' : 'EdDSA'};
}

function holderFrom(data) {
  return {...data, alg: data.keyType === 'P-256' ? 'ES256' : 'EdDSA'};
}

function rawSign(holder, data) {
  const key = createPrivateKey({key: holder.privateJwk, format: 'jwk'});
  if (holder.alg === 'ES256') {
    return nodeSign('sha256', Buffer.from(data), {key, dsaEncoding: 'ieee-p1363'});
  }
  return nodeSign(null, Buffer.from(data), key);
}

function signJwtWith(holder) {
  return async (signer, {header, payload}) => {
    const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
    return {jwt: `${input}.${b64u(rawSign(holder, input))}`, signerJwk: holder.publicJwk};
  };
}

function hash(data, alg) {
  const name = String(alg).toLowerCase().replace('-', '');
  return new Uint8Array(createHash(name).update(data).digest());
}

function callbacksFor(holder) {
  return {
    fetch,
    hash,
    generateRandom: n => new Uint8Array(randomBytes(n)),
    signJwt: signJwtWith(holder),
    clientAuthentication: clientAuthenticationAnonymous(),
  };
}

// ------------------------------------------------------------------ OpenID4VCI

async function issue(req) {
  const holder = makeHolder(req.keyType || 'Ed25519');
  const client = new Openid4vciClient({callbacks: callbacksFor(holder)});
  const offer = await client.resolveCredentialOffer(req.offer);
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const {accessTokenResponse} = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer, issuerMetadata, txCode: req.txCode,
  });
  const {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
  const signer = req.bindBy === 'jwk' ?
    {method: 'jwk', publicJwk: holder.publicJwk, alg: holder.alg} :
    {method: 'did', didUrl: holder.didUrl, alg: holder.alg};
  let proofs;
  if (req.proofType === 'di_vp') {
    // OpenID4VCI 1.0 Appendix F.2: a VP signed by vc.js (eddsa-rdfc-2022, authentication), the
    // c_nonce as challenge and the credential issuer as domain. The client passes it through.
    const keyPair = await Ed25519Multikey.fromJwk({jwk: holder.privateJwk, secretKey: true,
      id: holder.didUrl, controller: holder.did});
    const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite: eddsaRdfc2022});
    const presentation = vc.createPresentation({holder: holder.did, version: 2.0});
    const vp = await vc.signPresentation({presentation, suite, challenge: nonce,
      domain: offer.credential_issuer, documentLoader: loaderFor(req.documents || {})});
    proofs = {di_vp: [vp]};
  } else {
    const {jwt} = await client.createCredentialRequestJwtProof({
      issuerMetadata, credentialConfigurationId: req.configurationId, nonce, signer,
    });
    proofs = {jwt: [jwt]};
  }
  const response = await client.retrieveCredentials({
    issuerMetadata, accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: req.configurationId, proofs,
  });
  if (!response.ok) {
    const body = await response.response.text();
    return {credential: null, status: response.response.status, body};
  }
  const configuration = issuerMetadata.credentialIssuer.credential_configurations_supported[
    req.configurationId];
  return {
    credential: response.credentialResponse.credentials[0].credential,
    format: configuration.format,
    holder: {keyType: holder.keyType, publicJwk: holder.publicJwk, privateJwk: holder.privateJwk,
      did: holder.did, didUrl: holder.didUrl},
    offer,
    issuerMetadata: issuerMetadata.credentialIssuer,
    authorizationServers: issuerMetadata.authorizationServers,
    originalDraftVersion: issuerMetadata.originalDraftVersion,
  };
}

// Authorization code flow with PKCE, in two steps: the holder's browser does the middle.
async function authorizeStart(req) {
  const holder = makeHolder('Ed25519');
  const client = new Openid4vciClient({callbacks: callbacksFor(holder)});
  const issuerMetadata = await client.resolveIssuerMetadata(req.issuer);
  // A wallet-initiated flow: the offer a wallet makes itself from the metadata.
  const credentialOffer = {credential_issuer: req.issuer,
    credential_configuration_ids: [req.configurationId], grants: {authorization_code: {}}};
  const started = await client.initiateAuthorization({clientId: req.clientId, credentialOffer,
    issuerMetadata, redirectUri: req.redirectUri, scope: req.configurationId});
  return {flow: started.authorizationFlow, authorizationRequestUrl: started.authorizationRequestUrl,
    codeVerifier: started.pkce && started.pkce.codeVerifier, credentialOffer};
}

async function authorizeFinish(req) {
  const holder = makeHolder('Ed25519');
  const client = new Openid4vciClient({callbacks: callbacksFor(holder)});
  const issuerMetadata = await client.resolveIssuerMetadata(req.issuer);
  const {accessTokenResponse} = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
    credentialOffer: req.credentialOffer, issuerMetadata, authorizationCode: req.code,
    pkceCodeVerifier: req.codeVerifier, redirectUri: req.redirectUri,
    additionalRequestPayload: {client_id: req.clientId}});
  const {c_nonce: nonce} = await client.requestNonce({issuerMetadata});
  const {jwt} = await client.createCredentialRequestJwtProof({issuerMetadata,
    credentialConfigurationId: req.configurationId, nonce,
    signer: {method: 'did', didUrl: holder.didUrl, alg: holder.alg}});
  const response = await client.retrieveCredentials({issuerMetadata,
    accessToken: accessTokenResponse.access_token, credentialConfigurationId: req.configurationId,
    proofs: {jwt: [jwt]}});
  if (!response.ok) return {credential: null, status: response.response.status,
    body: await response.response.text()};
  return {credential: response.credentialResponse.credentials[0].credential, holder: {did: holder.did}};
}

// ------------------------------------------------------------------ SD-JWT VC

function issuerVerifier(jwks) {
  // The bureau's Ed25519 keys: any of them whose signature verifies (the
  // header's kid is a did:web verification method, resolved by the caller).
  const keys = (jwks.keys || []).map(jwk => createPublicKey({
    key: {kty: jwk.kty, crv: jwk.crv, x: jwk.x}, format: 'jwk'}));
  return async (data, sig) => keys.some(key => nodeVerify(null, Buffer.from(data), key, fromB64u(sig)));
}

function kbVerifier() {
  return async (data, sig, payload) => {
    const jwk = payload && payload.cnf && payload.cnf.jwk;
    if (!jwk) return false;
    const key = createPublicKey({key: jwk, format: 'jwk'});
    if (jwk.kty === 'EC') {
      return nodeVerify('sha256', Buffer.from(data), {key, dsaEncoding: 'ieee-p1363'}, fromB64u(sig));
    }
    return nodeVerify(null, Buffer.from(data), key, fromB64u(sig));
  };
}

function sdjwtInstance(jwks, holder) {
  return new SDJwtVcInstance({
    verifier: issuerVerifier(jwks),
    kbVerifier: kbVerifier(),
    hasher: async (data, alg) => hash(typeof data === 'string' ? Buffer.from(data) : data, alg),
    hashAlg: 'sha-256',
    saltGenerator: async n => b64u(randomBytes(n)),
    kbSigner: holder ? async data => b64u(rawSign(holder, data)) : undefined,
    kbSignAlg: holder ? holder.alg : undefined,
  });
}

async function verifySdJwt(req) {
  const sd = sdjwtInstance(req.jwks);
  try {
    const opts = req.kb ? {keyBindingNonce: req.kb.nonce} : {};
    const result = await sd.verify(req.sdJwt, opts);
    const claims = await sd.getClaims(req.sdJwt);
    return {verified: true, claims, header: result.header, kb: result.kb || null};
  } catch (e) {
    return {verified: false, error: String(e && e.message || e)};
  }
}

// ------------------------------------------------------------------ OpenID4VP

function frameFor(claims) {
  // A presentation frame for @sd-jwt: {claim: true} for every requested top-level claim.
  const frame = {};
  for (const c of claims) frame[c.path[0]] = true;
  return frame;
}

function loaderFor(documents) {
  const didKey = DidKey.driver();
  didKey.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});
  return async url => {
    if (documents[url]) return {contextUrl: null, documentUrl: url, document: documents[url]};
    if (url.startsWith('did:key:')) {
      return {contextUrl: null, documentUrl: url, document: await didKey.get({url})};
    }
    throw new Error(`document not available offline: ${url}`);
  };
}

async function present(req) {
  const holder = holderFrom(req.holder);
  const client = new Openid4vpClient({callbacks: {
    fetch, hash, signJwt: signJwtWith(holder),
    verifyJwt: async () => ({verified: false}),
  }});
  const parsed = client.parseOpenid4vpAuthorizationRequest({authorizationRequest: req.request});
  const resolved = await client.resolveOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: parsed.params});
  const request = resolved.authorizationRequestPayload;
  const query = resolved.dcql.query.credentials[0];
  const nonce = req.nonceOverride || request.nonce;
  let presentation;
  if (query.format === 'dc+sd-jwt') {
    const signer = req.signWith ? holderFrom(req.signWith) : holder;
    const sd = sdjwtInstance({keys: []}, signer);
    const frame = req.disclose ? Object.fromEntries(req.disclose.map(n => [n, true])) :
      frameFor(query.claims);
    presentation = await sd.present(req.credential, frame, {kb: {payload: {
      iat: Math.floor(Date.now() / 1000), aud: request.client_id, nonce}}});
  } else {
    const signer = req.signWith ? holderFrom(req.signWith) : holder;
    const keyPair = await Ed25519Multikey.fromJwk({jwk: signer.privateJwk, secretKey: true,
      id: signer.didUrl, controller: signer.did});
    const suite = new DataIntegrityProof({signer: keyPair.signer(), cryptosuite: eddsaRdfc2022});
    const unsigned = vc.createPresentation({verifiableCredential: [req.credential], holder: signer.did,
      version: 2.0});
    presentation = await vc.signPresentation({presentation: unsigned, suite, challenge: nonce,
      domain: request.client_id, documentLoader: loaderFor(req.documents || {})});
  }
  const {authorizationResponsePayload} = await client.createOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request,
    authorizationResponsePayload: {vp_token: {[query.id]: [presentation]}},
  });
  const submitted = await client.submitOpenid4vpAuthorizationResponse({
    authorizationRequestPayload: request, authorizationResponsePayload});
  return {status: submitted.response.status, body: await submitted.response.text(),
    responseMode: submitted.responseMode, version: resolved.version, client: resolved.client,
    presentation, queryId: query.id};
}

// ------------------------------------------------------------------ main

const OPS = {'issue': issue, 'verify-sdjwt': verifySdJwt, 'present': present,
  'authorize-start': authorizeStart, 'authorize-finish': authorizeFinish};

async function main() {
  let req;
  try {
    req = JSON.parse(readFileSync(0, 'utf8'));
  } catch (e) {
    throw new HarnessError(`the request is not JSON: ${e.message}`);
  }
  const op = OPS[req.op];
  if (!op) throw new HarnessError(`unknown op ${req.op}`);
  return op(req);
}

main().then(out => {
  process.stdout.write(JSON.stringify(out));
}, e => {
  const harness = e instanceof HarnessError;
  process.stdout.write(JSON.stringify({error: String(e && e.stack || e), harness_error: harness,
    library_error: !harness}));
  process.exitCode = harness ? 2 : 1;
});

export {makeHolder, holderFrom, signJwtWith, callbacksFor, sdjwtInstance, hash, rawSign, b64u, fromB64u};
