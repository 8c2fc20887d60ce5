// torch.gatherRows, the native batch gather behind PuzzleDataset: the same bytes as the ops called
// one by one, work on a worker thread while the event loop turns, and TorchErrors from the worker.
import { strict as assert } from "assert";
import * as torch from "../../lib/torch";

/** index_select / full / copy_ / masked_fill_ from JS, on the main thread. */
function gatherSync(source: torch.Tensor, index: Int32Array, rows: number, fill: number, replace?: [number, number]): torch.Tensor {
  return torch.tidy(() => {
    const n = index.length;
    const picked = source.indexSelect(0, torch.fromTypedArray(index).to("int64"));
    let out = picked.to("int32");
    if (n < rows) {
      out = torch.full([rows, ...source.shape.slice(1)], fill, { dtype: "int32" });
      if (n > 0) out.narrow(0, 0, n).copy_(picked);
    }
    if (replace && n > 0) {
      const head = out.narrow(0, 0, n);
      head.maskedFill_(head.eq(replace[0]), replace[1]);
    }
    return out;
  });
}

const bytes = (t: torch.Tensor): Buffer => {
  const a = t.toTypedArray();
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
};

describe("torch.gatherRows (worker-thread gather)", () => {
  it("gives the bytes of the synchronous ops: rows, padding, replacement, several sources in one call", async () => {
    const before = torch.memory().tensors;
    const table = torch.keep(torch.randint(0, 6, [9, 5], { dtype: "uint8" }));
    const ids = torch.keep(torch.arange(100, 112, 1, { dtype: "int64" }));
    const cases: [Int32Array, number, number, [number, number] | undefined][] = [
      [Int32Array.of(3, 0, 8, 3), 4, 0, undefined],
      [Int32Array.of(3, 0, 8, 3), 4, 0, [0, -100]],
      [Int32Array.of(7, 1), 5, 9, [2, -100]],
      [new Int32Array(0), 3, -100, [0, -100]],
    ];
    for (const [index, rows, fill, replace] of cases) {
      const { tensors, seconds } = await torch.gatherRows(
        [{ source: table, index, rows, fill, replace }, { source: ids, index, rows, fill: 7 }],
        "int32",
      );
      assert.ok(seconds >= 0);
      const want = [gatherSync(table, index, rows, fill, replace), gatherSync(ids, index, rows, 7)];
      tensors.forEach((t, k) => {
        assert.equal(t.dtype, "int32");
        assert.deepEqual(t.shape, want[k].shape);
        assert.deepEqual(bytes(t), bytes(want[k]), `case ${index} rows ${rows}, output ${k}`);
      });
      torch.dispose([tensors, want]);
    }
    torch.dispose([table, ids]);
    assert.equal(torch.memory().tensors, before);
  });

  it("keeps the event loop turning while a gather is in flight", async () => {
    const source = torch.keep(torch.randint(0, 250, [4096, 1024], { dtype: "uint8" }));
    const index = Int32Array.from({ length: 2048 }, (_, i) => (i * 7919) % 4096);
    let turns = 0;
    let settled = false;
    const pending = torch.gatherRows([{ source, index, replace: [3, -100] }], "int32").finally(() => (settled = true));
    while (!settled) {
      await new Promise((r) => setImmediate(r));
      if (!settled) turns++;
    }
    const { tensors, seconds } = await pending;
    // A gather of 2M elements takes tens of ms here; each idle turn of the loop microseconds.
    assert.ok(turns >= 10, `the loop turned ${turns} times during a ${(seconds * 1000).toFixed(1)} ms gather`);
    assert.deepEqual(bytes(tensors[0]), bytes(torch.tidy(() => gatherSync(source, index, 2048, 0, [3, -100]))));
    torch.dispose([tensors, source]);
  });

  it("rejects with the worker's TorchError, naming gatherRows; nothing leaks", async () => {
    const source = torch.keep(torch.zeros([4, 3], { dtype: "int32" }));
    const before = torch.memory().tensors;
    await assert.rejects(
      torch.gatherRows([{ source, index: Int32Array.of(0) }, { source, index: Int32Array.of(1, 4) }], "int32"),
      (e: unknown) => e instanceof torch.TorchError && e.op === "gatherRows" && /row 4 is out of range for Tensor\[4, 3\] int32/.test(e.message),
    );
    await assert.rejects(torch.gatherRows([{ source, index: Int32Array.of(-1) }], "int32"), /row -1 is out of range/);
    assert.equal(torch.memory().tensors, before, "the first gather's output was freed with the failed call");
    const gone = torch.zeros([2, 2]);
    gone.dispose();
    await assert.rejects(torch.gatherRows([{ source: gone, index: Int32Array.of(0) }], "int32"), (e: unknown) => e instanceof torch.TorchError && /after dispose/.test(e.message));
    source.dispose();
  });

  it("validates its arguments", async () => {
    const source = torch.zeros([4, 3], { dtype: "int32" });
    const bad = async (g: unknown, pattern: RegExp, dtype = "int32") =>
      assert.rejects(torch.gatherRows([g as torch.RowGather], dtype as torch.DType), (e: unknown) => e instanceof TypeError && pattern.test((e as Error).message));
    await bad({ source: 3, index: Int32Array.of(0) }, /source to be a Tensor/);
    await bad({ source, index: [0] }, /index to be an Int32Array/);
    await bad({ source, index: Int32Array.of(0, 1), rows: 1 }, /rows to be an integer >= 2/);
    await bad({ source, index: Int32Array.of(0), fill: 0.5 }, /fill to be an integer/);
    await bad({ source, index: Int32Array.of(0), replace: [1] }, /replace to be \[from, to\]/);
    await bad({ source, index: Int32Array.of(0) }, /dtype/, "int33");
    source.dispose();
  });
});
