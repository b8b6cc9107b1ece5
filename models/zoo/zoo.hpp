// The model zoo: named builders that return block-level ModelSpecs, with parameters declared once
// (`mobilenet_v2:width=0.75,resolution=160`). Each builder registers itself from its own file with
// NAX_REGISTER_ZOO and records the published MACs/params of its reference implementation, which
// the tests check.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "models/common/params.hpp"
#include "models/spec/model_spec.hpp"

namespace nax::zoo {

// Published numbers of the reference implementation at the builder's default parameters.
struct Reference {
  int64_t macs = 0;
  int64_t params = 0;
  double tolerance = 0.005;  // relative; how close the builder must come
  std::string source;        // where the numbers come from
};

struct ZooEntry {
  std::string name;
  std::string description;
  std::vector<ParamDecl> params;  // builder parameters; `depth` is added by the registry
  std::function<spec::ModelSpec(const ParamSet&)> build;
  std::optional<Reference> reference;
};

class ZooRegistry {
 public:
  static ZooRegistry& instance();
  bool add(ZooEntry e);
  const ZooEntry* find(const std::string& name) const;
  std::vector<std::string> names() const;  // sorted
};

#define NAX_ZOO_CAT2(a, b) a##b
#define NAX_ZOO_CAT(a, b) NAX_ZOO_CAT2(a, b)
#define NAX_REGISTER_ZOO(expr)                                   \
  static const bool NAX_ZOO_CAT(nax_zoo_registered_, __LINE__) = \
      ::nax::zoo::ZooRegistry::instance().add(expr)

// True when `arg` names a zoo model ("name" or "name:k=v,...").
bool is_zoo_name(const std::string& arg);

// Builds "name[:k=v,...]". Keys the builder declares are its parameters; `depth` multiplies stage
// depths; every other key is a model override (resolution, dtype, s3.type, s3.1.kernel, ...; see
// spec::apply_override). Unknown names and keys are InputErrors with a did-you-mean.
spec::ModelSpec build(const std::string& arg);

}  // namespace nax::zoo
