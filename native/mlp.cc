// The SwiGLU MLP of a bfloat16 model on AMX tiles: down(silu(gate) · up) with [gate | up] =
// x·W_gate_upᵀ, 32 tokens at a time, so the [tokens, 2·inter] projection is never read back from
// memory. ATen writes it and reads it back (12.7 MB per call for config B), and at that size
// memory, not arithmetic, set the pace. Rounds where the composed bfloat16 ops round: both
// projections' outputs, silu, and the product. Under autograd it also writes what the backward
// needs (the projection and silu(gate) · up); the backward is the composed ops' own GEMMs.
#pragma GCC optimize("O3", "no-trapping-math", "no-math-errno")

#include "amx.h"
#include "common.h"
#include "kernels.h"
#include "parallel.h"
#include "simd.h"

#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cstring>

namespace trm {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

namespace {

using Bf16 = c10::BFloat16;

// W [N, K] (bfloat16, as Linear keeps it) as the tile unit's B = Wᵀ [K, N], one tile after
// another: tile (nb, kb) holds pair rows kk ∈ [16·kb, 16·kb + 16) of columns [16·nb, 16·nb + 16),
// each row the 16 32-bit pairs (W[n][2kk], W[n][2kk + 1]), at (nb·K/32 + kb)·kTileWords. Each
// tile is then 1 KB in one piece (rows of a plain Wᵀ lie 2·N bytes apart, 4 KB for config B's
// projection, and 16 such rows all fall in one set of the L1 cache: 3–4% of the MLP's time).
constexpr int64_t kTileWords = 256;  // 16 rows of 16 pairs

AlignedVector<uint32_t> PackWeight(const at::Tensor& w) {
  const int64_t N = w.size(0), K2 = w.size(1) / 2, KB = K2 / 16;
  const uint32_t* p = reinterpret_cast<const uint32_t*>(w.data_ptr<Bf16>());  // W's rows as K2 pairs
  AlignedVector<uint32_t> out(K2 * N);
  ParallelFor(N / 16 * KB, 8, [&](int64_t begin, int64_t end) {
    for (int64_t tile = begin; tile < end; ++tile) {
      const int64_t n0 = tile / KB * 16, kk0 = tile % KB * 16;
      uint32_t* t = out.data() + tile * kTileWords;
      for (int64_t kk = 0; kk < 16; ++kk) {
        for (int64_t n = 0; n < 16; ++n) t[kk * 16 + n] = p[(n0 + n) * K2 + kk0 + kk];
      }
    }
  });
  return out;
}

#if defined(__x86_64__)

// One block of 32 rows of x [32, H] (rows H apart) → out's rows [0, valid): gate and up 16
// columns at a time, silu(gate) · up into h [32, I]; then h·W_downᵀ 32 columns at a time. The
// rounded gate and up also go to gu's rows [0, valid) (2·I apart) where gu is given. Weights
// packed by PackWeight. scratch: 32 × 32 floats.
TRM_AMX void MlpBlock(const Bf16* x, int64_t H, int64_t I, const uint32_t* gate_up, const uint32_t* down, Bf16* h, float* scratch,
                      Bf16* out, Bf16* gu, int64_t valid) {
  using V = Vec<float>;
  const Bf16* bf16 = nullptr;  // RoundTo's tag
  // Tiles 0–3 ← A·B for A's two 16-row blocks (rows lda apart; tiles 4–5) and two column blocks
  // of packed B (at b and b + b_second; tiles 6–7), over K = 32·k_blocks, so each weight tile
  // loaded serves both row blocks.
  auto multiply = [&](const Bf16* a, int64_t lda, const uint32_t* b, int64_t b_second, int64_t k_blocks) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int64_t kb = 0; kb < k_blocks; ++kb) {
      _tile_loadd(4, a + kb * 32, lda * 2);
      _tile_loadd(5, a + 16 * lda + kb * 32, lda * 2);
      _tile_loadd(6, b + kb * kTileWords, 64);
      _tile_loadd(7, b + b_second + kb * kTileWords, 64);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 5, 6);
      _tile_dpbf16ps(2, 4, 7);
      _tile_dpbf16ps(3, 5, 7);
    }
  };
  // scratch ← tiles 0–3: rows 0–15 then 16–31, B's first column block, then its second.
  auto store = [&] {
    _tile_stored(0, scratch, 128);
    _tile_stored(1, scratch + 16 * 32, 128);
    _tile_stored(2, scratch + 16, 128);
    _tile_stored(3, scratch + 16 * 32 + 16, 128);
  };
  // Gate and up columns [n, n + 16) are gate_up's column blocks n/16 and (I + n)/16 (a column
  // block: K/32 tiles). The next block's products are issued before this block's silu, so the
  // tiles work while the vector units do.
  const int64_t gate_up_block = H / 32 * kTileWords, down_block = I / 32 * kTileWords, up_half = I / 16 * gate_up_block;
  multiply(x, H, gate_up, up_half, H / 32);
  for (int64_t n = 0; n < I; n += 16) {
    store();
    if (n + 16 < I) multiply(x, H, gate_up + (n / 16 + 1) * gate_up_block, up_half, H / 32);
    for (int64_t r = 0; r < 32; ++r) {
      const V gate = RoundTo(bf16, Load<V>(scratch + r * 32));
      const V up = RoundTo(bf16, Load<V>(scratch + r * 32 + 16));
      if (gu && r < valid) {
        StoreRounded(gu + r * 2 * I + n, gate);
        StoreRounded(gu + r * 2 * I + I + n, up);
      }
      StoreRounded(h + r * I + n, RoundTo(bf16, gate / (1.0f + Exp(-gate))) * up);
    }
  }
  for (int64_t n = 0; n < H; n += 32) {
    multiply(h, I, down + n / 16 * down_block, down_block, I / 32);
    store();
    for (int64_t r = 0; r < valid; ++r) {
      for (int64_t j = 0; j < 32; j += 16) StoreRounded(out + r * H + n + j, Load<V>(scratch + r * 32 + j));
    }
  }
}

// The blocks of 32 rows this thread claims (next, parallel.h): the tiles configured once, the last
// block's rows copied into a zero-padded block when fewer than 32 remain. gu [T, 2·I] and h_out [T, I]
// receive the projection and silu(gate) · up where given.
template <typename Next>
TRM_AMX void MlpRows(const Bf16* x, int64_t T, int64_t H, int64_t I, const uint32_t* gate_up, const uint32_t* down, Bf16* out,
                     Bf16* gu, Bf16* h_out, const Next& next) {
  AlignedVector<Bf16> h(32 * I), tail;
  AlignedVector<float> scratch(32 * 32);
  const TileConfig config;
  _tile_loadconfig(&config);
  for (int64_t block; next(block);) {
    const int64_t r = block * 32, valid = std::min<int64_t>(32, T - r);
    const Bf16* rows = x + r * H;
    if (valid < 32) {
      tail.assign(32 * H, Bf16(0.0f));
      std::copy(rows, rows + valid * H, tail.begin());
      rows = tail.data();
    }
    Bf16* hb = h_out && valid == 32 ? h_out + r * I : h.data();  // a whole block's h straight into h_out
    MlpBlock(rows, H, I, gate_up, down, hb, scratch.data(), out + r * H, gu ? gu + r * 2 * I : nullptr, valid);
    if (h_out && hb == h.data()) std::copy(h.begin(), h.begin() + valid * I, h_out + r * I);
  }
  _tile_release();
}

#else

template <typename Next>
void MlpRows(const Bf16*, int64_t, int64_t, int64_t, const uint32_t*, const uint32_t*, Bf16*, Bf16*, Bf16*, const Next&) {}

#endif

// The MLP of x [..., H] (contiguous) for weights [2·I, H] and [H, I]; the projection [..., 2·I]
// and silu(gate) · up [..., I] into *gate_up and *h where given.
at::Tensor MlpForward(const at::Tensor& x, const at::Tensor& w_gate_up, const at::Tensor& w_down, at::Tensor* gate_up,
                      at::Tensor* h) {
  const int64_t H = x.size(-1), I = w_down.size(1), T = x.numel() / H;
  const AlignedVector<uint32_t> gu_packed = PackWeight(w_gate_up.contiguous()), down_packed = PackWeight(w_down.contiguous());
  at::Tensor out = at::empty_like(x);
  if (gate_up) *gate_up = at::empty({T, 2 * I}, x.options());
  if (h) *h = at::empty({T, I}, x.options());
  const Bf16* xp = x.data_ptr<Bf16>();
  Bf16* op = out.data_ptr<Bf16>();
  Bf16* gp = gate_up ? gate_up->data_ptr<Bf16>() : nullptr;
  Bf16* hp = h ? h->data_ptr<Bf16>() : nullptr;
  ParallelClaims((T + 31) / 32, [&](auto next) { MlpRows(xp, T, H, I, gu_packed.data(), down_packed.data(), op, gp, hp, next); });
  return out;
}

struct Mlp : torch::autograd::Function<Mlp> {
  // MlpForward, saving x, the weights, the projection and silu(gate) · up.
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w_gate_up, const at::Tensor& w_down) {
    at::AutoDispatchBelowADInplaceOrView guard;
    at::Tensor gate_up, h;
    at::Tensor out = MlpForward(x, w_gate_up, w_down, &gate_up, &h);
    ctx->save_for_backward({x, w_gate_up, w_down, gate_up, h});
    return out;
  }

  // As autograd differentiates linear → swiglu → linear: d h = dy·W_down, d W_down = dyᵀ·h,
  // d gate_up = swiglu's backward, d W_gate_up = d gate_upᵀ·x, dx = d gate_up·W_gate_up.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &w_gate_up = saved[1], &w_down = saved[2], &gate_up = saved[3], &h = saved[4];
    const int64_t H = x.size(-1);
    const at::Tensor dy = grads[0].to(x.scalar_type()).reshape({-1, H});
    at::Tensor d_gate_up, dx, dw_gate_up, dw_down;
    if (ctx->needs_input_grad(0) || ctx->needs_input_grad(1)) d_gate_up = SwiGLUBackward(gate_up, dy.mm(w_down));
    if (ctx->needs_input_grad(0)) dx = d_gate_up.mm(w_gate_up).view(x.sizes());
    if (ctx->needs_input_grad(1)) dw_gate_up = d_gate_up.t().mm(x.view({-1, H}));
    if (ctx->needs_input_grad(2)) dw_down = dy.t().mm(h);
    return {dx, dw_gate_up, dw_down};
  }
};

Napi::Value FusedMlp(const Napi::CallbackInfo& info) {
  const at::Tensor& x = TensorArg(info, 0);
  const at::Tensor& w_gate_up = TensorArg(info, 1);
  const at::Tensor& w_down = TensorArg(info, 2);
  if (!AmxSupported()) throw std::invalid_argument("mlp: needs a CPU with AMX tiles (see amxSupported())");
  for (const at::Tensor* t : {&x, &w_gate_up, &w_down}) {
    if (t->scalar_type() != at::kBFloat16 || !t->device().is_cpu()) {
      throw std::invalid_argument("mlp: expected bfloat16 CPU tensors, got " + Describe(*t));
    }
  }
  const int64_t H = x.dim() ? x.size(-1) : 0, I = w_down.dim() == 2 ? w_down.size(1) : 0;
  if (H % 32 != 0 || I % 32 != 0 || H == 0 || I == 0 || w_gate_up.dim() != 2 || w_gate_up.size(0) != 2 * I ||
      w_gate_up.size(1) != H || w_down.size(0) != H) {
    throw std::invalid_argument("mlp: expected x [..., H], gate_up weight [2·I, H] and down weight [H, I] with H and I "
                                "multiples of 32, got " + Describe(x) + ", " + Describe(w_gate_up) + ", " + Describe(w_down));
  }
  const at::Tensor xc = x.contiguous();
  const bool record = torch::autograd::GradMode::is_enabled() &&
                      (x.requires_grad() || w_gate_up.requires_grad() || w_down.requires_grad());
  if (!record) return NewTensor(info.Env(), MlpForward(xc, w_gate_up, w_down, nullptr, nullptr));
  return NewTensor(info.Env(), Mlp::apply(xc, w_gate_up, w_down));
}

Napi::Value AmxAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), AmxSupported()); }

}  // namespace

void InitMlp(Napi::Env env, Napi::Object exports) {
  TRM_EXPORT(exports, "fusedMlp", FusedMlp);
  TRM_EXPORT(exports, "amxSupported", AmxAvailable);
}

}  // namespace trm
