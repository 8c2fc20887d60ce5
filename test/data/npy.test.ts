import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { DatasetError } from "../../lib/data/errors";
import { NpyArray, NpyRowWriter, encodeNpy, parseNpy, parseNpyHeader, readNpy, readNpyHeader, writeNpy } from "../../lib/data/npy";
import { hasNumpy, python, tempDir } from "./helpers";

const SAMPLES: NpyArray[] = [
  { dtype: "int8", shape: [2, 3], data: Int8Array.from([-128, -1, 0, 1, 2, 127]) },
  { dtype: "uint8", shape: [6], data: Uint8Array.from([0, 1, 2, 11, 200, 255]) },
  { dtype: "int16", shape: [3, 2], data: Int16Array.from([-32768, -2, 0, 5, 300, 32767]) },
  { dtype: "int32", shape: [2, 2, 2], data: Int32Array.from([-2147483648, -1, 0, 1, 2, 3, 4, 2147483647]) },
  { dtype: "int64", shape: [3], data: BigInt64Array.from([-(2n ** 63n), 0n, 2n ** 62n + 7n]) },
  { dtype: "float32", shape: [4], data: Float32Array.from([-1.5, 0, 3.25, 1e30]) },
  { dtype: "float64", shape: [2, 2], data: Float64Array.from([Math.PI, -0, 1e-300, -2.5]) },
  { dtype: "bool", shape: [5], data: Uint8Array.from([1, 0, 0, 1, 1]) },
  { dtype: "int32", shape: [0, 900], data: new Int32Array(0) },
  { dtype: "float64", shape: [], data: Float64Array.from([42]) },
];

describe("npy", () => {
  it("round-trips every supported dtype and shape", () => {
    for (const a of SAMPLES) {
      const buf = encodeNpy(a);
      const b = parseNpy(buf);
      assert.equal(b.dtype, a.dtype);
      assert.deepEqual(b.shape, a.shape);
      assert.deepEqual(Array.from(b.data as ArrayLike<unknown>), Array.from(a.data as ArrayLike<unknown>));
    }
  });

  it("pads the header so data starts at a multiple of 64 bytes", () => {
    for (const a of SAMPLES) {
      const buf = encodeNpy(a);
      const h = parseNpyHeader(buf);
      assert.equal(h.dataOffset % 64, 0, `${a.dtype} ${a.shape}`);
      assert.equal(buf[h.dataOffset - 1], 0x0a, "header ends with a newline");
    }
  });

  it("reads only the header of a file", () => {
    const dir = tempDir("npy");
    const f = path.join(dir, "x.npy");
    writeNpy(f, SAMPLES[3]);
    assert.deepEqual(readNpyHeader(f), { dtype: "int32", shape: [2, 2, 2], dataOffset: 128 });
  });

  it("streams rows and fixes the shape on close", () => {
    const dir = tempDir("npy");
    const f = path.join(dir, "rows.npy");
    const w = new NpyRowWriter(f, "uint8", [3]);
    w.append(Uint8Array.from([1, 2, 3]));
    w.append(Uint8Array.from([4, 5, 6, 7, 8, 9]));
    w.close();
    const a = readNpy(f);
    assert.deepEqual(a.shape, [3, 3]);
    assert.deepEqual(Array.from(a.data as Uint8Array), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.throws(() => new NpyRowWriter(path.join(dir, "r2.npy"), "uint8", [3]).append(Uint8Array.from([1, 2])), DatasetError);
  });

  it("rejects bad files with a DatasetError naming the file", () => {
    const dir = tempDir("npy");
    const bad = path.join(dir, "bad.npy");
    fs.writeFileSync(bad, "not numpy at all");
    assert.throws(() => readNpy(bad), (e: unknown) => e instanceof DatasetError && e.file === bad && /magic/.test(e.message));
    const big = Buffer.from(encodeNpy(SAMPLES[3]).toString("latin1").replace("'<i4'", "'>i4'"), "latin1");
    assert.throws(() => parseNpy(big), (e: unknown) => e instanceof DatasetError && e.field === "descr");
    const fortran = Buffer.from(encodeNpy(SAMPLES[3]).toString("latin1").replace("False", "True "), "latin1");
    assert.throws(() => parseNpy(fortran), (e: unknown) => e instanceof DatasetError && e.field === "fortran_order");
    const truncated = encodeNpy(SAMPLES[3]).subarray(0, 140);
    assert.throws(() => parseNpy(truncated), /truncated/);
  });

  describe("numpy interop", function () {
    before(function () {
      if (!hasNumpy()) this.skip();
    });

    it("numpy reads what we write", () => {
      const dir = tempDir("npy");
      SAMPLES.forEach((a, i) => writeNpy(path.join(dir, `${i}.npy`), a));
      const out = JSON.parse(python(`
res = []
for i in range(${SAMPLES.length}):
    a = np.load("${dir}/" + f"{i}.npy")
    res.append([str(a.dtype), list(a.shape), [str(x) for x in a.ravel().tolist()]])
print(json.dumps(res))`));
      SAMPLES.forEach((a, i) => {
        const [dtype, shape, values] = out[i];
        assert.equal(dtype, a.dtype);
        assert.deepEqual(shape, a.shape);
        // Python prints bools as True/False and floats in repr form; compare as numbers/strings.
        const want = Array.from(a.data as ArrayLike<unknown>, (v) => (a.dtype === "bool" ? (v ? "True" : "False") : String(v)));
        const got = (values as string[]).map((v) => (a.dtype.startsWith("float") ? String(Number(v)) : v));
        assert.deepEqual(got, want, a.dtype);
      });
    });

    it("we read what numpy writes, in header versions 1, 2 and 3", () => {
      const dir = tempDir("npy");
      python(`
d = "${dir}"
np.save(d + "/u8.npy", (np.arange(24, dtype=np.uint8) * 7).reshape(2, 3, 4))
np.save(d + "/i64.npy", np.array([-5, 2**40, 7], dtype=np.int64))
np.save(d + "/f32.npy", np.array([[0.5, -1.25]], dtype=np.float32))
np.save(d + "/b.npy", np.array([True, False, True]))
np.save(d + "/sliced.npy", np.arange(12, dtype=np.int16).reshape(3, 4)[:, 1:3])
for v in [(2, 0), (3, 0)]:
    with open(d + f"/v{v[0]}.npy", "wb") as f:
        np.lib.format.write_array(f, np.arange(5, dtype=np.int32), version=v)`);
      const u8 = readNpy(path.join(dir, "u8.npy"));
      assert.deepEqual([u8.dtype, u8.shape], ["uint8", [2, 3, 4]]);
      assert.deepEqual(Array.from(u8.data as Uint8Array), Array.from({ length: 24 }, (_, i) => (i * 7) & 255));
      assert.deepEqual(Array.from(readNpy(path.join(dir, "i64.npy")).data as BigInt64Array), [-5n, 2n ** 40n, 7n]);
      assert.deepEqual(Array.from(readNpy(path.join(dir, "f32.npy")).data as Float32Array), [0.5, -1.25]);
      const b = readNpy(path.join(dir, "b.npy"));
      assert.deepEqual([b.dtype, Array.from(b.data as Uint8Array)], ["bool", [1, 0, 1]]);
      assert.deepEqual(Array.from(readNpy(path.join(dir, "sliced.npy")).data as Int16Array), [1, 2, 5, 6, 9, 10]);
      for (const v of [2, 3]) {
        const a = readNpy(path.join(dir, `v${v}.npy`));
        assert.deepEqual(Array.from(a.data as Int32Array), [0, 1, 2, 3, 4], `v${v}`);
        assert.equal(readNpyHeader(path.join(dir, `v${v}.npy`)).dataOffset % 64, 0);
      }
    });
  });
});
