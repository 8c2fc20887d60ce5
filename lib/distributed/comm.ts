// The trainer's collectives (train/types Comm) over a process group: gradients summed in one
// collective per dtype (bfloat16 travels as float32 on gloo), metrics summed in float64 (on the
// group's device: a GPU for nccl), evaluator state gathered as JSON, parameters broadcast from rank 0.
import type { Tensor } from '../torch';
import * as torch from '../torch';
import type { Comm } from '../train/types';
import type { ProcessGroup } from './process_group';

export class ProcessGroupComm implements Comm {
  readonly rank: number;
  readonly worldSize: number;

  constructor(readonly group: ProcessGroup) {
    this.rank = group.rank;
    this.worldSize = group.worldSize;
  }

  async allReduceGrads(grads: Tensor[]): Promise<void> {
    await this.group.allReduce(grads, 'sum');
  }

  async reduceSum(values: number[]): Promise<number[] | null> {
    if (values.length === 0) return this.rank === 0 ? [] : null;
    const t = torch.tensor(values, { dtype: 'float64', device: this.group.device });
    try {
      await this.group.reduce(t, 0, 'sum');
      return this.rank === 0 ? t.toArray() : null;
    } finally {
      t.dispose();
    }
  }

  async allReduceSum(values: number[]): Promise<number[]> {
    if (values.length === 0) return [];
    const t = torch.tensor(values, { dtype: 'float64', device: this.group.device });
    try {
      await this.group.allReduce(t, 'sum');
      return t.toArray();
    } finally {
      t.dispose();
    }
  }

  async gatherStrings(value: string): Promise<string[] | null> {
    return this.group.gatherObject(value, 0);
  }

  async broadcastTensors(tensors: Tensor[]): Promise<void> {
    await this.group.broadcast(tensors, 0);
  }

  /**
   * Blocking all_gather_into_tensor for the sparse puzzle embedding's optimizer (its hook is
   * synchronous); train_state picks it up from the Comm it is given.
   */
  allGatherTensor(t: Tensor): Tensor {
    return this.group.allGatherIntoTensorSync(t);
  }
}
