// Evaluators by name, as in config `evaluators: [{ name: arc@ARC, pass_Ks: [...] }]`
// ("<module>@<class>", the official load_model_class convention). Extra keys are the options.
import { DatasetError } from "../data/errors";
import { PuzzleDatasetMetadata } from "../data/metadata";
import { didYouMean } from '../util/suggest';
import { ARC } from "./arc";
import { ExactAccuracy } from "./exact";
import { Evaluator } from "./types";

export interface EvaluatorContext {
  /** Dataset folder being evaluated (holds identifiers.json, test_puzzles.json). */
  dataPath: string;
  evalMetadata: PuzzleDatasetMetadata;
}

type Options = Record<string, unknown>;

interface Entry {
  options: Record<string, (v: unknown) => boolean>; // option name (snake_case, as in YAML) -> check
  create(ctx: EvaluatorContext, options: Options): Evaluator;
}

const isPosInt = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v > 0;

const REGISTRY = new Map<string, Entry>([
  ["arc@ARC", {
    options: {
      submission_K: isPosInt,
      pass_Ks: (v) => Array.isArray(v) && v.every(isPosInt),
      aggregated_voting: (v) => typeof v === "boolean",
    },
    create: (ctx, o) => new ARC({
      dataPath: ctx.dataPath,
      evalMetadata: ctx.evalMetadata,
      submissionK: o.submission_K as number | undefined,
      passKs: o.pass_Ks as number[] | undefined,
      aggregatedVoting: o.aggregated_voting as boolean | undefined,
    }),
  }],
  ["exact@ExactAccuracy", {
    options: { prefix: (v) => typeof v === "string" && v.length > 0 },
    create: (_ctx, o) => new ExactAccuracy(o.prefix as string | undefined),
  }],
]);

export function evaluatorNames(): string[] {
  return [...REGISTRY.keys()];
}

/** Adds an evaluator under `name` (e.g. "mine@MyEvaluator"). */
export function registerEvaluator(name: string, entry: Entry): void {
  REGISTRY.set(name, entry);
}

export function createEvaluator(name: string, ctx: EvaluatorContext, options: Options = {}): Evaluator {
  const entry = REGISTRY.get(name);
  if (!entry) {
    throw new DatasetError(`unknown evaluator "${name}"; known: ${evaluatorNames().join(", ")}.${didYouMean(name, evaluatorNames())}`, { field: "evaluators.name" });
  }
  for (const [key, value] of Object.entries(options)) {
    const check = entry.options[key];
    if (!check) {
      throw new DatasetError(`unknown option "${key}" for evaluator ${name}.${didYouMean(key, Object.keys(entry.options))}`, { field: `evaluators.${key}` });
    }
    if (value !== undefined && !check(value)) {
      throw new DatasetError(`invalid value ${JSON.stringify(value)} for option "${key}" of evaluator ${name}`, { field: `evaluators.${key}` });
    }
  }
  return entry.create(ctx, options);
}
