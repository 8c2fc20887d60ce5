// PuzzleDataset index logic (official puzzle_dataset.py) as pure functions over loaded arrays.
// Train mode: per-epoch seeded shuffle of groups, one random puzzle per group, its examples packed
// into a global batch, last partial batch dropped, each rank takes its slice. Test mode: every
// example in order, last batch padded. Arrays may be in-memory typed arrays or memory-mapped views;
// this file only needs `data[i]`.
import * as path from "path";
import { DatasetError } from "./errors";
import { PuzzleDatasetMetadata, readMetadata } from "./metadata";
import { NpyArray, readNpy } from "./npy";
import { Rng } from "./random";
import { SET_FIELDS, setFile } from "./builders/common";

/** Label value the loss ignores (official IGNORE_LABEL_ID, PyTorch's cross-entropy default). */
export const IGNORE_LABEL_ID = -100;

/** A 2-D array view: `data` is row-major [shape[0], shape[1]]. */
export interface Rows {
  shape: number[];
  data: ArrayLike<number>;
}

export interface PuzzleSetArrays {
  inputs: Rows; // [examples, seq_len]
  labels: Rows; // [examples, seq_len]
  puzzle_identifiers: ArrayLike<number>; // [puzzles]
  puzzle_indices: ArrayLike<number>; // [puzzles + 1]
  group_indices: ArrayLike<number>; // [groups + 1]
}

/** Official PuzzleDatasetConfig, camel-cased. */
export interface SamplingConfig {
  seed: number;
  globalBatchSize: number;
  testSetMode: boolean;
  /** Epochs of groups concatenated into one pass (official epochs_per_iter). */
  epochsPerIter: number;
  rank: number;
  numReplicas: number;
}

export interface Batch {
  inputs: Int32Array; // [localBatchSize, seq_len]
  labels: Int32Array; // [localBatchSize, seq_len]
  puzzle_identifiers: Int32Array; // [localBatchSize]
}

export interface BatchItem {
  setName: string;
  batch: Batch;
  /** Examples in the whole global batch, excluding padding. */
  effectiveBatchSize: number;
}

export function localBatchSize(config: SamplingConfig): number {
  if (!Number.isInteger(config.globalBatchSize) || config.globalBatchSize <= 0) {
    throw new DatasetError(`global batch size must be a positive integer but received ${config.globalBatchSize}`, { field: "global_batch_size" });
  }
  if (config.globalBatchSize % config.numReplicas !== 0) {
    throw new DatasetError(`global batch size ${config.globalBatchSize} must be a multiple of the number of replicas ${config.numReplicas}`, { field: "global_batch_size" });
  }
  return config.globalBatchSize / config.numReplicas;
}

/**
 * Merges the metadata of several dataset folders: seq_len, vocab_size, pad/ignore/blank ids,
 * sets and num_puzzle_identifiers must agree (official asserts); counts add up and
 * mean_puzzle_examples is the puzzle-weighted mean.
 */
export function mergeMetadata(items: { path: string; metadata: PuzzleDatasetMetadata }[]): PuzzleDatasetMetadata {
  if (items.length === 0) throw new DatasetError("no dataset paths given", { field: "data_paths" });
  const first = items[0].metadata;
  const same = ["seq_len", "vocab_size", "pad_id", "ignore_label_id", "blank_identifier_id", "num_puzzle_identifiers"] as const;
  let weighted = 0;
  let totalPuzzles = 0;
  let totalGroups = 0;
  let numIdentifiers = 0;
  for (const { path: p, metadata: m } of items) {
    for (const key of same) {
      if (m[key] !== first[key]) {
        throw new DatasetError(`${key} is ${m[key]} but ${items[0].path} has ${first[key]}; merged datasets must agree`, { file: p, field: key });
      }
    }
    if (JSON.stringify(m.sets) !== JSON.stringify(first.sets)) {
      throw new DatasetError(`sets ${JSON.stringify(m.sets)} differ from ${JSON.stringify(first.sets)} in ${items[0].path}`, { file: p, field: "sets" });
    }
    weighted += m.mean_puzzle_examples * m.total_puzzles;
    totalPuzzles += m.total_puzzles;
    totalGroups += m.total_groups;
    numIdentifiers += m.num_puzzle_identifiers;
  }
  return {
    ...first,
    num_puzzle_identifiers: numIdentifiers,
    total_groups: totalGroups,
    mean_puzzle_examples: totalPuzzles > 0 ? weighted / totalPuzzles : 0,
    total_puzzles: totalPuzzles,
  };
}

export function loadMergedMetadata(datasetPaths: string[], split: string): PuzzleDatasetMetadata {
  return mergeMetadata(datasetPaths.map((p) => ({ path: p, metadata: readMetadata(path.join(p, split, "dataset.json")) })));
}

function asNumbers(a: NpyArray): ArrayLike<number> {
  return a.data instanceof BigInt64Array ? Float64Array.from(a.data, Number) : a.data;
}

/** Checks that a set's arrays fit together; names the offending file. */
export function validatePuzzleSet(set: PuzzleSetArrays, seqLen: number, where: string): void {
  const err = (msg: string, field: string) => new DatasetError(msg, { file: where, field });
  for (const k of ["inputs", "labels"] as const) {
    const s = set[k].shape;
    if (s.length !== 2 || s[1] !== seqLen) throw err(`${k} has shape (${s.join(", ")}), expected (N, ${seqLen})`, k);
  }
  const n = set.inputs.shape[0];
  if (set.labels.shape[0] !== n) throw err(`labels has ${set.labels.shape[0]} rows but inputs has ${n}`, "labels");
  const pi = set.puzzle_indices;
  const gi = set.group_indices;
  if (pi.length !== set.puzzle_identifiers.length + 1) throw err(`puzzle_indices has ${pi.length} entries, expected puzzles + 1 = ${set.puzzle_identifiers.length + 1}`, "puzzle_indices");
  if (pi[0] !== 0 || pi[pi.length - 1] !== n) throw err(`puzzle_indices must run from 0 to the example count ${n}`, "puzzle_indices");
  if (gi.length < 1 || gi[0] !== 0 || gi[gi.length - 1] !== set.puzzle_identifiers.length) {
    throw err(`group_indices must run from 0 to the puzzle count ${set.puzzle_identifiers.length}`, "group_indices");
  }
}

/**
 * Reads every set of every dataset path into memory (the official loader's `_lazy_load_dataset`).
 * Set names of the i-th path (i > 0) get the suffix i, as in the official code.
 */
export function loadPuzzleSets(datasetPaths: string[], split: string, metadata: PuzzleDatasetMetadata): Map<string, PuzzleSetArrays> {
  const sets = new Map<string, PuzzleSetArrays>();
  for (const setName of metadata.sets) {
    datasetPaths.forEach((p, i) => {
      const dir = path.join(p, split);
      const read = (f: (typeof SET_FIELDS)[number]) => readNpy(setFile(dir, setName, f));
      const inputs = read("inputs");
      const labels = read("labels");
      const set: PuzzleSetArrays = {
        inputs: { shape: inputs.shape, data: asNumbers(inputs) },
        labels: { shape: labels.shape, data: asNumbers(labels) },
        puzzle_identifiers: asNumbers(read("puzzle_identifiers")),
        puzzle_indices: asNumbers(read("puzzle_indices")),
        group_indices: asNumbers(read("group_indices")),
      };
      validatePuzzleSet(set, metadata.seq_len, path.join(dir, `${setName}__*.npy`));
      sets.set(i > 0 ? `${setName}${i}` : setName, set);
    });
  }
  return sets;
}

/**
 * Packs examples into one global batch (official `_sample_batch`): walk the group order from
 * `startIndex`, pick a random puzzle in each group, take its examples in random order (cut to what
 * still fits). Returns the next start index, the example indices and each example's puzzle index.
 */
export function sampleBatch(
  rng: Rng,
  groupOrder: ArrayLike<number>,
  puzzleIndices: ArrayLike<number>,
  groupIndices: ArrayLike<number>,
  startIndex: number,
  globalBatchSize: number,
): { startIndex: number; batchIndices: Int32Array; batchPuzzleIndices: Int32Array } {
  const batchIndices = new Int32Array(globalBatchSize);
  const batchPuzzleIndices = new Int32Array(globalBatchSize);
  let size = 0;
  while (startIndex < groupOrder.length && size < globalBatchSize) {
    const groupId = groupOrder[startIndex];
    const puzzleId = rng.int(groupIndices[groupId], groupIndices[groupId + 1]);
    startIndex++;
    const puzzleStart = puzzleIndices[puzzleId];
    const puzzleSize = puzzleIndices[puzzleId + 1] - puzzleStart;
    const appendSize = Math.min(puzzleSize, globalBatchSize - size);
    // Taking one example (Sudoku, Maze: each augment is a puzzle of one) is the draw
    // choiceWithoutReplacement(puzzleSize, 1) makes, without its allocations: this runs on the
    // main thread for every example of every batch.
    const picks = appendSize === 1 ? null : rng.choiceWithoutReplacement(puzzleSize, appendSize);
    for (let k = 0; k < appendSize; k++) {
      batchIndices[size] = puzzleStart + (picks ? picks[k] : rng.int(0, puzzleSize));
      batchPuzzleIndices[size++] = puzzleId;
    }
  }
  return { startIndex, batchIndices: batchIndices.subarray(0, size), batchPuzzleIndices: batchPuzzleIndices.subarray(0, size) };
}

/**
 * Gathers rows into int32 arrays, maps ignore_label_id to −100 and pads to `batchSize`
 * (inputs pad_id, labels −100, identifiers blank_identifier_id), as the official `_collate_batch`.
 * `exampleIndices[i]` is a row of `set`; `puzzleIndices[i]` the puzzle it belongs to.
 */
export function collateBatch(
  set: PuzzleSetArrays,
  exampleIndices: ArrayLike<number>,
  puzzleIndices: ArrayLike<number>,
  metadata: PuzzleDatasetMetadata,
  batchSize: number,
): Batch {
  const L = metadata.seq_len;
  const n = exampleIndices.length;
  const inputs = new Int32Array(batchSize * L).fill(metadata.pad_id);
  const labels = new Int32Array(batchSize * L).fill(IGNORE_LABEL_ID);
  const ids = new Int32Array(batchSize).fill(metadata.blank_identifier_id);
  const ignore = metadata.ignore_label_id;
  for (let b = 0; b < n; b++) {
    const src = exampleIndices[b] * L;
    for (let j = 0; j < L; j++) {
      inputs[b * L + j] = set.inputs.data[src + j];
      const y = set.labels.data[src + j];
      labels[b * L + j] = ignore !== null && y === ignore ? IGNORE_LABEL_ID : y;
    }
    ids[b] = set.puzzle_identifiers[puzzleIndices[b]];
  }
  return { inputs, labels, puzzle_identifiers: ids };
}

/** What the index walk needs of a set: its example count and its two index arrays. */
export interface PuzzleSetIndex {
  numExamples: number;
  puzzle_indices: ArrayLike<number>; // [puzzles + 1]
  group_indices: ArrayLike<number>; // [groups + 1]
}

/**
 * One batch as row indices, before any data is gathered: `exampleIndices[i]` is a row of the set
 * (inputs/labels), `puzzleIndices[i]` the puzzle it belongs to (a row of puzzle_identifiers).
 * Holds this rank's rows only; fewer than the local batch size means the batch must be padded.
 */
export interface IndexBatch {
  setName: string;
  exampleIndices: Int32Array;
  puzzleIndices: Int32Array;
  /** Examples in the whole global batch, excluding padding. */
  effectiveBatchSize: number;
}

function indexOf(set: PuzzleSetArrays): PuzzleSetIndex {
  return { numExamples: set.inputs.shape[0], puzzle_indices: set.puzzle_indices, group_indices: set.group_indices };
}

/**
 * Train-mode row indices (official `_iter_train`). `state.iters` counts passes over sets across
 * calls and seeds each pass with seed + iters, so successive calls give successive epochs.
 */
export function* iterTrainIndices(sets: Map<string, PuzzleSetIndex>, config: SamplingConfig, state: { iters: number }): Generator<IndexBatch> {
  const local = localBatchSize(config);
  for (const [setName, set] of sets) {
    state.iters++;
    const rng = new Rng(config.seed + state.iters);
    const numGroups = set.group_indices.length - 1;
    const groupOrder = new Int32Array(numGroups * config.epochsPerIter);
    for (let e = 0; e < config.epochsPerIter; e++) groupOrder.set(rng.permutation(numGroups), e * numGroups);
    let startIndex = 0;
    while (startIndex < groupOrder.length) {
      const s = sampleBatch(rng, groupOrder, set.puzzle_indices, set.group_indices, startIndex, config.globalBatchSize);
      startIndex = s.startIndex;
      const effective = s.batchPuzzleIndices.length;
      if (effective < config.globalBatchSize) break; // drop the last partial batch
      const lo = config.rank * local;
      const hi = lo + local;
      yield { setName, exampleIndices: s.batchIndices.subarray(lo, hi), puzzleIndices: s.batchPuzzleIndices.subarray(lo, hi), effectiveBatchSize: effective };
    }
  }
}

/** Index of the last puzzle whose start is <= example (numpy searchsorted side="right" − 1). */
function puzzleOf(puzzleIndices: ArrayLike<number>, example: number): number {
  let lo = 0;
  let hi = puzzleIndices.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (puzzleIndices[mid] <= example) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Test-mode row indices (official `_iter_test`): every example once, in order, last batch short. */
export function* iterTestIndices(sets: Map<string, PuzzleSetIndex>, config: SamplingConfig): Generator<IndexBatch> {
  const local = localBatchSize(config);
  for (const [setName, set] of sets) {
    const total = set.numExamples;
    for (let start = 0; start < total; start += config.globalBatchSize) {
      const end = Math.min(total, start + config.globalBatchSize);
      const localStart = start + config.rank * local;
      const localEnd = Math.min(start + (config.rank + 1) * local, end);
      const n = Math.max(0, localEnd - localStart);
      const exampleIndices = new Int32Array(n);
      const puzzleIndices = new Int32Array(n);
      let p = puzzleOf(set.puzzle_indices, localStart);
      for (let k = 0; k < n; k++) {
        const i = localStart + k;
        while (p + 1 < set.puzzle_indices.length && i >= set.puzzle_indices[p + 1]) p++;
        exampleIndices[k] = i;
        puzzleIndices[k] = p;
      }
      yield { setName, exampleIndices, puzzleIndices, effectiveBatchSize: end - start };
    }
  }
}

/** Either mode's row indices, as the official `__iter__`. */
export function iterBatchIndices(sets: Map<string, PuzzleSetIndex>, config: SamplingConfig, state: { iters: number }): Generator<IndexBatch> {
  return config.testSetMode ? iterTestIndices(sets, config) : iterTrainIndices(sets, config, state);
}

function* collated(
  sets: Map<string, PuzzleSetArrays>,
  metadata: PuzzleDatasetMetadata,
  config: SamplingConfig,
  indices: Generator<IndexBatch>,
): Generator<BatchItem> {
  const local = localBatchSize(config);
  for (const b of indices) {
    const batch = collateBatch(sets.get(b.setName)!, b.exampleIndices, b.puzzleIndices, metadata, local);
    yield { setName: b.setName, batch, effectiveBatchSize: b.effectiveBatchSize };
  }
}

function indexMap(sets: Map<string, PuzzleSetArrays>): Map<string, PuzzleSetIndex> {
  return new Map([...sets].map(([name, set]) => [name, indexOf(set)]));
}

/** Train-mode batches (official `_iter_train`), gathered into JS arrays; see iterTrainIndices. */
export function iterTrain(
  sets: Map<string, PuzzleSetArrays>,
  metadata: PuzzleDatasetMetadata,
  config: SamplingConfig,
  state: { iters: number },
): Generator<BatchItem> {
  return collated(sets, metadata, config, iterTrainIndices(indexMap(sets), config, state));
}

/** Test-mode batches (official `_iter_test`): every example once, in order, last batch padded. */
export function iterTest(sets: Map<string, PuzzleSetArrays>, metadata: PuzzleDatasetMetadata, config: SamplingConfig): Generator<BatchItem> {
  return collated(sets, metadata, config, iterTestIndices(indexMap(sets), config));
}

/** Either mode, as the official `__iter__`. */
export function iterBatches(
  sets: Map<string, PuzzleSetArrays>,
  metadata: PuzzleDatasetMetadata,
  config: SamplingConfig,
  state: { iters: number },
): Generator<BatchItem> {
  return config.testSetMode ? iterTest(sets, metadata, config) : iterTrain(sets, metadata, config, state);
}
