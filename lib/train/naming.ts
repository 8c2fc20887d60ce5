// Run names as the official load_synced_config fills them: project from the first data path,
// run from the architecture's class and a two-word slug, checkpoints under checkpoints/<project>/<run>.
import * as path from 'path';
import type { PretrainConfig } from '../config';

const ADJECTIVES = ['amber', 'brisk', 'calm', 'daring', 'eager', 'fuzzy', 'gentle', 'hidden', 'ivory', 'jolly', 'keen', 'lucid', 'mellow', 'nimble', 'olive', 'placid', 'quiet', 'rapid', 'silver', 'tidy', 'umber', 'vivid', 'witty', 'zesty'];
const NOUNS = ['badger', 'comet', 'dolphin', 'falcon', 'gecko', 'heron', 'ibis', 'jaguar', 'koala', 'lynx', 'marten', 'newt', 'otter', 'panda', 'quokka', 'raven', 'salmon', 'tapir', 'urchin', 'vole', 'walrus', 'yak', 'zebra', 'puffin'];

export function slug(random: () => number = Math.random): string {
  const pick = (words: string[]) => words[Math.floor(random() * words.length)];
  return `${pick(ADJECTIVES)}-${pick(NOUNS)}`;
}

/** A copy of `config` with project_name, run_name and checkpoint_path filled where null. */
export function withRunNames(config: PretrainConfig, random?: () => number): PretrainConfig {
  const out = { ...config };
  if (out.project_name == null) {
    const base = path.basename(out.data_paths[0] ?? 'data');
    out.project_name = `${base.charAt(0).toUpperCase()}${base.slice(1).toLowerCase()}-ACT-torch`;
  }
  if (out.run_name == null) out.run_name = `${out.arch.name.split('@').pop()} ${slug(random)}`;
  if (out.checkpoint_path == null) out.checkpoint_path = path.join('checkpoints', out.project_name, out.run_name);
  return out;
}
