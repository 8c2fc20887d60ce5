import { strict as assert } from 'assert';
import * as torch from '../../lib/torch';

describe('tensor lifetime', () => {
  it('dispose() frees the handle and later use throws', () => {
    const before = torch.memory().tensors;
    const t = torch.ones([3]);
    assert.equal(torch.memory().tensors, before + 1);
    t.dispose();
    t.dispose(); // idempotent
    assert.equal(torch.memory().tensors, before);
    assert.equal(t.isDisposed, true);
    assert.throws(() => t.add(1), torch.TorchError);
    assert.throws(() => t.shape, /after dispose/);
  });

  it('`using` / Symbol.dispose frees at the end of the block', () => {
    const before = torch.memory().tensors;
    {
      const t = torch.zeros([2]);
      t[Symbol.dispose]();
    }
    assert.equal(torch.memory().tensors, before);
  });

  it('tidy frees what it made except what it returns (nested in arrays, objects and Maps) or keeps', () => {
    const before = torch.memory().tensors;
    let kept!: torch.Tensor;
    const out = torch.tidy(() => {
      const a = torch.ones([4]);
      const b = a.mul(2);
      kept = torch.keep(b.add(1));
      a.sub(1);
      return { list: [b.exp()], map: new Map([['x', b.neg()]]) };
    });
    assert.equal(torch.memory().tensors, before + 3);
    assert.deepEqual(out.list[0].toArray().map((v) => Math.round(v * 1000)), [7389, 7389, 7389, 7389]);
    assert.deepEqual(kept.toArray(), [3, 3, 3, 3]);
    torch.dispose([out, kept]);
    assert.equal(torch.memory().tensors, before);
  });

  it('keep takes every tensor of a nested value (an ACT carry) out of the enclosing scopes', () => {
    const before = torch.memory().tensors;
    let carry!: { inner: { z: torch.Tensor }; steps: torch.Tensor[]; data: Map<string, torch.Tensor> };
    torch.tidy(() =>
      torch.tidy(() => {
        carry = torch.keep({ inner: { z: torch.ones([2]) }, steps: [torch.zeros([2])], data: new Map([['x', torch.ones([1])]]) });
        torch.ones([3]);
      })
    );
    assert.equal(torch.memory().tensors, before + 3);
    assert.deepEqual(carry.inner.z.toArray(), [1, 1]);
    torch.dispose(carry);
    assert.equal(torch.memory().tensors, before);
  });

  it('nested tidy hands returned tensors to the enclosing scope', () => {
    const before = torch.memory().tensors;
    torch.tidy(() => {
      const inner = torch.tidy(() => torch.ones([2]).mul(3));
      assert.equal(inner.isDisposed, false);
      return undefined;
    });
    assert.equal(torch.memory().tensors, before);
  });

  it('tidy frees everything when fn throws, and rejects async functions', () => {
    const before = torch.memory().tensors;
    assert.throws(() => torch.tidy(() => {
      torch.ones([2]);
      throw new Error('boom');
    }), /boom/);
    assert.equal(torch.memory().tensors, before);
    assert.throws(() => torch.tidy((async () => torch.ones([1])) as unknown as () => torch.Tensor), /synchronous/);
  });

  it('an in-place op returns the same object, so tidy does not free an outer tensor', () => {
    const x = torch.zeros([2]);
    const y = torch.tidy(() => x.add_(1));
    assert.equal(y, x);
    assert.deepEqual(x.toArray(), [1, 1]);
    x.dispose();
  });

  it('the finalizer backstop frees unreachable tensors once the event loop turns', async function () {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) this.skip();
    // Collect what earlier tests left unreachable first, so only this test's tensors are counted.
    const settle = async () => {
      for (let i = 0; i < 5; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    await settle();
    const before = torch.memory().tensors;
    (() => {
      for (let i = 0; i < 100; i++) torch.ones([10]);
    })();
    assert.equal(torch.memory().tensors, before + 100);
    for (let i = 0; i < 10 && torch.memory().tensors > before; i++) await settle();
    assert.equal(torch.memory().tensors, before);
  });

  it('20,000 training iterations of a small MLP keep the live-tensor count and RSS flat', function () {
    this.timeout(300_000);
    torch.manualSeed(0);
    const w1 = torch.keep(torch.randn([32, 64]).mul_(0.1).requiresGrad_());
    const w2 = torch.keep(torch.randn([64, 1]).mul_(0.1).requiresGrad_());
    const x = torch.keep(torch.randn([16, 32]));
    const y = torch.keep(torch.randn([16, 1]));
    const step = () =>
      torch.tidy(() => {
        const h = x.matmul(w1).relu();
        const loss = h.matmul(w2).sub(y).square().mean();
        loss.backward();
        torch.noGrad(() => {
          for (const w of [w1, w2]) {
            const g = w.grad!;
            w.sub_(g, 1e-3);
            g.zero_();
          }
        });
        return loss.item();
      });
    for (let i = 0; i < 500; i++) step(); // warm up allocator pools
    const tensors = torch.memory().tensors;
    const rss = process.memoryUsage().rss;
    let first = 0;
    let last = 0;
    for (let i = 0; i < 20_000; i++) {
      last = step();
      if (i === 0) first = last;
      if (i % 1000 === 0) assert.equal(torch.memory().tensors, tensors, `live tensors changed at iteration ${i}`);
    }
    const grown = (process.memoryUsage().rss - rss) / 2 ** 20;
    assert.equal(torch.memory().tensors, tensors);
    assert.ok(grown < 50, `RSS grew by ${grown.toFixed(1)} MB`);
    assert.ok(last < first, `loss should fall (${first} -> ${last})`);
    torch.dispose([w1, w2, x, y]);
  });
});
