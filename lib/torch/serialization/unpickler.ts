// A pickle reader (protocols 0-5, the opcodes CPython emits for data; no INST/OBJ code paths).
// Python objects map to JS: dict -> Map, collections.OrderedDict -> OrderedDict, list/tuple ->
// array, int -> number (bigint beyond 2^53), float -> number, str -> string, bytes -> Buffer,
// set/frozenset -> Set, None -> null. Globals and persistent ids go through caller hooks, so
// only names the caller allow-lists can ever be constructed.
import { OP, OrderedDict } from './pickle';
import { SerializationError } from './errors';

export interface UnpickleHooks {
  /** Resolve `module.name`. Return a function to allow REDUCE/NEWOBJ with it, or any marker value. */
  findClass(module: string, name: string): unknown;
  /** Turn a persistent id (torch: `('storage', type, key, location, numel)`) into an object. */
  persistentLoad?(pid: unknown): unknown;
  /** Apply BUILD state to a non-OrderedDict object; default: error. */
  build?(obj: unknown, state: unknown): unknown;
}

/** A callable global: REDUCE and NEWOBJ call it with the unpickled arguments. */
export type PyCallable = (...args: unknown[]) => unknown;

const MARK = Symbol('mark');

export function unpickle(data: Uint8Array, hooks: UnpickleHooks, label = 'pickle'): unknown {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let pos = 0;
  let stack: unknown[] = [];
  const marks: unknown[][] = [];
  const memo = new Map<number, unknown>();
  const fail = (what: string): never => {
    throw new SerializationError(`${label}: ${what} (at byte ${pos} of ${buf.length})`);
  };
  const need = (n: number): void => {
    if (pos + n > buf.length) fail('unexpected end of data (truncated pickle)');
  };
  const u8 = (): number => (need(1), buf[pos++]);
  const u16 = (): number => (need(2), (pos += 2), buf.readUInt16LE(pos - 2));
  const u32 = (): number => (need(4), (pos += 4), buf.readUInt32LE(pos - 4));
  const u64 = (): number => {
    need(8);
    const v = buf.readBigUInt64LE(pos);
    pos += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail('length too large');
    return Number(v);
  };
  const take = (n: number): Buffer => (need(n), (pos += n), buf.subarray(pos - n, pos));
  const line = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) fail('unexpected end of data in a text opcode');
    const s = buf.toString('utf8', pos, end);
    pos = end + 1;
    return s;
  };
  const lineBytes = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) fail('unexpected end of data in a text opcode');
    const s = buf.toString('latin1', pos, end);
    pos = end + 1;
    return s;
  };
  const pop = (): unknown => (stack.length === 0 ? fail('stack underflow') : stack.pop());
  const top = (): unknown => (stack.length === 0 ? fail('stack underflow') : stack[stack.length - 1]);
  const popMark = (): unknown[] => {
    const items = stack;
    const prev = marks.pop();
    if (!prev) fail('MARK expected');
    stack = prev as unknown[];
    return items;
  };
  const decodeLong = (b: Buffer): number | bigint => {
    let v = 0n;
    for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
    if (b.length > 0 && b[b.length - 1] & 0x80) v -= 1n << BigInt(8 * b.length);
    return int(v);
  };
  const call = (fn: unknown, args: unknown, op: string): unknown => {
    if (typeof fn !== 'function') fail(`${op} of a non-callable ${String(fn)}`);
    if (!Array.isArray(args)) fail(`${op} arguments are not a tuple`);
    return (fn as PyCallable)(...(args as unknown[]));
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Map)) fail('SETITEM(S) on a non-dict');
    for (let i = 0; i + 1 < items.length; i += 2) (target as Map<unknown, unknown>).set(items[i], items[i + 1]);
  };
  const extend = (target: unknown, items: unknown[]): void => {
    if (Array.isArray(target)) target.push(...items);
    else if (target instanceof Set) items.forEach((x) => target.add(x));
    else fail('APPEND(S) on a non-list');
  };

  for (;;) {
    const op = u8();
    switch (op) {
      case OP.PROTO: u8(); break;
      case OP.FRAME: u64(); break; // frames only bound reads; data is already in memory
      case OP.STOP: {
        const result = pop();
        return result;
      }
      case OP.MARK: marks.push(stack); stack = []; break;
      case OP.POP: if (stack.length > 0) stack.pop(); else popMark(); break;
      case OP.POP_MARK: popMark(); break;
      case OP.DUP: stack.push(top()); break;
      case OP.NONE: stack.push(null); break;
      case OP.NEWTRUE: stack.push(true); break;
      case OP.NEWFALSE: stack.push(false); break;
      case OP.BININT: stack.push((need(4), (pos += 4), buf.readInt32LE(pos - 4))); break;
      case OP.BININT1: stack.push(u8()); break;
      case OP.BININT2: stack.push(u16()); break;
      case OP.LONG1: stack.push(decodeLong(take(u8()))); break;
      case OP.LONG4: stack.push(decodeLong(take(u32()))); break;
      case OP.INT: {
        const s = line();
        stack.push(s === '00' ? false : s === '01' ? true : int(BigInt(s)));
        break;
      }
      case OP.LONG: stack.push(int(BigInt(line().replace(/L$/, '')))); break;
      case OP.FLOAT: stack.push(parseFloat(line())); break;
      case OP.BINFLOAT: stack.push((need(8), (pos += 8), buf.readDoubleBE(pos - 8))); break;
      case OP.UNICODE: stack.push(rawUnicodeEscape(lineBytes())); break;
      case OP.STRING: stack.push(stringRepr(lineBytes())); break;
      case OP.BINUNICODE: stack.push(take(u32()).toString('utf8')); break;
      case OP.SHORT_BINUNICODE: stack.push(take(u8()).toString('utf8')); break;
      case OP.BINUNICODE8: stack.push(take(u64()).toString('utf8')); break;
      // Python 2 str: torch writes ASCII names this way in old files; decode as latin1 text.
      case OP.BINSTRING: stack.push(take(u32()).toString('latin1')); break;
      case OP.SHORT_BINSTRING: stack.push(take(u8()).toString('latin1')); break;
      case OP.BINBYTES: stack.push(Buffer.from(take(u32()))); break;
      case OP.SHORT_BINBYTES: stack.push(Buffer.from(take(u8()))); break;
      case OP.BINBYTES8: case OP.BYTEARRAY8: stack.push(Buffer.from(take(u64()))); break;
      case OP.EMPTY_TUPLE: stack.push([]); break;
      case OP.TUPLE1: stack.push([pop()]); break;
      case OP.TUPLE2: { const b = pop(); const a = pop(); stack.push([a, b]); break; }
      case OP.TUPLE3: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; }
      case OP.TUPLE: { const items = popMark(); stack.push(items); break; } // popMark swaps `stack`
      case OP.EMPTY_LIST: stack.push([]); break;
      case OP.LIST: { const items = popMark(); stack.push(items); break; }
      case OP.APPEND: { const v = pop(); extend(top(), [v]); break; }
      case OP.APPENDS: { const items = popMark(); extend(top(), items); break; }
      case OP.EMPTY_DICT: stack.push(new Map()); break;
      case OP.DICT: { const items = popMark(); const d = new Map(); setItems(d, items); stack.push(d); break; }
      case OP.SETITEM: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; }
      case OP.SETITEMS: { const items = popMark(); setItems(top(), items); break; }
      case OP.EMPTY_SET: stack.push(new Set()); break;
      case OP.ADDITEMS: { const items = popMark(); extend(top(), items); break; }
      case OP.FROZENSET: { const items = popMark(); stack.push(new Set(items)); break; }
      case OP.BINPUT: memo.set(u8(), top()); break;
      case OP.LONG_BINPUT: memo.set(u32(), top()); break;
      case OP.PUT: memo.set(Number(line()), top()); break;
      case OP.MEMOIZE: memo.set(memo.size, top()); break;
      case OP.BINGET: case OP.LONG_BINGET: case OP.GET: {
        const i = op === OP.BINGET ? u8() : op === OP.LONG_BINGET ? u32() : Number(line());
        if (!memo.has(i)) fail(`memo key ${i} missing`);
        stack.push(memo.get(i));
        break;
      }
      case OP.GLOBAL: { const module = line(); const name = line(); stack.push(hooks.findClass(module, name)); break; }
      case OP.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') fail('STACK_GLOBAL needs two strings');
        stack.push(hooks.findClass(module as string, name as string));
        break;
      }
      case OP.REDUCE: { const args = pop(); const fn = pop(); stack.push(call(fn, args, 'REDUCE')); break; }
      case OP.NEWOBJ: { const args = pop(); const cls = pop(); stack.push(call(cls, args, 'NEWOBJ')); break; }
      case OP.NEWOBJ_EX: {
        const kwargs = pop();
        const args = pop();
        const cls = pop();
        if (kwargs instanceof Map && kwargs.size > 0) fail('NEWOBJ_EX with keyword arguments is not supported');
        stack.push(call(cls, args, 'NEWOBJ_EX'));
        break;
      }
      case OP.BUILD: {
        const state = pop();
        const obj = top();
        if (obj instanceof OrderedDict) {
          // state_dict()'s `_metadata` arrives here as the instance __dict__
          if (!(state instanceof Map)) fail('BUILD state of an OrderedDict is not a dict');
          obj.attributes = new Map([...(obj.attributes ?? []), ...(state as Map<string, unknown>)]);
        } else if (hooks.build) {
          stack[stack.length - 1] = hooks.build(obj, state);
        } else {
          fail(`BUILD of an unsupported object`);
        }
        break;
      }
      case OP.BINPERSID: case OP.PERSID: {
        const pid = op === OP.BINPERSID ? pop() : line();
        if (!hooks.persistentLoad) fail('persistent id found but no persistent_load given');
        stack.push(hooks.persistentLoad!(pid));
        break;
      }
      default:
        fail(`unsupported pickle opcode 0x${op.toString(16)}`);
    }
  }
}

function int(v: bigint): number | bigint {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

// Protocol 0 text forms: UNICODE holds raw-unicode-escape, STRING a quoted Python 2 str repr.
function rawUnicodeEscape(s: string): string {
  return s.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_, u4?: string, u8?: string) =>
    String.fromCodePoint(parseInt((u4 ?? u8) as string, 16)),
  );
}

function stringRepr(s: string): string {
  const q = s[0];
  if ((q !== "'" && q !== '"') || s[s.length - 1] !== q) throw new SerializationError('STRING opcode without quotes');
  const escapes: Record<string, string> = { n: '\n', r: '\r', t: '\t', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
  return s.slice(1, -1).replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) =>
    e[0] === 'x' ? String.fromCharCode(parseInt(e.slice(1), 16)) : escapes[e] ?? `\\${e}`,
  );
}
