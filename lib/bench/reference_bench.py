"""The PyTorch side of `npm run bench`: times the training step and the evaluation step of the
independent reference (trm_ref.py) for one configuration and prints one JSON line.

    python3 reference_bench.py TRM_REF_PY '{"arch": "trm", "hidden": 128, ...}' WARMUP STEPS THREADS

Configuration E (HRM) is the reference's layers assembled as the official hrm.py: separate
H_level and L_level stacks, H_cycles x (L_cycles L updates, one H update), only the last L and H
updates with gradient, halting on q_halt > q_continue with the bootstrapped continue target.
"""
import importlib.util
import json
import resource
import sys
import time

import torch


def load_reference(path):
    spec = importlib.util.spec_from_file_location("trm_ref", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["trm_ref"] = module
    spec.loader.exec_module(module)
    return module


def hrm_inner(ref, cfg):
    class HRMInner(ref.TRMInner):
        def __init__(self, cfg):
            super().__init__(cfg)
            self.H_level = ref.ReasoningStack(cfg)

        def forward(self, z_H, z_L, data):
            cfg = self.cfg
            rope = self.rotary_emb() if cfg.pos_encodings == "rope" else None
            x = self.embed(data["inputs"], data["puzzle_identifiers"])
            with torch.no_grad():
                for h in range(cfg.H_cycles):
                    for l in range(cfg.L_cycles):
                        if not (h == cfg.H_cycles - 1 and l == cfg.L_cycles - 1):
                            z_L = self.L_level(z_L, z_H + x, rope)
                    if h != cfg.H_cycles - 1:
                        z_H = self.H_level(z_H, z_L, rope)
            z_L = self.L_level(z_L, z_H + x, rope)
            z_H = self.H_level(z_H, z_L, rope)
            logits = self.lm_head(z_H)[:, cfg.n_puzzle_pos:]
            q = self.q_head(z_H[:, 0]).float()
            return (z_H.detach(), z_L.detach()), logits, q[..., 0], q[..., 1]

    return HRMInner(cfg)


def main():
    ref = load_reference(sys.argv[1])
    c = json.loads(sys.argv[2])
    warmup, steps, threads = int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    cfg = ref.TRMConfig(batch_size=c["batch"], seq_len=c["seq"], vocab_size=c["vocab"], hidden_size=c["hidden"],
                        num_heads=c["heads"], L_layers=c["layers"], H_cycles=c["H_cycles"], L_cycles=c["L_cycles"],
                        forward_dtype=c["dtype"], mlp_t=c["mlpT"], puzzle_emb_len=c["puzzleEmbLen"],
                        puzzle_emb_ndim=c["hidden"], num_puzzle_identifiers=1, expansion=c["expansion"],
                        no_ACT_continue=c["arch"] == "trm")
    model = ref.TRM(cfg)
    if c["arch"] == "hrm":
        model.inner = hrm_inner(ref, cfg)
    head = ref.ACTLossHead(model, cfg.loss_type)
    state = ref.TrainState(cfg, ref.OptimConfig(lr_warmup_steps=0), head=head)
    batch = ref.random_batch(cfg, c["batch"], torch.Generator().manual_seed(0))

    train = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        ref.train_step(state, batch)
        if i >= warmup:
            train.append(time.perf_counter() - t0)

    evaluation = []
    head.eval()
    with torch.no_grad():
        carry = head.initial_carry(batch)
        for i in range(warmup + steps):
            t0 = time.perf_counter()
            carry, _, metrics, _, _ = head(carry, batch)
            float(metrics["count"])
            if i >= warmup:
                evaluation.append(time.perf_counter() - t0)

    print(json.dumps({"train": train, "eval": evaluation, "maxRssMb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
