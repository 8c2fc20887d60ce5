// How our training step's time and peak memory grow with batch, hidden size and sequence length
// (one knob at a time from config A), one fresh process per point.
import { SCALING } from './configs';
import { median, runOurs } from './side_by_side';

export interface ScalingPoint {
  knob: keyof typeof SCALING;
  value: number;
  stepSeconds: number;
  peakRssMb: number;
}

export function measureScaling(o: { warmup: number; steps: number; threads?: number; log?: (line: string) => void }): ScalingPoint[] {
  const points: ScalingPoint[] = [];
  for (const knob of Object.keys(SCALING) as Array<keyof typeof SCALING>) {
    for (const config of SCALING[knob]) {
      const r = runOurs({ config, warmup: o.warmup, steps: o.steps, threads: o.threads, evaluate: false });
      const point = { knob, value: config[knob], stepSeconds: median(r.train), peakRssMb: r.maxRssMb };
      o.log?.(`  ${config.id}: ${point.stepSeconds.toFixed(3)} s/step, ${point.peakRssMb.toFixed(0)} MB`);
      points.push(point);
    }
  }
  return points;
}
