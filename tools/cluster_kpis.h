// `rmsctl kpis --cluster`: the figures of a Kafka cluster of rmsd (issue #9), merged from what
// each instance answers to GET /v1/cluster/parts.
#pragma once

#include <string>
#include <vector>

#include "engine/status.h"

namespace rms {

// Merges the /v1/cluster/parts answers of every instance into the answer of GET /v1/kpis that
// one instance fed every event would give (engine/cluster_figures.h says how). Every partition,
// 0 .. `partitions` - 1 (when `partitions` is 0: 0 .. the highest one reported), must be owned
// by exactly one instance and serving. Fails with "invalid_json" for an answer that is not one of
// /v1/cluster/parts, "incomplete" naming a partition without an owner, with two, or rebuilding.
[[nodiscard]] Result<std::string> MergeClusterKpis(const std::vector<std::string>& parts_answers,
                                                   int partitions = 0);

}  // namespace rms
