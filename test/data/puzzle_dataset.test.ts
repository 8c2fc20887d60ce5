import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import * as torch from "../../lib/torch";
import { SetWriter, setFile, writeSplitMetadata } from "../../lib/data/builders/common";
import { buildSudokuDataset } from "../../lib/data/builders/sudoku";
import { DatasetError } from "../../lib/data/errors";
import { generateSudokuCsv } from "../../lib/data/generators/sudoku";
import { encodeNpyHeader, readNpyHeader, writeNpy } from "../../lib/data/npy";
import { PuzzleDataset, PuzzleDatasetConfig } from "../../lib/data/puzzle_dataset";
import { BatchItem, IGNORE_LABEL_ID, IndexBatch, PuzzleSetIndex, iterBatchIndices, iterBatches, loadMergedMetadata, loadPuzzleSets } from "../../lib/data/sampling";
import { tempDir } from "./helpers";

const dirs: string[] = [];
function scratch(prefix: string): string {
  const d = tempDir(prefix);
  dirs.push(d);
  return d;
}

const config = (paths: string[], over: Partial<PuzzleDatasetConfig> = {}): PuzzleDatasetConfig => ({
  dataset_paths: paths, split: "train", global_batch_size: 4, rank: 0, num_replicas: 1, seed: 5, test_set_mode: false, epochs_per_iter: 1, ...over,
});

interface Plain {
  setName: string;
  inputs: number[];
  labels: number[];
  ids: number[];
  effective: number;
}

/** One pass of a freshly opened dataset, closed afterwards. */
async function drainOnce(c: PuzzleDatasetConfig): Promise<Plain[]> {
  const ds = new PuzzleDataset(c);
  try {
    return await drain(ds);
  } finally {
    ds.close();
  }
}

/** Reads a tensor batch into arrays and disposes it (the consumer owns yielded batches). */
async function drain(ds: PuzzleDataset): Promise<Plain[]> {
  const out: Plain[] = [];
  for await (const item of ds) {
    const { inputs, labels, puzzle_identifiers } = item.batch;
    assert.deepEqual([inputs.dtype, labels.dtype, puzzle_identifiers.dtype], ["int32", "int32", "int32"]);
    assert.deepEqual(inputs.shape, [ds.localBatchSize, ds.metadata.seq_len]);
    assert.deepEqual(labels.shape, inputs.shape);
    assert.deepEqual(puzzle_identifiers.shape, [ds.localBatchSize]);
    out.push({ setName: item.setName, inputs: inputs.toArray(), labels: labels.toArray(), ids: puzzle_identifiers.toArray(), effective: item.effectiveBatchSize });
    torch.dispose(item.batch);
  }
  return out;
}

const plain = (item: BatchItem): Plain => ({
  setName: item.setName,
  inputs: Array.from(item.batch.inputs),
  labels: Array.from(item.batch.labels),
  ids: Array.from(item.batch.puzzle_identifiers),
  effective: item.effectiveBatchSize,
});

/** The in-memory reference: the official index logic over arrays read into the JS heap. */
function reference(c: PuzzleDatasetConfig, passes: number): Plain[][] {
  const meta = loadMergedMetadata(c.dataset_paths, c.split);
  const sets = loadPuzzleSets(c.dataset_paths, c.split, meta);
  const sampling = {
    seed: c.seed, globalBatchSize: c.global_batch_size, testSetMode: c.test_set_mode, epochsPerIter: c.epochs_per_iter, rank: c.rank, numReplicas: c.num_replicas,
  };
  const state = { iters: 0 };
  return Array.from({ length: passes }, () => [...iterBatches(sets, meta, sampling, state)].map(plain));
}

/** A batch as bytes: what "byte-identical" compares. */
interface Raw {
  setName: string;
  effective: number;
  tensors: { dtype: string; shape: number[]; bytes: Buffer }[];
}

function raw(setName: string, effective: number, tensors: torch.Tensor[]): Raw {
  return {
    setName,
    effective,
    tensors: tensors.map((t) => {
      const a = t.toTypedArray();
      return { dtype: t.dtype, shape: t.shape, bytes: Buffer.from(a.buffer, a.byteOffset, a.byteLength) };
    }),
  };
}

/**
 * The synchronous path batches were assembled with before they moved to a worker thread: the same
 * memory-mapped arrays, index_select / full / copy_ / masked_fill_ called one by one from JS.
 */
function syncBatches(c: PuzzleDatasetConfig, passes: number): Raw[][] {
  const meta = loadMergedMetadata(c.dataset_paths, c.split);
  const arrays = loadPuzzleSets(c.dataset_paths, c.split, meta);
  const sampling = {
    seed: c.seed, globalBatchSize: c.global_batch_size, testSetMode: c.test_set_mode, epochsPerIter: c.epochs_per_iter, rank: c.rank, numReplicas: c.num_replicas,
  };
  const B = c.global_batch_size / c.num_replicas;
  const mapped = new Map<string, Record<"inputs" | "labels" | "puzzle_identifiers", torch.Tensor>>();
  const index = new Map<string, PuzzleSetIndex>();
  for (const setName of meta.sets) {
    c.dataset_paths.forEach((p, i) => {
      const name = i > 0 ? `${setName}${i}` : setName;
      const map = (field: "inputs" | "labels" | "puzzle_identifiers") => {
        const file = setFile(path.join(p, c.split), setName, field);
        const h = readNpyHeader(file);
        return torch.keep(torch.mmapFile(file, h.dataOffset, h.dtype as torch.DType, h.shape));
      };
      mapped.set(name, { inputs: map("inputs"), labels: map("labels"), puzzle_identifiers: map("puzzle_identifiers") });
      const a = arrays.get(name)!;
      index.set(name, { numExamples: a.inputs.shape[0], puzzle_indices: a.puzzle_indices, group_indices: a.group_indices });
    });
  }
  const assemble = (b: IndexBatch): Raw =>
    torch.tidy(() => {
      const set = mapped.get(b.setName)!;
      const n = b.exampleIndices.length;
      const gather = (src: torch.Tensor, idx: Int32Array, shape: number[], pad: number): torch.Tensor => {
        const picked = src.indexSelect(0, torch.fromTypedArray(idx).to("int64"));
        if (n === B) return picked.to("int32");
        const out = torch.full(shape, pad, { dtype: "int32" });
        if (n > 0) out.narrow(0, 0, n).copy_(picked);
        return out;
      };
      const inputs = gather(set.inputs, b.exampleIndices, [B, meta.seq_len], meta.pad_id);
      const labels = gather(set.labels, b.exampleIndices, [B, meta.seq_len], IGNORE_LABEL_ID);
      if (meta.ignore_label_id !== null && n > 0) {
        const head = labels.narrow(0, 0, n);
        head.maskedFill_(head.eq(meta.ignore_label_id), IGNORE_LABEL_ID);
      }
      const ids = gather(set.puzzle_identifiers, b.puzzleIndices, [B], meta.blank_identifier_id);
      return raw(b.setName, b.effectiveBatchSize, [inputs, labels, ids]);
    });
  try {
    const state = { iters: 0 };
    return Array.from({ length: passes }, () => [...iterBatchIndices(index, sampling, state)].map(assemble));
  } finally {
    for (const m of mapped.values()) torch.dispose(m);
  }
}

/** Resolves once `cond()` holds, checking on each turn of the event loop (fails after `ms`). */
async function until(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Puzzles of several examples in groups of several puzzles; example e has inputs e+1 (mod 250)
 * and labels [e+1, 0 (ignored), ...]; identifiers 1 + puzzle.
 */
function writeGrouped(dir: string, groups: number[][], seqLen = 5, meta: { pad_id?: number; blank_identifier_id?: number } = {}): void {
  for (const split of ["train", "test"]) {
    const w = new SetWriter(path.join(dir, split), "all", seqLen);
    let e = 0;
    let p = 0;
    for (const g of groups) {
      for (const size of g) {
        for (let k = 0; k < size; k++, e++) {
          const v = 1 + (e % 250);
          const label = new Uint8Array(seqLen).fill(v);
          label[1] = 0;
          w.addExample(new Uint8Array(seqLen).fill(v), label);
        }
        w.endPuzzle(1 + p++);
      }
      w.endGroup();
    }
    writeSplitMetadata(path.join(dir, split), {
      pad_id: meta.pad_id ?? 0, ignore_label_id: 0, blank_identifier_id: meta.blank_identifier_id ?? 0, vocab_size: 256, seq_len: seqLen, num_puzzle_identifiers: p + 1,
    }, { all: w.close() });
  }
}

const GROUPS = [[2, 3], [1], [4], [2, 2], [5], [3], [1, 1, 1], [6], [2], [3, 1], [1, 4], [2, 2, 2]];

describe("PuzzleDataset (memory-mapped)", () => {
  let sudoku: string;
  let grouped: string;

  after(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  before(function () {
    this.timeout(60000);
    const src = scratch("pd-sudoku-src");
    generateSudokuCsv({ outputDir: src, size: 9, numTrain: 10, numTest: 7, givens: 40, seed: 2, verbose: false });
    sudoku = scratch("pd-sudoku");
    buildSudokuDataset({ sourceRepo: src, outputDir: sudoku, numAug: 3, seed: 1, verbose: false });
    grouped = scratch("pd-grouped");
    writeGrouped(grouped, GROUPS, 5, { pad_id: 7, blank_identifier_id: 9 });
  });

  describe("semantics equal the in-memory sampling functions", () => {
    const cases: [string, Partial<PuzzleDatasetConfig>][] = [
      ["train", {}],
      ["train, batch 6, 2 epochs per pass", { global_batch_size: 6, epochs_per_iter: 2 }],
      ["train, rank 1 of 2", { global_batch_size: 6, num_replicas: 2, rank: 1 }],
      ["test mode", { test_set_mode: true, global_batch_size: 8 }],
      ["test mode, rank 1 of 2", { test_set_mode: true, global_batch_size: 8, num_replicas: 2, rank: 1 }],
      ["test split", { split: "test", test_set_mode: true, global_batch_size: 5 }],
    ];
    for (const [name, over] of cases) {
      it(`${name}: Sudoku and grouped datasets, over successive passes`, async () => {
        for (const dir of [sudoku, grouped]) {
          const c = config([dir], over);
          const want = reference(c, 3);
          const ds = new PuzzleDataset(c);
          try {
            for (let pass = 0; pass < 3; pass++) {
              const got = await drain(ds);
              assert.ok(got.length > 0);
              assert.deepEqual(got, want[pass], `${dir} pass ${pass}`);
            }
          } finally {
            ds.close();
          }
        }
      });
    }

    it("starts a pass at a given iteration (resuming), as the official _iters counter", async () => {
      const c = config([grouped, grouped], { global_batch_size: 6 });
      const want = reference(c, 4);
      const ds = new PuzzleDataset(c);
      try {
        const third = [];
        for await (const item of ds.batches({ iter: 2 })) {
          third.push({ setName: item.setName, inputs: item.batch.inputs.toArray(), labels: item.batch.labels.toArray(), ids: item.batch.puzzle_identifiers.toArray(), effective: item.effectiveBatchSize });
          torch.dispose(item.batch);
        }
        assert.deepEqual(third, want[2]);
        assert.deepEqual(await drain(ds), want[3], "the counter continues from there");
      } finally {
        ds.close();
      }
    });

    it("merges several data paths, suffixing the later paths' set names", async () => {
      const c = config([grouped, grouped], { global_batch_size: 6 });
      const ds = new PuzzleDataset(c);
      assert.deepEqual(ds.setNames, ["all", "all1"]);
      assert.equal(ds.metadata.total_puzzles, 2 * GROUPS.flat().length);
      const got = await drain(ds);
      ds.close();
      assert.deepEqual(got, reference(c, 1)[0]);
      assert.ok(got.some((b) => b.setName === "all1"));
    });
  });

  it("gives ranks disjoint slices that together make the global batch", async () => {
    const whole = await drainOnce(config([grouped], { global_batch_size: 8 }));
    const ranks = await Promise.all([0, 1, 2, 3].map((rank) => drainOnce(config([grouped], { global_batch_size: 8, num_replicas: 4, rank }))));
    assert.ok(whole.length >= 3);
    whole.forEach((w, k) => {
      assert.deepEqual(ranks.flatMap((r) => r[k].inputs), w.inputs);
      assert.deepEqual(ranks.flatMap((r) => r[k].ids), w.ids);
      for (const r of ranks) assert.equal(r[k].effective, 8);
    });
  });

  it("maps ignore_label_id to -100 and pads the last test batch with pad_id, -100 and the blank identifier", async () => {
    const total = GROUPS.flat().reduce((a, b) => a + b, 0); // 48 examples
    const L = 5;
    const B = 7;
    const got = await drainOnce(config([grouped], { test_set_mode: true, global_batch_size: B }));
    assert.equal(got.length, Math.ceil(total / B));
    const last = got[got.length - 1];
    const real = total % B;
    assert.ok(real > 0);
    assert.equal(last.effective, real);
    assert.deepEqual(last.inputs.slice(real * L), new Array((B - real) * L).fill(7));
    assert.deepEqual(last.labels.slice(real * L), new Array((B - real) * L).fill(IGNORE_LABEL_ID));
    assert.deepEqual(last.ids.slice(real), new Array(B - real).fill(9));
    const rows = got.flatMap((b) => b.inputs.filter((_, j) => j % L === 0).slice(0, b.effective));
    assert.deepEqual(rows, Array.from({ length: total }, (_, e) => e + 1), "every example once, in order");
    for (const b of got) {
      for (let r = 0; r < b.effective; r++) assert.deepEqual(b.labels.slice(r * L, r * L + 3), [b.inputs[r * L], IGNORE_LABEL_ID, b.inputs[r * L]]);
    }
  });

  describe("gathered on a worker thread", () => {
    const cases: [string, Partial<PuzzleDatasetConfig>][] = [
      ["train", { global_batch_size: 6, epochs_per_iter: 2 }],
      ["train, rank 1 of 2, prefetch 3", { global_batch_size: 6, num_replicas: 2, rank: 1, prefetch: 3 }],
      ["train, prefetch 0", { prefetch: 0 }],
      ["test mode, padded last batch", { test_set_mode: true, global_batch_size: 7 }],
      ["test split, padded, rank 1 of 2", { split: "test", test_set_mode: true, global_batch_size: 10, num_replicas: 2, rank: 1 }],
    ];
    for (const [name, over] of cases) {
      it(`${name}: batches are byte-identical to the synchronous path`, async () => {
        for (const dirs of [[sudoku], [grouped], [grouped, grouped]]) {
          const c = config(dirs, over);
          const want = syncBatches(c, 2);
          const ds = new PuzzleDataset(c);
          try {
            for (let pass = 0; pass < 2; pass++) {
              const got: Raw[] = [];
              for await (const item of ds) {
                const { inputs, labels, puzzle_identifiers } = item.batch;
                got.push(raw(item.setName, item.effectiveBatchSize, [inputs, labels, puzzle_identifiers]));
                torch.dispose(item.batch);
              }
              assert.ok(got.length > 0);
              assert.deepEqual(got, want[pass], `${dirs.join(", ")} pass ${pass}`);
            }
          } finally {
            ds.close();
          }
        }
      });
    }

    it("frees gathers still in flight when the pass is broken off, and leaks nothing", async () => {
      const ds = new PuzzleDataset(config([sudoku], { global_batch_size: 2, prefetch: 3 }));
      const before = torch.memory().tensors;
      const it = ds.batches();
      const first = await it.next();
      assert.ok(!first.done);
      const second = it.next(); // asked for before the break: this batch is the consumer's
      await it.return(); // the gather second's next() started is surely in flight: no turn of the loop since
      const r = await second;
      assert.ok(!r.done);
      assert.equal(torch.memory().tensors, before + 2 * 3, "only the two handed-out batches are left, for their owner");
      torch.dispose([first.value.batch, r.value.batch]);
      assert.equal(torch.memory().tensors, before);
      assert.equal(it.stats.batches, 2);
      assert.deepEqual(await it.next(), { done: true, value: undefined });

      for await (const item of ds) {
        torch.dispose(item.batch);
        break; // for-await's return() with three gathers in flight
      }
      assert.equal(torch.memory().tensors, before);
      ds.close();
    });

    it("holds prefetched batches while the consumer is busy, and frees them on return()", async () => {
      const ds = new PuzzleDataset(config([sudoku], { global_batch_size: 2, prefetch: 3 }));
      const before = torch.memory().tensors;
      const it = ds.batches();
      const first = await it.next();
      assert.ok(!first.done);
      await until(() => torch.memory().tensors === before + 4 * 3, "first batch plus three prefetched");
      await it.return();
      assert.equal(torch.memory().tensors, before + 3);
      torch.dispose(first.value.batch);
      assert.equal(torch.memory().tensors, before);
      ds.close();
    });

    it("finishes a gather in flight when the dataset is closed meanwhile (the worker holds the mapping)", async () => {
      const c = config([grouped], { test_set_mode: true, global_batch_size: 7, prefetch: 0 });
      const want = syncBatches(c, 1)[0][0];
      const ds = new PuzzleDataset(c);
      const it = ds.batches();
      const pending = it.next();
      ds.close();
      const r = await pending;
      assert.ok(!r.done);
      const { inputs, labels, puzzle_identifiers } = r.value.batch;
      assert.deepEqual(raw(r.value.setName, r.value.effectiveBatchSize, [inputs, labels, puzzle_identifiers]), want);
      torch.dispose(r.value.batch);
      await it.return();
    });

    it("hands out ordinary tensors: in-place ops work outside inference mode, nothing requires grad", async () => {
      const ds = new PuzzleDataset(config([sudoku], { global_batch_size: 2 }));
      for await (const item of ds) {
        assert.equal(item.batch.inputs.requiresGrad, false);
        item.batch.inputs.add_(1); // an inference tensor would refuse this
        torch.dispose(item.batch);
        break;
      }
      ds.close();
    });

    it("ends the pass with the worker's TorchError and frees the batches behind it", async () => {
      const ds = new PuzzleDataset(config([grouped], { global_batch_size: 2, prefetch: 2 }));
      const before = torch.memory().tensors;
      type Assemble = (this: PuzzleDataset, sets: unknown, b: IndexBatch) => Promise<unknown>;
      const inner = ds as unknown as { assemble: Assemble };
      const original = inner.assemble;
      let calls = 0;
      // The second batch asks for a row past the end of the file: the worker's bounds check throws.
      inner.assemble = function (sets, b) {
        return original.call(this, sets, ++calls === 2 ? { ...b, exampleIndices: Int32Array.of(0, 1_000_000) } : b);
      };
      const it = ds.batches();
      const first = await it.next();
      assert.ok(!first.done);
      torch.dispose(first.value.batch);
      await assert.rejects(it.next(), (e: unknown) => e instanceof torch.TorchError && e.op === "gatherRows" && /row 1000000 is out of range/.test(e.message));
      assert.deepEqual(await it.next(), { done: true, value: undefined });
      assert.equal(torch.memory().tensors, before, "the batch prefetched behind the failed one was freed");
      ds.close();
    });

    it("records the data wait and the worker's gather time", async () => {
      const ds = new PuzzleDataset(config([sudoku], { global_batch_size: 4, epochs_per_iter: 20 }));
      const it = ds.batches();
      for await (const item of it) {
        const t = performance.now();
        while (performance.now() - t < 1); // a synchronous step: the next batch is gathered meanwhile
        torch.dispose(item.batch);
      }
      const s = it.stats;
      assert.ok(s.batches > 20);
      assert.ok(s.assembleSeconds > 0);
      assert.ok(s.waitSeconds > 0 && s.waitSeconds < s.elapsedSeconds, JSON.stringify(s));
      assert.ok(s.elapsedSeconds >= s.batches * 0.001, JSON.stringify(s));
      ds.close();
    });
  });

  describe("prefetch and ownership", () => {
    it("survives tidy around the consumer's step; batches are disposed by the consumer only", async () => {
      const ds = new PuzzleDataset(config([sudoku], { global_batch_size: 2 }));
      for await (const item of ds) {
        torch.tidy(() => item.batch.inputs.add(1)); // a step in a scope must not free the batch
        assert.ok(!item.batch.inputs.isDisposed);
        torch.dispose(item.batch);
      }
      ds.close();
    });

    it("prepares the next batch while the consumer awaits, so next() rarely waits", async () => {
      const ds = new PuzzleDataset(config([sudoku], { global_batch_size: 4, epochs_per_iter: 20 }));
      const it = ds.batches();
      const t0 = performance.now();
      for await (const item of it) {
        await new Promise((r) => setTimeout(r, 2)); // a step that yields (I/O, a collective, a device sync)
        torch.dispose(item.batch);
      }
      const total = (performance.now() - t0) / 1000;
      assert.ok(it.stats.batches > 20);
      assert.ok(it.stats.waitSeconds < 0.25 * total, `waited ${it.stats.waitSeconds}s of ${total}s`);
      ds.close();
    });

    it("throws after close()", async () => {
      const ds = new PuzzleDataset(config([sudoku]));
      ds.close();
      ds.close();
      assert.throws(() => ds.batches(), (e: unknown) => e instanceof DatasetError && /after close/.test((e as Error).message));
    });
  });

  describe("errors", () => {
    const isDatasetError = (pattern: RegExp, field?: string) => (e: unknown) =>
      e instanceof DatasetError && pattern.test(e.message) && (field === undefined || e.field === field);

    it("names a missing data path or split", () => {
      const missing = path.join(grouped, "nope");
      assert.throws(() => new PuzzleDataset(config([missing])), isDatasetError(/does not exist/, "dataset_paths"));
      const noSplit = scratch("pd-nosplit");
      assert.throws(() => new PuzzleDataset(config([noSplit])), isDatasetError(/no train split/));
      assert.throws(() => new PuzzleDataset(config([])), isDatasetError(/non-empty list/, "dataset_paths"));
    });

    it("rejects a malformed dataset.json", () => {
      const bad = scratch("pd-bad");
      fs.mkdirSync(path.join(bad, "train"));
      fs.writeFileSync(path.join(bad, "train", "dataset.json"), "{ not json");
      assert.throws(() => new PuzzleDataset(config([bad])), isDatasetError(/not valid JSON/));
      fs.writeFileSync(path.join(bad, "train", "dataset.json"), JSON.stringify({ pad_id: 0, seq_len: 5 }));
      assert.throws(() => new PuzzleDataset(config([bad])), isDatasetError(/missing required field/));
    });

    it("rejects data paths whose metadata disagree, naming the path and field", () => {
      const other = scratch("pd-other");
      writeGrouped(other, [[1], [2]], 6);
      assert.throws(() => new PuzzleDataset(config([grouped, other])), (e: unknown) => e instanceof DatasetError && e.field === "seq_len" && e.file === other);
    });

    it("names a missing or truncated array file", () => {
      const dir = scratch("pd-trunc");
      writeGrouped(dir, [[2], [3]], 5);
      const labels = path.join(dir, "train", "all__labels.npy");
      fs.truncateSync(labels, fs.statSync(labels).size - 3);
      assert.throws(() => new PuzzleDataset(config([dir])), (e: unknown) => e instanceof DatasetError && e.file === labels && /truncated/.test(e.message));
      fs.rmSync(labels);
      assert.throws(() => new PuzzleDataset(config([dir])), isDatasetError(/missing array file/, "labels"));
    });

    it("validates the config", () => {
      assert.throws(() => new PuzzleDataset(config([grouped], { global_batch_size: 6, num_replicas: 4 })), isDatasetError(/multiple/, "global_batch_size"));
      assert.throws(() => new PuzzleDataset(config([grouped], { rank: 2, num_replicas: 2 })), isDatasetError(/out of range/, "rank"));
      assert.throws(() => new PuzzleDataset(config([grouped], { split: "val" as "train" })), isDatasetError(/split/, "split"));
      assert.throws(() => new PuzzleDataset(config([grouped], { epochs_per_iter: 0 })), isDatasetError(/integer/, "epochs_per_iter"));
    });
  });

  // RSS counts the mapped file pages a pass touches; without MADV_RANDOM the kernel reads and
  // maps ~64 KiB around each scattered row (measured here: ~180 MiB for 3,200 random reads of a
  // 1 GiB file, 13 MiB with MADV_RANDOM), so the pass below is sized to that, and the anonymous
  // part (copies) is checked on its own.
  describe("a 2 GB dataset", () => {
    /** Anonymous resident memory (heap, malloc), Linux; 0 elsewhere. */
    const rssAnon = (): number => {
      try {
        const m = /RssAnon:\s+(\d+) kB/.exec(fs.readFileSync("/proc/self/status", "utf8"));
        return m ? Number(m[1]) * 1024 : 0;
      } catch {
        return 0;
      }
    };

    it("opens and iterates with RSS growing by less than 200 MB", async function () {
      this.timeout(60000);
      const dir = scratch("pd-2gb");
      const split = path.join(dir, "train");
      fs.mkdirSync(split);
      // ARC-like layout: seq_len 900, puzzles of 4 examples, groups of 100 puzzles; inputs and
      // labels are sparse files of 1 GiB each (only the first puzzle's rows hold data).
      const L = 900;
      const perPuzzle = 4;
      const n = Math.ceil(2 ** 30 / L / perPuzzle) * perPuzzle;
      const puzzles = n / perPuzzle;
      const groups = Math.ceil(puzzles / 100);
      for (const field of ["inputs", "labels"]) {
        const fd = fs.openSync(path.join(split, `all__${field}.npy`), "w");
        const header = encodeNpyHeader("uint8", [n, L]);
        fs.writeSync(fd, header);
        fs.writeSync(fd, Buffer.alloc(perPuzzle * L, 3), 0, perPuzzle * L, header.length);
        fs.ftruncateSync(fd, header.length + n * L);
        fs.closeSync(fd);
      }
      const i32 = (f: (i: number) => number, len: number) => ({ dtype: "int32" as const, shape: [len], data: Int32Array.from({ length: len }, (_, i) => f(i)) });
      writeNpy(path.join(split, "all__puzzle_identifiers.npy"), i32((i) => 1 + (i % 1000), puzzles));
      writeNpy(path.join(split, "all__puzzle_indices.npy"), i32((i) => i * perPuzzle, puzzles + 1));
      writeNpy(path.join(split, "all__group_indices.npy"), i32((i) => Math.min(i * 100, puzzles), groups + 1));
      writeSplitMetadata(split, { pad_id: 0, ignore_label_id: 0, blank_identifier_id: 0, vocab_size: 12, seq_len: L, num_puzzle_identifiers: 1001 },
        { all: { totalExamples: n, totalPuzzles: puzzles, totalGroups: groups } });
      const bytes = 2 * (n * L);
      assert.ok(bytes >= 2 * 10 ** 9);

      const rss0 = process.memoryUsage().rss;
      const anon0 = rssAnon();
      const train = new PuzzleDataset(config([dir], { global_batch_size: 32 }));
      const test = new PuzzleDataset(config([dir], { global_batch_size: 64, test_set_mode: true }));
      assert.equal(train.numExamples.get("all"), n);
      const rssOpen = process.memoryUsage().rss;

      let batches = 0;
      for await (const item of train) {
        assert.deepEqual(item.batch.inputs.shape, [32, L]);
        torch.dispose(item.batch);
        if (++batches === 50) break;
      }
      let t = 0;
      for await (const item of test) {
        if (t === 0) {
          assert.deepEqual(item.batch.inputs.narrow(0, 0, perPuzzle + 1).sum([1]).toArray(), [3 * L, 3 * L, 3 * L, 3 * L, 0]);
          assert.equal(item.batch.labels.narrow(0, perPuzzle, 1).eq(IGNORE_LABEL_ID).all().item(), 1, "zero labels are ignore_label_id");
        }
        torch.dispose(item.batch);
        if (++t === 20) break;
      }
      const rss1 = process.memoryUsage().rss;
      const anon1 = rssAnon();
      train.close();
      test.close();
      const mb = (x: number) => (x / 2 ** 20).toFixed(1);
      console.log(`      ${mb(bytes)} MiB mapped; RSS +${mb(rssOpen - rss0)} MiB after opening, +${mb(rss1 - rss0)} MiB ` +
        `(anonymous +${mb(anon1 - anon0)} MiB) after ${batches} train + ${t} test batches`);
      assert.ok(rssOpen - rss0 < 50 * 2 ** 20, `opening grew RSS by ${mb(rssOpen - rss0)} MiB`);
      assert.ok(rss1 - rss0 < 200 * 2 ** 20, `RSS grew by ${mb(rss1 - rss0)} MiB`);
      assert.ok(anon1 - anon0 < 64 * 2 ** 20, `anonymous memory grew by ${mb(anon1 - anon0)} MiB: data was copied`);
      fs.rmSync(dir, { recursive: true, force: true });
    });
  });
});
