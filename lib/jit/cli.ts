// `trm export <checkpoint> --out model.pt [...]`: parses flags and calls exportModel.
import { exportModel, ExportMetadata } from './export';

const FLAGS: Record<string, { help: string; int?: boolean }> = {
  out: { help: 'the TorchScript file to write (required)' },
  config: { help: "the run's all_config.yaml (default: beside the checkpoint)" },
  'seq-len': { help: "the dataset's seq_len (default: its dataset.json)", int: true },
  'vocab-size': { help: "the dataset's vocab_size", int: true },
  'num-puzzle-identifiers': { help: "the dataset's num_puzzle_identifiers", int: true },
  'halt-max-steps': { help: 'ACT steps the exported forward runs (default: the config)', int: true },
};

function usage(): string {
  const flags = Object.entries(FLAGS).map(([k, f]) => `  --${k.padEnd(24)} ${f.help}`);
  return `Usage: trm export <checkpoint> --out model.pt [options]\n\nWrites a TorchScript module of the model's inference (Python: torch.jit.load).\n\nOptions:\n${flags.join('\n')}`;
}

export async function runExportCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(usage());
    return 0;
  }
  const values: Record<string, string | number> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    const flag = FLAGS[name];
    const raw = eq < 0 ? argv[++i] : a.slice(eq + 1);
    if (!flag) return fail(`unknown option '--${name}'`);
    if (raw === undefined) return fail(`--${name} needs a value`);
    if (flag.int && !/^\d+$/.test(raw)) return fail(`Expected positive integer for --${name} but received ${raw}`);
    values[name] = flag.int ? Number(raw) : raw;
  }
  if (positional.length !== 1) return fail('expected one checkpoint file');
  if (!values.out) return fail('--out is required');
  const metadata: Partial<ExportMetadata> = {};
  if (values['seq-len'] !== undefined) metadata.seq_len = values['seq-len'] as number;
  if (values['vocab-size'] !== undefined) metadata.vocab_size = values['vocab-size'] as number;
  if (values['num-puzzle-identifiers'] !== undefined) metadata.num_puzzle_identifiers = values['num-puzzle-identifiers'] as number;
  try {
    const r = exportModel(positional[0], {
      out: values.out as string,
      config: values.config as string | undefined,
      metadata,
      haltMaxSteps: values['halt-max-steps'] as number | undefined,
      log: (m) => console.error(m),
    });
    console.error(`Wrote ${r.out} (${r.modelConfig.seq_len} positions, vocab ${r.modelConfig.vocab_size})`);
    return 0;
  } catch (e) {
    console.error(`trm export: ${(e as Error).message}`);
    return 1;
  }
}

function fail(message: string): number {
  console.error(`trm export: ${message}\n\n${usage()}`);
  return 2;
}
