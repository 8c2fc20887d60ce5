// jit.compile: every value kind both ways, autograd through a compiled function, compile and
// call errors as TorchErrors (with TorchScript's line), calls off the main thread.
import * as assert from 'assert';
import { torch, Tensor, TorchError } from '../../lib';
import * as jit from '../../lib/jit';

const src = (...lines: string[]) => lines.join('\n') + '\n';

describe('jit.compile', () => {
  let live = 0;
  beforeEach(() => (live = torch.memory().tensors));
  afterEach(() => assert.strictEqual(torch.memory().tensors, live, 'a test leaked tensors'));

  it('returns each function with its schema', () => {
    const fns = jit.compile(src('def add(x: Tensor, y: Tensor, alpha: float = 1.0) -> Tensor:', '    return x + alpha * y', '', 'def neg(x: Tensor) -> Tensor:', '    return -x'));
    assert.deepStrictEqual(Object.keys(fns).sort(), ['add', 'neg']);
    assert.deepStrictEqual(fns.add.info.args.map((a) => [a.name, a.type, a.hasDefault]), [['x', 'Tensor', false], ['y', 'Tensor', false], ['alpha', 'float', true]]);
    assert.deepStrictEqual(fns.add.info.returns, ['Tensor']);
    torch.tidy(() => {
      const x = torch.tensor([1, 2]);
      assert.deepStrictEqual((fns.add(x, x) as Tensor).toArray(), [2, 4]);
      assert.deepStrictEqual((fns.add(x, x, 0.5) as Tensor).toArray(), [1.5, 3]);
      assert.deepStrictEqual((fns.add.callWithKwargs([x, x], { alpha: 3 }) as Tensor).toArray(), [4, 8]);
    });
  });

  it('converts tensors, numbers, booleans, strings, None, lists, tuples and dicts both ways', () =>
    torch.tidy(() => {
      const { echo } = jit.compile<{ echo(...args: unknown[]): unknown[] }>(
        src(
          'def echo(t: Tensor, i: int, f: float, b: bool, s: str, n: Optional[int], li: List[int], lf: List[float],',
          '         lt: List[Tensor], tup: Tuple[int, str], d: Dict[str, Tensor], nested: List[List[int]]) -> Tuple[Tensor, int, float, bool, str, Optional[int], List[int], List[float], List[Tensor], Tuple[int, str], Dict[str, Tensor], List[List[int]], Optional[Tensor]]:',
          '    d2 = {"sum": d["a"] + d["b"]}',
          '    return t * 2, i + 1, f / 2, not b, s + "!", n, li + [4], lf, [x + 1 for x in lt], (tup[0] * 10, tup[1]), d2, nested, None'
        )
      );
      const t = torch.tensor([1, 2, 3]);
      const out = echo(t, 41, 3, true, 'hi', null, [1, 2, 3], [0.5], [t, t], [7, 'x'], { a: t, b: torch.ones([3]) }, [[1], [2, 3]]);
      assert.strictEqual(out.length, 13);
      assert.ok(out[0] instanceof Tensor);
      assert.deepStrictEqual((out[0] as Tensor).toArray(), [2, 4, 6]);
      assert.deepStrictEqual(out.slice(1, 8), [42, 1.5, false, 'hi!', null, [1, 2, 3, 4], [0.5]]);
      assert.deepStrictEqual((out[8] as Tensor[]).map((x) => x.toArray()), [[2, 3, 4], [2, 3, 4]]);
      assert.deepStrictEqual(out[9], [70, 'x']);
      const d = out[10] as Record<string, Tensor>;
      assert.deepStrictEqual(Object.keys(d), ['sum']);
      assert.deepStrictEqual(d.sum.toArray(), [2, 3, 4]);
      assert.deepStrictEqual(out[11], [[1], [2, 3]]);
      assert.strictEqual(out[12], null);
      // A Map is a dict too; an Optional given a value passes it.
      const { size } = jit.compile(src('def size(d: Dict[str, Tensor], n: Optional[int]) -> int:', '    k = 0 if n is None else n', '    return len(d) + k'));
      assert.strictEqual(size(new Map([['x', t]]), 5), 6);
    }));

  it('returns an input as a new handle sharing its storage', () =>
    torch.tidy(() => {
      const { ident } = jit.compile(src('def ident(x: Tensor) -> Tensor:', '    return x'));
      const x = torch.tensor([1, 2]);
      const y = ident(x) as Tensor;
      assert.notStrictEqual(y, x);
      y.dispose();
      assert.deepStrictEqual(x.toArray(), [1, 2]);
    }));

  it('autograd flows through a compiled function', () =>
    torch.tidy(() => {
      const { loss } = jit.compile(src('def loss(x: Tensor, w: Tensor) -> Tensor:', '    return (torch.tanh(x * w) ** 2).sum()'));
      const x = torch.tensor([0.5, -1, 2], { dtype: 'float64' });
      const w = torch.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
      (loss(x, w) as Tensor).backward();
      const eagerW = torch.tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
      x.mul(eagerW).tanh().square().sum().backward();
      const got = w.grad!.toArray();
      const want = eagerW.grad!.toArray();
      got.forEach((g, i) => assert.ok(Math.abs(g - want[i]) < 1e-12, `${g} vs ${want[i]}`));
    }));

  it('a compile error is a TorchError with TorchScript message and line', () => {
    assert.throws(
      () => jit.compile(src('def f(x: Tensor) -> Tensor:', '    y = x + 1', '    return torch.no_such_op(y)')),
      (e: unknown) => e instanceof TorchError && e.op === 'jit.compile' && /no_such_op/.test(e.message) && /line 3/.test(e.message)
    );
    assert.throws(() => jit.compile(src('def f(x: Tensor) -> Tensor:', '    y = x', '    return x + * 2')), (e: unknown) => e instanceof TorchError && /line 3/.test(e.message));
    assert.throws(() => jit.compile(42 as unknown as string), /Expected a string of TorchScript source/);
  });

  it('bad arguments and runtime errors name the function', () =>
    torch.tidy(() => {
      const { f } = jit.compile(src('def f(x: Tensor, n: int) -> Tensor:', '    return x.view(n) * n'));
      const x = torch.ones([2]);
      assert.throws(() => f(x, 2.5), (e: unknown) => e instanceof TorchError && e.op === 'f' && /argument 'n' must be an integer/.test(e.message));
      assert.throws(() => f(x, 2, 2), (e: unknown) => e instanceof TorchError && /takes 2 arguments but 3 were given/.test(e.message));
      assert.throws(() => f(x, 3), (e: unknown) => e instanceof TorchError && e.op === 'f' && /shape '\[3\]' is invalid/.test(e.message));
      const y = torch.ones([2]);
      y.dispose();
      assert.throws(() => f(y, 2), (e: unknown) => e instanceof TorchError && /after dispose/.test(e.message));
    }));

  it('callAsync runs off the main thread in the caller\'s grad mode', async () => {
    const { mm } = jit.compile(src('def mm(a: Tensor, b: Tensor) -> Tensor:', '    return torch.matmul(a, b)'));
    const a = torch.randn([8, 8], { requiresGrad: true });
    const b = torch.randn([8, 8]);
    const out = (await mm.callAsync(a, b)) as Tensor;
    const outNoGrad = (await torch.noGrad(() => mm.callAsync(a, b))) as Tensor;
    assert.strictEqual(out.requiresGrad, true);
    assert.strictEqual(outNoGrad.requiresGrad, false);
    const eager = a.matmul(b);
    assert.strictEqual(torch.tidy(() => out.sub(eager).abs().max().item()), 0);
    const bad = torch.ones([3]);
    await assert.rejects(mm.callAsync(a, bad), (e: unknown) => e instanceof TorchError && e.op === 'mm');
    torch.dispose([a, b, bad, out, outNoGrad, eager]);
  });

  it('callAsync keeps inference mode', async () => {
    const { twice } = jit.compile(src('def twice(a: Tensor) -> Tensor:', '    return a * 2'));
    const a = torch.ones([2], { requiresGrad: true });
    const out = (await torch.inferenceMode(() => twice.callAsync(a))) as Tensor;
    assert.strictEqual(out.requiresGrad, false);
    torch.dispose([a, out]);
  });
});
