#include "engine/committed_view.h"

namespace rms {

int64_t CommittedView::NowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::shared_ptr<const std::string> CommittedView::Get() const {
    int64_t until = NowNs() + std::chrono::duration_cast<std::chrono::nanoseconds>(keep_).count();
    if (wanted_until_ns_.load(std::memory_order_relaxed) < until) {
        wanted_until_ns_.store(until, std::memory_order_relaxed);
    }
    std::lock_guard<std::mutex> lock(mu_);
    return body_;
}

CommittedView::Rendering CommittedView::Prepare(const Ledger& ledger) const {
    if (NowNs() < wanted_until_ns_.load(std::memory_order_relaxed)) {
        return std::make_shared<const std::string>(render_(ledger));
    }
    return nullptr;
}

void CommittedView::Publish(Rendering body) {
    std::lock_guard<std::mutex> lock(mu_);
    body_.swap(body);  // the old rendering is freed after the lock
}

}  // namespace rms
