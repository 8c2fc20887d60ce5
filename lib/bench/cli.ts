// `npm run bench` / `trm bench`: the benchmarks, printed as a table, optionally written as JSON.
import * as fs from 'fs';
import { measureBoundary } from './boundary';

export async function runBench(argv: string[]): Promise<number> {
  const jsonAt = argv.indexOf('--json');
  const jsonPath = jsonAt >= 0 ? argv[jsonAt + 1] : undefined;
  if (jsonAt >= 0 && !jsonPath) {
    console.error('--json needs a file path');
    return 2;
  }
  const results: Record<string, unknown> = {};

  const b = measureBoundary();
  results.boundary = b;
  console.log('Per-call cost of a 1-element add (median of 5 rounds, 1 thread)');
  console.log(`  TypeScript, a.add(b) + dispose():     ${b.tsMicros.toFixed(3)} µs`);
  console.log(`  TypeScript, a.add(b) inside tidy():   ${b.tsTidyMicros.toFixed(3)} µs`);
  if (b.pythonMicros !== null) {
    console.log(`  Python PyTorch, torch.add(a, b):      ${b.pythonMicros.toFixed(3)} µs`);
    console.log(`  ratio Python / TypeScript (tidy):     ${(b.pythonMicros / b.tsTidyMicros).toFixed(2)}x`);
  } else {
    console.log(`  Python PyTorch: not measured (${b.pythonError})`);
  }

  if (jsonPath) fs.writeFileSync(jsonPath, JSON.stringify(results, null, 2) + '\n');
  return 0;
}

if (require.main === module) {
  runBench(process.argv.slice(2)).then((code) => process.exit(code));
}
