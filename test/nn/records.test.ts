// State dicts to and from torch.save archives: every dtype's bits survive, strided records load,
// and the `_orig_mod.` prefix of compiled official checkpoints is stripped.
import * as assert from 'assert';
import * as torch from '../../lib/torch';
import { loadFromBuffer, saveToBuffer } from '../../lib/torch/serialization';
import { recordToTensor, recordsToStateDict, stateDictToRecords, tensorToRecord } from '../../lib/nn';
import { createLossHead, createModel } from '../../lib/models';

describe('state dict records', () => {
  it('round-trips float32, bfloat16, int32 and bool tensors bit for bit', () => {
    torch.tidy(() => {
      const src = new Map<string, torch.Tensor>([
        ['f', torch.randn([2, 3])],
        ['b', torch.randn([5]).bfloat16()],
        ['i', torch.tensor([[1, -2], [3, 4]], { dtype: 'int32' })],
        ['m', torch.tensor([true, false])],
      ]);
      const back = recordsToStateDict(loadFromBuffer(saveToBuffer(stateDictToRecords(src))));
      for (const [k, t] of src) {
        const u = back.get(k)!;
        assert.strictEqual(u.dtype, t.dtype, k);
        assert.deepStrictEqual(u.shape, t.shape, k);
        assert.ok(u.eq(t).all().item() === 1, k);
      }
    });
  });

  it('materialises strided records (a transposed view)', () => {
    const data = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    const t = recordToTensor({ dtype: 'float32', shape: [3, 2], strides: [1, 3], data });
    assert.deepStrictEqual(t.tolist(), [[1, 4], [2, 5], [3, 6]]);
    assert.ok(t.isContiguous());
    const r = tensorToRecord(t.transpose(0, 1));
    assert.deepStrictEqual(Array.from(new Float32Array(r.data.buffer, r.data.byteOffset, 6)), [1, 2, 3, 4, 5, 6]);
  });

  it('loads an official-style checkpoint (`_orig_mod.model.inner.…`) into the loss head strictly', () => {
    const config = {
      batch_size: 2, seq_len: 4, vocab_size: 5, num_puzzle_identifiers: 2, puzzle_emb_ndim: 8, puzzle_emb_len: 1,
      H_cycles: 1, L_cycles: 1, L_layers: 1, hidden_size: 8, num_heads: 2, expansion: 1, pos_encodings: 'rope',
      halt_max_steps: 2, halt_exploration_prob: 0.1,
    };
    const a = createLossHead('losses@ACTLossHead', createModel('recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1', config), {});
    const b = createLossHead('losses@ACTLossHead', createModel('recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV1', config), {});
    const sd = a.stateDict();
    const official = new Map([...stateDictToRecords(sd)].map(([k, r]) => [`_orig_mod.${k}`, r]));
    const loaded = recordsToStateDict(loadFromBuffer(saveToBuffer(official)), '_orig_mod.');
    b.loadStateDict(loaded);
    const after = b.stateDict();
    for (const [k, t] of sd) assert.ok(after.get(k)!.eq(t).all().item() === 1, k);
    assert.strictEqual(after.get('model.inner.H_init')!.dtype, 'bfloat16');
    torch.dispose([sd, loaded, after]);
    a.dispose();
    b.dispose();
  });
});
