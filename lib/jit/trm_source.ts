// The TorchScript of a TRM's inference (recursive_reasoning.trm), generated from the live model:
// its weights become the module's parameters and buffers (dotted names joined with "__"), its
// config literal constants, and the whole ACT loop runs halt_max_steps steps per row, as eval does.
import type { Tensor } from '../torch';
import type { ReasoningBlock } from '../models/recursive_reasoning/blocks';
import type { TinyRecursiveReasoningModel_ACTV1_Inner } from '../models/recursive_reasoning/trm';

export interface GeneratedModule {
  source: string;
  parameters: [string, Tensor][];
  buffers: [string, Tensor][];
}

/** A TorchScript float literal (a JS integer would read back as int). */
export function float(x: number): string {
  if (!Number.isFinite(x)) throw new TypeError(`cannot write ${x} as a TorchScript constant`);
  const s = String(x);
  return /[.e]/.test(s) ? s : `${s}.0`;
}

// ScalarType numbers: the C++ resolver knows torch.* operators, not torch.float32 and friends.
const DTYPES: Record<string, number> = { float16: 5, float32: 6, float64: 7, bfloat16: 15 };
const FLOAT32 = DTYPES.float32;
const INT32 = 3;
const INT64 = 4;

/** "inner.L_level.layers.0.mlp.down_proj.weight" → "L_level__layers__0__mlp__down_proj__weight" (TorchScript names cannot hold dots). */
export function attrName(key: string): string {
  return key.replace(/^inner\./, '').replace(/\./g, '__');
}

export function generateTRM(inner: TinyRecursiveReasoningModel_ACTV1_Inner): GeneratedModule {
  const c = inner.config;
  const fwd = DTYPES[inner.forward_dtype];
  const P = inner.puzzle_emb_len;
  const S = c.seq_len;
  const L = inner.totalLen;
  const D = c.hidden_size;
  const self = (key: string) => `self.${attrName(key)}`;

  // What inference reads: every parameter, and the buffers but the sparse embedding's training rows.
  const parameters = inner.namedParameters('inner');
  const buffers = inner.namedBuffers('inner').filter(([k]) => !/puzzle_emb\.local_(weights|ids)$/.test(k));
  const lines: string[] = [];
  const def = (signature: string, body: string[]) => lines.push(`def ${signature}:`, ...body.map((l) => `    ${l}`), '');

  def('rms_norm(self, x: Tensor) -> Tensor', [
    `h = x.to(${FLOAT32})`,
    'variance = h.square().mean(-1, keepdim=True)',
    `return (h * torch.rsqrt(variance + ${float(c.rms_norm_eps)})).to(x.dtype)`,
  ]);
  def('linear(self, x: Tensor, weight: Tensor) -> Tensor', ['return torch.linear(x, weight.to(x.dtype))']);
  def('swiglu(self, x: Tensor, gate_up: Tensor, down: Tensor) -> Tensor', [
    'gu = self.linear(x, gate_up).chunk(2, -1)  # 2 × [..., inter]',
    'return self.linear(torch.silu(gu[0]) * gu[1], down)',
  ]);

  const blocks = [...inner.L_level.layers] as ReasoningBlock[];
  if (c.mlp_t) {
    def('block(self, h: Tensor, t_gate_up: Tensor, t_down: Tensor, gate_up: Tensor, down: Tensor) -> Tensor', [
      't = h.transpose(1, 2)  # [B, D, L], as blocks.ts (the same matmul shapes, so the same sums)',
      'h = self.rms_norm(t + self.swiglu(t, t_gate_up, t_down)).transpose(1, 2)  # [B, L, D]',
      'return self.rms_norm(h + self.swiglu(h, gate_up, down))',
    ]);
  } else {
    const attn = blocks[0]?.self_attn;
    const H = attn ? attn.num_heads : c.num_heads;
    const hd = attn ? attn.head_dim : Math.floor(D / c.num_heads);
    const rope = inner.rotary_emb !== null;
    if (rope) {
      def('rotate_half(self, x: Tensor) -> Tensor', ['halves = x.chunk(2, -1)', 'return torch.cat([-halves[1], halves[0]], -1)']);
      def('rope(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor', [
        'xf = x.to(cos.dtype)',
        'return (xf * cos + self.rotate_half(xf) * sin).to(x.dtype)',
      ]);
    }
    def('attention(self, h: Tensor, qkv_weight: Tensor, o_weight: Tensor) -> Tensor', [
      'B = h.size(0)',
      'S = h.size(1)',
      `qkv = self.linear(h, qkv_weight).view(B, S, ${3 * H}, ${hd})  # [B, S, 3H, hd]`,
      `query = qkv.narrow(2, 0, ${H})`,
      `key = qkv.narrow(2, ${H}, ${H})`,
      `value = qkv.narrow(2, ${2 * H}, ${H})`,
      ...(rope
        ? [
            `cos = ${self('inner.rotary_emb.cos_cached')}.unsqueeze(-2)  # [S, 1, hd]`,
            `sin = ${self('inner.rotary_emb.sin_cached')}.unsqueeze(-2)`,
            'query = self.rope(query, cos, sin)',
            'key = self.rope(key, cos, sin)',
          ]
        : []),
      `q = query.transpose(1, 2).to(${FLOAT32})  # [B, H, S, hd]`,
      `k = key.transpose(1, 2).to(${FLOAT32})`,
      `v = value.transpose(1, 2).to(${FLOAT32})`,
      `scores = torch.matmul(q, k.transpose(-2, -1)) * ${float(1 / Math.sqrt(hd))}`,
      'out = torch.matmul(torch.softmax(scores, -1), v)  # [B, H, S, hd]',
      `merged = out.to(h.dtype).transpose(1, 2).reshape(B, S, ${H * hd})`,
      'return self.linear(merged, o_weight)',
    ]);
    def('block(self, h: Tensor, qkv_weight: Tensor, o_weight: Tensor, gate_up: Tensor, down: Tensor) -> Tensor', [
      'h = self.rms_norm(h + self.attention(h, qkv_weight, o_weight))',
      'return self.rms_norm(h + self.swiglu(h, gate_up, down))',
    ]);
  }

  const layerCalls = blocks.map((_, i) => {
    const p = `inner.L_level.layers.${i}`;
    const mix = c.mlp_t ? ['mlp_t.gate_up_proj', 'mlp_t.down_proj'] : ['self_attn.qkv_proj', 'self_attn.o_proj'];
    const ws = [...mix, 'mlp.gate_up_proj', 'mlp.down_proj'].map((m) => self(`${p}.${m}.weight`));
    return `h = self.block(h, ${ws.join(', ')})`;
  });
  def('L_level(self, hidden: Tensor, injection: Tensor) -> Tensor', ['h = hidden + injection', ...layerCalls, 'return h']);

  const embed: string[] = [
    'B = inputs.size(0)',
    `embedding = torch.embedding(${self('inner.embed_tokens.embedding_weight')}.to(${fwd}), inputs.to(${INT32}))  # [B, S, D]`,
  ];
  if (inner.puzzle_emb) {
    const pad = P * D - inner.puzzle_emb.embedding_dim;
    embed.push(`puzzle = ${self('inner.puzzle_emb.weights')}.index_select(0, puzzle_identifiers.to(${INT64})).to(${fwd})  # [B, ndim]`);
    if (pad > 0) embed.push(`puzzle = torch.constant_pad_nd(puzzle, [0, ${pad}], 0)`);
    embed.push(`embedding = torch.cat([puzzle.view(B, ${P}, ${D}), embedding], -2)  # [B, L, D]`);
  }
  if (inner.embed_pos) embed.push(`embedding = (embedding + ${self('inner.embed_pos.embedding_weight')}.to(${fwd})) * 0.707106781`);
  embed.push(`return embedding * ${float(inner.embed_scale)}`);
  def('input_embeddings(self, inputs: Tensor, puzzle_identifiers: Tensor) -> Tensor', embed);

  def('run(self, inputs: Tensor, puzzle_identifiers: Tensor, steps: int) -> Tuple[Tensor, Tensor, Tensor]', [
    'x = self.input_embeddings(inputs, puzzle_identifiers)',
    'B = inputs.size(0)',
    `z_H = ${self('inner.H_init')}.expand(B, ${L}, ${D})  # every row starts from the init latents`,
    `z_L = ${self('inner.L_init')}.expand(B, ${L}, ${D})`,
    'for _step in range(steps):',
    `    for _h in range(${c.H_cycles}):`,
    `        for _l in range(${c.L_cycles}):`,
    '            z_L = self.L_level(z_L, z_H + x)',
    '        z_H = self.L_level(z_H, z_L)',
    `logits = self.linear(z_H, ${self('inner.lm_head.weight')}).narrow(1, ${P}, ${S})  # [B, S, vocab]`,
    `q = torch.linear(z_H.select(1, 0), ${self('inner.q_head.weight')}.to(z_H.dtype), ${self('inner.q_head.bias')}.to(z_H.dtype)).to(${FLOAT32})`,
    'return logits.argmax(-1), logits, q.select(-1, 0)',
  ]);
  def('forward(self, inputs: Tensor, puzzle_identifiers: Tensor) -> Tuple[Tensor, Tensor, Tensor]', [
    'return self.run(inputs, puzzle_identifiers, self.halt_max_steps)',
  ]);

  return {
    source: lines.join('\n'),
    parameters: parameters.map(([k, t]) => [attrName(k), t]),
    buffers: buffers.map(([k, t]) => [attrName(k), t]),
  };
}
