// The engine: owns the ledger and the store, and turns parsed events into durable answers.
//
// Producers (connections) Submit() batches of parsed events from any thread. One commit thread
// takes everything queued, applies it to the ledger in order, writes the markers, the event log
// and every changed record in one atomic batch, and only then hands the answers back. While a
// commit runs, new batches queue up: that is the group commit, with no timer.
//
// Under load the commit thread pipelines: when another group is already queued, the batch goes
// to a writer thread and the commit thread applies the next group meanwhile; it answers the
// first only once the writer reports it durable. The ledger then holds state not yet committed,
// so the commit thread keeps it locked exclusively until the pipeline is empty, and empties it
// whenever a reader waits. Readers (the query API) take a shared lock and see only committed
// state; the committed views are rendered at each group's state and published after its commit.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "engine/committed_view.h"
#include "engine/event.h"
#include "engine/ledger.h"
#include "engine/ledger_codec.h"
#include "metrics/engine_metrics.h"
#include "storage/store.h"

namespace rms {

struct EngineOptions {
    std::string data_dir;
    bool fsync = false;
    uint64_t min_free_bytes = 64ull << 20;
    size_t max_group_events = 8192;
    LedgerOptions ledger;
    // The collections rules; null means the built-in defaults.
    std::shared_ptr<const rules::RulesConfig> rules;
    // False when several engines share one metrics object (one per Kafka partition): they count
    // events, commits and actions into it, but leave the gauges to their owner.
    bool publish_figures = true;
};

// One event to commit and the line it came from (for the answer's "line").
struct PendingEvent {
    Event event;
    uint64_t line = 0;
};

// Kafka mode (issue #9): the messages a submission's events were consumed from, offsets
// first_offset .. next_offset - 1 of one topic partition.
struct ConsumedRange {
    std::string topic;
    int32_t partition = 0;
    int64_t first_offset = 0;
    int64_t next_offset = 0;
};

// A connection's events, answered together and in order through `done`.
struct Submission {
    std::vector<PendingEvent> events;
    std::function<void(std::vector<std::string> answers)> done;
    // When set, `next_offset` is written in the same batch as the events' state, so that the
    // stored position and the state never disagree. A range that does not start at the stored
    // position (a message lost or consumed twice in between) is refused whole: every event is
    // answered "unavailable" and nothing is applied.
    std::optional<ConsumedRange> consumed;
};

class Engine {
public:
    // Opens the store, loads the state and starts the commit thread.
    static Result<std::unique_ptr<Engine>> Open(const EngineOptions& options,
                                                metrics::EngineMetrics* metrics);
    ~Engine();

    // Queues events; `done` runs on the commit thread once they are answered. After Stop() it
    // runs at once on the caller's thread, every event answered `unavailable`.
    void Submit(Submission submission);

    // Queues the result of one delivery attempt; the commit thread records it in the ledger and
    // the store (with the next group) and then calls `done` with the outcome of that commit:
    // only after an ok is the attempt durable.
    void RecordDelivery(DeliveryOutcome outcome, std::function<void(Status)> done);

    // Queues an operator's re-drive of a dead letter; the commit thread makes the action pending
    // again in the ledger and the store (with the next group), then calls `done` with the
    // outcome: unknown_action, invalid_state (not a dead letter), unavailable (the commit
    // failed), or ok once the pending status is durable.
    void Redeliver(Redelivery request, std::function<void(Status)> done);

    // Called on the commit thread after each commit that decided new actions (and once at
    // start). Set it before events arrive.
    void SetActionListener(std::function<void()> listener);
    // Called on the commit thread with the index of every action a committed re-drive made
    // pending again. Set it before requests arrive.
    void SetRedeliveryListener(std::function<void(uint32_t index)> listener);

    // Stops after answering everything queued.
    void Stop();

    // Kafka mode: the stored position of a topic partition, the offset of the next message to
    // consume; nullopt when none was ever stored. Fails with "unavailable" on a read error.
    [[nodiscard]] Result<std::optional<int64_t>> ConsumedOffset(std::string_view topic,
                                                                int32_t partition) const;

    // Events applied and committed since the store was made (the event log's length).
    uint64_t EventsApplied() const {
        std::shared_lock<std::shared_mutex> lock = ReaderLock();
        return next_seq_ - 1;
    }

    // Registers a view the commit thread renders at the end of every change to the ledger
    // (engine/committed_view.h). Views are no state of the engine's: registering one changes
    // nothing any query sees, hence const.
    void AddView(std::shared_ptr<CommittedView> view) const;

    // Runs `fn` with the committed ledger under a shared lock.
    template <typename Fn>
    auto Read(Fn&& fn) const {
        std::shared_lock<std::shared_mutex> lock = ReaderLock();
        return fn(*ledger_);
    }

    // One page of a customer's timeline, newest first: up to `limit` entries with a seq below
    // `before` (0: from the newest), read from the store under the shared lock, so that it
    // shows committed entries only. `more` is set when older entries follow the page.
    struct TimelinePage {
        std::vector<TimelineEntry> entries;
        bool more = false;
    };
    // nullopt when the customer does not exist; "unavailable" on a store read error.
    Result<std::optional<TimelinePage>> Timeline(std::string_view customer, uint64_t before,
                                                 size_t limit) const;

    // Replaces the collections rules; decisions from the next event on use them.
    void SetRules(std::shared_ptr<const rules::RulesConfig> rules);

    // Marks the engine as shutting down: /readyz answers 503 from then on.
    void SetDraining() { draining_ = true; }

    // True while the store is open, the disk reserve holds and the last commit succeeded.
    bool ready() const;

    // Groups applied while the group before them was being written (the pipeline at work).
    uint64_t pipelined_groups() const { return pipelined_groups_.load(); }

private:
    Engine(const EngineOptions& options, metrics::EngineMetrics* metrics,
           std::unique_ptr<storage::Store> store, LoadedState state);

    // state_mu_ shared, counted as waiting until taken, so that the commit thread empties its
    // pipeline and lets go of the ledger.
    std::shared_lock<std::shared_mutex> ReaderLock() const;

    void Run();
    // With queue_mu_ held: whether submissions, delivery results or re-drives wait.
    bool WorkQueued() const;
    // One event's answer and its result for the metrics ("ok", "duplicate" or an error code).
    struct Decision {
        std::string answer;
        std::string result;
    };
    // What a group has applied so far: its event-log block and its events by marker key.
    struct GroupLog {
        struct Applied {
            uint64_t hash = 0;
            const std::string* canonical = nullptr;
        };
        uint64_t first_seq = 0;
        std::string block;
        std::unordered_map<std::string, Applied> applied;
    };
    struct PendingDelivery {
        DeliveryOutcome outcome;
        std::function<void(Status)> done;
    };
    struct PendingRedelivery {
        Redelivery request;
        std::function<void(Status)> done;
    };
    // A group from the queue to its answers: applied, its batch written, then answered.
    struct Group {
        std::vector<Submission> submissions;
        std::vector<PendingDelivery> deliveries;
        std::vector<PendingRedelivery> redeliveries;
        std::vector<std::vector<Decision>> decisions;
        std::vector<Status> recorded;  // per delivery
        std::vector<Status> redriven;  // per re-drive
        GroupLog log;
        storage::Batch batch;
        bool write = false;  // the batch must be committed (false: nothing changed, or stopped)
        Status not_written;  // why there was nothing to write, when it is an error
        std::vector<TimelineEntry> timeline;
        bool new_actions = false;
        // The committed views rendered at this group's state, published once it is durable.
        std::vector<std::pair<std::shared_ptr<CommittedView>, CommittedView::Rendering>> views;

        bool empty() const {
            return submissions.empty() && deliveries.empty() && redeliveries.empty();
        }
    };
    // Applies `g` on top of the ledger (and of `in_flight`, the group whose batch is being
    // written, or null), filling its decisions and batch, then renders its views and publishes
    // the metrics.
    // `state` is taken after the group's markers are read.
    void Apply(Group* g, const Group* in_flight, std::unique_lock<std::shared_mutex>* state);
    // With state_mu_ held exclusively, once the fate of `g`'s batch is known: on success
    // publishes its views; on failure answers everything `unavailable` and, when `reload`, reads
    // the state back from the store. Then hands out the answers.
    void Finish(Group* g, const Status& committed, bool reload);
    // Writes `batch` to the store, timing it in the metrics.
    Status Commit(const storage::Batch& batch);
    // The writer thread's side of the pipeline.
    void StartWrite(const storage::Batch* batch);
    Status AwaitWrite();
    void WriterLoop();
    // Tells the outbox about the actions made pending again, then answers the re-drives.
    void NotifyRedelivered(std::vector<PendingRedelivery>& redeliveries,
                           const std::vector<Status>& redriven);
    // Counts the contacts and delivery attempts of a committed group in the metrics.
    void CountTimeline(const std::vector<TimelineEntry>& entries);
    // Decides one event: an error or duplicate answer, or applies it. `key` is its marker key,
    // `stored` the marker the store held for it before the group, `in_flight` the log of the
    // group being written (its markers may not be in the store yet) or null.
    Decision Decide(PendingEvent& pending, std::string key,
                    const std::optional<std::string>& stored, const GroupLog* in_flight,
                    GroupLog* log, storage::Batch* batch);
    Status Reload();
    // With state_mu_ held exclusively (or from the constructor, before the commit thread
    // starts), at the end of every change to the ledger: metrics first, then the views, so
    // whatever a query can see is already in /metrics. RenderViews() renders without
    // publishing (a group's views, published when it is durable).
    void RefreshViews();
    std::vector<std::pair<std::shared_ptr<CommittedView>, CommittedView::Rendering>> RenderViews();
    void PublishMetrics();
    void PublishActions();
    // Checks that `range` starts at the stored position and puts its end into `batch`.
    Status TakeRange(const ConsumedRange& range, storage::Batch* batch);

    EngineOptions options_;
    metrics::EngineMetrics* metrics_;
    std::unique_ptr<storage::Store> store_;

    mutable std::shared_mutex state_mu_;
    // Threads waiting for state_mu_ (readers, SetRules): the commit thread then empties its
    // pipeline before it applies another group.
    mutable std::atomic<int> lock_waiters_{0};
    std::unique_ptr<Ledger> ledger_;
    uint64_t next_seq_ = 1;
    // Kafka positions as of the group being built (commit thread only); forgotten when a commit
    // fails, then read again from the store.
    std::map<std::pair<std::string, int32_t>, int64_t> consumed_;
    size_t actions_published_ = 0;  // actions already counted in the metrics
    mutable std::mutex views_mu_;
    mutable std::vector<std::shared_ptr<CommittedView>> views_;
    std::atomic<bool> last_commit_ok_{true};
    // Set for good when the in-memory state can no longer be trusted (a reload failed).
    Status stopped_;
    std::atomic<bool> stopped_flag_{false};
    std::atomic<bool> draining_{false};

    std::mutex queue_mu_;
    std::condition_variable queue_cv_;
    std::deque<Submission> queue_;
    std::deque<PendingDelivery> deliveries_;
    std::deque<PendingRedelivery> redeliveries_;
    std::function<void()> action_listener_;
    std::function<void(uint32_t)> redelivery_listener_;
    bool stopping_ = false;
    bool finished_ = false;  // the commit thread has returned
    std::thread thread_;

    // The writer thread, started the first time a group is queued behind one being applied.
    std::mutex write_mu_;
    std::condition_variable write_cv_;
    const storage::Batch* write_batch_ = nullptr;  // to write; null when idle
    std::optional<Status> write_result_;           // the last batch's outcome, until taken
    bool write_stop_ = false;
    std::thread writer_;
    std::atomic<uint64_t> pipelined_groups_{0};
};

// The answer lines of the protocol.
std::string OkAnswer(std::string_view id, bool duplicate);
std::string ErrorAnswer(const std::optional<std::string>& id, uint64_t line, const Status& s);

}  // namespace rms
