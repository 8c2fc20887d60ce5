// CRC-32 (ZIP, polynomial 0xEDB88320) and CRC-32C (Castagnoli, 0x82F63B78, used by TFRecord).
// Slicing-by-8 tables: checkpoints hold gigabytes, and a byte-at-a-time loop is ~5x slower.
// CRC-32 uses zlib's native crc32 where Node has it (>= 20.15; ~4x faster than the JS loop).
import * as zlib from 'zlib';

function makeTables(poly: number): Uint32Array[] {
  const t: Uint32Array[] = [];
  for (let k = 0; k < 8; k++) t.push(new Uint32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? poly ^ (c >>> 1) : c >>> 1;
    t[0][n] = c >>> 0;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[0][n];
    for (let k = 1; k < 8; k++) {
      c = t[0][c & 0xff] ^ (c >>> 8);
      t[k][n] = c >>> 0;
    }
  }
  return t;
}

function makeCrc(poly: number): (data: Uint8Array, prev?: number) => number {
  let tables: Uint32Array[] | undefined; // built on first use: importing has no cost
  return (data: Uint8Array, prev = 0): number => {
    tables ??= makeTables(poly);
    const [t0, t1, t2, t3, t4, t5, t6, t7] = tables;
    let c = ~prev >>> 0;
    let i = 0;
    const n = data.length;
    for (; i + 8 <= n; i += 8) {
      c ^= data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24);
      c =
        t7[c & 0xff] ^ t6[(c >>> 8) & 0xff] ^ t5[(c >>> 16) & 0xff] ^ t4[c >>> 24] ^
        t3[data[i + 4]] ^ t2[data[i + 5]] ^ t1[data[i + 6]] ^ t0[data[i + 7]];
    }
    for (; i < n; i++) c = t0[(c ^ data[i]) & 0xff] ^ (c >>> 8);
    return ~c >>> 0;
  };
}

/** CRC-32 in plain JS (the fallback; tests compare it with the native one). */
export const crc32Js = makeCrc(0xedb88320);

const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 as ZIP uses it. Pass the previous result as `prev` to continue over chunks. */
export const crc32 = nativeCrc32
  ? (data: Uint8Array, prev = 0): number => {
      let c = prev;
      const CHUNK = 1 << 30; // zlib takes a 32-bit length
      for (let i = 0; i < data.length; i += CHUNK) c = nativeCrc32(data.subarray(i, i + CHUNK), c);
      return data.length === 0 ? nativeCrc32(data, c) : c;
    }
  : crc32Js;

/** CRC-32C (Castagnoli) as TFRecord uses it. Pass the previous result as `prev` to continue. */
export const crc32c = makeCrc(0x82f63b78);
