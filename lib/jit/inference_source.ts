// The TorchScript of a model's inference, generated from the live model: what every architecture
// shares (embeddings, the post-norm block with attention or mlp_t, its reasoning modules, the
// heads and the ACT loop) around the architecture's own recursion (recursions.ts). The weights
// become the module's parameters and buffers (dotted names joined with "__"), the config literal
// constants.
import type { Tensor } from '../torch';
import { ReasoningBlock, ReasoningModule } from '../models/recursive_reasoning/blocks';
import type { ReasoningInner } from '../models/recursive_reasoning/inner';
import type { Recursion } from './recursions';

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
const BOOL = 11;

/** "inner.L_level.layers.0.mlp.down_proj.weight" → "L_level__layers__0__mlp__down_proj__weight" (TorchScript names cannot hold dots). */
export function attrName(key: string): string {
  return key.replace(/^inner\./, '').replace(/\./g, '__');
}

/** A method's lines, its body indented. */
function def(signature: string, body: string[]): string[] {
  return [`def ${signature}:`, ...indent(body), ''];
}

function indent(lines: string[]): string[] {
  return lines.map((l) => `    ${l}`);
}

/**
 * forward(inputs [B, seq_len], puzzle_identifiers [B]) → (predictions, logits, q_halt_logits) and
 * run(inputs, puzzle_identifiers, steps) of `inner`, which recurses as `recursion` says.
 */
export function generateInference(inner: ReasoningInner, recursion: Recursion): GeneratedModule {
  const c = inner.config;
  const fwd = DTYPES[inner.forward_dtype];
  const P = inner.puzzle_emb_len;
  const S = c.seq_len;
  const L = inner.totalLen;
  const D = c.hidden_size;
  const self = (key: string) => `self.${attrName(key)}`;
  const levels = recursion.levels.map((name): [string, ReasoningBlock[]] => {
    const level = (inner as unknown as Record<string, unknown>)[name];
    if (!(level instanceof ReasoningModule)) throw new TypeError(`the model has no reasoning module '${name}'`);
    return [name, [...level.layers]];
  });
  for (const [, init] of recursion.latents) {
    if (!inner.getBuffer(init)) throw new TypeError(`the model has no latent init buffer '${init}'`);
  }

  // What inference reads: every parameter, and the buffers but the sparse embedding's training rows.
  const parameters = inner.namedParameters('inner');
  const buffers = inner.namedBuffers('inner').filter(([k]) => !/puzzle_emb\.local_(weights|ids)$/.test(k));
  const lines: string[] = [];

  lines.push(
    ...def('rms_norm(self, x: Tensor) -> Tensor', [
      `h = x.to(${FLOAT32})`,
      'variance = h.square().mean(-1, keepdim=True)',
      `return (h * torch.rsqrt(variance + ${float(c.rms_norm_eps)})).to(x.dtype)`,
    ]),
    ...def('linear(self, x: Tensor, weight: Tensor) -> Tensor', ['return torch.linear(x, weight.to(x.dtype))']),
    ...def('swiglu(self, x: Tensor, gate_up: Tensor, down: Tensor) -> Tensor', [
      'gu = self.linear(x, gate_up).chunk(2, -1)  # 2 × [..., inter]',
      'return self.linear(torch.silu(gu[0]) * gu[1], down)',
    ])
  );

  // The block: x = norm(x + mix(x)); x = norm(x + mlp(x)), mixing positions by mlp_t or attention.
  if (c.mlp_t) {
    lines.push(
      ...def('block(self, h: Tensor, t_gate_up: Tensor, t_down: Tensor, gate_up: Tensor, down: Tensor) -> Tensor', [
        't = h.transpose(1, 2)  # [B, D, L], as blocks.ts (the same matmul shapes, so the same sums)',
        'h = self.rms_norm(t + self.swiglu(t, t_gate_up, t_down)).transpose(1, 2)  # [B, L, D]',
        'return self.rms_norm(h + self.swiglu(h, gate_up, down))',
      ])
    );
  } else {
    const attn = levels.flatMap(([, blocks]) => blocks)[0]?.self_attn;
    const H = attn ? attn.num_heads : c.num_heads;
    const hd = attn ? attn.head_dim : Math.floor(D / c.num_heads);
    const rope = inner.rotary_emb !== null;
    if (rope) {
      lines.push(
        ...def('rotate_half(self, x: Tensor) -> Tensor', ['halves = x.chunk(2, -1)', 'return torch.cat([-halves[1], halves[0]], -1)']),
        ...def('rope(self, x: Tensor, cos: Tensor, sin: Tensor) -> Tensor', [
          'xf = x.to(cos.dtype)',
          'return (xf * cos + self.rotate_half(xf) * sin).to(x.dtype)',
        ])
      );
    }
    lines.push(
      ...def('attention(self, h: Tensor, qkv_weight: Tensor, o_weight: Tensor) -> Tensor', [
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
      ]),
      ...def('block(self, h: Tensor, qkv_weight: Tensor, o_weight: Tensor, gate_up: Tensor, down: Tensor) -> Tensor', [
        'h = self.rms_norm(h + self.attention(h, qkv_weight, o_weight))',
        'return self.rms_norm(h + self.swiglu(h, gate_up, down))',
      ])
    );
  }

  // Each reasoning module: its blocks in order, on h (the recursion adds the injection).
  for (const [name, blocks] of levels) {
    const calls = blocks.map((_, i) => {
      const p = `inner.${name}.layers.${i}`;
      const mix = c.mlp_t ? ['mlp_t.gate_up_proj', 'mlp_t.down_proj'] : ['self_attn.qkv_proj', 'self_attn.o_proj'];
      const ws = [...mix, 'mlp.gate_up_proj', 'mlp.down_proj'].map((m) => self(`${p}.${m}.weight`));
      return `h = self.block(h, ${ws.join(', ')})`;
    });
    lines.push(...def(`${name}(self, h: Tensor) -> Tensor`, [...calls, 'return h']));
  }

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
  lines.push(...def('input_embeddings(self, inputs: Tensor, puzzle_identifiers: Tensor) -> Tensor', embed));

  lines.push(
    ...def('heads(self, z: Tensor) -> Tuple[Tensor, Tensor, Tensor]', [
      `logits = self.linear(z, ${self('inner.lm_head.weight')}).narrow(1, ${P}, ${S})  # [B, S, vocab]`,
      `q = torch.linear(z.select(1, 0), ${self('inner.q_head.weight')}.to(z.dtype), ${self('inner.q_head.bias')}.to(z.dtype)).to(${FLOAT32})  # [B, 2]`,
      'return logits, q.select(-1, 0), q.select(-1, 1)',
    ])
  );

  // The ACT loop from the init latents. Without adaptive halting every row runs every step and the
  // heads read the last latents; with it, each row keeps the outputs of the step it first halts
  // at (the Q head votes to halt, or the last step) and the loop ends once every row has.
  const z = recursion.output;
  const step = recursion.step(c);
  const halt = c.no_ACT_continue ? 'step_q_halt > 0' : 'step_q_halt > step_q_continue';
  const loop = recursion.adaptive?.(c)
    ? [
        `halted = torch.zeros([B], dtype=${BOOL})`,
        `logits = torch.zeros([B, ${S}, ${c.vocab_size}], dtype=${fwd})`,
        `q_halt = torch.zeros([B], dtype=${FLOAT32})`,
        'for _step in range(steps):',
        ...indent([
          ...step,
          `step_logits, step_q_halt, step_q_continue = self.heads(${z})`,
          'logits = torch.where(halted.view(-1, 1, 1), logits, step_logits)',
          'q_halt = torch.where(halted, q_halt, step_q_halt)',
          `halted = halted | (${halt})`,
          'if bool(halted.all()):',
          '    break',
        ]),
      ]
    : ['for _step in range(steps):', ...indent(step), `logits, q_halt, _q_continue = self.heads(${z})`];
  lines.push(
    ...def('run(self, inputs: Tensor, puzzle_identifiers: Tensor, steps: int) -> Tuple[Tensor, Tensor, Tensor]', [
      'x = self.input_embeddings(inputs, puzzle_identifiers)',
      'B = inputs.size(0)',
      ...recursion.latents.map(([name, init]) => `${name} = ${self(`inner.${init}`)}.expand(B, ${L}, ${D})  # [B, L, D]`),
      ...loop,
      'return logits.argmax(-1), logits, q_halt',
    ]),
    ...def('forward(self, inputs: Tensor, puzzle_identifiers: Tensor) -> Tuple[Tensor, Tensor, Tensor]', [
      'return self.run(inputs, puzzle_identifiers, self.halt_max_steps)',
    ])
  );

  return {
    source: lines.join('\n'),
    parameters: parameters.map(([k, t]) => [attrName(k), t]),
    buffers: buffers.map(([k, t]) => [attrName(k), t]),
  };
}
