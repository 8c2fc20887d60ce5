// PuzzleDataset (official puzzle_dataset.py) over memory-mapped .npy files: the large arrays are
// mapped natively (torch.mmapFile, zero copy) and batches are gathered from them on a worker thread
// (torch.gatherRows), so a multi-GB dataset costs address space, not RSS, and the trainer's step
// runs while the next batch is assembled. Index semantics live in sampling.ts.
import * as fs from "fs";
import * as path from "path";
import * as torch from "../torch";
import type { DType, Tensor } from "../torch";
import { SET_FIELDS, setFile } from "./builders/common";
import { DatasetError } from "./errors";
import { PuzzleDatasetMetadata } from "./metadata";
import { NpyDType, NpyHeader, readNpyHeader } from "./npy";
import {
  IGNORE_LABEL_ID, IndexBatch, PuzzleSetIndex, SamplingConfig, iterBatchIndices, loadMergedMetadata, localBatchSize, validatePuzzleSet,
} from "./sampling";

/** Official PuzzleDatasetConfig plus the split and the prefetch depth. */
export interface PuzzleDatasetConfig {
  /** Dataset folders (each with train/ and test/); several merge, and must agree on metadata. */
  dataset_paths: string[];
  split: "train" | "test";
  /** Examples per step over all replicas; each rank gets global_batch_size / num_replicas. */
  global_batch_size: number;
  rank: number;
  num_replicas: number;
  seed: number;
  /** Walk every example in order and pad the last batch (evaluation) instead of sampling. */
  test_set_mode: boolean;
  /** Epochs of groups per pass over a set (official epochs_per_iter). */
  epochs_per_iter: number;
  /** Batches gathered ahead of the consumer, on worker threads (default 1; 0 gathers each when asked for). */
  prefetch?: number;
}

/** Tensors of one batch, int32, this rank's share (local batch size rows, padded in test mode). */
export type PuzzleBatch = {
  inputs: Tensor; // [B, seq_len]
  labels: Tensor; // [B, seq_len], −100 where ignored or padded
  puzzle_identifiers: Tensor; // [B]
};

export interface PuzzleBatchItem {
  setName: string;
  batch: PuzzleBatch;
  /** Examples in the whole global batch, excluding padding. */
  effectiveBatchSize: number;
}

/**
 * Where a pass spent its time. The data wait is `waitSeconds`; its share of the pass is
 * `waitSeconds / elapsedSeconds`.
 */
export interface LoaderStats {
  /** Batches handed out. */
  batches: number;
  /** Worker-thread time spent gathering batches; it overlaps the consumer's steps. */
  assembleSeconds: number;
  /**
   * The data wait: time from each next() call until its batch was handed out, i.e. what the
   * trainer actually waited for data (including the sampler's index work on the main thread).
   */
  waitSeconds: number;
  /** Time from the first next() call until the latest batch was handed out. */
  elapsedSeconds: number;
}

interface MappedSet {
  index: PuzzleSetIndex;
  inputs: Tensor; // [examples, seq_len], file dtype, mapped
  labels: Tensor; // [examples, seq_len], file dtype, mapped
  puzzleIdentifiers: Tensor; // [puzzles], mapped
}

const INT_DTYPES: readonly NpyDType[] = ["int8", "uint8", "int16", "int32", "int64"];

function checkInt(value: unknown, field: string, min: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min) {
    throw new DatasetError(`expected an integer >= ${min} but received ${JSON.stringify(value)}`, { field });
  }
  return value;
}

/**
 * Iterates a split of one or more dataset folders as tensor batches, with the official
 * semantics (see sampling.ts). Each `batches()` call (or `for await`) is one pass: in train mode
 * `epochs_per_iter` epochs of every set, seeded by seed + pass count; in test mode every example.
 *
 * Ownership: each yielded batch's tensors belong to the consumer, who disposes them
 * (`torch.dispose(item.batch)`) after the step; they are exempt from `tidy` scopes. Batches
 * prefetched but never handed out are disposed by the iterator when the pass ends or is broken
 * off. `close()` unmaps the files; the dataset cannot be iterated afterwards.
 */
export class PuzzleDataset {
  readonly config: Readonly<PuzzleDatasetConfig>;
  readonly metadata: PuzzleDatasetMetadata;
  readonly localBatchSize: number;
  private readonly sampling: SamplingConfig;
  private sets: Map<string, MappedSet> | null;
  private readonly state = { iters: 0 };

  constructor(config: PuzzleDatasetConfig) {
    this.config = { ...config };
    const paths = config.dataset_paths;
    if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === "string" && p.length > 0)) {
      throw new DatasetError(`expected a non-empty list of dataset folders but received ${JSON.stringify(paths)}`, { field: "dataset_paths" });
    }
    if (config.split !== "train" && config.split !== "test") {
      throw new DatasetError(`split must be "train" or "test" but received ${JSON.stringify(config.split)}`, { field: "split" });
    }
    const numReplicas = checkInt(config.num_replicas, "num_replicas", 1);
    const rank = checkInt(config.rank, "rank", 0);
    if (rank >= numReplicas) throw new DatasetError(`rank ${rank} is out of range for ${numReplicas} replicas`, { field: "rank" });
    const prefetch = config.prefetch ?? 1;
    checkInt(prefetch, "prefetch", 0);
    this.sampling = {
      seed: checkInt(config.seed, "seed", Number.MIN_SAFE_INTEGER),
      globalBatchSize: checkInt(config.global_batch_size, "global_batch_size", 1),
      testSetMode: Boolean(config.test_set_mode),
      epochsPerIter: checkInt(config.epochs_per_iter, "epochs_per_iter", 1),
      rank,
      numReplicas,
    };
    this.localBatchSize = localBatchSize(this.sampling);
    for (const p of paths) {
      if (!fs.existsSync(p) || !fs.statSync(p).isDirectory()) {
        throw new DatasetError(`dataset folder "${p}" does not exist (build one with "trm dataset ...")`, { file: p, field: "dataset_paths" });
      }
      const meta = path.join(p, config.split, "dataset.json");
      if (!fs.existsSync(meta)) throw new DatasetError(`dataset folder has no ${config.split} split (missing ${config.split}/dataset.json)`, { file: meta });
    }
    this.metadata = loadMergedMetadata(paths, config.split);
    this.sets = this.mapSets(paths);
  }

  /** Set names in iteration order (the i-th folder's sets get the suffix i, i > 0, as official). */
  get setNames(): string[] {
    return [...this.openSets().keys()];
  }

  /** Examples in each set (before sampling). */
  get numExamples(): Map<string, number> {
    return new Map([...this.openSets()].map(([k, s]) => [k, s.index.numExamples]));
  }

  [Symbol.asyncIterator](): BatchIterator {
    return this.batches();
  }

  /**
   * One pass over the split, prefetching `config.prefetch` batches ahead. `iter` (passes done
   * before this one, e.g. when resuming) fixes the sampling seeds as the official `_iters` counter
   * would have them; without it the dataset's own counter continues.
   */
  batches(options: { iter?: number } = {}): BatchIterator {
    const sets = this.openSets();
    if (options.iter !== undefined) this.state.iters = checkInt(options.iter, "iter", 0) * sets.size;
    const indices = iterBatchIndices(new Map([...sets].map(([k, s]) => [k, s.index])), this.sampling, this.state);
    return new BatchIterator(indices, (b) => this.assemble(sets, b), this.config.prefetch ?? 1);
  }

  /** Unmaps the files. Batches already handed out stay valid (they are copies). Idempotent. */
  close(): void {
    if (!this.sets) return;
    for (const s of this.sets.values()) torch.dispose([s.inputs, s.labels, s.puzzleIdentifiers]);
    this.sets = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private openSets(): Map<string, MappedSet> {
    if (!this.sets) throw new DatasetError("dataset used after close()", { field: "dataset_paths" });
    return this.sets;
  }

  private mapSets(paths: string[]): Map<string, MappedSet> {
    const sets = new Map<string, MappedSet>();
    const opened: Tensor[] = [];
    try {
      for (const setName of this.metadata.sets) {
        paths.forEach((p, i) => {
          const set = this.mapSet(path.join(p, this.config.split), setName, opened);
          sets.set(i > 0 ? `${setName}${i}` : setName, set);
        });
      }
    } catch (e) {
      torch.dispose(opened);
      throw e;
    }
    return sets;
  }

  private mapSet(dir: string, setName: string, opened: Tensor[]): MappedSet {
    const headers = {} as Record<(typeof SET_FIELDS)[number], NpyHeader & { file: string }>;
    for (const field of SET_FIELDS) {
      const file = setFile(dir, setName, field);
      if (!fs.existsSync(file)) throw new DatasetError(`missing array file for set "${setName}"`, { file, field });
      const h = readNpyHeader(file);
      if (!INT_DTYPES.includes(h.dtype)) throw new DatasetError(`expected an integer array but found ${h.dtype}`, { file, field });
      headers[field] = { ...h, file };
    }
    const map = (field: (typeof SET_FIELDS)[number]): Tensor => {
      const h = headers[field];
      try {
        const t = torch.keep(torch.mmapFile(h.file, h.dataOffset, h.dtype as DType, h.shape));
        opened.push(t);
        return t;
      } catch (e) {
        throw new DatasetError(`cannot map array: ${(e as Error).message}`, { file: h.file, field });
      }
    };
    // The index arrays are small (one entry per puzzle / group) and walked by the sampler in JS.
    const toNumbers = (t: Tensor): ArrayLike<number> =>
      torch.tidy(() => (t.dtype === "int64" ? t.to("float64") : t.to("int32")).toTypedArray() as Int32Array | Float64Array);
    const index = (field: "puzzle_indices" | "group_indices"): ArrayLike<number> => {
      const t = map(field);
      try {
        return toNumbers(t);
      } finally {
        t.dispose();
      }
    };
    const puzzleIndices = index("puzzle_indices");
    const groupIndices = index("group_indices");
    const shape = (field: (typeof SET_FIELDS)[number]) => headers[field].shape;
    validatePuzzleSet(
      {
        inputs: { shape: shape("inputs"), data: [] },
        labels: { shape: shape("labels"), data: [] },
        puzzle_identifiers: { length: numelOf(shape("puzzle_identifiers")) },
        puzzle_indices: puzzleIndices,
        group_indices: groupIndices,
      },
      this.metadata.seq_len,
      path.join(dir, `${setName}__*.npy`),
    );
    for (const [field, arr] of [["puzzle_indices", puzzleIndices], ["group_indices", groupIndices]] as const) {
      for (let k = 1; k < arr.length; k++) {
        if (arr[k] < arr[k - 1]) throw new DatasetError(`must be non-decreasing (entry ${k} is ${arr[k]} after ${arr[k - 1]})`, { file: headers[field].file, field });
      }
    }
    return {
      index: { numExamples: shape("inputs")[0], puzzle_indices: puzzleIndices, group_indices: groupIndices },
      inputs: map("inputs"),
      labels: map("labels"),
      puzzleIdentifiers: map("puzzle_identifiers"),
    };
  }

  /**
   * Gathers one batch on a worker thread: rows by index_select, int32, ignore → −100, padding to
   * the local batch size (pad_id, −100, blank identifier).
   */
  private async assemble(sets: Map<string, MappedSet>, b: IndexBatch): Promise<{ item: PuzzleBatchItem; seconds: number }> {
    const set = sets.get(b.setName)!;
    const { pad_id, blank_identifier_id, ignore_label_id } = this.metadata;
    const rows = this.localBatchSize;
    const { tensors, seconds } = await torch.gatherRows(
      [
        { source: set.inputs, index: b.exampleIndices, rows, fill: pad_id }, // [B, seq_len]
        { source: set.labels, index: b.exampleIndices, rows, fill: IGNORE_LABEL_ID, replace: ignore_label_id === null ? undefined : [ignore_label_id, IGNORE_LABEL_ID] }, // [B, seq_len]
        { source: set.puzzleIdentifiers, index: b.puzzleIndices, rows, fill: blank_identifier_id }, // [B]
      ],
      "int32",
    );
    const [inputs, labels, puzzle_identifiers] = tensors.map((t) => torch.keep(t));
    return { item: { setName: b.setName, batch: { inputs, labels, puzzle_identifiers }, effectiveBatchSize: b.effectiveBatchSize }, seconds };
  }
}

function numelOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

const now = (): number => performance.now() / 1000;
const DONE: IteratorResult<PuzzleBatchItem> = { done: true, value: undefined };

/**
 * One pass's batches, `depth` ahead: each next() hands out the oldest batch in flight and starts
 * gathering another on a worker thread (native, no JS values touched there), so batch k+1 is
 * assembled while the consumer's step k runs on the main thread, synchronous or not. With depth 0
 * each batch is gathered when asked for. Only the sampler's index work stays on the main thread.
 */
export class BatchIterator implements AsyncIterableIterator<PuzzleBatchItem> {
  readonly stats: LoaderStats = { batches: 0, assembleSeconds: 0, waitSeconds: 0, elapsedSeconds: 0 };
  private readonly ahead: Promise<IteratorResult<PuzzleBatchItem>>[] = [];
  private finished = false;
  private startedAt: number | null = null;

  constructor(
    private readonly indices: Iterator<IndexBatch>,
    private readonly assemble: (b: IndexBatch) => Promise<{ item: PuzzleBatchItem; seconds: number }>,
    private readonly depth: number,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<PuzzleBatchItem>> {
    const t0 = now();
    this.startedAt ??= t0;
    const result = this.ahead.length > 0 ? this.ahead.shift()! : this.produce();
    this.refill();
    const handedOut = () => {
      const t = now();
      this.stats.waitSeconds += t - t0;
      this.stats.elapsedSeconds = t - this.startedAt!;
    };
    return result.then(
      (r) => {
        handedOut();
        if (!r.done) this.stats.batches++;
        return r;
      },
      async (e) => {
        handedOut();
        await this.discard(); // the pass ends here: for-await does not call return() after a throw
        throw e;
      },
    );
  }

  /** Ends the pass early (`break` in for-await): waits for gathers in flight and disposes them. */
  async return(): Promise<IteratorResult<PuzzleBatchItem>> {
    await this.discard();
    return DONE;
  }

  private async discard(): Promise<void> {
    this.finish();
    for (const p of this.ahead.splice(0)) {
      const r = await p.catch(() => undefined);
      if (r && !r.done) torch.dispose(r.value.batch);
    }
  }

  /** Samples the next batch's indices here and starts its gather on a worker thread. */
  private produce(): Promise<IteratorResult<PuzzleBatchItem>> {
    if (this.finished) return Promise.resolve(DONE);
    let r: IteratorResult<IndexBatch>;
    try {
      r = this.indices.next();
    } catch (e) {
      this.finish();
      return Promise.reject(e);
    }
    if (r.done) {
      this.finish();
      return Promise.resolve(DONE);
    }
    return this.assemble(r.value).then(({ item, seconds }) => {
      this.stats.assembleSeconds += seconds;
      return { done: false, value: item };
    });
  }

  private refill(): void {
    while (!this.finished && this.ahead.length < this.depth) {
      const p = this.produce();
      p.catch(() => undefined); // handled: the error reaches the consumer through next()
      this.ahead.push(p);
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.indices.return?.(undefined);
  }
}
