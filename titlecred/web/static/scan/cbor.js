// A strict CBOR (RFC 8949) decoder for format TC1: only what TC1 uses, in one encoding per meaning.
//
// Python's decoder re-encodes with cbor2's canonical mode and compares; this one refuses the same
// inputs while reading: shortest-form heads, definite lengths, map keys strictly increasing in
// canonical order (shorter encoding first, then bytewise: no duplicates), UTF-8 that decodes, no
// floats, null or undefined, and no tag but the one the caller allows (COSE_Sign1's 18, outermost).
// Integers come back as Numbers when exact, as BigInts otherwise.

export class CborError extends Error {
  constructor(message, code = "malformed_compact") {
    super(message);
    this.code = code;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A tagged item (only the outermost COSE tag is ever returned). */
export class Tagged {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

function compareKeys(a, b) {
  if (a.length !== b.length) return a.length - b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

class Reader {
  constructor(bytes, { maxDepth, maxItems, allowTag }) {
    this.b = bytes;
    this.pos = 0;
    this.maxDepth = maxDepth;
    this.maxItems = maxItems;
    this.allowTag = allowTag;
    this.items = 0;
  }

  need(n) {
    if (this.pos + n > this.b.length) throw new CborError("the QR payload is not well-formed CBOR (cut short)");
  }

  // The argument of a head, in its shortest form only (a BigInt when past 2^53).
  arg(info) {
    if (info < 24) return info;
    let value;
    if (info === 24) {
      this.need(1);
      value = this.b[this.pos];
      this.pos += 1;
      if (value < 24) throw this.notCanonical();
    } else if (info === 25) {
      this.need(2);
      value = (this.b[this.pos] << 8) | this.b[this.pos + 1];
      this.pos += 2;
      if (value < 0x100) throw this.notCanonical();
    } else if (info === 26) {
      this.need(4);
      value = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 4).getUint32(0);
      this.pos += 4;
      if (value < 0x10000) throw this.notCanonical();
    } else if (info === 27) {
      this.need(8);
      const big = new DataView(this.b.buffer, this.b.byteOffset + this.pos, 8).getBigUint64(0);
      this.pos += 8;
      if (big < 0x100000000n) throw this.notCanonical();
      value = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    } else if (info === 31) {
      throw new CborError("the QR payload is not canonical CBOR (indefinite length)");
    } else {
      throw new CborError("the QR payload is not well-formed CBOR (reserved head)");
    }
    return value;
  }

  notCanonical() {
    return new CborError("the payload is not canonical CBOR (one encoding per meaning)");
  }

  length(info) {
    const n = this.arg(info);
    if (typeof n !== "number" || n > this.b.length) {
      throw new CborError("the QR payload is not well-formed CBOR (length beyond the data)");
    }
    return n;
  }

  item(depth, outer) {
    if (++this.items > this.maxItems) {
      throw new CborError("the compact form is larger than format TC1 allows", "input_too_large");
    }
    this.need(1);
    const head = this.b[this.pos++];
    const major = head >> 5;
    const info = head & 31;
    switch (major) {
      case 0:
        return this.arg(info);
      case 1: {
        const n = this.arg(info);
        if (typeof n === "bigint") {
          const v = -1n - n;
          // Python takes integers from -2^63 on; a smaller one is out of TC1's range.
          if (v < -(2n ** 63n)) throw new CborError("an integer in the compact form is out of range");
          return v;
        }
        const v = -1 - n;
        return Number.isSafeInteger(v) ? v : BigInt(-1) - BigInt(n);
      }
      case 2: {
        const n = this.length(info);
        this.need(n);
        const out = this.b.slice(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case 3: {
        const n = this.length(info);
        this.need(n);
        let text;
        try {
          text = utf8.decode(this.b.subarray(this.pos, this.pos + n));
        } catch {
          throw new CborError("the QR payload is not well-formed CBOR (text that is not UTF-8)");
        }
        this.pos += n;
        return text;
      }
      case 4: {
        const n = this.length(info);
        if (depth >= this.maxDepth) throw new CborError("the QR payload nests too deeply");
        const out = [];
        for (let i = 0; i < n; i++) out.push(this.item(depth + 1, false));
        return out;
      }
      case 5: {
        const n = this.length(info);
        if (depth >= this.maxDepth) throw new CborError("the QR payload nests too deeply");
        const out = new Map();
        let previous = null;
        for (let i = 0; i < n; i++) {
          const start = this.pos;
          const key = this.item(depth + 1, false);
          this.items -= 1; // as Python's bound: values and containers count, keys do not
          const encoded = this.b.subarray(start, this.pos);
          if (previous !== null) {
            const order = compareKeys(previous, encoded);
            if (order === 0) throw new CborError("the QR payload has a duplicate map key");
            if (order > 0) throw this.notCanonical();
          }
          previous = encoded;
          if (typeof key !== "number" && typeof key !== "bigint") {
            throw new CborError("the compact form has a map key that is not an integer");
          }
          out.set(key, this.item(depth + 1, false));
        }
        return out;
      }
      case 6: {
        const tag = this.arg(info);
        if (!outer || tag !== this.allowTag) {
          throw new CborError("the compact form contains a CBOR tag that format TC1 does not use");
        }
        return new Tagged(tag, this.item(depth, false));
      }
      default:
        if (info === 20) return false;
        if (info === 21) return true;
        throw new CborError("the compact form holds a value of a kind TC1 does not use");
    }
  }
}

/**
 * Decode exactly one CBOR item filling `bytes`. `allowTag` is the one tag accepted, and only as the
 * outermost item (null: none).
 */
export function decodeCbor(bytes, { maxDepth = 6, maxItems = Infinity, allowTag = null } = {}) {
  const reader = new Reader(bytes, { maxDepth, maxItems, allowTag });
  const value = reader.item(0, allowTag !== null);
  if (reader.pos !== bytes.length) throw new CborError("the QR payload is not well-formed CBOR (extra data)");
  return value;
}
