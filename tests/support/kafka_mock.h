// KafkaMock: librdkafka's mock Kafka cluster (tests/kafka_mock) as a child process, so that
// several rmsd processes can share one cluster. Its brokers listen on 127.0.0.1.
//
//   Result<std::unique_ptr<KafkaMock>> kafka = KafkaMock::Start({.topic = "events"});
//   rmsd --kafka (*kafka)->bootstrap() --topic events --group g
//
// The mock keeps everything in memory, acknowledges acks=all from the leader alone and has no
// retention: it shows the protocol, not a real broker's durability or timing.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

#include "engine/status.h"

namespace rms {

struct KafkaMockOptions {
    int brokers = 3;
    int partitions = 6;
    std::string topic = "events";
};

class KafkaMock {
public:
    // Starts the mock and reads its bootstrap servers. Fails with "start_failed".
    [[nodiscard]] static Result<std::unique_ptr<KafkaMock>> Start(KafkaMockOptions options);
    KafkaMock(const KafkaMock&) = delete;
    KafkaMock& operator=(const KafkaMock&) = delete;
    // Closes the mock's stdin, which stops it, and waits for it.
    ~KafkaMock();

    const std::string& bootstrap() const { return bootstrap_; }

private:
    KafkaMock() = default;

    pid_t pid_ = -1;
    int stdin_fd_ = -1;
    std::string bootstrap_;
};

}  // namespace rms
