// The model registry, config validation, and the parameter counts of the paper's configurations.
import * as assert from 'assert';
import * as torch from '../../lib/torch';
import { ACTModel, createLossHead, createModel, modelNames, registerModel } from '../../lib/models';
import { NAMES, tinyConfig } from './helpers';

describe('model registry and configs', () => {
  it('has the five official names', () => {
    assert.deepStrictEqual(modelNames().slice(0, 5).sort(), Object.values(NAMES).sort());
  });

  it('suggests the closest name for an unknown one', () => {
    assert.throws(() => createModel('recursive_reasoning.trm@TinyRecursiveReasoningModel_ACTV2', {}), /Did you mean 'recursive_reasoning\.trm@TinyRecursiveReasoningModel_ACTV1'/);
  });

  it('lets users register their own architectures', () => {
    let got: Record<string, unknown> | undefined;
    registerModel('my.models@Custom', (c) => {
      got = c;
      return createModel(NAMES.trm, c);
    });
    const m = createModel('my.models@Custom', tinyConfig('trm'));
    assert.ok(m instanceof ACTModel && got !== undefined);
    assert.throws(() => registerModel('my.models@Custom', () => m), /already registered/);
    assert.throws(() => registerModel('no at sign', () => m), /module\.path@ClassName/);
    m.dispose();
  });

  it('validates configs: unknown keys (with a suggestion), missing keys, types, and impossible combinations', () => {
    assert.throws(() => createModel(NAMES.trm, { ...tinyConfig('trm'), H_cycle: 2 }), /unknown config key 'H_cycle'. Did you mean 'H_cycles'\?/);
    const { hidden_size: _, ...missing } = tinyConfig('trm');
    assert.throws(() => createModel(NAMES.trm, missing), /missing required config key 'hidden_size'/);
    assert.throws(() => createModel(NAMES.trm, { ...tinyConfig('trm'), mlp_t: 'yes' }), /expected a boolean for mlp_t/);
    assert.throws(() => createModel(NAMES.trm, { ...tinyConfig('trm'), forward_dtype: 'float8' }), /one of bfloat16, float16, float32/);
    assert.throws(() => createModel(NAMES.trm, { ...tinyConfig('trm'), puzzle_emb_ndim: 0 }), /set puzzle_emb_len=0/);
    assert.throws(() => createModel(NAMES.trm, { ...tinyConfig('trm'), puzzle_emb_ndim: 100 }), /does not fit/);
    assert.throws(() => createModel(NAMES.trm_hier6, { ...tinyConfig('trm_hier6'), L_cycles: 7 }), /L_cycles must be <= 6/);
    assert.throws(() => createModel(NAMES.transformers_baseline, { ...tinyConfig('transformers_baseline'), pos_encodings: 'none' }), /rope, learned/);
    assert.throws(() => createModel(NAMES.hrm, { ...tinyConfig('hrm'), puzzle_emb_len: 4 }), /unknown config key 'puzzle_emb_len'/);
    // what the trainer passes along is accepted
    createModel(NAMES.trm, { ...tinyConfig('trm'), name: NAMES.trm, loss: { name: 'losses@ACTLossHead' }, causal: false }).dispose();
    assert.throws(() => createLossHead('losses@ACTLossHead', createModel(NAMES.trm, tinyConfig('trm')), { loss_typ: 'x' }), /Did you mean 'loss_type'/);
  });

  it('parameter counts of the paper configurations (TRM ≈ 7M, TRM-MLP ≈ 5M, HRM ≈ 27M)', function () {
    this.timeout(60_000);
    const sudoku = { batch_size: 1, seq_len: 81, vocab_size: 11, num_puzzle_identifiers: 1, halt_max_steps: 16, halt_exploration_prob: 0.1 };
    const trm = { ...sudoku, H_cycles: 3, L_cycles: 6, L_layers: 2, hidden_size: 512, num_heads: 8, expansion: 4, puzzle_emb_ndim: 512, pos_encodings: 'rope' };
    const counts = torch.noGrad(() =>
      [
        [NAMES.trm, trm],
        [NAMES.trm, { ...trm, mlp_t: true, pos_encodings: 'none' }],
        [NAMES.hrm, { ...trm, H_cycles: 2, L_cycles: 2, H_layers: 4, L_layers: 4 }],
      ].map(([name, c]) => {
        const m = createModel(name as string, c as Record<string, unknown>);
        const n = m.numParameters();
        m.dispose();
        return n;
      }),
    );
    assert.deepStrictEqual(counts, [6_828_034, 5_028_866, 27_275_266]);
  });
});
