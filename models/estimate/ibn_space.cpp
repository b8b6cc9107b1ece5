#include "models/estimate/ibn_space.hpp"

#include <random>
#include <vector>

namespace nax::est {

namespace {

class Rng {
 public:
  Rng(uint64_t seed, int64_t index)
      : m_gen(seed * 0x9e3779b97f4a7c15ull ^
              (static_cast<uint64_t>(index) + 0x632be59bd9b4e019ull)) {
    m_gen.discard(4);
  }
  int64_t pick(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(m_gen() % static_cast<uint64_t>(hi - lo + 1));
  }
  double u01() { return static_cast<double>(m_gen() >> 11) * (1.0 / 9007199254740992.0); }
  template <class T>
  T choice(const std::vector<T>& v) {
    return v[static_cast<size_t>(pick(0, static_cast<int64_t>(v.size()) - 1))];
  }

 private:
  std::mt19937_64 m_gen;
};

spec::BlockSpec block(const std::string& type) {
  spec::BlockSpec b;
  b.type = type;
  return b;
}

}  // namespace

std::string ibn_space_source(uint64_t seed, int64_t index) {
  return "ibn-space seed=" + std::to_string(seed) + " index=" + std::to_string(index);
}

spec::ModelSpec ibn_space_network(uint64_t seed, int64_t index) {
  Rng r(seed, index);
  spec::ModelSpec m;
  m.name = "ibn_space_" + std::to_string(seed) + "_" + std::to_string(index);
  m.height = m.width = r.choice<int64_t>({128, 160, 192, 224, 256});
  const double width = r.choice<double>({0.75, 1.0, 1.25, 1.5});
  const std::string act = r.choice<std::string>({"relu6", "hswish"});
  spec::StageSpec stem;
  stem.name = "stem";
  stem.fixed_depth = true;
  spec::BlockSpec sb = block("conv");
  sb.set("out", int64_t{r.choice<int64_t>({16, 24, 32, 40})});
  sb.set("kernel", int64_t{3});
  sb.set("stride", int64_t{2});
  sb.set("act", act);
  stem.blocks.push_back(sb);
  m.stages.push_back(stem);
  const int strides[6] = {1, 2, 2, 2, 1, 2};
  const int base[6] = {16, 24, 40, 80, 112, 192};
  for (int s = 0; s < 6; ++s) {
    spec::StageSpec st;
    st.name = "s" + std::to_string(s + 1);
    int64_t c = spec::make_divisible(base[s] * width * r.choice<double>({0.75, 1.0, 1.25}), 8);
    if (r.u01() < 0.1) c += 4;
    const int64_t depth = s == 0 ? r.pick(1, 2) : r.pick(1, 4);
    for (int64_t i = 0; i < depth; ++i) {
      const bool fused = r.u01() < (s < 3 ? 0.6 : 0.15);
      spec::BlockSpec b = block(fused ? "fused_ibn" : "ibn");
      b.set("out", c);
      b.set("kernel", r.choice<int64_t>({3, 5, 7}));
      b.set("stride", int64_t{i == 0 ? strides[s] : 1});
      b.set("expansion", s == 0 ? r.choice<double>({1.0, 3.0}) : r.choice<double>({1, 3, 4, 6}));
      b.set("act", act);
      if (r.u01() < 0.3) b.set("se_ratio", 0.25);
      st.blocks.push_back(b);
    }
    m.stages.push_back(st);
  }
  spec::StageSpec head;
  head.name = "head";
  head.fixed_depth = true;
  spec::BlockSpec hb = block("conv");
  hb.set("out", r.choice<int64_t>({960, 1280}));
  hb.set("kernel", int64_t{1});
  hb.set("act", act);
  head.blocks.push_back(hb);
  head.blocks.push_back(block("global_pool"));
  spec::BlockSpec fc = block("fc");
  fc.set("out", int64_t{1000});
  head.blocks.push_back(fc);
  m.stages.push_back(head);
  m.assign_names();
  return m;
}

}  // namespace nax::est
