// `trm dataset arc|sudoku|maze|gen-sudoku|gen-maze …`: parses flags (the official builders' names,
// kebab-case) from one table per command and calls the library with them camelCased (the compiler
// checks each table against the library's options). Never calls process.exit.
import { DatasetError } from "../data/errors";
import { closest, didYouMean } from '../util/suggest';
import { buildArcDataset } from "../data/builders/arc";
import { buildSudokuDataset } from "../data/builders/sudoku";
import { buildMazeDataset } from "../data/builders/maze";
import { generateSudokuCsv } from "../data/generators/sudoku";
import { generateMazeCsv } from "../data/generators/maze";

type FlagType = "string" | "int" | "number" | "bool" | "list";
type Value = string | number | boolean | string[];

interface Flag {
  type: FlagType;
  help: string;
  required?: boolean;
  default?: Value;
}

interface Command {
  summary: string;
  /** Kebab-case, as the official builders name them; the library's option is the camelCase name. */
  flags: Record<string, Flag>;
  /** Called with each flag under its camelCase name, and `verbose` for not --quiet. */
  run(options: Record<string, Value | undefined>): unknown;
}

/** "num-aug" → "numAug". */
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;
/** The option names a flag table gives: camelCase, and --quiet as `verbose`. */
type OptionNames<F> = { [K in keyof F]: K extends "quiet" ? "verbose" : CamelCase<K & string> }[keyof F];
/** Compiles only when the flags name exactly the options (no flag without an option, no option without a flag). */
type SameNames<A, B> = [A] extends [B] ? ([B] extends [A] ? [] : ["an option has no flag", Exclude<B, A>]) : ["a flag names no option", Exclude<A, B>];

function command<F extends Record<string, Flag>, O>(summary: string, flags: F, run: (options: O) => unknown, ..._: SameNames<OptionNames<F>, keyof O>): Command {
  return { summary, flags, run: (options) => run(options as O) };
}

const quiet: Flag = { type: "bool", help: "no progress output on stderr", default: false };

const COMMANDS: Record<string, Command> = {
  arc: command(
    "build an ARC-AGI dataset folder from Kaggle-format JSON",
    {
      "input-file-prefix": { type: "string", required: true, help: "prefix of <prefix>_<subset>_{challenges,solutions}.json" },
      "output-dir": { type: "string", required: true, help: "dataset folder to write" },
      subsets: { type: "list", required: true, help: "subset names, e.g. training evaluation concept" },
      "test-set-name": { type: "string", required: true, help: "subset whose test examples form the test split" },
      "test-set-name2": { type: "string", default: "your_test_set", help: "a second test subset" },
      seed: { type: "int", default: 42, help: "PRNG seed" },
      "num-aug": { type: "int", default: 1000, help: "augments per puzzle (dihedral + colour permutation)" },
      "puzzle-identifiers-start": { type: "int", default: 1, help: "first puzzle identifier (0 is <blank>)" },
      quiet,
    },
    buildArcDataset,
  ),
  sudoku: command(
    "build a Sudoku dataset folder from train.csv/test.csv (source,q,a,rating)",
    {
      "source-repo": { type: "string", required: true, help: "local folder holding train.csv and test.csv (nothing is downloaded)" },
      "output-dir": { type: "string", default: "data/sudoku-extreme-full", help: "dataset folder to write" },
      "subsample-size": { type: "int", help: "keep this many random train puzzles" },
      "min-difficulty": { type: "int", help: "keep puzzles with rating >= this" },
      "num-aug": { type: "int", default: 0, help: "shuffled copies per train puzzle" },
      seed: { type: "int", default: 0, help: "PRNG seed (the official builder is unseeded)" },
      quiet,
    },
    buildSudokuDataset,
  ),
  maze: command(
    "build a Maze dataset folder from train.csv/test.csv (source,q,a,rating)",
    {
      "source-repo": { type: "string", required: true, help: "local folder holding train.csv and test.csv (nothing is downloaded)" },
      "output-dir": { type: "string", default: "data/maze-30x30-hard-1k", help: "dataset folder to write" },
      "subsample-size": { type: "int", help: "keep this many random train mazes" },
      aug: { type: "bool", default: false, help: "add the 8 dihedral transforms of each train maze" },
      seed: { type: "int", default: 0, help: "PRNG seed for --subsample-size" },
      quiet,
    },
    buildMazeDataset,
  ),
  "gen-sudoku": command(
    "generate Sudoku puzzles with unique solutions as train.csv/test.csv",
    {
      "output-dir": { type: "string", required: true, help: "folder for train.csv and test.csv" },
      size: { type: "int", default: 9, help: "4, 6 or 9" },
      "num-train": { type: "int", default: 1000, help: "train puzzles" },
      "num-test": { type: "int", default: 1000, help: "test puzzles" },
      givens: { type: "int", help: "exact number of givens (fewer = harder); default: minimal puzzles" },
      seed: { type: "int", default: 0, help: "PRNG seed" },
      quiet,
    },
    generateSudokuCsv,
  ),
  "gen-maze": command(
    "generate mazes with their shortest path as train.csv/test.csv",
    {
      "output-dir": { type: "string", required: true, help: "folder for train.csv and test.csv" },
      size: { type: "int", default: 30, help: "side length" },
      "num-train": { type: "int", default: 1000, help: "train mazes" },
      "num-test": { type: "int", default: 1000, help: "test mazes" },
      "min-path-length": { type: "int", default: 110, help: "minimum shortest-path length in moves (hard = 110)" },
      style: { type: "string", default: "carved", help: "carved (maze with loops) or random (random walls)" },
      "wall-density": { type: "number", help: "random style: wall fraction (default drawn from 0.3..0.5)" },
      "loop-fraction": { type: "number", default: 0.05, help: "carved style: fraction of inner walls removed" },
      "unique-path": { type: "bool", default: true, help: "keep only mazes whose shortest path is unique" },
      seed: { type: "int", default: 0, help: "PRNG seed" },
      quiet,
    },
    generateMazeCsv,
  ),
};

/** Flag values as library options: camelCase names (--num-aug → numAug), --quiet as `verbose: false`. */
function toOptions(values: Record<string, Value | undefined>): Record<string, Value | undefined> {
  const options: Record<string, Value | undefined> = {};
  for (const [flag, value] of Object.entries(values)) {
    if (flag === "quiet") options.verbose = !value;
    else options[flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase())] = value;
  }
  return options;
}

/** A usage mistake: reported with the command's usage hint, exit status 2. */
class UsageError extends Error {}

function usage(name: string, cmd: Command): string {
  const lines = [`Usage: trm dataset ${name} [flags]`, "", cmd.summary, "", "Flags:"];
  for (const [flag, f] of Object.entries(cmd.flags)) {
    const arg = f.type === "bool" ? "" : f.type === "list" ? " <value…>" : ` <${f.type}>`;
    const extra = f.required ? " (required)" : f.default !== undefined ? ` (default: ${JSON.stringify(f.default)})` : "";
    lines.push(`  --${flag}${arg}`.padEnd(33) + " " + f.help + extra);
  }
  return lines.join("\n");
}

function topUsage(): string {
  const lines = ["Usage: trm dataset <command> [flags]", "", "Commands:"];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(12)}${c.summary}`);
  lines.push("", "Run `trm dataset <command> --help` for its flags.");
  return lines.join("\n");
}

function convert(flag: string, f: Flag, raw: string): Value {
  if (f.type === "int") {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isSafeInteger(n)) throw new UsageError(`Expected an integer for --${flag} but received "${raw}"`);
    return n;
  }
  if (f.type === "number") {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n)) throw new UsageError(`Expected a number for --${flag} but received "${raw}"`);
    return n;
  }
  if (f.type === "bool") {
    if (/^(true|1|yes)$/i.test(raw)) return true;
    if (/^(false|0|no)$/i.test(raw)) return false;
    throw new UsageError(`Expected true or false for --${flag} but received "${raw}"`);
  }
  return raw;
}

/** Parses `--flag value`, `--flag=value`, lists (`--subsets a b c`), `--bool`, `--no-bool`. */
export function parseFlags(name: string, cmd: Command, argv: string[]): Record<string, Value | undefined> {
  const values: Record<string, Value | undefined> = {};
  for (const [flag, f] of Object.entries(cmd.flags)) values[flag] = f.default;
  const seen = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i];
    if (!tok.startsWith("--")) throw new UsageError(`unexpected argument "${tok}" (flags start with --)`);
    const eq = tok.indexOf("=");
    let flag = (eq >= 0 ? tok.slice(2, eq) : tok.slice(2)).replace(/_/g, "-");
    let inline = eq >= 0 ? tok.slice(eq + 1) : undefined;
    if (!(flag in cmd.flags) && flag.startsWith("no-") && cmd.flags[flag.slice(3)]?.type === "bool" && inline === undefined) {
      flag = flag.slice(3);
      inline = "false";
    }
    const f = cmd.flags[flag];
    if (!f) {
      const near = closest(flag, Object.keys(cmd.flags));
      throw new UsageError(`unknown flag --${flag} for "trm dataset ${name}".${near ? ` Did you mean --${near}?` : ""}`);
    }
    if (seen.has(flag)) throw new UsageError(`--${flag} given twice`);
    seen.add(flag);
    if (f.type === "list") {
      const items = inline !== undefined ? inline.split(",").filter((s) => s.length > 0) : [];
      while (inline === undefined && i + 1 < argv.length && !argv[i + 1].startsWith("--")) items.push(argv[++i]);
      if (items.length === 0) throw new UsageError(`--${flag} needs at least one value`);
      values[flag] = items;
    } else if (f.type === "bool") {
      values[flag] = inline === undefined ? true : convert(flag, f, inline);
    } else {
      const raw = inline ?? argv[++i];
      if (raw === undefined || (inline === undefined && raw.startsWith("--"))) throw new UsageError(`--${flag} needs a value`);
      values[flag] = convert(flag, f, raw);
    }
  }
  for (const [flag, f] of Object.entries(cmd.flags)) {
    if (f.required && values[flag] === undefined) throw new UsageError(`missing required flag --${flag} (${f.help})`);
  }
  return values;
}

/** Runs `trm dataset …` with argv after "dataset"; resolves to the process exit status. */
export async function runDatasetCommand(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(topUsage() + "\n");
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    process.stderr.write(`trm dataset: unknown command "${name}".${didYouMean(name, Object.keys(COMMANDS))}\n\n${topUsage()}\n`);
    return 2;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    process.stdout.write(usage(name, cmd) + "\n");
    return 0;
  }
  try {
    cmd.run(toOptions(parseFlags(name, cmd, rest)));
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`trm dataset ${name}: ${e.message}\nRun "trm dataset ${name} --help" for the flags.\n`);
      return 2;
    }
    if (e instanceof DatasetError) {
      process.stderr.write(`trm dataset ${name}: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
