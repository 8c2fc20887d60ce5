// dataset.json: the per-split metadata every dataset folder carries (official PuzzleDatasetMetadata).
import * as fs from "fs";
import { DatasetError } from "./errors";

export interface PuzzleDatasetMetadata {
  pad_id: number;
  /** Label value to ignore in the loss; null means none (official Optional[int]). */
  ignore_label_id: number | null;
  blank_identifier_id: number;
  vocab_size: number;
  seq_len: number;
  num_puzzle_identifiers: number;
  total_groups: number;
  mean_puzzle_examples: number;
  total_puzzles: number;
  sets: string[];
}

const INT_FIELDS = [
  "pad_id", "blank_identifier_id", "vocab_size", "seq_len", "num_puzzle_identifiers", "total_groups", "total_puzzles",
] as const;

/** Checks a parsed dataset.json; `file` names the source in errors. Extra keys are ignored,
 *  as the official pydantic model does, so newer folders still load. */
export function validateMetadata(value: unknown, file?: string): PuzzleDatasetMetadata {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new DatasetError("dataset.json must hold a JSON object", { file });
  }
  const obj = value as Record<string, unknown>;
  const intField = (field: string): number => {
    const v = obj[field];
    if (v === undefined) throw new DatasetError(`missing required field`, { file, field });
    if (typeof v !== "number" || !Number.isSafeInteger(v)) {
      throw new DatasetError(`expected an integer but received ${JSON.stringify(v)}`, { file, field });
    }
    return v;
  };
  const ints = Object.fromEntries(INT_FIELDS.map((f) => [f, intField(f)])) as Record<(typeof INT_FIELDS)[number], number>;
  for (const f of ["vocab_size", "seq_len", "num_puzzle_identifiers"] as const) {
    if (ints[f] <= 0) throw new DatasetError(`expected a positive integer but received ${ints[f]}`, { file, field: f });
  }
  for (const f of ["total_groups", "total_puzzles"] as const) {
    if (ints[f] < 0) throw new DatasetError(`expected a non-negative integer but received ${ints[f]}`, { file, field: f });
  }
  const ignore = obj.ignore_label_id;
  if (ignore === undefined) throw new DatasetError(`missing required field`, { file, field: "ignore_label_id" });
  if (ignore !== null && (typeof ignore !== "number" || !Number.isSafeInteger(ignore))) {
    throw new DatasetError(`expected an integer or null but received ${JSON.stringify(ignore)}`, { file, field: "ignore_label_id" });
  }
  const mean = obj.mean_puzzle_examples;
  if (typeof mean !== "number" || !Number.isFinite(mean)) {
    throw new DatasetError(`expected a number but received ${JSON.stringify(mean)}`, { file, field: "mean_puzzle_examples" });
  }
  const sets = obj.sets;
  if (!Array.isArray(sets) || sets.length === 0 || !sets.every((s) => typeof s === "string" && s.length > 0)) {
    throw new DatasetError(`expected a non-empty list of set names but received ${JSON.stringify(sets)}`, { file, field: "sets" });
  }
  return { ...ints, ignore_label_id: ignore as number | null, mean_puzzle_examples: mean, sets: sets as string[] };
}

export function readMetadata(file: string): PuzzleDatasetMetadata {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new DatasetError(`cannot read dataset metadata: ${(e as Error).message}`, { file });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new DatasetError(`dataset metadata is not valid JSON: ${(e as Error).message}`, { file });
  }
  return validateMetadata(parsed, file);
}

/** Writes keys in the official field order so files diff cleanly against Python-built ones. */
export function writeMetadata(file: string, metadata: PuzzleDatasetMetadata): void {
  const ordered: PuzzleDatasetMetadata = {
    pad_id: metadata.pad_id,
    ignore_label_id: metadata.ignore_label_id,
    blank_identifier_id: metadata.blank_identifier_id,
    vocab_size: metadata.vocab_size,
    seq_len: metadata.seq_len,
    num_puzzle_identifiers: metadata.num_puzzle_identifiers,
    total_groups: metadata.total_groups,
    mean_puzzle_examples: metadata.mean_puzzle_examples,
    total_puzzles: metadata.total_puzzles,
    sets: metadata.sets,
  };
  fs.writeFileSync(file, JSON.stringify(ordered));
}
