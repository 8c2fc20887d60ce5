// State-dict keys and shapes of every architecture, written out from the official modules'
// attribute names and registration order (TRM's also match trm_ref.py: see trm_parity.test.ts).
import * as assert from 'assert';
import * as torch from '../../lib/torch';
import { Arch, build } from './helpers';

const layer = (prefix: string, mix: 'attn' | 'mlp_t', positions = 6): string[] => [
  ...(mix === 'attn'
    ? [`${prefix}.self_attn.qkv_proj.weight:24x8`, `${prefix}.self_attn.o_proj.weight:8x8`]
    : [`${prefix}.mlp_t.gate_up_proj.weight:512x${positions}`, `${prefix}.mlp_t.down_proj.weight:${positions}x256`]),
  `${prefix}.mlp.gate_up_proj.weight:512x8`,
  `${prefix}.mlp.down_proj.weight:8x256`,
];
const io = ['inner.embed_tokens.embedding_weight:6x8', 'inner.lm_head.weight:6x8', 'inner.q_head.weight:2x8', 'inner.q_head.bias:2', 'inner.puzzle_emb.weights:3x8'];

function keys(arch: Arch, overrides: Record<string, unknown> = {}): string[] {
  const m = build(arch, overrides);
  const sd = m.stateDict();
  const out = [...sd].map(([k, t]) => `${k}:${t.shape.join('x')}`);
  torch.dispose(sd);
  m.dispose();
  return out;
}

describe('state-dict keys and shapes equal the official models', () => {
  it('trm', () => {
    assert.deepStrictEqual(keys('trm', { L_layers: 2 }), ['inner.H_init:8', 'inner.L_init:8', ...io, ...layer('inner.L_level.layers.0', 'attn'), ...layer('inner.L_level.layers.1', 'attn')]);
  });

  it('trm with mlp_t, learned positions and puzzle_emb_len 0 (ceil(ndim / hidden))', () => {
    assert.deepStrictEqual(keys('trm', { mlp_t: true, pos_encodings: 'learned', puzzle_emb_len: 0, puzzle_emb_ndim: 12 }), [
      'inner.H_init:8', 'inner.L_init:8', ...io.slice(0, 4), 'inner.puzzle_emb.weights:3x12', 'inner.embed_pos.embedding_weight:7x8',
      ...layer('inner.L_level.layers.0', 'mlp_t', 7),
    ]);
  });

  it('trm without puzzle embedding', () => {
    assert.deepStrictEqual(keys('trm', { puzzle_emb_ndim: 0, puzzle_emb_len: 0 }), ['inner.H_init:8', 'inner.L_init:8', ...io.slice(0, 4), ...layer('inner.L_level.layers.0', 'attn')]);
  });

  it('trm_singlez', () => {
    assert.deepStrictEqual(keys('trm_singlez'), ['inner.L_init:8', ...io, ...layer('inner.L_level.layers.0', 'attn')]);
  });

  it('trm_hier6', () => {
    const inits = ['inner.H_init:8', ...[1, 2, 3, 4, 5, 6].map((i) => `inner.L${i}_init:8`)];
    assert.deepStrictEqual(keys('trm_hier6'), [...inits, ...io, ...layer('inner.L_level.layers.0', 'attn')]);
  });

  it('hrm', () => {
    assert.deepStrictEqual(keys('hrm', { H_layers: 2 }), [
      'inner.H_init:8', 'inner.L_init:8', ...io,
      ...layer('inner.H_level.layers.0', 'attn'), ...layer('inner.H_level.layers.1', 'attn'), ...layer('inner.L_level.layers.0', 'attn'),
    ]);
  });

  it('transformers_baseline', () => {
    assert.deepStrictEqual(keys('transformers_baseline'), ['inner.H_init:8', ...io, ...layer('inner.H_level.layers.0', 'attn')]);
  });

  it('the init buffers are in forward_dtype, weights in float32', () => {
    const m = build('trm', { forward_dtype: 'bfloat16' });
    assert.strictEqual(m.inner.getBuffer('H_init')!.dtype, 'bfloat16');
    assert.ok(m.parameters().every((p) => p.dtype === 'float32'));
    m.dispose();
  });
});
