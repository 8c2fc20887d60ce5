// OpenBLAS picks its GEMM kernels from the CPU model when it loads. Debian's OpenBLAS 0.3.21 does
// not know recent Xeons (e.g. family 6 model 207) and falls back to its generic "Prescott" SSE3
// kernels: sgemm then runs 2–3× slower than the AVX-512 kernels the CPU supports (measured here:
// a demo training step 2.1 s → 0.96 s on one thread). When OPENBLAS_CORETYPE is unset, name the
// kernel family from the CPU's flags, as OpenBLAS itself would for a model it knows. It must be in
// the environment before the native addon (and with it OpenBLAS) loads: native.ts calls it first.
import * as fs from 'fs';

/** The OpenBLAS core type for these /proc/cpuinfo flags, or null to leave OpenBLAS's choice. */
export function openblasCoreType(flags: ReadonlySet<string>): string | null {
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq'].every((f) => flags.has(f))) {
    return flags.has('avx512_bf16') ? 'Cooperlake' : 'SkylakeX';
  }
  if (flags.has('avx2') && flags.has('fma')) return 'Haswell';
  return null;
}

function cpuFlags(): Set<string> {
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    return new Set(line ? line.slice(line.indexOf(':') + 1).trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/** Sets OPENBLAS_CORETYPE from the CPU flags, unless the environment already chose one. */
export function chooseOpenblasKernels(): void {
  if (process.env.OPENBLAS_CORETYPE !== undefined || process.platform !== 'linux') return;
  const core = openblasCoreType(cpuFlags());
  if (core) process.env.OPENBLAS_CORETYPE = core;
}
