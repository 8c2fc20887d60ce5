// Bridges tensors and the serialization layer's TensorRecords (torch.save / torch.load), so a
// state dict can be written as a .pt that PyTorch loads, and a PyTorch checkpoint loaded here.
import * as torch from '../torch';
import type { DType } from '../torch';
import { TensorRecord, contiguousStrides } from '../torch/serialization';

type Tensor = torch.Tensor;

/** A contiguous CPU copy of `t` as a TensorRecord (bfloat16/float16 keep their raw bits). */
export function tensorToRecord(t: Tensor): TensorRecord {
  return torch.tidy(() => {
    let c = t.detach().to('cpu').contiguous();
    if (t.dtype === 'bfloat16' || t.dtype === 'float16') c = torch.call('aten::view.dtype', c, 'int16') as Tensor;
    const bytes = new Uint8Array(c.toTypedArray().buffer);
    return { dtype: t.dtype as TensorRecord['dtype'], shape: t.shape, data: bytes };
  });
}

/** A contiguous tensor with the record's values (a copy of just its elements). */
export function recordToTensor(r: TensorRecord): Tensor {
  return torch.tidy(() => {
    const storage = torch.fromTypedArray(r.data.slice(), [r.data.byteLength], { dtype: 'uint8' });
    const typed = r.data.byteLength === 0 ? storage.to(r.dtype as DType) : (torch.call('aten::view.dtype', storage, r.dtype) as Tensor);
    const strides = r.strides ?? contiguousStrides(r.shape);
    const view = torch.call('aten::as_strided', typed, r.shape, strides, r.storageOffset ?? 0) as Tensor;
    const compact = view.contiguous(); // a fresh contiguous copy, unless the view already was one
    return compact === view ? view.clone() : compact;
  });
}

/** stateDict() → records, for torch.save. Does not dispose the input. */
export function stateDictToRecords(sd: Map<string, Tensor>): Map<string, TensorRecord> {
  return new Map([...sd].map(([k, t]) => [k, tensorToRecord(t)]));
}

/**
 * A torch.load result (Map or plain object of TensorRecords) → tensors for loadStateDict().
 * `stripPrefix` removes a leading key prefix where present (e.g. `_orig_mod.` of compiled
 * checkpoints). The caller owns the returned tensors.
 */
export function recordsToStateDict(loaded: unknown, stripPrefix = ''): Map<string, Tensor> {
  const entries = loaded instanceof Map ? [...loaded.entries()] : Object.entries(loaded as Record<string, unknown>);
  const out = new Map<string, Tensor>();
  for (const [k, v] of entries) {
    const r = v as TensorRecord;
    if (typeof r !== 'object' || r === null || !(r.data instanceof Uint8Array)) throw new TypeError(`state dict entry '${String(k)}' is not a tensor`);
    const key = stripPrefix && String(k).startsWith(stripPrefix) ? String(k).slice(stripPrefix.length) : String(k);
    out.set(key, recordToTensor(r));
  }
  return out;
}
