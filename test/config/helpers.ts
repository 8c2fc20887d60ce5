import * as assert from 'assert';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError, ConfigErrorCode } from '../../lib/config';

/** Write `files` (relative path → YAML text) into a fresh temp directory and return it. */
export function configDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trm-config-'));
  for (const [rel, text] of Object.entries(files)) {
    const file = path.join(dir, rel);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  return dir;
}

/** Assert `fn` throws a ConfigError with `code` whose message matches every pattern. */
export function throwsConfig(fn: () => unknown, code: ConfigErrorCode, ...patterns: (RegExp | string)[]): ConfigError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ConfigError, `expected a ConfigError, got ${String(caught)}`);
  assert.strictEqual(caught.code, code, `code of: ${caught.message}`);
  for (const p of patterns) {
    if (typeof p === 'string') assert.ok(caught.message.includes(p), `'${caught.message}' should include '${p}'`);
    else assert.match(caught.message, p);
  }
  return caught;
}
