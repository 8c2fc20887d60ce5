// Shared test helpers: temp folders and the system Python with numpy (tests skip without it).
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `trm-${prefix}-`));
}

let numpyOk: boolean | undefined;

/** True when /usr/bin/python3 can import numpy. */
export function hasNumpy(): boolean {
  if (numpyOk === undefined) {
    const r = spawnSync("/usr/bin/python3", ["-c", "import numpy"], { env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" } });
    numpyOk = r.status === 0;
  }
  return numpyOk;
}

/** Runs a Python snippet (numpy imported as np) and returns its stdout; throws on failure. */
export function python(code: string): string {
  const r = spawnSync("/usr/bin/python3", ["-c", `import numpy as np, json, sys\n${code}`], {
    env: { ...process.env, OMP_WAIT_POLICY: "PASSIVE" },
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}

/** ARC-AGI JSON beside the project (../shared/data/arc), never copied into the repo. */
export const ARC_DATA = process.env.TRM_ARC_DATA ?? path.resolve(__dirname, "../../../../shared/data/arc");
