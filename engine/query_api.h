// Query API v1: the JSON answers of the HTTP endpoints, built from the committed ledger.
// Routing and HTTP live in http_server.cc; this file only knows paths, parameters and JSON.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/json_writer.h"
#include "metrics/engine_metrics.h"

namespace rms {

struct ApiResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::string cache_control = "no-store";
    // Further header fields (ETag, Location, ...), sent as they are.
    std::vector<std::pair<std::string, std::string>> headers = {};
};

class QueryApi {
public:
    // `base_currency`: the currency /v1/kpis converts every figure into; when absent, the base
    // of the fx rate dated latest.
    // `/v1/kpis` and the default `/v1/worklist` are views the engine renders after each commit
    // (engine/committed_view.h), so that they do not wait for a group being committed.
    QueryApi(const Engine* engine, const metrics::EngineMetrics* metrics,
             std::optional<Currency> base_currency = std::nullopt);

    // Kafka mode (issue #9): `routes` is asked first and answers the paths it knows; the
    // engine may then be null, and other paths are not found.
    using Routes = std::function<std::optional<ApiResponse>(std::string_view target)>;
    void SetRoutes(Routes routes) { routes_ = std::move(routes); }

    // Answers a GET of `target` (path and query string).
    ApiResponse Get(std::string_view target) const;

private:
    // The rendering `view` holds, or `render` run under the engine's shared lock when it holds
    // none (or `view` is null).
    template <typename Render>
    std::string Rendered(const CommittedView* view, Render&& render) const;
    ApiResponse Kpis() const;
    static std::string KpisBody(const Ledger& ledger, std::optional<Currency> base_currency);
    ApiResponse History(std::string_view query) const;
    ApiResponse Customer(std::string_view id) const;
    ApiResponse CustomerItems(std::string_view id) const;
    ApiResponse CustomerPromises(std::string_view id) const;
    // GET /v1/customers/{id}/timeline?cursor=&limit=
    ApiResponse Timeline(std::string_view id, std::string_view query) const;
    ApiResponse Invoice(std::string_view id) const;
    ApiResponse Promise(std::string_view id) const;
    ApiResponse Worklist(std::string_view query) const;
    static std::string WorklistBody(const Ledger& ledger, size_t limit, std::string_view owner,
                                    std::string_view segment);
    ApiResponse Actions(std::string_view query) const;
    ApiResponse Rules() const;

    const Engine* engine_;
    std::shared_ptr<CommittedView> kpis_view_;
    // The worklist as the console and most callers ask for it: the top 50, unfiltered.
    static constexpr int64_t kWorklistViewLimit = 50;
    std::shared_ptr<CommittedView> worklist_view_;
    const metrics::EngineMetrics* metrics_;
    std::optional<Currency> base_currency_;
    Routes routes_;
};

// FIGURES of the protocol, plus "written_off", as one JSON object (the members of /v1/kpis).
void WriteFigures(JsonWriter& w, Currency c, const Figures& f);

// An error body {"error": code, "message": ...} with its HTTP status.
ApiResponse ApiError(int status, std::string_view code, std::string_view message);

}  // namespace rms
