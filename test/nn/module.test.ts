// nn.Module: registration, dotted names and order, state dicts (and their errors), modes,
// dtype moves, grads, printing and lifetime.
import * as assert from 'assert';
import * as torch from '../../lib/torch';
import { CastedLinear, Module, ModuleList, StateDictError } from '../../lib/nn';

class Leaf extends Module {
  constructor() {
    super();
    this.registerParameter('w', torch.ones([2, 3]));
    this.registerParameter('none', null);
    this.registerBuffer('running', torch.zeros([3]));
    this.registerBuffer('scratch', torch.zeros([4], { dtype: 'int32' }), { persistent: false });
  }
}

class Tree extends Module {
  readonly a: Leaf;
  readonly list: ModuleList<Leaf>;
  constructor() {
    super();
    this.registerBuffer('top', torch.full([1], 7));
    this.a = this.registerModule('a', new Leaf());
    this.list = this.registerModule('list', new ModuleList([new Leaf(), new Leaf()]));
    this.registerParameter('bias', torch.zeros([5]));
  }
}

const shapes = (sd: Map<string, torch.Tensor>) => [...sd].map(([k, t]) => `${k}:${t.shape.join('x')}`);

describe('nn.Module', () => {
  let m: Tree;
  beforeEach(() => (m = new Tree()));
  afterEach(() => m.dispose());

  it('names parameters, buffers and modules with dots, in PyTorch order', () => {
    assert.deepStrictEqual(m.namedParameters().map(([k]) => k), ['bias', 'a.w', 'list.0.w', 'list.1.w']);
    assert.deepStrictEqual(m.namedBuffers().map(([k]) => k), ['top', 'a.running', 'a.scratch', 'list.0.running', 'list.0.scratch', 'list.1.running', 'list.1.scratch']);
    assert.deepStrictEqual(m.namedModules().map(([k]) => k), ['', 'a', 'list', 'list.0', 'list.1']);
    const sd = m.stateDict();
    // own parameters, own persistent buffers, then children; non-persistent buffers left out
    assert.deepStrictEqual(shapes(sd), ['bias:5', 'top:1', 'a.w:2x3', 'a.running:3', 'list.0.w:2x3', 'list.0.running:3', 'list.1.w:2x3', 'list.1.running:3']);
    torch.dispose(sd);
    assert.strictEqual(m.numParameters(), 5 + 3 * 6);
    assert.ok(m.parameters().every((p) => p.requiresGrad));
  });

  it('stateDict values are new handles on the same storage', () => {
    const sd = m.stateDict();
    const w = m.a.getParameter('w')!;
    assert.notStrictEqual(sd.get('a.w'), w);
    assert.ok(sd.get('a.w')!.sharesStorageWith(w));
    assert.strictEqual(sd.get('a.w')!.requiresGrad, false);
    torch.dispose(sd);
    assert.strictEqual(w.isDisposed, false, 'disposing the state dict leaves the module intact');
  });

  it('loadStateDict copies into the same tensors and reports keys when not strict', () => {
    const w = m.a.getParameter('w')!;
    const sd = m.stateDict();
    const src = new Map([...sd].map(([k, t]) => [k, t.mul(2)]));
    src.delete('top');
    src.set('extra', torch.zeros([1]));
    const res = m.loadStateDict(src, { strict: false });
    assert.deepStrictEqual(res, { missingKeys: ['top'], unexpectedKeys: ['extra'] });
    assert.strictEqual(m.a.getParameter('w'), w);
    assert.deepStrictEqual(w.toArray(), [2, 2, 2, 2, 2, 2]);
    assert.ok(w.requiresGrad && w.isLeaf);
    torch.dispose([sd, src]);
  });

  it('loadStateDict strict error lists missing, unexpected and mismatched keys with shapes, and copies nothing', () => {
    const sd = m.stateDict();
    const src = new Map([...sd].map(([k, t]) => [k, t.add(1)]));
    src.delete('list.1.w');
    src.set('a.typo', torch.zeros([2]));
    src.get('bias')!.dispose();
    src.set('bias', torch.zeros([4]));
    assert.throws(
      () => m.loadStateDict(src),
      (e: unknown) => {
        assert.ok(e instanceof StateDictError);
        assert.deepStrictEqual(e.missingKeys, ['list.1.w']);
        assert.deepStrictEqual(e.unexpectedKeys, ['a.typo']);
        assert.deepStrictEqual(e.mismatched, [{ key: 'bias', got: [4], expected: [5] }]);
        assert.match(e.message, /Error\(s\) in loading state_dict for Tree/);
        assert.match(e.message, /Missing key\(s\) in state_dict: "list.1.w"/);
        assert.match(e.message, /Unexpected key\(s\) in state_dict: "a.typo"/);
        assert.match(e.message, /size mismatch for bias: copying a param with shape \[4\] from checkpoint, the shape in current model is \[5\]/);
        return true;
      },
    );
    assert.deepStrictEqual(m.a.getParameter('w')!.toArray(), [1, 1, 1, 1, 1, 1], 'nothing copied');
    // a shape mismatch is an error even when not strict
    assert.throws(() => m.loadStateDict(src, { strict: false }), StateDictError);
    torch.dispose([sd, src]);
  });

  it('train() and eval() set every submodule', () => {
    assert.strictEqual(m.training, true);
    m.eval();
    assert.ok(m.modules().every((x) => !x.training));
    m.train();
    assert.ok(m.modules().every((x) => x.training));
  });

  it('to(dtype) casts floating tensors in place, keeping identity; integer buffers stay', () => {
    const w = m.a.getParameter('w')!;
    m.to('bfloat16');
    assert.strictEqual(m.a.getParameter('w'), w);
    assert.strictEqual(w.dtype, 'bfloat16');
    assert.ok(w.requiresGrad);
    assert.strictEqual(m.a.getBuffer('running')!.dtype, 'bfloat16');
    assert.strictEqual(m.a.getBuffer('scratch')!.dtype, 'int32');
    m.to('float32');
    assert.strictEqual(w.dtype, 'float32');
    assert.throws(() => m.to('float8' as never), /dtype/);
  });

  it('zeroGrad clears gradients', () => {
    const w = m.a.getParameter('w')!;
    torch.tidy(() => w.mul(3).sum().backward());
    assert.deepStrictEqual(w.grad!.toArray(), [3, 3, 3, 3, 3, 3]);
    m.zeroGrad(false);
    assert.deepStrictEqual(w.grad!.toArray(), [0, 0, 0, 0, 0, 0]);
    m.zeroGrad();
    assert.strictEqual(w.grad, null);
  });

  it('parameters survive tidy scopes', () => {
    const lin = torch.tidy(() => new CastedLinear(3, 2, true));
    assert.strictEqual(lin.weight.isDisposed, false);
    assert.deepStrictEqual(lin.weight.shape, [2, 3]);
    lin.dispose();
  });

  it('refuses duplicate and dotted names', () => {
    assert.throws(() => m.registerBuffer('top', torch.zeros([1])), /already registered/);
    assert.throws(() => m.registerParameter('a.b', torch.zeros([1])), /identifier/);
    assert.throws(() => m.registerModule('x', {} as Module), /Expected a Module/);
  });

  it('getSubmodule walks dotted paths', () => {
    assert.strictEqual(m.getSubmodule('list.1'), m.list.at(1));
    assert.throws(() => m.getSubmodule('list.7'), /no submodule '7'/);
  });

  it('prints like PyTorch', () => {
    const lin = new CastedLinear(4, 2, false);
    assert.strictEqual(String(lin), 'CastedLinear(in_features=4, out_features=2, bias=False)');
    assert.strictEqual(
      String(m),
      ['Tree(', '  (a): Leaf()', '  (list): ModuleList(', '    (0): Leaf()', '    (1): Leaf()', '  )', ')'].join('\n'),
    );
    lin.dispose();
  });

  it('dispose() frees every tensor; later use throws', () => {
    const t = new Tree();
    const w = t.a.getParameter('w')!;
    const before = torch.memory().tensors;
    t.dispose();
    assert.strictEqual(torch.memory().tensors, before - 11);
    assert.ok(t.isDisposed && w.isDisposed);
    assert.throws(() => t.stateDict(), /disposed/);
  });
});
