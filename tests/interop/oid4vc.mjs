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
//    "keyType": "Ed25519"|"P-256", "bindBy": "did"|"jwk"}
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
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';

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
  const {jwt} = await client.createCredentialRequestJwtProof({
    issuerMetadata, credentialConfigurationId: req.configurationId, nonce, signer,
  });
  const response = await client.retrieveCredentials({
    issuerMetadata, accessToken: accessTokenResponse.access_token,
    credentialConfigurationId: req.configurationId, proofs: {jwt: [jwt]},
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

// ------------------------------------------------------------------ main

const OPS = {'issue': issue, 'verify-sdjwt': verifySdJwt};

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
