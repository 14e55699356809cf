#include "tools/cluster_kpis.h"

#include <simdjson.h>

#include <map>

#include "engine/cluster_figures.h"

namespace rms {

Result<std::string> MergeClusterKpis(const std::vector<std::string>& parts_answers,
                                     int partitions) {
    std::map<int64_t, int> owners;
    std::map<int64_t, bool> serving;
    ClusterParts merged;
    for (size_t i = 0; i < parts_answers.size(); ++i) {
        const std::string where = "instance " + std::to_string(i + 1);
        simdjson::dom::parser parser;
        simdjson::dom::array list;
        if (parser.parse(simdjson::padded_string(parts_answers[i]))["partitions"].get_array().get(
                list)) {
            return Status::Error("invalid_json", where + ": no \"partitions\" array");
        }
        for (simdjson::dom::element p : list) {
            int64_t id = 0;
            bool is_serving = false;
            if (p["partition"].get_int64().get(id) || p["serving"].get_bool().get(is_serving)) {
                return Status::Error("invalid_json", where + ": a partition without its number");
            }
            ++owners[id];
            serving[id] = is_serving;
        }
        Result<ClusterParts> parts = ReadParts(parts_answers[i]);
        if (!parts.ok()) {
            return Status::Error(parts.status().code(), where + ": " + parts.status().message());
        }
        merged.Add(*parts);
    }
    int64_t count = partitions > 0 ? partitions : (owners.empty() ? 0 : owners.rbegin()->first + 1);
    for (int64_t p = 0; p < count; ++p) {
        const std::string name = "partition " + std::to_string(p);
        if (owners[p] != 1) {
            return Status::Error("incomplete", name + " has " + std::to_string(owners[p]) +
                                                   " owners among the instances given, not 1");
        }
        if (!serving[p]) {
            return Status::Error("incomplete", name + " is rebuilding: ask again once it serves");
        }
    }
    if (count == 0) {
        return Status::Error("incomplete", "no instance owns any partition");
    }
    return KpisJson(merged);
}

}  // namespace rms
