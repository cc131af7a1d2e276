"""DID resolution for verification: did:key always offline, did:web from trusted documents.

A verifier resolves a proof's `verificationMethod` to a public key, its controller, the verification
relationships (assertionMethod...) that list it, and its life state (active / retired / revoked with
the compromise time), as published by keys.publish in a DID document (`keyState`, `revoked`) or a
JWKS (`key_state`, `revoked`).

- did:key: derived from the identifier itself (did:key spec, Ed25519 only).
- did:web: only from the DID documents / JWKS the resolver was built with, unless `online=True`, in
  which case the did.json is fetched over HTTPS (5 s timeout, 256 KB cap, redirects only to https), by
  the given `fetch` function when there is one (the CLI's cached fetcher, titlecred/online.py).
  A fetched document makes a key resolvable; it does not make its controller a trusted issuer
  (`has_document_for` answers for the given documents only).

This module must never go to the network while `online` is False, never read a revocation signal it
cannot parse as "not revoked" (that is an error), and never let one document speak for keys that lie
under another DID.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from keys.errors import (
    InvalidDidDocument,
    KeyMaterialError,
    KeyNotAuthorized,
    KeyNotFound,
    UnresolvableDid,
    UnsupportedKeyType,
    WrongController,
)
from keys.jwk import public_key_from_jwk
from keys.material import PublicKey
from keys.multikey import decode_public_multikey
from keys.state import KeyRecord, KeyState

DID_V1 = "https://www.w3.org/ns/did/v1"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
RELATIONSHIPS = ("authentication", "assertionMethod", "keyAgreement", "capabilityInvocation",
                 "capabilityDelegation")
# What the did:key method grants an Ed25519 key (as in the W3C vector's controller document).
_DID_KEY_RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityDelegation", "capabilityInvocation")

HTTP_TIMEOUT_SECONDS = 5.0
MAX_DOCUMENT_BYTES = 256 * 1024
MAX_REDIRECTS = 3

# Severity for merging several descriptions of one key: the most severe state wins.
_SEVERITY = {KeyState.ACTIVE: 0, KeyState.RETIRED: 1, KeyState.REVOKED: 2}
# A revoked key whose compromise time is not given is treated as compromised since ever (the epoch).
_SINCE_EVER = datetime(1970, 1, 1, tzinfo=UTC)

_HOST = re.compile(r"(?=.{1,253}(?::|$))[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*(?::([0-9]{1,5}))?")
_PATH_SEGMENT = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=@-]|%[0-9A-Fa-f]{2})+")
_DATETIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
                       r"(Z|[+-][0-9]{2}:[0-9]{2})")


# ---------------------------------------------------------------------- did:key


def _did_key_multikey(did_or_multikey: str) -> str:
    if not isinstance(did_or_multikey, str):
        raise UnresolvableDid("a did:key must be a string")
    value = did_or_multikey
    fragment = None
    if value.startswith("did:key:"):
        value, _, fragment = value[len("did:key:"):].partition("#")
    elif value.startswith("did:"):
        raise UnresolvableDid(f"{did_or_multikey.split('#')[0]} is not a did:key")
    decode_public_multikey(value)  # an Ed25519 publicKeyMultibase, or a typed error
    if fragment and fragment != value:
        raise KeyNotFound(f"did:key:{value} has no verification method #{fragment}")
    return value


def did_key_from_public(public: PublicKey) -> str:
    """The did:key DID of an Ed25519 public key."""
    return f"did:key:{public.multibase}"


def did_key_document(did_or_multikey: str) -> dict[str, Any]:
    """The did:key DID document of an Ed25519 key (a did:key DID, its VM id, or the bare 'z6Mk…')."""
    mb = _did_key_multikey(did_or_multikey)
    did = f"did:key:{mb}"
    vm_id = f"{did}#{mb}"
    doc: dict[str, Any] = {
        "@context": [DID_V1, MULTIKEY_V1],
        "id": did,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": did, "publicKeyMultibase": mb},
        ],
    }
    for rel in _DID_KEY_RELATIONSHIPS:
        doc[rel] = [vm_id]
    return doc


# ---------------------------------------------------------------------- did:web


def did_web_url(did: str) -> str:
    """The HTTPS URL of a did:web DID's document (did:web spec; a fragment is ignored)."""
    if not isinstance(did, str) or not did.startswith("did:web:"):
        raise UnresolvableDid(f"{did!r} is not a did:web DID")
    msid = did.split("#", 1)[0][len("did:web:"):]
    if "?" in msid or "/" in msid:
        raise UnresolvableDid(f"{did} is not a plain did:web DID")
    host, *path = msid.split(":")
    # Only the port's colon is percent-encoded in the host part.
    host = re.sub("%3[Aa]", ":", host)
    match = _HOST.fullmatch(host)
    if not match:
        raise UnresolvableDid(f"{did}: {host!r} is not a domain name")
    if match.group(1) is not None and not 0 < int(match.group(1)) <= 65535:
        raise UnresolvableDid(f"{did}: port {match.group(1)} is out of range")
    if host.split(":")[0].rsplit(".", 1)[-1].isdigit():
        raise UnresolvableDid(f"{did}: did:web names a domain, not an IP address")
    for segment in path:
        if not _PATH_SEGMENT.fullmatch(segment) or segment in (".", ".."):
            raise UnresolvableDid(f"{did}: {segment!r} is not a valid path segment")
    if path:
        return f"https://{host}/{'/'.join(path)}/did.json"
    return f"https://{host}/.well-known/did.json"


def _fetch_did_web(did: str, timeout: float, max_bytes: int) -> dict[str, Any]:
    """Fetch and parse a did:web document over HTTPS. Only called when the resolver is online."""
    import httpx  # imported here: an offline verifier never loads the HTTP client at all

    url = did_web_url(did)
    body = bytearray()
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False,
                          headers={"Accept": "application/did+json, application/json"}) as client:
            for _ in range(MAX_REDIRECTS + 1):
                with client.stream("GET", url) as response:
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        url = str(response.url.join(location))
                        if not url.startswith("https://"):
                            raise UnresolvableDid(f"{did}: the server redirected to a non-HTTPS address")
                        continue
                    if response.status_code != 200:
                        raise UnresolvableDid(f"{did}: {url} answered HTTP {response.status_code}")
                    declared = response.headers.get("content-length")
                    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
                        raise UnresolvableDid(f"{did}: the DID document is larger than {max_bytes} bytes")
                    for chunk in response.iter_bytes():
                        body.extend(chunk)
                        if len(body) > max_bytes:
                            raise UnresolvableDid(f"{did}: the DID document is larger than {max_bytes} bytes")
                    break
            else:
                raise UnresolvableDid(f"{did}: too many redirects")
    except httpx.HTTPError as e:
        raise UnresolvableDid(f"{did}: fetching {url} failed ({type(e).__name__})") from e
    try:
        doc = json.loads(bytes(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise UnresolvableDid(f"{did}: {url} did not return JSON") from e
    if not isinstance(doc, dict) or doc.get("id") != did:
        raise UnresolvableDid(f"{did}: the document at {url} is not this DID's document")
    return doc


# ---------------------------------------------------------------------- resolution


@dataclass(frozen=True)
class ResolvedMethod:
    """A resolved verification method: its key, controller, state, and the relationships listing it."""

    vm_id: str
    controller: str
    public_key: PublicKey
    record: KeyRecord
    relationships: frozenset[str]
    source: str  # "did:key", "DID document", "JWKS" or "fetched DID document"

    @property
    def state(self) -> KeyState:
        return self.record.state

    @property
    def compromised_at(self) -> datetime | None:
        return self.record.compromised_at


@dataclass
class _Known:
    """What the given documents say about one verification method (merged over documents)."""

    vm_id: str
    controller: str
    public_key: PublicKey | None
    error: tuple[type[KeyMaterialError], str] | None
    state: KeyState
    compromised_at: datetime | None
    relationships: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)


def _parse_time(value: Any, where: str) -> datetime:
    if not isinstance(value, str) or not _DATETIME.fullmatch(value):
        raise InvalidDidDocument(f"{where}: {value!r} is not a date-time with a time zone")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).replace(microsecond=0)
    except ValueError as e:
        raise InvalidDidDocument(f"{where}: {value!r} is not a valid date-time") from e


def _state_of(declared: Any, revoked: Any, where: str) -> tuple[KeyState, datetime | None]:
    """The state from a `keyState`/`key_state` value and a `revoked` time; a revocation sign always wins."""
    if declared is None:
        state = KeyState.ACTIVE
    else:
        try:
            state = KeyState(declared)
        except ValueError as e:
            raise InvalidDidDocument(f"{where}: unknown key state {declared!r}") from e
    if revoked is not None:
        return KeyState.REVOKED, _parse_time(revoked, where)
    if state is KeyState.REVOKED:
        return state, _SINCE_EVER
    return state, None


def _absolute(ref: str, did: str) -> str:
    return did + ref if ref.startswith("#") else ref


class DidResolver:
    """Resolves verification methods from trusted DID documents and JWKS, and did:key offline.

    `documents`: DID documents (objects with `id`) and JWKS (objects with `keys`, each `kid` a full
    verification-method id). Several descriptions of one key are merged: the public keys must agree,
    the most severe state and the earliest compromise time win, the relationships add up.
    """

    def __init__(
        self,
        documents: Iterable[Mapping[str, Any]] = (),
        online: bool = False,
        *,
        timeout: float = HTTP_TIMEOUT_SECONDS,
        max_bytes: int = MAX_DOCUMENT_BYTES,
        fetch: Callable[[str], Mapping[str, Any]] | None = None,
    ) -> None:
        self.online = online
        # Another way to get a did:web document online (the CLI's cached, CA-configurable fetcher).
        self._fetch_document = fetch
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._methods: dict[str, _Known] = {}
        self._trusted: set[str] = set()
        self._fetched: set[str] = set()
        for doc in documents:
            if not isinstance(doc, Mapping):
                raise InvalidDidDocument("a trusted document must be a JSON object")
            if "keys" in doc and "id" not in doc:
                dids = self._add_jwks(doc)
            else:
                dids = self._add_did_document(doc, "DID document")
            self._trusted |= dids

    def __repr__(self) -> str:
        return f"DidResolver(trusted={sorted(self._trusted)!r}, online={self.online})"

    @property
    def trusted_dids(self) -> frozenset[str]:
        """The DIDs whose DID document or JWKS the resolver was given."""
        return frozenset(self._trusted)

    @property
    def fetched_dids(self) -> frozenset[str]:
        """The did:web DIDs whose documents were fetched online (over HTTPS) during resolution."""
        return frozenset(self._fetched)

    def has_document_for(self, did: str) -> bool:
        """True when a DID document or JWKS of `did` was given (a fetched one does not count)."""
        return did in self._trusted

    def resolve_verification_method(self, vm_id: str, purpose: str | None = None) -> ResolvedMethod:
        """Resolve `vm_id`. With `purpose` (e.g. "assertionMethod"), also require that relationship.

        Without `purpose` a method resolves whatever lists it, so that a verifier can still tell "revoked"
        (a revoked key is listed under no relationship) from "unknown"; check `relationships` then.
        """
        if not isinstance(vm_id, str) or "#" not in vm_id or not vm_id.startswith("did:"):
            raise KeyNotFound(f"{vm_id!r} is not a verification method id (a DID URL with a fragment)")
        did, _, fragment = vm_id.partition("#")
        if did.startswith("did:key:"):
            method = self._did_key_method(did, fragment)
        else:
            known = self._methods.get(vm_id)
            if known is None and did not in self._trusted and did not in self._fetched:
                self._fetch(did)
                known = self._methods.get(vm_id)
            if known is None:
                raise KeyNotFound(f"{did} has no verification method #{fragment}")
            method = self._resolved(known)
        if purpose is not None and purpose not in method.relationships:
            raise KeyNotAuthorized(f"key {vm_id} is not listed under {purpose} by {method.controller}")
        return method

    # ------------------------------------------------------------------ internals

    def _did_key_method(self, did: str, fragment: str) -> ResolvedMethod:
        mb = _did_key_multikey(f"{did}#{fragment}")
        record = KeyRecord(key_id=f"{did}#{mb}", controller=did, public_key_multibase=mb,
                           state=KeyState.ACTIVE)
        return ResolvedMethod(record.key_id, did, PublicKey.from_multibase(mb), record,
                              frozenset(_DID_KEY_RELATIONSHIPS), "did:key")

    def _fetch(self, did: str) -> None:
        if not did.startswith("did:web:"):
            raise UnresolvableDid(f"{did}: only did:key and did:web are supported")
        if not self.online:
            raise UnresolvableDid(f"{did} is not among the trusted DID documents or JWKS, and online "
                                  "resolution is off")
        if self._fetch_document is not None:
            doc = self._fetch_document(did)
        else:
            doc = _fetch_did_web(did, self._timeout, self._max_bytes)
        # Parsed apart first, so that an invalid document leaves nothing half-merged behind.
        fetched = DidResolver()
        try:
            fetched._add_did_document(doc, "fetched DID document")
        except InvalidDidDocument as e:
            raise UnresolvableDid(f"{did}: the fetched document is invalid: {e.message}") from e
        for known in fetched._methods.values():
            self._merge(known)
        self._fetched.add(did)

    def _resolved(self, known: _Known) -> ResolvedMethod:
        if known.error is not None:
            cls, message = known.error
            raise cls(message)
        assert known.public_key is not None
        record = KeyRecord(key_id=known.vm_id, controller=known.controller,
                           public_key_multibase=known.public_key.multibase, state=known.state,
                           compromised_at=known.compromised_at)
        return ResolvedMethod(known.vm_id, known.controller, known.public_key, record,
                              frozenset(known.relationships), " + ".join(sorted(known.sources)))

    def _merge(self, new: _Known) -> None:
        old = self._methods.get(new.vm_id)
        if old is None:
            self._methods[new.vm_id] = new
            return
        if old.public_key is not None and new.public_key is not None and old.public_key != new.public_key:
            raise InvalidDidDocument(f"two trusted documents give different public keys for {new.vm_id}")
        old.error = old.error or new.error
        old.public_key = old.public_key or new.public_key
        if _SEVERITY[new.state] > _SEVERITY[old.state]:
            old.state = new.state
        times = [t for t in (old.compromised_at, new.compromised_at) if t is not None]
        old.compromised_at = min(times) if times else None
        old.relationships |= new.relationships
        old.sources |= new.sources
        # A revoked key is listed under no relationship, whatever another document says.
        if old.state is KeyState.REVOKED:
            old.relationships.clear()

    def _add_did_document(self, doc: Mapping[str, Any], source: str) -> set[str]:
        did = doc.get("id")
        if not isinstance(did, str) or not did.startswith("did:") or "#" in did:
            raise InvalidDidDocument("a DID document needs an `id` that is a DID")
        where = f"DID document {did}"
        listed: dict[str, set[str]] = {}
        embedded: list[Any] = []
        for rel in RELATIONSHIPS:
            entries = doc.get(rel, [])
            if not isinstance(entries, list):
                raise InvalidDidDocument(f"{where}: {rel} must be a list")
            for entry in entries:
                if isinstance(entry, str):
                    listed.setdefault(_absolute(entry, did), set()).add(rel)
                elif isinstance(entry, Mapping) and isinstance(entry.get("id"), str):
                    listed.setdefault(_absolute(entry["id"], did), set()).add(rel)
                    embedded.append(entry)
                else:
                    raise InvalidDidDocument(f"{where}: {rel} holds an entry that is neither an id nor "
                                             "a verification method")
        methods = doc.get("verificationMethod", [])
        if not isinstance(methods, list):
            raise InvalidDidDocument(f"{where}: verificationMethod must be a list")
        for vm in [*methods, *embedded]:
            known = self._did_method(vm, did, where, listed, source)
            if known is not None:
                self._merge(known)
        return {did}

    def _did_method(self, vm: Any, did: str, where: str, listed: dict[str, set[str]],
                    source: str) -> _Known | None:
        """The method `vm` of document `did`; None for a method whose id lies under another DID."""
        if not isinstance(vm, Mapping) or not isinstance(vm.get("id"), str):
            raise InvalidDidDocument(f"{where}: a verification method without an id")
        vm_id = _absolute(vm["id"], did)
        if not vm_id.startswith(did + "#") or vm_id == did + "#":
            # Ignored, not recorded: one document neither vouches for nor spoils another DID's keys.
            return None
        controller = vm.get("controller", did)
        if controller != did:
            return _Known(vm_id, did, None,
                          (WrongController, f"key {vm_id} names controller {controller!r}, not {did}"),
                          KeyState.ACTIVE, None, sources={source})
        state, compromised = _state_of(vm.get("keyState"), vm.get("revoked"), f"{where}, key {vm_id}")
        public: PublicKey | None = None
        error: tuple[type[KeyMaterialError], str] | None = None
        try:
            public = self._method_key(vm, vm_id)
        except KeyMaterialError as e:
            error = (type(e), f"key {vm_id}: {e.message}")
        relationships = set() if state is KeyState.REVOKED else set(listed.get(vm_id, set()))
        return _Known(vm_id, did, public, error, state, compromised, relationships, {source})

    @staticmethod
    def _method_key(vm: Mapping[str, Any], vm_id: str) -> PublicKey:
        vm_type = vm.get("type")
        if vm_type in ("Multikey", "Ed25519VerificationKey2020"):
            mb = vm.get("publicKeyMultibase")
            if not isinstance(mb, str):
                raise InvalidDidDocument(f"{vm_type} method {vm_id} has no publicKeyMultibase")
            return PublicKey(decode_public_multikey(mb))
        if vm_type in ("JsonWebKey", "JsonWebKey2020"):
            jwk = vm.get("publicKeyJwk")
            if not isinstance(jwk, Mapping):
                raise InvalidDidDocument(f"{vm_type} method {vm_id} has no publicKeyJwk")
            return public_key_from_jwk(jwk)
        raise UnsupportedKeyType(f"verification method type {vm_type!r} is not supported")

    def _add_jwks(self, jwks: Mapping[str, Any]) -> set[str]:
        keys = jwks.get("keys")
        if not isinstance(keys, list):
            raise InvalidDidDocument("a JWKS needs a `keys` list")
        dids: set[str] = set()
        for jwk in keys:
            if not isinstance(jwk, Mapping):
                raise InvalidDidDocument("a JWKS entry must be an object")
            kid = jwk.get("kid")
            if not isinstance(kid, str) or not kid.startswith("did:") or "#" not in kid or kid.endswith("#"):
                raise InvalidDidDocument(f"JWKS entry kid {kid!r} is not a full verification method id "
                                         "(did:...#fragment)")
            did = kid.split("#", 1)[0]
            where = f"JWKS key {kid}"
            state, compromised = _state_of(jwk.get("key_state"), jwk.get("revoked"), where)
            public: PublicKey | None = None
            error: tuple[type[KeyMaterialError], str] | None = None
            try:
                public = public_key_from_jwk(jwk)
            except KeyMaterialError as e:
                error = (type(e), f"{where}: {e.message}")
            # A JWKS has no relationships; a signing key (use "sig", or no use) that is not revoked stands
            # for the issuer's assertions, as the published DID document lists it under assertionMethod.
            ops = jwk.get("key_ops")
            signs = jwk.get("use", "sig") == "sig" and (
                ops is None or (isinstance(ops, list) and "verify" in ops))
            relationships = {"assertionMethod"} if signs and state is not KeyState.REVOKED else set()
            self._merge(_Known(kid, did, public, error, state, compromised, relationships, {"JWKS"}))
            dids.add(did)
        return dids
