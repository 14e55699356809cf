// The delivery outbox: takes every pending action to its channel's connector, on threads of its
// own, and records each attempt through the engine's commit thread.
//
// The outbox keeps no state of its own: an action is in it while its stored status is
// "pending", which the commit that decided the action wrote. Each attempt's result is committed
// (action status, attempts, next retry time, timeline entries) before the next attempt of that
// action starts, so after a crash the outbox resumes from the store: an attempt that went out
// but whose result was not committed goes out again with the same Idempotency-Key (delivery is
// at least once; receivers drop repeats by that key). Failures are retried with exponential
// backoff and jitter; after max_attempts, or on a permanent refusal, the action is
// dead-lettered.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "engine/channels.h"
#include "engine/engine.h"

namespace rms {

class Outbox {
public:
    // `engine` must outlive the outbox and keep its commit thread running until Stop() returns.
    Outbox(Engine* engine, DeliveryConfig config);
    ~Outbox();
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    // Picks up the stored pending actions and starts the delivery threads.
    void Start();
    // Aborts transfers in flight (their actions stay pending) and joins the threads.
    void Stop();

private:
    struct Prepared {
        bool drop = false;  // no longer pending, or its channel has no connector
        uint64_t action_id = 0;
        std::string key;
        std::string route;
        uint32_t attempt = 0;
        std::string template_error;  // a template the file no longer defines: dead-letter
        OutgoingMessage message;
    };

    void Wake();
    // A dead letter made pending again (Engine::SetRedeliveryListener): due at once.
    void Redriven(uint32_t index);
    // Done with `index` for now. REQUIRES: mu_ held.
    void Release(uint32_t index);
    void Worker();
    // Schedules the pending actions decided since the last scan.
    void Scan();
    Prepared Prepare(uint32_t index) const;
    void Deliver(uint32_t index, std::mt19937_64& random);
    void Schedule(uint32_t index, int64_t delay_ms);

    Engine* engine_;
    DeliveryConfig config_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::multimap<std::chrono::steady_clock::time_point, uint32_t> schedule_;
    std::set<uint32_t> known_;  // scheduled or in flight
    // Re-driven while still known (its dead-letter result committed, the worker not yet done
    // with it): scheduled again when that worker releases it.
    std::set<uint32_t> redriven_;
    std::set<std::string> unrouted_;  // routes without a connector, warned about once
    size_t scanned_ = 0;
    bool rescan_ = true;
    bool stopping_ = false;
    std::atomic<bool> abort_{false};
    std::vector<std::thread> threads_;
};

}  // namespace rms
