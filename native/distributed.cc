// c10d process groups for JS: the TCPStore rendezvous as torch.distributed's env:// does it, gloo
// (CPU) and NCCL (CUDA) groups held as tagged Externals, and collectives, blocking or as Promises.
#include "common.h"

#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <ATen/ops/cat.h>
#include <c10/core/GradMode.h>
#include <ATen/ops/empty.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <thread>

namespace trm {

namespace {

// LibTorch 2.x split the backends (ProcessGroupGloo, ProcessGroupNCCL) from the ProcessGroup
// front; 1.13's backends are ProcessGroups. Both have the collectives we call.
#if TORCH_VERSION_MAJOR >= 2
using Backend = c10d::Backend;
#else
using Backend = c10d::ProcessGroup;
#endif

using Ms = std::chrono::milliseconds;

// What a JS process-group handle holds. A group whose collective failed (dead peer, timeout) is
// dead: it refuses further work, and is leaked rather than destroyed, because its destructor joins
// worker threads that may still be blocked in the failed operation until the group's timeout.
struct Group {
  c10::intrusive_ptr<Backend> pg;
  c10::intrusive_ptr<c10d::Store> store;  // the default_pg-level store (barrier, objects)
  std::string backend;
  int rank = 0;
  int size = 1;
  Ms timeout{0};
  std::string failure;  // the first failure; non-empty once the group is dead
  ~Group() {
    if (!failure.empty()) {
      pg.release();
      store.release();
    }
  }
};

const napi_type_tag kGroupTag = {0x7c1d0a5e3b2f4d61ULL, 0x9e8a4c2b1f0d3e57ULL};

void Finalize(Napi::Env, Group* g) { delete g; }

Group& GroupArg(const Napi::CallbackInfo& info, size_t i, const char* op) {
  Napi::Value v = info[i];
  if (!v.IsExternal() || !v.As<Napi::External<Group>>().CheckTypeTag(&kGroupTag)) {
    throw std::invalid_argument("expected a process group handle");
  }
  Group* g = v.As<Napi::External<Group>>().Data();
  if (!g->pg) throw OpError(op, "process group used after destroy()");
  if (!g->failure.empty()) {
    throw OpError(op, "the process group failed earlier and cannot be used again (" + g->failure +
                             "); every rank must create a new one");
  }
  return *g;
}

Ms TimeoutArg(const Napi::CallbackInfo& info, size_t i) {
  double ms = NumberArg(info, i, "timeoutMs");
  if (!(ms > 0)) throw std::invalid_argument("timeoutMs: expected a positive number of milliseconds");
  return Ms(static_cast<int64_t>(ms));
}

Napi::Object OptionsArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsObject()) throw std::invalid_argument("options: expected an object");
  return info[i].As<Napi::Object>();
}

std::string OptString(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (!v.IsString()) throw std::invalid_argument(std::string(key) + ": expected a string");
  return v.As<Napi::String>().Utf8Value();
}

int64_t OptInt(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw std::invalid_argument(std::string(key) + ": expected an integer");
  return v.As<Napi::Number>().Int64Value();
}

// ---- Creating a group: what torch.distributed.init_process_group(init_method='env://') does ----

struct ConnectSpec {
  std::string backend, host, storePrefix, groupName, barrierKey, gloohost;
  std::vector<std::string> interfaces;
  int port = 0, rank = 0, size = 1;
  bool hostStore = false;
  Ms timeout{0};
};

ConnectSpec ParseConnect(const Napi::Object& o) {
  ConnectSpec s;
  s.backend = OptString(o, "backend", "gloo");
  if (s.backend != "gloo" && s.backend != "nccl") {
    throw std::invalid_argument("backend: expected 'gloo' or 'nccl', got '" + s.backend + "'");
  }
  s.host = OptString(o, "masterAddr", "127.0.0.1");
  int64_t port = OptInt(o, "masterPort"), rank = OptInt(o, "rank"), size = OptInt(o, "worldSize");
  if (port < 0 || port > 65535) throw std::invalid_argument("masterPort: expected 0..65535, got " + std::to_string(port));
  if (size < 1) throw std::invalid_argument("worldSize: expected a positive integer");
  if (rank < 0 || rank >= size) throw std::invalid_argument("rank: expected 0.." + std::to_string(size - 1));
  s.port = static_cast<int>(port);
  s.rank = static_cast<int>(rank);
  s.size = static_cast<int>(size);
  double ms = o.Get("timeoutMs").IsNumber() ? o.Get("timeoutMs").As<Napi::Number>().DoubleValue() : 0;
  if (!(ms > 0)) throw std::invalid_argument("timeoutMs: expected a positive number of milliseconds");
  s.timeout = Ms(static_cast<int64_t>(ms));
  s.hostStore = o.Get("hostStore").ToBoolean().Value();
  s.storePrefix = OptString(o, "storePrefix", "");
  s.groupName = OptString(o, "groupName", "0");
  s.barrierKey = OptString(o, "barrierKey", "store_based_barrier_key:1");
  s.gloohost = OptString(o, "glooHostname", "");
  Napi::Value ifs = o.Get("glooInterfaces");
  if (ifs.IsArray()) {
    Napi::Array a = ifs.As<Napi::Array>();
    for (uint32_t k = 0; k < a.Length(); ++k) s.interfaces.push_back(Napi::Value(a[k]).ToString().Utf8Value());
  }
  return s;
}

// Blocks (off the JS thread in the async form) until every rank has joined or the timeout passes.
std::unique_ptr<Group> Connect(const ConnectSpec& s) {
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(s.port);
  so.isServer = s.hostStore;
  so.numWorkers = static_cast<std::size_t>(s.size);
  so.waitWorkers = true;
  so.timeout = s.timeout;
  so.multiTenant = s.storePrefix.empty();  // the agent's store is a plain client, as in Python
  c10::intrusive_ptr<c10d::Store> store;
  try {
    store = c10::make_intrusive<c10d::TCPStore>(s.host, so);
  } catch (const std::exception& e) {
    std::string what = e.what();
    if (auto* ce = dynamic_cast<const c10::Error*>(&e)) what = ce->what_without_backtrace();
    std::string where = s.host + ":" + std::to_string(s.port);
    throw std::runtime_error(s.hostStore ? "could not host the rendezvous store on " + where + " (is MASTER_PORT already in use?): " + what
                                         : "could not reach the rendezvous store at " + where + " within the timeout: " + what);
  }
  if (!s.storePrefix.empty()) store = c10::make_intrusive<c10d::PrefixStore>(s.storePrefix, store);
  store->setTimeout(s.timeout);
  store = c10::make_intrusive<c10d::PrefixStore>("default_pg", store);
  auto pgStore = c10::make_intrusive<c10d::PrefixStore>(s.groupName, store);

  auto g = std::make_unique<Group>();
  g->backend = s.backend;
  g->rank = s.rank;
  g->size = s.size;
  g->timeout = s.timeout;
  g->store = store;
  if (s.backend == "gloo") {
    auto opts = c10d::ProcessGroupGloo::Options::create(s.timeout);
    for (const auto& name : s.interfaces) opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(name));
    if (opts->devices.empty()) {
      opts->devices.push_back(s.gloohost.empty() ? c10d::ProcessGroupGloo::createDefaultDevice()
                                                 : c10d::ProcessGroupGloo::createDeviceForHostname(s.gloohost));
    }
    opts->threads = static_cast<int>(opts->devices.size() * 2);
    g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(pgStore, s.rank, s.size, opts);
  } else {
#ifdef USE_C10D_NCCL
    auto opts = c10d::ProcessGroupNCCL::Options::create();
    opts->timeout = s.timeout;
    g->pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(pgStore, s.rank, s.size, opts);
#else
    throw std::runtime_error("the nccl backend needs a LibTorch built with CUDA and NCCL (this one has neither); use 'gloo'");
#endif
  }
  // torch.distributed's store-based barrier, then the sequence numbers gloo and NCCL check.
  store->add(s.barrierKey, 1);
  auto start = std::chrono::steady_clock::now();
  for (int64_t n = store->add(s.barrierKey, 0); n != s.size; n = store->add(s.barrierKey, 0)) {
    if (std::chrono::steady_clock::now() - start > s.timeout) {
      throw std::runtime_error("timed out after " + std::to_string(s.timeout.count()) + " ms waiting for all " +
                               std::to_string(s.size) + " ranks to join (" + std::to_string(n) + " joined)");
    }
    std::this_thread::sleep_for(Ms(10));
  }
  g->pg->setSequenceNumberForGroup();
  return g;
}

Napi::Value WrapGroup(Napi::Env env, std::unique_ptr<Group> g) {
  auto ext = Napi::External<Group>::New(env, g.release(), Finalize);
  ext.TypeTag(&kGroupTag);
  return ext;
}

// Rejects a deferred with a TorchError naming the operation (as Guarded does for throws).
void Reject(Napi::Env env, Napi::Promise::Deferred& d, const std::string& op, const std::string& message) {
  State& s = GetState(env);
  if (s.torch_error.IsEmpty()) {
    d.Reject(Napi::Error::New(env, op + ": " + message).Value());
  } else {
    d.Reject(s.torch_error.New({Napi::String::New(env, message), Napi::String::New(env, op)}));
  }
}

std::string Message(const std::exception& e) {
  if (auto* ce = dynamic_cast<const c10::Error*>(&e)) return ce->what_without_backtrace();
  return e.what();
}

// A collective's failure in words a user can act on; the backend's own text follows.
std::string Explain(const std::exception& e, Ms timeout) {
  std::string m = Message(e);
  if (m.find("timed out") != std::string::npos || m.find("Timed out") != std::string::npos) {
    return "timed out after " + std::to_string(timeout.count()) + " ms: a peer rank is stalled or gone (" + m + ")";
  }
  if (m.find("Connection closed by peer") != std::string::npos || m.find("Connection reset") != std::string::npos ||
      m.find("Broken pipe") != std::string::npos) {
    return "a peer rank exited or lost its connection (" + m + ")";
  }
  return m;
}

class ConnectWorker : public Napi::AsyncWorker {
 public:
  ConnectWorker(Napi::Env env, ConnectSpec spec)
      : Napi::AsyncWorker(env, "trm:initProcessGroup"), spec_(std::move(spec)), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      group_ = Connect(spec_);
    } catch (const std::exception& e) {
      SetError(Message(e));
    }
  }
  void OnOK() override { deferred_.Resolve(WrapGroup(Env(), std::move(group_))); }
  void OnError(const Napi::Error& e) override { Reject(Env(), deferred_, "initProcessGroup", e.Message()); }

 private:
  ConnectSpec spec_;
  std::unique_ptr<Group> group_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value InitProcessGroup(const Napi::CallbackInfo& info) {
  ConnectSpec spec = ParseConnect(OptionsArg(info, 0));
  bool async = BoolArg(info, 1, "async");
  if (!async) return WrapGroup(info.Env(), Connect(spec));
  auto* w = new ConnectWorker(info.Env(), std::move(spec));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// ---- Collectives: issued on the JS thread (cheap: the backend queues them), waited on there or
// on a libuv worker thread. ----

// One collective in flight. The backend works on each bucket's `flat` tensor: one contiguous
// buffer per dtype (several tensors are flattened into one, so one collective carries them all),
// float32 for gloo when the user's are bfloat16 (gloo has no bfloat16 reduction). The user's
// `targets` get the results back after the wait.
struct Bucket {
  at::Tensor flat;
  std::vector<at::Tensor> targets;
};

struct Job {
  std::string op;
  c10::intrusive_ptr<Backend> pg;  // alive while the work is
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  Ms timeout{0};
  std::vector<Bucket> buckets;
  double divide = 0;            // avg on gloo: sum, then divide by the world size
  bool writeBack = true;        // false on a reduce's non-root ranks
  std::vector<at::Tensor> out;  // tensors returned to JS (allGather)
  bool outList = false;

  void Wait() {
    for (auto& w : works) w->wait(timeout);
    c10::AutoGradMode no_grad(false);  // parameters are written in place, as torch.distributed does
    if (!writeBack) return;
    for (auto& b : buckets) {
      if (divide != 0) b.flat.div_(divide);
      if (b.targets.size() == 1) {
        if (!b.flat.is_same(b.targets[0])) b.targets[0].copy_(b.flat.view_as(b.targets[0]));
        continue;
      }
      int64_t offset = 0;
      for (auto& t : b.targets) {
        t.copy_(b.flat.narrow(0, offset, t.numel()).view_as(t));
        offset += t.numel();
      }
    }
  }
};

at::Tensor HandleTensor(Napi::Env env, const Napi::Value& v) {
  if (!v.IsNumber()) throw std::invalid_argument("expected a tensor handle");
  return GetState(env).tensors.Get(v.As<Napi::Number>().Int64Value());
}

std::vector<at::Tensor> TensorListArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw std::invalid_argument("tensors: expected an array of tensors");
  Napi::Array a = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  for (uint32_t k = 0; k < a.Length(); ++k) out.push_back(HandleTensor(info.Env(), a[k]));
  if (out.empty()) throw std::invalid_argument("tensors: expected at least one tensor");
  return out;
}

c10::ScalarType WireType(const Group& g, c10::ScalarType t) {
  return g.backend == "gloo" && t == at::kBFloat16 ? at::kFloat : t;
}

void CheckDevice(const Group& g, const at::Tensor& t) {
  if (g.backend == "gloo" && !t.device().is_cpu()) {
    throw std::invalid_argument("the gloo backend here takes CPU tensors, got " + Describe(t) + " (use 'nccl' for CUDA)");
  }
  if (g.backend == "nccl" && !t.device().is_cuda()) {
    throw std::invalid_argument("the nccl backend takes CUDA tensors, got " + Describe(t) + " (use 'gloo' for CPU)");
  }
}

void Stage(Job& job, const Group& g, const std::vector<at::Tensor>& tensors) {
  c10::AutoGradMode no_grad(false);
  std::vector<std::vector<at::Tensor>> byType;
  for (const auto& t : tensors) {
    CheckDevice(g, t);
    auto it = std::find_if(byType.begin(), byType.end(), [&](const std::vector<at::Tensor>& b) {
      return b[0].scalar_type() == t.scalar_type() && b[0].device() == t.device();
    });
    if (it == byType.end()) byType.push_back({t});
    else it->push_back(t);
  }
  for (auto& list : byType) {
    Bucket b;
    c10::ScalarType wire = WireType(g, list[0].scalar_type());
    if (list.size() == 1) {
      b.flat = list[0].contiguous().to(wire);
    } else {
      std::vector<at::Tensor> flat;
      for (const auto& t : list) flat.push_back(t.reshape({-1}).to(wire));
      b.flat = at::cat(flat);
    }
    b.targets = std::move(list);
    job.buckets.push_back(std::move(b));
  }
}

c10d::ReduceOp::RedOpType ParseReduce(const std::string& name) {
  if (name == "sum") return c10d::ReduceOp::SUM;
  if (name == "avg") return c10d::ReduceOp::AVG;
  if (name == "max") return c10d::ReduceOp::MAX;
  if (name == "min") return c10d::ReduceOp::MIN;
  if (name == "product") return c10d::ReduceOp::PRODUCT;
  throw std::invalid_argument("reduce op: expected 'sum', 'avg', 'max', 'min' or 'product', got '" + name + "'");
}

// avg: NCCL has it; gloo sums and we divide (floating-point tensors only).
c10d::ReduceOp ReduceFor(Job& job, const Group& g, const std::string& name) {
  auto op = ParseReduce(name);
  if (op != c10d::ReduceOp::AVG || g.backend == "nccl") return c10d::ReduceOp(op);
  for (const auto& b : job.buckets) {
    if (!at::isFloatingType(b.flat.scalar_type())) {
      throw std::invalid_argument("avg needs floating-point tensors, got " + Describe(b.targets[0]));
    }
  }
  job.divide = static_cast<double>(g.size);
  return c10d::ReduceOp(c10d::ReduceOp::SUM);
}

Napi::Value Results(Napi::Env env, Job& job) {
  if (job.out.empty()) return env.Undefined();
  if (!job.outList) return NewTensor(env, job.out[0]);
  Napi::Array a = Napi::Array::New(env, job.out.size());
  for (size_t k = 0; k < job.out.size(); ++k) a.Set(static_cast<uint32_t>(k), NewTensor(env, job.out[k]));
  return a;
}

class WaitWorker : public Napi::AsyncWorker {
 public:
  WaitWorker(Napi::Env env, Napi::External<Group> handle, Job job)
      : Napi::AsyncWorker(env, "trm:collective"),
        handle_(Napi::Persistent(handle)),
        job_(std::move(job)),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  void Execute() override {
    try {
      job_.Wait();
    } catch (const std::exception& e) {
      SetError(Explain(e, job_.timeout));
    }
  }
  void OnOK() override {
    try {
      deferred_.Resolve(Results(Env(), job_));
    } catch (const std::exception& e) {
      Reject(Env(), deferred_, job_.op, Message(e));
    }
  }
  void OnError(const Napi::Error& e) override {
    Group* g = handle_.Value().Data();
    if (g->failure.empty()) g->failure = job_.op + ": " + e.Message();
    Reject(Env(), deferred_, job_.op, e.Message());
  }

 private:
  Napi::Reference<Napi::External<Group>> handle_;  // keeps the group alive while it waits
  Job job_;
  Napi::Promise::Deferred deferred_;
};

// Waits here (blocking form) or returns a Promise that a worker thread settles.
Napi::Value Finish(const Napi::CallbackInfo& info, Group& g, Job job, bool async) {
  if (async) {
    auto* w = new WaitWorker(info.Env(), info[0].As<Napi::External<Group>>(), std::move(job));
    Napi::Promise p = w->Promise();
    w->Queue();
    return p;
  }
  try {
    job.Wait();
  } catch (const std::exception& e) {
    std::string m = Explain(e, job.timeout);
    g.failure = job.op + ": " + m;
    throw OpError(job.op, m);
  }
  return Results(info.Env(), job);
}

Job NewJob(const char* op, const Group& g, Ms timeout) {
  Job job;
  job.op = op;
  job.pg = g.pg;
  job.timeout = timeout;
  return job;
}

// Issuing can fail at once (a peer already gone): that kills the group too.
template <class F>
void Issue(Group& g, Job& job, F issue) {
  try {
    job.works.push_back(issue());
  } catch (const std::exception& e) {
    std::string m = Explain(e, job.timeout);
    g.failure = job.op + ": " + m;
    throw OpError(job.op, m);
  }
}

int64_t RankArg(const Napi::CallbackInfo& info, size_t i, const Group& g, const char* what) {
  int64_t r = IntArg(info, i, what);
  if (r < 0 || r >= g.size) {
    throw std::invalid_argument(std::string(what) + ": expected a rank in 0.." + std::to_string(g.size - 1) + ", got " + std::to_string(r));
  }
  return r;
}

// allReduce(group, tensors, op, timeoutMs, async): in place.
Napi::Value AllReduce(const Napi::CallbackInfo& info) {
  Group& g = GroupArg(info, 0, "allReduce");
  Job job = NewJob("allReduce", g, TimeoutArg(info, 3));
  Stage(job, g, TensorListArg(info, 1));
  c10d::AllreduceOptions o;
  o.reduceOp = ReduceFor(job, g, StringArg(info, 2, "reduce op"));
  o.timeout = job.timeout;
  for (auto& b : job.buckets) {
    std::vector<at::Tensor> one{b.flat};
    Issue(g, job, [&] { return g.pg->allreduce(one, o); });
  }
  return Finish(info, g, std::move(job), BoolArg(info, 4, "async"));
}

// broadcast(group, tensors, root, timeoutMs, async): in place.
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  Group& g = GroupArg(info, 0, "broadcast");
  Job job = NewJob("broadcast", g, TimeoutArg(info, 3));
  Stage(job, g, TensorListArg(info, 1));
  c10d::BroadcastOptions o;
  o.rootRank = RankArg(info, 2, g, "root");
  o.timeout = job.timeout;
  for (auto& b : job.buckets) {
    std::vector<at::Tensor> one{b.flat};
    Issue(g, job, [&] { return g.pg->broadcast(one, o); });
  }
  return Finish(info, g, std::move(job), BoolArg(info, 4, "async"));
}

// reduce(group, tensor, root, op, timeoutMs, async): the result lands in root's tensor; the
// others' tensors are left as they were.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  Group& g = GroupArg(info, 0, "reduce");
  Job job = NewJob("reduce", g, TimeoutArg(info, 4));
  at::Tensor t = HandleTensor(info.Env(), info[1]);
  Stage(job, g, {t});
  c10d::ReduceOptions o;
  o.rootRank = RankArg(info, 2, g, "root");
  o.reduceOp = ReduceFor(job, g, StringArg(info, 3, "reduce op"));
  o.timeout = job.timeout;
  if (g.rank != o.rootRank) {
    job.writeBack = false;
    // The backend may write partial results into its buffer: never the user's tensor.
    if (job.buckets[0].flat.is_same(t)) job.buckets[0].flat = t.clone();
  }
  std::vector<at::Tensor> one{job.buckets[0].flat};
  Issue(g, job, [&] { return g.pg->reduce(one, o); });
  return Finish(info, g, std::move(job), BoolArg(info, 5, "async"));
}

// allGather(group, tensor, intoOne, timeoutMs, async): a list of world-size tensors, or one
// tensor with every rank's concatenated along dim 0 (all_gather_into_tensor).
Napi::Value AllGather(const Napi::CallbackInfo& info) {
  Group& g = GroupArg(info, 0, "allGather");
  Job job = NewJob("allGather", g, TimeoutArg(info, 3));
  bool intoOne = BoolArg(info, 2, "intoOne");
  at::Tensor input = HandleTensor(info.Env(), info[1]);
  CheckDevice(g, input);
  c10::AutoGradMode no_grad(false);
  at::Tensor in = input.contiguous().to(WireType(g, input.scalar_type()));
  // Outputs are views of one buffer [size * rows, ...]: the backend copies each rank's data in.
  std::vector<int64_t> shape = input.dim() == 0 ? std::vector<int64_t>{1} : input.sizes().vec();
  int64_t rows = shape[0];
  shape[0] *= g.size;
  at::Tensor flat = at::empty(shape, in.options());
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < g.size; ++r) outputs[0].push_back(flat.narrow(0, r * rows, rows).view(in.sizes()));
  std::vector<at::Tensor> inputs{in};
  c10d::AllgatherOptions o;
  o.timeout = job.timeout;
  Issue(g, job, [&] { return g.pg->allgather(outputs, inputs, o); });
  at::Tensor result = flat;
  if (in.scalar_type() != input.scalar_type()) {  // converted back after the wait
    result = at::empty(shape, input.options());
    job.buckets.push_back(Bucket{flat, {result}});
  }
  if (intoOne) {
    job.out.push_back(result);
  } else {
    job.outList = true;
    for (int r = 0; r < g.size; ++r) job.out.push_back(result.narrow(0, r * rows, rows).view(input.sizes()));
  }
  return Finish(info, g, std::move(job), BoolArg(info, 4, "async"));
}

// barrier(group, timeoutMs, async)
Napi::Value Barrier(const Napi::CallbackInfo& info) {
  Group& g = GroupArg(info, 0, "barrier");
  Job job = NewJob("barrier", g, TimeoutArg(info, 1));
  c10d::BarrierOptions o;
  o.timeout = job.timeout;
  Issue(g, job, [&] { return g.pg->barrier(o); });
  return Finish(info, g, std::move(job), BoolArg(info, 2, "async"));
}

// groupInfo(group): { rank, worldSize, backend, failure }
Napi::Value GroupInfo(const Napi::CallbackInfo& info) {
  Napi::Value v = info[0];
  if (!v.IsExternal() || !v.As<Napi::External<Group>>().CheckTypeTag(&kGroupTag)) {
    throw std::invalid_argument("expected a process group handle");
  }
  Group* g = v.As<Napi::External<Group>>().Data();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("rank", g->rank);
  o.Set("worldSize", g->size);
  o.Set("backend", g->backend);
  o.Set("destroyed", !g->pg);
  o.Set("failure", g->failure.empty() ? info.Env().Null() : Napi::String::New(info.Env(), g->failure));
  return o;
}

// destroyProcessGroup(group): releases the backend and the store now (a failed group is leaked:
// see Group). Idempotent.
Napi::Value DestroyProcessGroup(const Napi::CallbackInfo& info) {
  Napi::Value v = info[0];
  if (!v.IsExternal() || !v.As<Napi::External<Group>>().CheckTypeTag(&kGroupTag)) {
    throw std::invalid_argument("expected a process group handle");
  }
  Group* g = v.As<Napi::External<Group>>().Data();
  if (!g->failure.empty()) {
    g->pg.release();
    g->store.release();
  }
  g->pg.reset();
  g->store.reset();
  return info.Env().Undefined();
}

}  // namespace

void InitDistributed(Napi::Env env, Napi::Object exports) {
  TRM_EXPORT(exports, "initProcessGroup", InitProcessGroup);
  TRM_EXPORT(exports, "pgAllReduce", AllReduce);
  TRM_EXPORT(exports, "pgBroadcast", Broadcast);
  TRM_EXPORT(exports, "pgReduce", Reduce);
  TRM_EXPORT(exports, "pgAllGather", AllGather);
  TRM_EXPORT(exports, "pgBarrier", Barrier);
  TRM_EXPORT(exports, "pgInfo", GroupInfo);
  TRM_EXPORT(exports, "destroyProcessGroup", DestroyProcessGroup);
}

}  // namespace trm
