// A rendering of the committed ledger that queries read without waiting for the engine's lock.
//
// The commit thread holds the ledger's lock exclusively while it applies a group and writes it to
// RocksDB, so a query that renders from the ledger waits for the rest of that group. A view is
// rendered instead by the commit thread itself, at the end of every section in which it held the
// lock exclusively, and readers take the latest rendering. It is never ahead of what was
// answered: a group's events are answered only after the view shows them, and while a group is
// being applied readers still get the rendering of the state before it, which is the committed
// state of that moment (nothing of the group has been answered yet).
//
// Rendering costs the commit thread time, so a view is rendered only while it is wanted: a read
// marks it wanted for `keep`; when nobody read it for that long, the next section drops the
// rendering and readers render under the lock again until the commit thread renders anew.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace rms {

class Ledger;

class CommittedView {
public:
    using Render = std::function<std::string(const Ledger&)>;
    using Rendering = std::shared_ptr<const std::string>;

    explicit CommittedView(Render render,
                           std::chrono::steady_clock::duration keep = std::chrono::seconds(10))
        : render_(std::move(render)), keep_(keep) {}

    // Any thread: the rendering as of the last committed change, or null when none is held
    // (then the caller renders under the engine's shared lock). Marks the view wanted.
    std::shared_ptr<const std::string> Get() const;

    // The commit thread, holding the ledger exclusively, after every change to it: renders the
    // view when it is wanted, drops it when not.
    void Refresh(const Ledger& ledger) { Publish(Prepare(ledger)); }

    // The two halves of Refresh(), for a change that is published only once it is durable: the
    // rendering of `ledger` when the view is wanted (else null), and making it what Get() returns.
    Rendering Prepare(const Ledger& ledger) const;
    void Publish(Rendering body);

private:
    static int64_t NowNs();

    Render render_;
    std::chrono::steady_clock::duration keep_;
    mutable std::atomic<int64_t> wanted_until_ns_{0};
    // Guards only the pointer's copy: no reader ever waits for a rendering or a commit.
    mutable std::mutex mu_;
    std::shared_ptr<const std::string> body_;
};

}  // namespace rms
