// torchrun's environment contract (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), with SLURM's variables standing in when torchrun's are absent.

/** Where this process sits in the job, as torchrun tells it. */
export interface DistEnv {
  rank: number;
  worldSize: number;
  localRank: number;
  localWorldSize: number;
  masterAddr: string;
  masterPort: number;
  /** torchelastic's agent already hosts the store (TORCHELASTIC_USE_AGENT_STORE=True). */
  useAgentStore: boolean;
  /** TORCHELASTIC_RESTART_COUNT, for the agent store's key prefix. */
  restartCount: number;
  /** Where each value came from: 'torchrun', 'slurm' or 'default'. */
  source: 'torchrun' | 'slurm' | 'default';
}

export class DistributedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DistributedError';
  }
}

function int(env: NodeJS.ProcessEnv, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new DistributedError(`Expected an integer ${min}..${max} for ${name} but received '${raw}'`);
  }
  return n;
}

/** The first host of a SLURM node list: "gpu[03-05,9]" -> "gpu03", "a,b" -> "a". */
export function firstSlurmHost(list: string): string {
  const m = /^([^,[]+)(?:\[([^\]]+)\])?/.exec(list.trim());
  if (!m) return list;
  if (!m[2]) return m[1];
  return m[1] + m[2].split(',')[0].split('-')[0];
}

/** "4", "2(x3)" or "4,2" (SLURM_TASKS_PER_NODE): the count on the first node. */
function firstTaskCount(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const n = parseInt(value, 10);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * Reads the torchrun variables; under SLURM (SLURM_PROCID set, RANK not) maps SLURM_PROCID,
 * SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE / SLURM_TASKS_PER_NODE, the first host of
 * SLURM_JOB_NODELIST and a port derived from SLURM_JOB_ID (15000 + id % 20000). Unset: one
 * process (rank 0 of 1) on 127.0.0.1:29500, as torch's defaults.
 */
export function readDistEnv(env: NodeJS.ProcessEnv = process.env): DistEnv {
  const slurm = env.RANK === undefined && env.SLURM_PROCID !== undefined;
  const rank = int(env, 'RANK', 0) ?? (slurm ? int(env, 'SLURM_PROCID', 0) : undefined);
  const worldSize = int(env, 'WORLD_SIZE', 1) ?? (slurm ? int(env, 'SLURM_NTASKS', 1) : undefined);
  const localRank = int(env, 'LOCAL_RANK', 0) ?? (slurm ? int(env, 'SLURM_LOCALID', 0) : undefined);
  const localWorldSize =
    int(env, 'LOCAL_WORLD_SIZE', 1) ??
    (slurm ? firstTaskCount(env.SLURM_NTASKS_PER_NODE) ?? firstTaskCount(env.SLURM_TASKS_PER_NODE) : undefined);
  const nodeList = env.SLURM_STEP_NODELIST ?? env.SLURM_JOB_NODELIST ?? env.SLURM_NODELIST;
  const masterAddr = env.MASTER_ADDR || (slurm && nodeList ? firstSlurmHost(nodeList) : undefined);
  const jobId = slurm ? int(env, 'SLURM_JOB_ID', 0) : undefined;
  const masterPort = int(env, 'MASTER_PORT', 0, 65535) ?? (jobId !== undefined ? 15000 + (jobId % 20000) : undefined);
  const out: DistEnv = {
    rank: rank ?? 0,
    worldSize: worldSize ?? 1,
    localRank: localRank ?? rank ?? 0,
    localWorldSize: localWorldSize ?? worldSize ?? 1,
    masterAddr: masterAddr ?? '127.0.0.1',
    masterPort: masterPort ?? 29500,
    useAgentStore: (env.TORCHELASTIC_USE_AGENT_STORE ?? '').toLowerCase() === 'true',
    restartCount: int(env, 'TORCHELASTIC_RESTART_COUNT', 0) ?? 0,
    source: env.RANK !== undefined || env.WORLD_SIZE !== undefined ? 'torchrun' : slurm ? 'slurm' : 'default',
  };
  if (out.rank >= out.worldSize) {
    throw new DistributedError(`RANK (${out.rank}) must be below WORLD_SIZE (${out.worldSize})`);
  }
  return out;
}

/** True when this process is one of several (WORLD_SIZE or SLURM_NTASKS above 1). */
export function isDistributedLaunch(env: NodeJS.ProcessEnv = process.env): boolean {
  return readDistEnv(env).worldSize > 1;
}
