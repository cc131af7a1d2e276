// Raw DEFLATE (RFC 1951) decoding with a preset dictionary, for the QR code's TC1 payload.
//
// Browsers' DecompressionStream cannot take a preset dictionary, so this is a small port of Mark
// Adler's puff.c (zlib's reference decoder): slow by zlib's standards, but a QR payload is under
// 1 KB. The dictionary is the window's first bytes, so back-references may reach into it. It is as
// strict as zlib (Python's decoder): over-subscribed or incomplete codes, bad distances, a stream cut
// short, and bytes after the last block are all refused, and the output is bounded.

const MAXBITS = 15;
const MAXLCODES = 286;
const MAXDCODES = 30;
const FIXLCODES = 288;
const LBASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115,
  131, 163, 195, 227, 258];
const LEXT = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DBASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
  2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DEXT = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

export class InflateError extends Error {
  constructor(message, code = "malformed_qr") {
    super(message);
    this.code = code;
  }
}

function bad(what) {
  return new InflateError(`the QR text is damaged or altered: its compressed data does not decode (${what})`);
}

class State {
  constructor(input, dict, maxOut) {
    this.input = input;
    this.pos = 0;
    this.bitbuf = 0;
    this.bitcnt = 0;
    this.start = dict.length;
    this.limit = dict.length + maxOut;
    // Room for one more match than allowed, so "too large" is told apart from "damaged".
    this.out = new Uint8Array(this.limit + 259);
    this.out.set(dict);
    this.n = dict.length;
  }

  bits(need) {
    let val = this.bitbuf;
    while (this.bitcnt < need) {
      if (this.pos >= this.input.length) {
        throw new InflateError("the QR text is damaged or altered: its compressed data is cut short or has " +
          "extra bytes");
      }
      val |= this.input[this.pos++] << this.bitcnt;
      this.bitcnt += 8;
    }
    this.bitbuf = val >>> need;
    this.bitcnt -= need;
    return val & ((1 << need) - 1);
  }

  put(byte) {
    if (this.n >= this.limit) throw new InflateError("the QR payload expands beyond its bound", "input_too_large");
    this.out[this.n++] = byte;
  }
}

class Huffman {
  constructor(size) {
    this.count = new Uint16Array(MAXBITS + 1);
    this.symbol = new Uint16Array(size);
  }
}

// Returns 0 for a complete code, > 0 for an incomplete one, < 0 for an over-subscribed one.
function construct(h, lengths, offset, n) {
  h.count.fill(0);
  for (let s = 0; s < n; s++) h.count[lengths[offset + s]]++;
  if (h.count[0] === n) return 0;
  let left = 1;
  for (let len = 1; len <= MAXBITS; len++) {
    left <<= 1;
    left -= h.count[len];
    if (left < 0) return left;
  }
  const offs = new Uint16Array(MAXBITS + 1);
  for (let len = 1; len < MAXBITS; len++) offs[len + 1] = offs[len] + h.count[len];
  for (let s = 0; s < n; s++) {
    const len = lengths[offset + s];
    if (len !== 0) h.symbol[offs[len]++] = s;
  }
  return left;
}

function decode(st, h) {
  let code = 0;
  let first = 0;
  let index = 0;
  for (let len = 1; len <= MAXBITS; len++) {
    code |= st.bits(1);
    const count = h.count[len];
    if (code - count < first) return h.symbol[index + (code - first)];
    index += count;
    first += count;
    first <<= 1;
    code <<= 1;
  }
  throw bad("no such code");
}

function codes(st, lencode, distcode) {
  for (;;) {
    let symbol = decode(st, lencode);
    if (symbol < 256) {
      st.put(symbol);
    } else if (symbol === 256) {
      return;
    } else {
      symbol -= 257;
      if (symbol >= 29) throw bad("invalid length code");
      let len = LBASE[symbol] + st.bits(LEXT[symbol]);
      const dsym = decode(st, distcode);
      if (dsym >= 30) throw bad("invalid distance code");
      const dist = DBASE[dsym] + st.bits(DEXT[dsym]);
      if (dist > st.n) throw bad("distance too far back");
      while (len--) st.put(st.out[st.n - dist]);
    }
  }
}

function stored(st) {
  st.bitbuf = 0;
  st.bitcnt = 0;
  if (st.pos + 4 > st.input.length) throw bad("stored block cut short");
  const inp = st.input;
  const len = inp[st.pos] | (inp[st.pos + 1] << 8);
  const nlen = inp[st.pos + 2] | (inp[st.pos + 3] << 8);
  st.pos += 4;
  if (len !== (~nlen & 0xffff)) throw bad("stored block length check");
  if (st.pos + len > inp.length) throw bad("stored block cut short");
  for (let i = 0; i < len; i++) st.put(inp[st.pos++]);
}

let fixedCodes = null;

function fixed(st) {
  if (fixedCodes === null) {
    const lengths = new Uint8Array(FIXLCODES + MAXDCODES);
    let s = 0;
    for (; s < 144; s++) lengths[s] = 8;
    for (; s < 256; s++) lengths[s] = 9;
    for (; s < 280; s++) lengths[s] = 7;
    for (; s < FIXLCODES; s++) lengths[s] = 8;
    for (; s < FIXLCODES + MAXDCODES; s++) lengths[s] = 5;
    const lencode = new Huffman(FIXLCODES);
    const distcode = new Huffman(MAXDCODES);
    construct(lencode, lengths, 0, FIXLCODES);
    construct(distcode, lengths, FIXLCODES, MAXDCODES);
    fixedCodes = [lencode, distcode];
  }
  codes(st, fixedCodes[0], fixedCodes[1]);
}

function dynamic(st) {
  const lengths = new Uint8Array(MAXLCODES + MAXDCODES);
  const nlen = st.bits(5) + 257;
  const ndist = st.bits(5) + 1;
  const ncode = st.bits(4) + 4;
  if (nlen > MAXLCODES || ndist > MAXDCODES) throw bad("too many length or distance codes");
  let index = 0;
  for (; index < ncode; index++) lengths[ORDER[index]] = st.bits(3);
  for (; index < 19; index++) lengths[ORDER[index]] = 0;
  const lencode = new Huffman(MAXLCODES);
  const distcode = new Huffman(MAXDCODES);
  if (construct(lencode, lengths, 0, 19) !== 0) throw bad("incomplete code-length code");
  index = 0;
  while (index < nlen + ndist) {
    let symbol = decode(st, lencode);
    if (symbol < 16) {
      lengths[index++] = symbol;
    } else {
      let len = 0;
      if (symbol === 16) {
        if (index === 0) throw bad("repeat with no first length");
        len = lengths[index - 1];
        symbol = 3 + st.bits(2);
      } else if (symbol === 17) {
        symbol = 3 + st.bits(3);
      } else {
        symbol = 11 + st.bits(7);
      }
      if (index + symbol > nlen + ndist) throw bad("too many lengths");
      while (symbol--) lengths[index++] = len;
    }
  }
  if (lengths[256] === 0) throw bad("no end-of-block code");
  let err = construct(lencode, lengths, 0, nlen);
  // An incomplete code is allowed only when it is a single code of length 1 (as zlib).
  if (err && (err < 0 || nlen !== lencode.count[0] + lencode.count[1])) throw bad("bad literal/length code");
  err = construct(distcode, lengths, nlen, ndist);
  if (err && (err < 0 || ndist !== distcode.count[0] + distcode.count[1])) throw bad("bad distance code");
  codes(st, lencode, distcode);
}

/** Inflate raw DEFLATE `input` (Uint8Array) with the preset dictionary `dict`, at most `maxOut` bytes. */
export function inflateRaw(input, dict, maxOut) {
  const st = new State(input, dict, maxOut);
  let last = 0;
  do {
    last = st.bits(1);
    const type = st.bits(2);
    if (type === 0) stored(st);
    else if (type === 1) fixed(st);
    else if (type === 2) dynamic(st);
    else throw bad("invalid block type");
  } while (!last);
  if (st.pos !== input.length) {
    throw new InflateError("the QR text is damaged or altered: its compressed data is cut short or has extra bytes");
  }
  return st.out.slice(st.start, st.n);
}
